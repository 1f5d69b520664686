import { type BusinessDate, addDays, civilDay, compareDates, dateOf, dayNumber, daysBetweenInclusive, isoWeekday, minDate } from "./dates.js";

export type PeriodKind = "QUARTER" | "MONTH" | "WEEK";

export interface Period {
  /** Canonical code: `2021-Q1`, `2021-02` or `2021-W05`. */
  readonly code: string;
  readonly kind: PeriodKind;
  /** First day, inclusive. */
  readonly start: BusinessDate;
  /** Last day, inclusive. */
  readonly end: BusinessDate;
  /** Number of days from start to end, inclusive. */
  readonly days: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

function makePeriod(code: string, kind: PeriodKind, first: number, last: number): Period {
  const start = dateOf(first);
  const end = dateOf(last);
  return { code, kind, start, end, days: daysBetweenInclusive(start, end) };
}

function quarterPeriod(year: number, quarter: number): Period {
  const first = civilDay(year, quarter * 3 - 2, 1);
  return makePeriod(`${pad(year, 4)}-Q${quarter}`, "QUARTER", first, civilDay(year, quarter * 3 + 1, 0));
}

function monthPeriod(year: number, month: number): Period {
  return makePeriod(`${pad(year, 4)}-${pad(month, 2)}`, "MONTH", civilDay(year, month, 1), civilDay(year, month + 1, 0));
}

/** The Monday that starts ISO week 1 of a week-year: 4 January is always in week 1. */
function week1Monday(weekYear: number): number {
  const jan4 = civilDay(weekYear, 1, 4);
  return jan4 - (isoWeekday(jan4) - 1);
}

function weekPeriod(weekYear: number, week: number): Period {
  const first = week1Monday(weekYear) + (week - 1) * 7;
  return makePeriod(`${pad(weekYear, 4)}-W${pad(week, 2)}`, "WEEK", first, first + 6);
}

/** The ISO week-year and week of a day: those of its week's Thursday. */
function isoWeekOf(day: number): { weekYear: number; week: number } {
  const thursday = day - isoWeekday(day) + 4;
  const weekYear = Number(dateOf(thursday).slice(0, 4));
  return { weekYear, week: Math.floor((thursday - civilDay(weekYear, 1, 1)) / 7) + 1 };
}

/** 28 December always falls in the last ISO week of its week-year. */
function isoWeeksIn(weekYear: number): number {
  return isoWeekOf(civilDay(weekYear, 12, 28)).week;
}

const PERIOD_SHAPE = /^(\d{4})-(?:[Qq](\d)|(\d{2})|[Ww](\d{2}))$/;

/**
 * Validates a period code from outside and resolves it to its exact days, so every
 * figure of a query counts the same date range. ISO weeks follow the ISO week-year, which
 * may start in late December or end in early January.
 */
export function parsePeriod(input: string): Period {
  const m = PERIOD_SHAPE.exec(input);
  if (!m) throw new RangeError(`"${input}": expected 2021-Q1, 2021-02 or 2021-W05`);
  const year = Number(m[1]);
  if (year < 1900 || year > 2999) throw new RangeError(`"${input}": year must be 1900..2999`);
  if (m[2] !== undefined) {
    const quarter = Number(m[2]);
    if (quarter < 1 || quarter > 4) throw new RangeError(`"${input}": quarter must be 1..4`);
    return quarterPeriod(year, quarter);
  }
  if (m[3] !== undefined) {
    const month = Number(m[3]);
    if (month < 1 || month > 12) throw new RangeError(`"${input}": month must be 01..12`);
    return monthPeriod(year, month);
  }
  const week = Number(m[4]);
  if (week < 1 || week > 53) throw new RangeError(`"${input}": week must be 01..53`);
  if (week > isoWeeksIn(year)) throw new RangeError(`"${input}": ${year} has no ISO week 53`);
  return weekPeriod(year, week);
}

/**
 * Finds the period of a kind containing a date, e.g. "this quarter" for today. A date in
 * early January may belong to the previous year's last ISO week (and late December to the
 * next year's first).
 */
export function periodOf(kind: PeriodKind, date: BusinessDate): Period {
  const day = dayNumber(date);
  const [year, month] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  switch (kind) {
    case "QUARTER":
      return quarterPeriod(year, Math.floor((month - 1) / 3) + 1);
    case "MONTH":
      return monthPeriod(year, month);
    case "WEEK": {
      const { weekYear, week } = isoWeekOf(day);
      return weekPeriod(weekYear, week);
    }
  }
}

export interface AsOfWindow {
  /** First day counted, inclusive (always the period's start). */
  readonly start: BusinessDate;
  /** Last day counted, inclusive; the day before `start` when the window is empty. */
  readonly end: BusinessDate;
  /** True when the as-of date is before the period: nothing is counted yet. */
  readonly empty: boolean;
  /** Days from start to end, inclusive; 0 when empty. */
  readonly daysElapsed: number;
}

/**
 * Applies the contract "records dated from the period's first day to min(asOf, last day),
 * inclusive". An empty window keeps start = period start and ends the day before, so a
 * `BETWEEN start AND end` query naturally returns nothing.
 */
export function asOfWindow(period: Period, asOf: BusinessDate): AsOfWindow {
  if (compareDates(asOf, period.start) < 0) {
    return { start: period.start, end: addDays(period.start, -1), empty: true, daysElapsed: 0 };
  }
  const end = minDate(asOf, period.end);
  return { start: period.start, end, empty: false, daysElapsed: daysBetweenInclusive(period.start, end) };
}

/**
 * Share of the period's days elapsed as of a date, the yardstick a completion rate is
 * judged against (2021-Q1 as of 2021-02-28 is 59/90). 0 before the period, 1 after it.
 */
export function timeProgress(period: Period, asOf: BusinessDate): number {
  return progressOf(period, asOfWindow(period, asOf));
}

/** `timeProgress` from a window the caller already holds. */
export function progressOf(period: Period, window: AsOfWindow): number {
  return window.daysElapsed / period.days;
}

export type Granularity = "DAY" | "WEEK" | "MONTH";

export interface Bucket {
  /** First day, inclusive. */
  readonly start: BusinessDate;
  /** Last day, inclusive. */
  readonly end: BusinessDate;
}

/**
 * Splits a window into the points of a time series. Buckets are calendar units (days, ISO
 * weeks Monday..Sunday, calendar months) clipped to the window, so they tile it exactly:
 * summing a series gives the window's total, and a partial first or last bucket is kept.
 */
export function seriesBuckets(window: AsOfWindow, granularity: Granularity): Bucket[] {
  if (window.empty || compareDates(window.end, window.start) < 0) return [];
  const buckets: Bucket[] = [];
  let cursor = window.start;
  while (compareDates(cursor, window.end) <= 0) {
    const day = dayNumber(cursor);
    const unitEnd =
      granularity === "DAY" ? cursor
      : granularity === "WEEK" ? dateOf(day + 7 - isoWeekday(day))
      : dateOf(civilDay(Number(cursor.slice(0, 4)), Number(cursor.slice(5, 7)) + 1, 0));
    const end = minDate(unitEnd, window.end);
    buckets.push({ start: cursor, end });
    cursor = addDays(end, 1);
  }
  return buckets;
}
