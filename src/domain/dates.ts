import { DateTime } from "luxon";

/** A calendar date in the bank's time zone, always in canonical `YYYY-MM-DD` form. */
export type BusinessDate = string;

const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Converts a date we already hold to luxon (UTC midnight) for calendar arithmetic inside
 * the domain layer. It checks shape and calendar validity but not the 1900..2999 range, so
 * helpers can step just past the edges (e.g. the day before 1900-01-01 that closes an
 * empty window).
 */
export function toDateTime(date: BusinessDate): DateTime {
  const m = DATE_SHAPE.exec(date);
  if (!m) throw new RangeError(`"${date}": expected YYYY-MM-DD`);
  const dt = DateTime.utc(Number(m[1]), Number(m[2]), Number(m[3]));
  if (!dt.isValid) throw new RangeError(`"${date}" is not a calendar date`);
  return dt;
}

/** The JavaScript Date a DATE column holds for a business date (UTC midnight, as Prisma maps DATE). */
export function toDbDate(date: BusinessDate): Date {
  return new Date(`${date}T00:00:00.000Z`);
}

/** The business date of a DATE column's value. */
export function fromDbDate(d: Date): BusinessDate {
  return d.toISOString().slice(0, 10);
}

/** Converts back from luxon; dates built by `toDateTime` are valid, so the ISO date exists. */
export function fromDateTime(dt: DateTime): BusinessDate {
  return dt.toISODate() as BusinessDate;
}

/**
 * Validates a date coming from outside (API arguments, config) before it reaches a query,
 * so a typo like 2021-02-30 is reported to the caller instead of silently rolling over.
 */
export function parseBusinessDate(input: string): BusinessDate {
  const m = DATE_SHAPE.exec(input);
  if (!m) throw new RangeError(`"${input}": expected YYYY-MM-DD`);
  const year = Number(m[1]);
  if (year < 1900 || year > 2999) throw new RangeError(`"${input}": year must be 1900..2999`);
  return fromDateTime(toDateTime(input));
}

/**
 * Business dates are those of the bank's zone, not the server's: just after midnight in
 * Shanghai it is still the previous day in UTC, and "as of today" must follow Shanghai.
 */
export function todayIn(zone: string, now: Date = new Date()): BusinessDate {
  const dt = DateTime.fromJSDate(now, { zone });
  if (!dt.isValid) throw new RangeError(`"${zone}" is not a known time zone`);
  return fromDateTime(dt);
}

/** Canonical dates sort as strings, so comparison needs no parsing; usable in `sort`. */
export function compareDates(a: BusinessDate, b: BusinessDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Clips a window's end to a bound (e.g. as-of date vs. period end). */
export function minDate(a: BusinessDate, b: BusinessDate): BusinessDate {
  return compareDates(a, b) <= 0 ? a : b;
}

/** Clips a window's start to a bound. */
export function maxDate(a: BusinessDate, b: BusinessDate): BusinessDate {
  return compareDates(a, b) >= 0 ? a : b;
}

/** Steps through the calendar without time-of-day or DST effects (arithmetic is in UTC). */
export function addDays(date: BusinessDate, n: number): BusinessDate {
  return fromDateTime(toDateTime(date).plus({ days: n }));
}

/**
 * Counts the days of an inclusive range, as the contract counts both ends; an inverted
 * range (an empty window) counts 0 rather than going negative.
 */
export function daysBetweenInclusive(start: BusinessDate, end: BusinessDate): number {
  const days = toDateTime(end).diff(toDateTime(start), "days").days + 1;
  return Math.max(0, Math.round(days));
}

/** Every date from `start` to `end`, inclusive (empty when `end` is before `start`). */
export function eachDay(start: BusinessDate, end: BusinessDate): BusinessDate[] {
  const days: BusinessDate[] = [];
  for (let d = start; compareDates(d, end) <= 0; d = addDays(d, 1)) days.push(d);
  return days;
}
