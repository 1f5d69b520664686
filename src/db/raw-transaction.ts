/**
 * Transactions without Prisma's runtime, for writes that send raw SQL only (inTransaction's
 * `rawOnly`): on PostgreSQL the work runs on one pooled node-postgres client between BEGIN and
 * COMMIT, each statement named and prepared like Prisma's (prepared.ts). A redemption is such a
 * write, and Prisma's query interpreter was the largest share of its server CPU that was not
 * HTTP: 15 % of the process's samples (bench/offers.ts --profile-dir).
 *
 * The work gets a stand-in for Prisma's transaction client with its four raw methods, answering
 * as Prisma's raw queries do (bigint as BigInt, numeric as Prisma.Decimal, date and timestamp as
 * UTC Dates); any other member throws, so a service that starts using a model in a rawOnly
 * write fails its first test rather than running outside the transaction. Statements are counted
 * as Prisma's are (each statement, and the transaction's end once).
 */
import pg from "pg";
import { Prisma } from "../generated/prisma/client.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { StatementNamer } from "./prepared.js";
import { timed, type StatementStats } from "./statements.js";

type Db = PrismaClient;
type Tx = Prisma.TransactionClient;

/** Runs `work` in one transaction of its own, committed when it resolves and rolled back when it throws. */
export type RawTransactions = <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;

const runners = new WeakMap<object, RawTransactions>();

/** Attaches the raw path to a client when its database opens (src/db/database.ts; PostgreSQL only). */
export function registerRawTransactions(client: Db, run: RawTransactions): void {
  runners.set(client, run);
}

/** The raw path of `db`, or undefined (the embedded database, a transaction's client, a test's double). */
export function rawTransactions(db: Db): RawTransactions | undefined {
  return runners.get(db);
}

/** Results as Prisma's raw queries give them; node-postgres's own parsers for the rest. */
const SCALARS: Record<number, (text: string) => unknown> = {
  20: (t) => BigInt(t), // int8
  1700: (t) => new Prisma.Decimal(t), // numeric
  1082: (t) => new Date(`${t}T00:00:00Z`), // date
  1114: (t) => new Date(`${t.replace(" ", "T")}Z`), // timestamp without time zone, stored as UTC
};
/** Arrays of those: node-postgres splits them (as text[]), each element then parsed as above. */
const ARRAYS: Record<number, number> = { 1016: 20, 1231: 1700, 1182: 1082, 1115: 1114 };
const splitArray = pg.types.getTypeParser(1009 as never /* text[] */, "text") as (text: string) => (string | null)[];
const PARSERS: Record<number, (text: string) => unknown> = { ...SCALARS };
for (const [array, element] of Object.entries(ARRAYS)) {
  PARSERS[Number(array)] = (t) => splitArray(t).map((x) => (x === null ? null : SCALARS[element](x)));
}
const TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    (format ?? "text") === "text" && PARSERS[oid] ? PARSERS[oid] : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

/** node-postgres: a pooled client per transaction. */
export function pgRawTransactions(pool: pg.Pool, statements: StatementStats, names: StatementNamer): RawTransactions {
  return async (work) => {
    const client = await pool.connect();
    // Set when the connection itself failed (not the SQL): such a client is closed, not pooled again.
    let broken: Error | undefined;
    const query = async (text: string, values: unknown[], counted: boolean) => {
      try {
        return await timed(statements, () => client.query({ name: names(text), text, values, types: TYPES }), counted ? 1 : 0);
      } catch (err) {
        if (!hasSqlState(err)) broken ??= err as Error;
        throw err;
      }
    };
    const send: Send = (text, values) => query(text, values, true);
    try {
      // Not counted, as Prisma's path counts no BEGIN.
      await query("BEGIN", [], false);
      try {
        const outcome = await work(standIn(send));
        await send("COMMIT", []);
        return outcome;
      } catch (err) {
        // A refusal or any other error of the work: nothing of it stays. A failed rollback
        // leaves the connection in an unknown state, so it is not reused.
        await send("ROLLBACK", []).catch((rollbackErr: unknown) => {
          broken ??= rollbackErr as Error;
        });
        throw err;
      }
    } finally {
      client.release(broken);
    }
  };
}

/** An error PostgreSQL reported (it has a SQLSTATE): the connection is fine, the statement was not. */
function hasSqlState(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

type Send = (text: string, values: unknown[]) => Promise<pg.QueryResult>;

/** Prisma's raw methods over `send`; every other member throws. */
function standIn(send: Send): Tx {
  const sqlOf = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql =>
    query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
  const methods: Record<string, unknown> = {
    $queryRaw: async (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => {
      const sql = sqlOf(query, values);
      return (await send(sql.text, sql.values)).rows;
    },
    $executeRaw: async (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => {
      const sql = sqlOf(query, values);
      return (await send(sql.text, sql.values)).rowCount ?? 0;
    },
    $queryRawUnsafe: async (text: string, ...values: unknown[]) => (await send(text, values)).rows,
    $executeRawUnsafe: async (text: string, ...values: unknown[]) => (await send(text, values)).rowCount ?? 0,
  };
  return new Proxy(methods, {
    get(target, property) {
      if (typeof property === "string" && property in target) return target[property];
      // Not a promise: `await tx` must not find a `then`.
      if (property === "then" || typeof property === "symbol") return undefined;
      throw new Error(`tx.${property}: this transaction runs raw SQL only (inTransaction's rawOnly); use $queryRaw or $executeRaw, or drop rawOnly`);
    },
  }) as unknown as Tx;
}
