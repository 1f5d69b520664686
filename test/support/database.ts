/**
 * The database an integration test runs on, whichever engine its project names: the same test
 * files run on PostgreSQL and on the embedded PostgreSQL (PGlite) that `npm start` uses.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { inject } from "vitest";
import { openEmbedded, openPostgres, type Database } from "../../src/db/database.js";
import { COPY_MARK, type TestEngine } from "./engine.js";

export interface TestDatabase extends Database {
  readonly engine: TestEngine;
  /** What a child process (the import CLI, the server) needs in its environment to open this database. */
  readonly env: Record<string, string>;
  /**
   * Runs `fn` while this process lets go of the database, for child processes that open it
   * themselves: an embedded folder serves one process at a time. `prisma` is a new client after.
   */
  released<T>(fn: () => Promise<T>): Promise<T>;
}

export function testEngine(): TestEngine {
  return inject("engine");
}

/**
 * A new connection pool to this file's database (PostgreSQL), or a share of this file's copy of
 * the embedded one. Each test file has its own database, copied from the migrated template, so
 * files run side by side.
 */
export async function openTestDatabase(): Promise<TestDatabase> {
  if (testEngine() === "postgres") {
    const url = await fileDatabaseUrl();
    const db = await openPostgres(url, 4);
    return Object.assign(db, { engine: "postgres" as const, env: { DATABASE_URL: url }, released: <T>(fn: () => Promise<T>) => fn() });
  }
  embedded ??= new SharedEmbedded(copyTemplate());
  return embedded.share();
}

/**
 * Runs statements on the server's maintenance database, never on a test database: a template
 * must have no connections while it is copied.
 */
export async function onPostgresServer(templateUrl: string, ...statements: string[]): Promise<void> {
  const client = new pg.Client({ ...parseIntoClientConfig(templateUrl), database: "postgres" });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

let fileDatabase: Promise<string> | undefined;
function fileDatabaseUrl(): Promise<string> {
  return (fileDatabase ??= (async () => {
    const url = new URL(inject("databaseUrl"));
    const template = url.pathname.slice(1);
    const name = `${template}${COPY_MARK}${process.pid}_${randomUUID().slice(0, 8)}`;
    await onPostgresServer(url.toString(), `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    url.pathname = `/${name}`;
    return url.toString();
  })());
}

/** A database with no migrations applied, on the project's engine, dropped by `close`. */
export async function openEmptyDatabase(): Promise<Database> {
  if (testEngine() === "postgres") {
    const template = inject("databaseUrl");
    const url = new URL(template);
    const name = `${url.pathname.slice(1)}${COPY_MARK}empty_${process.pid}`;
    await onPostgresServer(template, `DROP DATABASE IF EXISTS "${name}"`, `CREATE DATABASE "${name}"`);
    url.pathname = `/${name}`;
    const empty = await openPostgres(url.toString(), 1);
    return {
      ...empty,
      async close() {
        await empty.close();
        await onPostgresServer(template, `DROP DATABASE IF EXISTS "${name}"`);
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-test-empty-"));
  const empty = await openEmbedded(dir);
  return {
    ...empty,
    async close() {
      await empty.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function copyTemplate(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-test-embedded-"));
  fs.cpSync(inject("embeddedTemplate"), dir, { recursive: true });
  return dir;
}

let embedded: SharedEmbedded | undefined;

/**
 * One PGlite per test file, shared by every server the file starts (a second server "on the same
 * data" must see the same rows), closed and removed when the last share closes.
 */
class SharedEmbedded {
  private live!: Database;
  private readonly opening: Promise<void>;
  private shares = 0;
  private readonly statements = { count: 0, seconds: 0 };

  constructor(private readonly dir: string) {
    this.opening = this.open();
  }

  private async open(): Promise<void> {
    this.live = await openEmbedded(this.dir, { statements: this.statements });
  }

  async share(): Promise<TestDatabase> {
    await this.opening;
    this.shares += 1;
    let closed = false;
    const shared = this;
    return {
      engine: "embedded",
      kind: "embedded",
      env: { DATA_DIR: this.dir },
      statements: this.statements,
      // Read through on every use: released() swaps the client underneath every share.
      get prisma() {
        return shared.live.prisma;
      },
      get adapterFactory() {
        return shared.live.adapterFactory;
      },
      schemaChanged: () => shared.live.schemaChanged(),
      async released(fn) {
        await shared.live.close();
        try {
          return await fn();
        } finally {
          await shared.open();
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        if (--shared.shares > 0) return;
        await shared.live.close();
        fs.rmSync(shared.dir, { recursive: true, force: true });
        embedded = undefined;
      },
    };
  }
}
