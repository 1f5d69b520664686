/**
 * A real server over real HTTP on a real PostgreSQL: what every integration test talks to.
 */
import { expect, inject } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { openPostgres, type Database } from "../../src/db/database.js";
import { TRUNCATE_ALL } from "../../src/db/tables.js";
import { createLogger } from "../../src/logger.js";
import { startServer, type RunningServer } from "../../src/server.js";

export interface GqlResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; issues?: { index?: number; field: string; reason: string }[] } }[];
}

export interface TestApi {
  readonly server: RunningServer;
  readonly database: Database;
  readonly config: Config;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>>;
  /** Runs `fn` and returns how many SQL statements the server sent meanwhile. */
  countStatements(fn: () => Promise<unknown>): Promise<number>;
  reset(): Promise<void>;
  close(): Promise<void>;
}


export async function startTestApi(env: Record<string, string> = {}, options: { reset?: boolean } = {}): Promise<TestApi> {
  const url = inject("databaseUrl");
  const config = loadConfig({ DATABASE_URL: url, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent", ...env });
  const database = await openPostgres(url, 4, { countStatements: true });
  // TEST_LOG_LEVEL=error shows what a masked INTERNAL_SERVER_ERROR hid.
  const server = await startServer(database, config, createLogger(process.env.TEST_LOG_LEVEL ?? "silent"));
  const api: TestApi = {
    server,
    database,
    config,
    async gql(query, variables) {
      const res = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, ...((await res.json()) as object) };
    },
    async countStatements(fn) {
      const before = database.statements.count;
      await fn();
      return database.statements.count - before;
    },
    async reset() {
      await database.prisma.$executeRawUnsafe(TRUNCATE_ALL);
    },
    async close() {
      await server.close();
      await database.close();
    },
  };
  if (options.reset ?? true) await api.reset();
  return api;
}

/** The first error's code, for terse assertions. */
export function codeOf(res: GqlResponse): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

/** A rejected write's issues as "index field" strings, after checking that nothing came back and the code. */
export function issuesOf(res: GqlResponse, code = "BAD_USER_INPUT"): string[] {
  expect(res.data?.r ?? null).toBeNull();
  expect(codeOf(res)).toBe(code);
  return (res.errors![0].extensions!.issues ?? []).map((i) => `${i.index ?? "-"} ${i.field}`);
}
