/**
 * `COPY <table> FROM STDIN` inside a write's own transaction: the bulk import streams its rows
 * into a temporary table of that transaction without building them as statement parameters.
 * Prisma has no COPY, so this reaches past it to the connection its transaction holds, as
 * direct.ts does for reads: on PostgreSQL the pool's client whose backend runs the transaction
 * (found by `pg_backend_pid()`, asked through the transaction itself), through pg-copy-streams;
 * on PGlite the one open transaction (PGlite runs one at a time), with `FROM '/dev/blob'`.
 *
 * The rows come as text in COPY's text format (`copyText` escapes a value). Memory stays
 * bounded by the stream: PostgreSQL takes the rows as they come, with back-pressure; PGlite
 * needs a whole blob per COPY, so the rows go in blobs of at most BLOB_BYTES.
 * Each COPY is counted in the database's `statements`, as every other statement is.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { PrismaClient, Prisma } from "../generated/prisma/client.js";
import { timed, type StatementStats } from "./statements.js";

type Db = PrismaClient;
type Tx = Prisma.TransactionClient;

/** Runs `COPY ... FROM STDIN` (PostgreSQL's spelling; PGlite's is derived) in `tx`, fed by `text`. */
export type CopyRunner = (tx: Tx, copySql: string, text: AsyncIterable<string | Buffer>) => Promise<void>;

const runners = new WeakMap<object, CopyRunner>();

/** Attaches the COPY path to a client when its database opens (src/db/database.ts). */
export function registerCopy(client: Db, run: CopyRunner): void {
  runners.set(client, run);
}

/**
 * Streams `text` (COPY text format, UTF-8, in pieces of any size: a line may span pieces) into
 * the table that `copySql` (`COPY t (cols) FROM STDIN`) names, in the transaction `tx` of `db`.
 */
export function copyIn(db: Db, tx: Tx, copySql: string, text: AsyncIterable<string | Buffer>): Promise<void> {
  const run = runners.get(db);
  if (!run) throw new Error("this database client has no COPY path (open it with openDatabase)");
  return run(tx, copySql, text);
}

/** A value as COPY's text format has it: \N for null; backslash, tab, newline and return escaped. */
export function copyText(value: string | null | undefined): string {
  if (value == null) return "\\N";
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r")) : value;
}

/** node-postgres: the client of `pool` whose backend the transaction runs on, through pg-copy-streams. */
export function pgCopy(pool: pg.Pool, statements: StatementStats): CopyRunner {
  // Clients by backend process id, so a transaction (which knows only its own pid) finds its client.
  const clients = new Map<number, pg.PoolClient>();
  pool.on("connect", (client) => {
    const pid = (client as unknown as { processID: number }).processID;
    clients.set(pid, client);
    client.on("end", () => clients.delete(pid));
  });
  return async (tx, copySql, text) => {
    const [{ pid }] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    const client = clients.get(pid);
    if (!client) throw new Error(`no pooled connection runs backend ${pid}`);
    // The transaction's client is idle while its work awaits this: the COPY runs in the transaction.
    await timed(statements, () => pipeline(Readable.from(text), client.query(copyFrom(copySql))));
  };
}

/** Most bytes of COPY text held for one PGlite COPY (it reads a whole blob at once). */
const BLOB_BYTES = 32 * 1024 * 1024;

/** The PGlite transaction that is open now (PGlite runs one at a time), as `transaction` hands it out. */
interface PgliteTx {
  query(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<unknown>;
}
interface Pglite {
  transaction<T>(callback: (tx: PgliteTx) => Promise<T>): Promise<T>;
}

/**
 * PGlite: remembers the transaction PGlite has open (Prisma's adapter opens it through
 * `transaction`), and copies into it from blobs of at most BLOB_BYTES.
 */
export function pgliteCopy(pglite: Pglite, statements: StatementStats): CopyRunner {
  let open: PgliteTx | undefined;
  const transaction = pglite.transaction.bind(pglite);
  pglite.transaction = (callback) =>
    transaction(async (tx) => {
      open = tx;
      try {
        return await callback(tx);
      } finally {
        open = undefined;
      }
    });
  return async (_tx, copySql, text) => {
    if (!open) throw new Error("COPY needs the write's transaction, and none is open");
    const into = open;
    const sql = copySql.replace(/FROM\s+STDIN/i, "FROM '/dev/blob'");
    // Each COPY must end on a whole line: the bytes after the last newline wait for the next.
    let parts: Buffer[] = [];
    let bytes = 0;
    const flush = async (all: boolean) => {
      const text = Buffer.concat(parts);
      const end = all ? text.length : text.lastIndexOf(0x0a) + 1;
      parts = end < text.length ? [text.subarray(end)] : [];
      bytes = text.length - end;
      if (end === 0) return;
      const blob = new Blob([text.subarray(0, end)]);
      await timed(statements, () => into.query(sql, [], { blob }));
    };
    for await (const piece of text) {
      const buffer = typeof piece === "string" ? Buffer.from(piece) : piece;
      parts.push(buffer);
      bytes += buffer.length;
      if (bytes >= BLOB_BYTES) await flush(false);
    }
    await flush(true);
  };
}
