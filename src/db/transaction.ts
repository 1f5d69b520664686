/**
 * The one way a write opens a transaction: every write service runs its work through
 * `inTransaction`, which also writes the write's audit entry (so the entry commits, or rolls
 * back, with the write), implements the dry run, and publishes what the write changed to the
 * live feed once it has committed (src/live/change.ts).
 */
import type { Prisma } from "../generated/prisma/client.js";
import { ChangeLog, mergeChanges, type ChangeFeed } from "../live/change.js";
import { noteCommitted, recordWrite, type AuditStamp } from "../modules/audit/audit.service.js";
import type { Db } from "./database.js";
import { rawTransactions } from "./raw-transaction.js";

/** The client a write's work receives: every statement runs in the write's transaction. */
export type Tx = Prisma.TransactionClient;

export interface TransactionOptions {
  /**
   * An API call is atomic: any bad row rejects the call (the default). An import batch instead
   * drops its bad rows, reports them, and writes the rest (`screen` in common/validate.ts);
   * the audit entry records which it was.
   */
  skipInvalid?: boolean;
  /** Check and write everything, then roll back. */
  dryRun?: boolean;
  /**
   * Who asked for the write: its audit entry is written in the write's own transaction, so it
   * commits (or rolls back) with the write. A dry run records nothing.
   */
  audit?: AuditStamp;
  /**
   * Where to publish what the write changed (its `ChangeLog`), once it has committed: never
   * for a dry run, a refusal or a rollback. Unset: nobody follows the changes.
   */
  feed?: ChangeFeed;
  /**
   * The work sends raw SQL only (`$queryRaw`, `$executeRaw` and their Unsafe forms), so on
   * PostgreSQL it may run without Prisma's runtime (raw-transaction.ts); the same on both paths.
   */
  rawOnly?: boolean;
}

/** The options of a single create/update call: who asked, for the audit trail, and where its changes go. */
export type AuditOptions = Pick<TransactionOptions, "audit" | "feed">;

/** Carries a dry run's outcome out of the transaction it rolls back. */
class DryRun<T> {
  constructor(readonly outcome: T) {}
}

// A bulk import batch can hold its transaction for minutes on a busy database.
const TX_OPTIONS = { timeout: 600_000, maxWait: 600_000 } as const;

/**
 * Runs a write in one transaction. With `dryRun` the transaction does all its work, checks
 * included, and is then rolled back, so the caller learns exactly what would happen. With an
 * `audit` stamp, the write's entry is the transaction's last statement. What `work` reports to
 * its `ChangeLog` is published to `options.feed` after the commit.
 */
export async function inTransaction<T>(db: Db, options: TransactionOptions, work: (tx: Tx, changes: ChangeLog) => Promise<T>): Promise<T> {
  let outcome: T;
  const changes = new ChangeLog();
  try {
    const raw = options.rawOnly ? rawTransactions(db) : undefined;
    const transaction = raw ?? (<R>(fn: (tx: Tx) => Promise<R>) => db.$transaction(fn, TX_OPTIONS));
    outcome = await transaction(async (tx) => {
      const outcome = await work(tx, changes);
      if (options.dryRun) throw new DryRun(outcome);
      if (options.audit) await recordWrite(tx, options.audit, outcome, options.skipInvalid ?? false);
      return outcome;
    });
  } catch (err) {
    if (err instanceof DryRun) return err.outcome as T;
    throw err;
  }
  if (options.audit) noteCommitted(options.audit);
  // Every committed write is announced: what it changed that someone follows, or else `other`
  // alone, so that response caches on every instance drop answers it may have changed.
  if (options.feed) options.feed.publish(changes.collected() ?? mergeChanges({ other: true }));
  return outcome;
}
