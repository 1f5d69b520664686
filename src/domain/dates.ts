/**
 * Business dates as plain `YYYY-MM-DD` strings, with calendar arithmetic on day numbers (days
 * since 1970-01-01, in UTC, where no day has a DST gap). Every dashboard request resolves a
 * period and a window; doing that through a date library cost a tenth of the server's CPU on the
 * ranking (issue 16's profile), and a day number is all a business date needs.
 */

/** A calendar date in the bank's time zone, always in canonical `YYYY-MM-DD` form. */
export type BusinessDate = string;

const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/**
 * The day number of a date we already hold (days since 1970-01-01). It checks shape and
 * calendar validity but not the 1900..2999 range, so helpers can step just past the edges
 * (e.g. the day before 1900-01-01 that closes an empty window).
 */
export function dayNumber(date: BusinessDate): number {
  const m = DATE_SHAPE.exec(date);
  if (!m) throw new RangeError(`"${date}": expected YYYY-MM-DD`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const n = civilDay(year, month, day);
  if (month < 1 || month > 12 || day < 1 || dateOf(n) !== date) throw new RangeError(`"${date}" is not a calendar date`);
  return n;
}

/** The day number of (year, month, day); a day past the month's end rolls over, as `Date.UTC` does (day 0 is the previous month's last). */
export function civilDay(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0..99 to 1900..1999
  return Math.round(d.getTime() / MS_PER_DAY);
}

/** The date of a day number. */
export function dateOf(dayNumber: number): BusinessDate {
  const d = new Date(dayNumber * MS_PER_DAY);
  const year = d.getUTCFullYear();
  return `${String(year).padStart(4, "0")}-${String(d.getUTCMonth() + 1).padStart(2, "0")}-${String(d.getUTCDate()).padStart(2, "0")}`;
}

/** ISO weekday of a day number: 1 Monday … 7 Sunday (1970-01-01, day 0, was a Thursday). */
export function isoWeekday(dayNumber: number): number {
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

/** The weekday of a date: 1 Monday … 7 Sunday. */
export function weekdayOf(date: BusinessDate): number {
  return isoWeekday(dayNumber(date));
}

/** The JavaScript Date a DATE column holds for a business date (UTC midnight, as Prisma maps DATE). */
export function toDbDate(date: BusinessDate): Date {
  return new Date(`${date}T00:00:00.000Z`);
}

/** The business date of a DATE column's value. */
export function fromDbDate(d: Date): BusinessDate {
  return d.toISOString().slice(0, 10);
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
  dayNumber(input); // throws on 2021-02-30
  return input;
}

/**
 * Business dates are those of the bank's zone, not the server's: just after midnight in
 * Shanghai it is still the previous day in UTC, and "as of today" must follow Shanghai.
 */
export function todayIn(zone: string, now: Date = new Date()): BusinessDate {
  return localClock(zone, now).date;
}

/** A moment as the bank's wall clock reads it: the business date and the time of day, to the millisecond. */
export interface LocalClock {
  date: BusinessDate;
  /** 1 Monday … 7 Sunday. */
  weekday: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/**
 * The wall clock in `zone` at `at`, from a cached Intl formatter: the card app's nearby query
 * reads it on every request, and a date library's zone arithmetic was a third of that request's
 * CPU (issue 15's profile).
 */
export function localClock(zone: string, at: Date): LocalClock {
  const ms = at.getTime();
  const wholeSecond = Math.floor(ms / 1000);
  // Zone offsets are whole seconds, so one reading serves every instant of the same second: a
  // busy server reads the clock thousands of times a second (every request's business date).
  const last = lastClocks.get(zone);
  const millisecond = ms - wholeSecond * 1000;
  if (last && last.second === wholeSecond) return { ...last.clock, millisecond };
  const clock = readClock(zone, at, millisecond);
  lastClocks.set(zone, { second: wholeSecond, clock });
  return { ...clock };
}

const lastClocks = new Map<string, { second: number; clock: LocalClock }>();

function readClock(zone: string, at: Date, millisecond: number): LocalClock {
  const parts = clockFormat(zone).formatToParts(at);
  let year = "", month = "", day = "", hour = 0, minute = 0, second = 0;
  for (const p of parts) {
    if (p.type === "year") year = p.value;
    else if (p.type === "month") month = p.value;
    else if (p.type === "day") day = p.value;
    else if (p.type === "hour") hour = Number(p.value);
    else if (p.type === "minute") minute = Number(p.value);
    else if (p.type === "second") second = Number(p.value);
  }
  const date = `${year.padStart(4, "0")}-${month}-${day}`;
  // Zone offsets are whole seconds, so the milliseconds are the instant's own.
  return { date, weekday: weekdayOf(date), hour, minute, second, millisecond };
}

/** Minutes since Monday 00:00 of the local week, with the seconds as a fraction. */
export function minuteOfWeek(clock: LocalClock): number {
  return (clock.weekday - 1) * 1440 + clock.hour * 60 + clock.minute + (clock.second * 1000 + clock.millisecond) / 60_000;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();
function clockFormat(zone: string): Intl.DateTimeFormat {
  let format = clockFormats.get(zone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
      });
    } catch {
      throw new RangeError(`"${zone}" is not a known time zone`);
    }
    clockFormats.set(zone, format);
  }
  return format;
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
  return dateOf(dayNumber(date) + n);
}

/**
 * Counts the days of an inclusive range, as the contract counts both ends; an inverted
 * range (an empty window) counts 0 rather than going negative.
 */
export function daysBetweenInclusive(start: BusinessDate, end: BusinessDate): number {
  return Math.max(0, dayNumber(end) - dayNumber(start) + 1);
}

/** Every date from `start` to `end`, inclusive (empty when `end` is before `start`). */
export function eachDay(start: BusinessDate, end: BusinessDate): BusinessDate[] {
  const days: BusinessDate[] = [];
  for (let n = dayNumber(start), last = dayNumber(end); n <= last; n++) days.push(dateOf(n));
  return days;
}
