/**
 * Hot reads without Prisma's runtime: a named, prepared statement sent straight to the pool the
 * Prisma client already uses (PostgreSQL), or to the embedded PGlite. The dashboard's headline
 * reads pay per request for Prisma's query engine and for PostgreSQL parsing and planning the
 * same text again (issue 16's profile: ranking SQL 2,451–2,632 tps unprepared, 6,242 prepared);
 * prepared by name, a connection plans it once.
 *
 * Reads only: the statement runs outside any transaction the caller may hold, so writes and
 * reads that must see a transaction's own rows keep using the Prisma client they were given.
 * Given a client with no direct runner (a transaction's client, a test's double), `direct`
 * falls back to `$queryRawUnsafe` on it, so the answer never depends on which path ran.
 *
 * Every statement is counted in the database's `statements`, as Prisma's are, and traced as a
 * `db_query <name>` span (a no-op unless src/observability/tracing.ts started OpenTelemetry), so
 * the statement count tests, /metrics and traces see both paths.
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type pg from "pg";
import type { PrismaClient } from "../generated/prisma/client.js";
import { timed, type StatementStats } from "./statements.js";

type Db = PrismaClient;

/** Sends one read: `text` with $1… placeholders; `name` identifies the prepared statement (one text per name). */
export type DirectQuery = <T>(name: string, text: string, values: readonly unknown[]) => Promise<T[]>;

const runners = new WeakMap<object, DirectQuery>();

/** Attaches the direct path to a client when its database opens (src/db/database.ts). */
export function registerDirect(client: Db, run: DirectQuery): void {
  runners.set(client, run);
}

/**
 * Runs a read on `db`'s own pool, prepared, or through `db` itself when it has no direct path.
 * Cast every column in the SQL (`::int`, `::text`, `::float8`): node-postgres and PGlite parse
 * bigint, numeric and dates differently, and the casts make both return the same JavaScript values.
 */
export function direct<T>(db: Db, name: string, text: string, values: readonly unknown[]): Promise<T[]> {
  const run = runners.get(db);
  return run ? run<T>(name, text, values) : db.$queryRawUnsafe<T[]>(text, ...values);
}

/** node-postgres: prepared per connection by name, unless `prepare` is off (DATABASE_PREPARE_AFTER=0). */
export function pgDirect(pool: pg.Pool, statements: StatementStats, prepare = true): DirectQuery {
  return (name, text, values) =>
    measured(statements, name, text, async () => (await pool.query({ name: prepare ? name : undefined, text, values: values as unknown[] })).rows);
}

/** PGlite: one connection in-process; it parses each time, but there is no network or engine to skip. */
export function pgliteDirect(pglite: { query<T>(text: string, values?: unknown[]): Promise<{ rows: T[] }> }, statements: StatementStats): DirectQuery {
  return (name, text, values) => measured(statements, name, text, async () => (await pglite.query(text, values as unknown[])).rows);
}

const tracer = trace.getTracer("card-growth/db");

async function measured<T>(statements: StatementStats, name: string, text: string, run: () => Promise<unknown[]>): Promise<T[]> {
  const span = tracer.startSpan(`db_query ${name}`, { attributes: { "db.system.name": "postgresql", "db.query.text": text } });
  try {
    return (await timed(statements, run)) as T[];
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
