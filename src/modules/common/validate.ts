/**
 * Field checks shared by the write services. Each pushes a precise issue instead of throwing,
 * so one call reports every bad field of every row.
 *
 * Where each kind of input check lives (one rule, three places):
 * - The GraphQL shape (types, required fields, enum values, the page size's range) is declared
 *   on the input and args classes with type-graphql and class-validator decorators; a request
 *   that breaks it never reaches a service.
 * - Business rules (codes that must exist, dates in order, amounts in yuan, limits, states) are
 *   checked in the services, which callers other than GraphQL (the import, the demo, tests)
 *   share: every problem goes into an `IssueCollector` with the row index and field, and the
 *   call throws them all at once (`issues.throwIfAny()`, or `screen` for batches). Only a lone
 *   argument that ends the call before any row is read (a cursor, a batch's size) throws
 *   `BadInputError.single` at once. Codes become ids through common/lookup.ts.
 * - File cells (a CSV/NDJSON line's text → typed values) are parsed by the import's schemas
 *   (import/import.kinds.ts), which then hand typed rows to the same services.
 */
import { compareDates, type BusinessDate } from "../../domain/dates.js";
import { yuanToFen } from "../../domain/money.js";
import type { TransactionOptions } from "../../db/transaction.js";
import { BadInputError, IssueCollector, type FieldIssue } from "../../errors.js";

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

/**
 * The options of a batch write: with `skipInvalid` `screen` drops bad rows instead of
 * rejecting the call; the rest is the transaction's (db/transaction.ts).
 */
export type WriteOptions = TransactionOptions;

/**
 * The options of a streamed write (a bulk import's chunk), which always skips bad rows: their
 * issues, indexed by line, are handed to `onRejected` a page of `pageRows` refused rows at a time
 * (the default suits memory), inside the transaction, so a caller that reports them must keep
 * them until the write commits.
 */
export interface StreamedWriteOptions extends WriteOptions {
  onRejected(issues: readonly FieldIssue[]): Promise<void> | void;
  pageRows?: number;
}

/**
 * An amount in yuan (at most two decimals) → fen; null, with an issue on `field`, when it is
 * refused (domain/money.ts says why). Absent stays null.
 */
export function checkYuan(issues: IssueCollector, field: string, yuan: number | null | undefined, allowZero = true): number | null {
  if (yuan == null) return null;
  const fen = yuanToFen(yuan, allowZero);
  if ("reason" in fen) return issues.add(undefined, field, fen.reason), null;
  return fen.fen;
}

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

export const MAX_SEARCH_LENGTH = 100;

/**
 * A user's search text as a literal for Prisma's `contains` (a LIKE pattern underneath): `%`
 * and `_` match themselves, and an overlong text is refused rather than scanned.
 */
export function likeLiteral(search: string): string {
  if (search.length > MAX_SEARCH_LENGTH) throw BadInputError.single("search", `must be at most ${MAX_SEARCH_LENGTH} characters`);
  return search.replace(/[\\%_]/g, (c) => `\\${c}`);
}
