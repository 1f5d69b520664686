/**
 * Opens the database the config names: PostgreSQL when DATABASE_URL is set, otherwise the
 * embedded PostgreSQL (PGlite) persisted in DATA_DIR. Both speak the same SQL and run the same
 * migrations; the rest of the code only sees `Database`.
 */
import fs from "node:fs";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlMigrationAwareDriverAdapterFactory, SqlQuery, SqlQueryable, Transaction } from "@prisma/driver-adapter-utils";
import { parseIntoClientConfig } from "pg-connection-string";
import type { Config } from "../config.js";
import { PrismaClient } from "../generated/prisma/client.js";
import { pgCopy, pgliteCopy, registerCopy } from "./copy.js";
import { pgDirect, pgliteDirect, registerDirect } from "./direct.js";
import { lockDataDir } from "./embedded-lock.js";
import { PREPARE_AFTER_DEFAULT, statementNamer } from "./prepared.js";
import { pgRawTransactions, registerRawTransactions } from "./raw-transaction.js";
import { timed, type StatementStats } from "./statements.js";

export type Db = PrismaClient;

export interface Database {
  readonly kind: "postgres" | "embedded";
  readonly prisma: Db;
  /** For the migration runner: the same connection settings, migration-aware. */
  readonly adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** The SQL statements sent and the time they took (at the driver adapter, and on the direct path): tests that prove batching count them, /metrics shows both. */
  readonly statements: StatementStats;
  /** The connection pool's use now (PostgreSQL only: the embedded database has one connection). */
  pool?(): PoolUse;
  /**
   * Call after migrating through this connection. PGlite reads the array types once when it
   * opens, so on a first start `$1::"Metric"[]` would be sent as "A,B" (malformed array literal)
   * until it learns the types the migrations created.
   */
  schemaChanged(): Promise<void>;
  close(): Promise<void>;
}


export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface OpenOptions {
  /** Count into this counter instead of a new one (a test database reopened keeps its count). */
  statements?: StatementStats;
  /** DATABASE_PREPARE_AFTER (src/db/prepared.ts): 0 names no statement, the direct path's included. */
  prepareAfter?: number;
}

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  return config.DATABASE_URL
    ? openPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE, { prepareAfter: config.DATABASE_PREPARE_AFTER, ...options })
    : openEmbedded(config.dataDir, options);
}

export async function openPostgres(url: string, poolSize = 10, options: OpenOptions = {}): Promise<Database> {
  // Parsed fields, not the URL: with a connection string PrismaPg's shadow connection would
  // silently reuse the main database.
  const settings = { ...parseIntoClientConfig(url), max: poolSize };
  // The client's pool is ours, so /metrics can read its counts; the migration runner gets a
  // factory of its own, which opens and ends a pool per use (an external pool it would leave open).
  const pool = new pg.Pool(settings);
  const prepareAfter = options.prepareAfter ?? PREPARE_AFTER_DEFAULT;
  const names = statementNamer(prepareAfter);
  // PrismaPg's type wants a name for every statement; undefined sends it unnamed, as without the option.
  const prisma = newClient(new PrismaPg(pool, { statementNameGenerator: (query) => names(query.sql) as string }), options);
  registerDirect(prisma.client, pgDirect(pool, prisma.statements, prepareAfter > 0));
  registerRawTransactions(prisma.client, pgRawTransactions(pool, prisma.statements, names));
  registerCopy(prisma.client, pgCopy(pool, prisma.statements));
  return {
    kind: "postgres",
    prisma: prisma.client,
    adapterFactory: new PrismaPg(settings),
    statements: prisma.statements,
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolSize }),
    schemaChanged: async () => {},
    close: async () => {
      await prisma.client.$disconnect();
      await pool.end();
    },
  };
}

export async function openEmbedded(dataDir: string, options: OpenOptions = {}): Promise<Database> {
  // Loaded lazily: production on PostgreSQL never pays for the WASM build.
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  fs.mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  let pglite: InstanceType<typeof PGlite>;
  try {
    pglite = await PGlite.create(dataDir);
  } catch (err) {
    unlock();
    throw err;
  }
  const adapterFactory = new PrismaPGlite(pglite);
  const prisma = newClient(adapterFactory, options);
  registerDirect(prisma.client, pgliteDirect(pglite, prisma.statements));
  registerCopy(prisma.client, pgliteCopy(pglite as never, prisma.statements));
  return {
    kind: "embedded",
    prisma: prisma.client,
    adapterFactory,
    statements: prisma.statements,
    schemaChanged: () => pglite.refreshArrayTypes(),
    close: async () => {
      try {
        await prisma.client.$disconnect();
        await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}

function newClient(adapter: SqlDriverAdapterFactory, options: OpenOptions) {
  const statements = options.statements ?? { count: 0, seconds: 0 };
  const client = new PrismaClient({ adapter: countingStatements(adapter, statements) });
  return { client, statements };
}

/**
 * Counts every statement Prisma sends, and its time, where it reaches the driver. Prisma's own
 * query log would do it too, but it JSON-encodes each statement's parameters for the event:
 * 150 ms of CPU for one 50,000-row staging insert of the import, and some for every request.
 * A transaction's end counts once on both engines: Prisma sends COMMIT as a statement through
 * node-postgres's adapter but lets PGlite's adapter end the transaction itself.
 */
function countingStatements(factory: SqlDriverAdapterFactory, statements: StatementStats): SqlDriverAdapterFactory {
  const ENDS = /^\s*(COMMIT|ROLLBACK)\b/i;
  const counting = <Q extends SqlQueryable>(queryable: Q): Q =>
    new Proxy(queryable, {
      get(target, property) {
        if (property === "queryRaw") return (query: SqlQuery) => timed(statements, () => target.queryRaw(query));
        if (property === "executeRaw") return (query: SqlQuery) => timed(statements, () => target.executeRaw(query), ENDS.test(query.sql) ? 0 : 1);
        if (property === "startTransaction") {
          return async (...args: unknown[]) => counting(await (target as unknown as SqlDriverAdapter).startTransaction(...(args as [])));
        }
        if (property === "commit" || property === "rollback") {
          return () => timed(statements, () => (target as unknown as Transaction)[property]());
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { provider: factory.provider, adapterName: factory.adapterName, connect: async () => counting(await factory.connect()) };
}
