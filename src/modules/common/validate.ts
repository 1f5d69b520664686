/**
 * Field checks shared by the write services. Each pushes a precise issue instead of throwing,
 * so one call reports every bad field of every row.
 */
import { compareDates, type BusinessDate } from "../../domain/dates.js";
import type { Db } from "../../db/database.js";
import { BadInputError, IssueCollector, type FieldIssue } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { noteCommitted, recordWrite, type AuditStamp } from "../audit/audit.service.js";

const CODE = /^[A-Za-z0-9][A-Za-z0-9_.\-]*$/;
export const MAX_CODE_LENGTH = 64;
export const MAX_NAME_LENGTH = 200;

export function checkBatchSize(rows: readonly unknown[], max: number): void {
  if (rows.length === 0) throw BadInputError.single("input", "must hold at least one row");
  if (rows.length > max) {
    throw BadInputError.single("input", `holds ${rows.length} rows; at most ${max} per call (use the import for bulk loads)`);
  }
}

export function checkCode(issues: IssueCollector, index: number | undefined, field: string, value: string): boolean {
  if (value.length === 0) return issues.add(index, field, "must not be empty"), false;
  if (value.length > MAX_CODE_LENGTH) return issues.add(index, field, `must be at most ${MAX_CODE_LENGTH} characters`), false;
  if (!CODE.test(value)) {
    return issues.add(index, field, "may hold only letters, digits, '-', '_' and '.', starting with a letter or digit"), false;
  }
  return true;
}

/** Non-blank free text of at most `max` characters (a name by default). */
export function checkName(issues: IssueCollector, index: number | undefined, field: string, value: string, max = MAX_NAME_LENGTH): void {
  if (value.trim().length === 0) issues.add(index, field, "must not be blank");
  else if (value.length > max) issues.add(index, field, `must be at most ${max} characters`);
}

/** Reports the second and later rows that repeat a key already seen in the batch (null: no key). */
export function checkUnique<T>(issues: IssueCollector, rows: readonly T[], field: string, keyOf: (row: T) => string | null): void {
  const first = new Map<string, number>();
  rows.forEach((row, index) => {
    const key = keyOf(row);
    if (key === null) return;
    const seen = first.get(key);
    if (seen === undefined) first.set(key, index);
    else issues.add(index, field, `repeats input[${seen}] in the same call`);
  });
}

/** `later` must not be before `earlier` (both present). */
export function checkOrder(
  issues: IssueCollector,
  index: number | undefined,
  earlier: { field: string; value: BusinessDate | null | undefined },
  later: { field: string; value: BusinessDate | null | undefined },
): void {
  if (earlier.value && later.value && compareDates(later.value, earlier.value) < 0) {
    issues.add(index, later.field, `${later.value} is before ${earlier.field} ${earlier.value}`);
  }
}

export interface WriteOptions {
  /**
   * An API call is atomic: any bad row rejects the call (the default). An import batch instead
   * drops its bad rows, reports them, and writes the rest.
   */
  skipInvalid?: boolean;
  /** Check and write everything, then roll back. */
  dryRun?: boolean;
  /**
   * Who asked for the write: its audit entry is written in the write's own transaction, so it
   * commits (or rolls back) with the write. A dry run records nothing.
   */
  audit?: AuditStamp;
}

/** The options of a single create/update call: only who asked, for the audit trail. */
export type AuditOptions = Pick<WriteOptions, "audit">;

/**
 * Runs `check` over the rows; without `skipInvalid` throws every issue found, otherwise drops
 * the flagged rows and checks the rest again (a dropped parent can invalidate its child) until
 * what remains is clean. Issues carry the row's index in `input`.
 */
export async function screen<T>(
  input: readonly T[],
  options: WriteOptions,
  check: (rows: readonly T[], issues: IssueCollector) => Promise<void> | void,
): Promise<{ rows: T[]; rejected: FieldIssue[] }> {
  let kept = input.map((row, index) => ({ row, index }));
  const rejected: FieldIssue[] = [];
  for (;;) {
    const issues = new IssueCollector();
    await check(
      kept.map((k) => k.row),
      issues,
    );
    if (issues.issues.length === 0) return { rows: kept.map((k) => k.row), rejected };
    const found = issues.issues.map((i) => (i.index === undefined ? i : { ...i, index: kept[i.index].index }));
    if (!options.skipInvalid || found.some((i) => i.index === undefined)) {
      throw new BadInputError([...rejected, ...found].sort((a, b) => (a.index ?? -1) - (b.index ?? -1)));
    }
    rejected.push(...found);
    const bad = new Set(issues.issues.map((i) => i.index));
    kept = kept.filter((_, i) => !bad.has(i));
  }
}

/** Carries a dry run's outcome out of the transaction it rolls back. */
class DryRun<T> {
  constructor(readonly outcome: T) {}
}

const TX_OPTIONS = { timeout: 600_000, maxWait: 600_000 } as const;

/**
 * Runs a write in one transaction. With `dryRun` the transaction does all its work, checks
 * included, and is then rolled back, so the caller learns exactly what would happen. With an
 * `audit` stamp, the write's entry is the transaction's last statement.
 */
export async function inTransaction<T>(db: Db, options: WriteOptions, work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  let outcome: T;
  try {
    outcome = await db.$transaction(async (tx) => {
      const outcome = await work(tx);
      if (options.dryRun) throw new DryRun(outcome);
      if (options.audit) await recordWrite(tx, options.audit, outcome, options.skipInvalid ?? false);
      return outcome;
    }, TX_OPTIONS);
  } catch (err) {
    if (err instanceof DryRun) return err.outcome as T;
    throw err;
  }
  if (options.audit) noteCommitted(options.audit);
  return outcome;
}

export const MAX_SEARCH_LENGTH = 100;

/**
 * A user's search text as a literal for Prisma's `contains` (a LIKE pattern underneath): `%`
 * and `_` match themselves, and an overlong text is refused rather than scanned.
 */
export function likeLiteral(search: string): string {
  if (search.length > MAX_SEARCH_LENGTH) throw BadInputError.single("search", `must be at most ${MAX_SEARCH_LENGTH} characters`);
  return search.replace(/[\\%_]/g, (c) => `\\${c}`);
}
