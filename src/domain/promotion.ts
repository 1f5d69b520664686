/**
 * Promotion rules: weekly schedules in the bank's time zone, campaign lifecycle, and what a
 * redemption costs the bank. Pure functions; the service supplies the clock and the data.
 */
import { DateTime } from "luxon";

export const DAYS_OF_WEEK = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

/** A weekly window, e.g. Saturdays 09:00–21:00. An end at or before the start runs past midnight. */
export interface ScheduleWindow {
  readonly days: readonly DayOfWeek[];
  /** "HH:MM", 00:00..23:59. */
  readonly start: string;
  /** "HH:MM"; "24:00" is allowed for "until midnight". */
  readonly end: string;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Minutes after midnight of "HH:MM"; throws RangeError on anything else. */
function parseTimeOfDay(value: string): number {
  const m = TIME.exec(value);
  if (!m) throw new RangeError(`"${value}" is not a time of day HH:MM`);
  return value === "24:00" ? 1440 : Number(m[1]) * 60 + Number(m[2]);
}

/** Problems with a schedule, as [field, reason] pairs; empty when valid. */
export function scheduleProblems(schedule: readonly ScheduleWindow[]): [string, string][] {
  const problems: [string, string][] = [];
  schedule.forEach((w, i) => {
    if (w.days.length === 0) problems.push([`schedule[${i}].days`, "must name at least one day"]);
    let start = 0;
    let end = 0;
    try {
      start = parseTimeOfDay(w.start);
      if (start === 1440) problems.push([`schedule[${i}].start`, "must be before 24:00"]);
    } catch (err) {
      problems.push([`schedule[${i}].start`, (err as Error).message]);
    }
    try {
      end = parseTimeOfDay(w.end);
    } catch (err) {
      problems.push([`schedule[${i}].end`, (err as Error).message]);
    }
    if (start === end) problems.push([`schedule[${i}].end`, "equals the start: an empty window"]);
  });
  return problems;
}

/**
 * Whether the schedule is open at `at` (bank zone). An empty schedule is always open. Windows
 * that run past midnight belong to the day they start on: "Friday 22:00–02:00" is open early
 * on Saturday, not early on Friday.
 */
export function isOpenAt(schedule: readonly ScheduleWindow[], at: DateTime): boolean {
  return isOpenAtLocal(schedule, DAYS_OF_WEEK[at.weekday - 1], at.hour * 60 + at.minute);
}

/**
 * The same test on a local weekday and minute of the day, with no date arithmetic: the mobile
 * query checks thousands of candidate offers per request, so the clock is read once.
 */
export function isOpenAtLocal(schedule: readonly ScheduleWindow[], day: DayOfWeek, minute: number): boolean {
  if (schedule.length === 0) return true;
  const previous = DAYS_OF_WEEK[(DAYS_OF_WEEK.indexOf(day) + 6) % 7];
  return schedule.some((w) => {
    const start = parseTimeOfDay(w.start);
    const end = parseTimeOfDay(w.end);
    if (end > start) return w.days.includes(day) && minute >= start && minute < end;
    // Past midnight: the evening part on the day itself, the small hours on the next day.
    return (w.days.includes(day) && minute >= start) || (w.days.includes(previous) && minute < end);
  });
}

const WEEK_MINUTES = 7 * 1440;

/**
 * The schedule's windows as [from, to) minutes of the local week (0 = Monday 00:00), repeated
 * from the week before to two weeks after, so a window running past Sunday midnight and a
 * look a week ahead both fall inside.
 */
function weekIntervals(schedule: readonly ScheduleWindow[]): [number, number][] {
  const out: [number, number][] = [];
  for (const w of schedule) {
    const start = parseTimeOfDay(w.start);
    const end = parseTimeOfDay(w.end);
    const length = end > start ? end - start : 1440 - start + end;
    for (const day of w.days) {
      const from = DAYS_OF_WEEK.indexOf(day) * 1440 + start;
      for (let week = -1; week <= 2; week++) out.push([from + week * WEEK_MINUTES, from + week * WEEK_MINUTES + length]);
    }
  }
  return out;
}

/**
 * When the current opening ends and when the next one starts, looking at most a week ahead.
 * `closesAt` is null for an all-day schedule (no schedule windows). Worked out in minutes of
 * the local week (`now`, from dates.ts minuteOfWeek of the local clock at `at`) and turned into
 * instants by adding the minutes to `at`, as elapsed time: the nearby query asks it for every
 * offer on a page, and date arithmetic per window was a third of the server's time.
 */
export function openings(schedule: readonly ScheduleWindow[], at: Date, now: number): { closesAt: Date | null; nextOpensAt: Date | null } {
  if (schedule.length === 0) return { closesAt: null, nextOpensAt: null };
  const intervals = weekIntervals(schedule);
  // Overlapping or touching windows make one opening.
  let end: number | null = null;
  for (const [from, to] of intervals) if (from <= now && now < to && (end === null || to > end)) end = to;
  for (let grew = end !== null; grew; ) {
    grew = false;
    for (const [from, to] of intervals) {
      if (from <= end! && to > end!) {
        end = to;
        grew = true;
      }
    }
  }
  const after = end ?? now;
  let next: number | null = null;
  for (const [from] of intervals) if (from > after && (next === null || from < next)) next = from;
  const inMinutes = (minute: number) => new Date(at.getTime() + Math.round((minute - now) * 60_000));
  return { closesAt: end === null ? null : inMinutes(end), nextOpensAt: next === null ? null : inMinutes(next) };
}

export type CampaignStatus = "DRAFT" | "SCHEDULED" | "ACTIVE" | "PAUSED" | "ENDED";

/** The legal lifecycle moves; ENDED is final. */
export const CAMPAIGN_TRANSITIONS: Readonly<Record<CampaignStatus, readonly CampaignStatus[]>> = {
  DRAFT: ["SCHEDULED"],
  SCHEDULED: ["DRAFT", "ACTIVE", "ENDED"],
  ACTIVE: ["PAUSED", "ENDED"],
  PAUSED: ["ACTIVE", "ENDED"],
  ENDED: [],
};

/** Whether a campaign may move from one status to another. */
export function canTransition(from: CampaignStatus, to: CampaignStatus): boolean {
  return CAMPAIGN_TRANSITIONS[from].includes(to);
}

export type PromotionKind = "PERCENT_OFF" | "FIXED_PRICE" | "CASHBACK" | "LUCKY_DRAW";

export interface PromotionRule {
  readonly kind: PromotionKind;
  readonly percentOff?: number | null;
  /** See Promotion.amountFen in the schema: cap, price, cashback or prize value. */
  readonly amountFen?: number | null;
  readonly minSpendFen?: number | null;
  /** FIXED_PRICE: the regular price; what the bank pays a use is capped at listPrice − price. */
  readonly listPriceFen?: number | null;
}

/**
 * What one use costs the bank, in fen, or why the spend does not qualify. A lucky draw costs
 * the prize's value when it is won and nothing otherwise.
 */
export function redemptionCost(rule: PromotionRule, spendFen: number, won: boolean): { costFen: number } | { reason: string } {
  if (rule.minSpendFen != null && spendFen < rule.minSpendFen) {
    return { reason: `the spend is below the minimum of ${(rule.minSpendFen / 100).toFixed(2)} yuan` };
  }
  switch (rule.kind) {
    case "PERCENT_OFF": {
      const discount = Math.round((spendFen * (rule.percentOff ?? 0)) / 100);
      return { costFen: rule.amountFen != null ? Math.min(discount, rule.amountFen) : discount };
    }
    case "FIXED_PRICE": {
      // The cardholder pays the fixed price; the bank pays the rest of the regular price, never
      // more, whatever spend a caller reports.
      const price = rule.amountFen ?? 0;
      if (spendFen <= price) return { reason: "the spend is not above the fixed price" };
      return { costFen: Math.min(spendFen, rule.listPriceFen ?? spendFen) - price };
    }
    case "CASHBACK":
      return { costFen: rule.amountFen ?? 0 };
    case "LUCKY_DRAW":
      return { costFen: won ? (rule.amountFen ?? 0) : 0 };
  }
}

const CARD_TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Why a string is not a card token, or null when it is. A card token (issued by the card
 * network or the acquirer for one card) is 16–64 characters of letters, digits, '_' and '-'
 * with at least one letter: an all-digit string could be a card number (PAN), which the bank
 * never stores or receives here.
 */
export function cardTokenProblem(token: string): string | null {
  if (!CARD_TOKEN.test(token)) return "must be a card token: 16 to 64 letters, digits, '_' or '-'";
  if (!/[A-Za-z]/.test(token)) return "must be a card token with at least one letter, never a card number";
  return null;
}
