/**
 * A real server over real HTTP on a real database (PostgreSQL or the embedded one, by project):
 * what every integration test talks to.
 */
import { expect } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { TRUNCATE_ALL } from "../../src/db/tables.js";
import { createLogger } from "../../src/logger.js";
import type { Role } from "../../src/domain/access.js";
import { signToken } from "../../src/modules/auth/auth.service.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { openTestDatabase, type TestDatabase } from "./database.js";

/** The key test servers verify tokens with. */
export const TEST_JWT_SECRET = "integration-tests-only-secret-0123456789";

/**
 * Document limits raised for tests that prove batching or drill-down on documents deeper than
 * production's defaults allow (the limits themselves are tested in security.test.ts).
 */
export const DEEP_DOCUMENTS = { MAX_QUERY_DEPTH: "12", MAX_QUERY_COST: "10000000" } as const;

/** Who a request is made as: a role (with a unit for the scoped ones and a subject), or anonymous. */
export type As = { role: Role; unit?: string; sub?: string } | "ANONYMOUS";

export interface Client {
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>>;
}

export interface GqlResponse<T = any> {
  status: number;
  data?: T;
  /** e.g. `servedBy` ("primary" or "replica") with DATABASE_REPLICA_URLS. */
  extensions?: Record<string, unknown>;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; issues?: { index?: number; field: string; reason: string }[] } }[];
}

export interface TestApi {
  readonly server: RunningServer;
  readonly database: TestDatabase;
  readonly config: Config;
  /**
   * A client that sends every document as `role` (at `unit`, as subject `sub`), so each request
   * names its caller where it is made: `api.as("HQ").gql(query)`, `api.as("BRANCH_MANAGER", "C1")`.
   */
  as(role: Role | "ANONYMOUS", unit?: string, sub?: string): Client;
  /** The same, for a caller kept in a table (test/fixtures/access.ts's CALLERS). */
  as(who: As): Client;
  /** The same, sent to another server (a second instance on this database, test/support/live.ts). */
  at(server: Pick<RunningServer, "url">, who: As): Client;
  /** A bearer token for `who`, signed with the test key. */
  token(who: Exclude<As, "ANONYMOUS">): Promise<string>;
  /** Runs `fn` and returns how many SQL statements the server sent meanwhile. */
  countStatements(fn: () => Promise<unknown>): Promise<number>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface TestApiOptions {
  reset?: boolean;
  clock?: () => Date;
  /** Serve this database instead of the file's own (several servers over one database, a temporary cluster); its owner closes it. */
  database?: TestDatabase;
}

export async function startTestApi(env: Record<string, string> = {}, options: TestApiOptions = {}): Promise<TestApi> {
  const database = options.database ?? (await openTestDatabase());
  const closeDatabase = () => (options.database ? Promise.resolve() : database.close());
  const config = loadConfig({
    ...database.env,
    PORT: "0",
    HOST: "127.0.0.1",
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    JWT_SECRET: TEST_JWT_SECRET,
    // Tests send many requests quickly; the rate-limit tests set their own limits.
    RATE_LIMIT_PER_MINUTE: "1000000",
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000",
    // The group notifier queries in the background (its worker polls), which statement counts
    // would pick up; test/integration/notify.test.ts switches it on.
    NOTIFICATIONS: "off",
    ...env,
  });
  // TEST_LOG_LEVEL=error shows what a masked INTERNAL_SERVER_ERROR hid.
  const server = await startServer(database, config, createLogger(process.env.TEST_LOG_LEVEL ?? "silent"), { clock: options.clock }).catch(async (err: unknown) => {
    await closeDatabase();
    throw err;
  });
  const tokens = new Map<string, Promise<string>>();
  const token = (who: Exclude<As, "ANONYMOUS">) => {
    const key = `${who.role}|${who.unit ?? ""}|${who.sub ?? ""}`;
    if (!tokens.has(key)) tokens.set(key, signToken(config, { sub: who.sub ?? `test-${who.role.toLowerCase()}`, role: who.role, unit: who.unit }));
    return tokens.get(key)!;
  };
  const send = async (who: As, query: string, variables?: Record<string, unknown>, url = server.url) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (who !== "ANONYMOUS") headers.authorization = `Bearer ${await token(who)}`;
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, ...((await res.json()) as object) };
  };
  const api: TestApi = {
    server,
    database,
    config,
    as: (who: Role | As, unit?: string, sub?: string) => {
      const caller: As = typeof who === "object" || who === "ANONYMOUS" ? who : { role: who, unit, sub };
      return { gql: (query, variables) => send(caller, query, variables) };
    },
    at: (other, who) => ({ gql: (query, variables) => send(who, query, variables, other.url) }),
    token,
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
      await closeDatabase();
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
