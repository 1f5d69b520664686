/**
 * Field checks shared by the write services. Each pushes a precise issue instead of throwing,
 * so one call reports every bad field of every row.
 */
import { compareDates, type BusinessDate } from "../../domain/dates.js";
import { BadInputError, type IssueCollector } from "../../errors.js";

const CODE = /^[A-Za-z0-9][A-Za-z0-9_.\-]*$/;
export const MAX_CODE_LENGTH = 64;
export const MAX_NAME_LENGTH = 200;

export function checkBatchSize(rows: readonly unknown[], max: number): void {
  if (rows.length === 0) throw BadInputError.single("input", "must hold at least one row");
  if (rows.length > max) {
    throw BadInputError.single("input", `holds ${rows.length} rows; at most ${max} per call (use the import for bulk loads)`);
  }
}

export function checkCode(issues: IssueCollector, index: number, field: string, value: string): boolean {
  if (value.length === 0) return issues.add(index, field, "must not be empty"), false;
  if (value.length > MAX_CODE_LENGTH) return issues.add(index, field, `must be at most ${MAX_CODE_LENGTH} characters`), false;
  if (!CODE.test(value)) {
    return issues.add(index, field, "may hold only letters, digits, '-', '_' and '.', starting with a letter or digit"), false;
  }
  return true;
}

export function checkName(issues: IssueCollector, index: number, field: string, value: string): void {
  if (value.trim().length === 0) issues.add(index, field, "must not be blank");
  else if (value.length > MAX_NAME_LENGTH) issues.add(index, field, `must be at most ${MAX_NAME_LENGTH} characters`);
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
  index: number,
  earlier: { field: string; value: BusinessDate | null | undefined },
  later: { field: string; value: BusinessDate | null | undefined },
): void {
  if (earlier.value && later.value && compareDates(later.value, earlier.value) < 0) {
    issues.add(index, later.field, `${later.value} is before ${earlier.field} ${earlier.value}`);
  }
}
