import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { localClock, minuteOfWeek } from "../../src/domain/dates.js";
import { canTransition, cardTokenProblem, isOpenAt, openings, redemptionCost, scheduleProblems, type ScheduleWindow } from "../../src/domain/promotion.js";

const zone = "Asia/Shanghai";
const at = (iso: string) => DateTime.fromISO(iso, { zone });

const saturdays: ScheduleWindow[] = [{ days: ["SATURDAY"], start: "09:00", end: "21:00" }];
const lateFriday: ScheduleWindow[] = [{ days: ["FRIDAY"], start: "22:00", end: "02:00" }];
const sundayNight: ScheduleWindow[] = [{ days: ["SUNDAY"], start: "23:00", end: "01:00" }];

describe("isOpenAt", () => {
  it.each([
    // schedule, local time, open?
    [saturdays, "2021-01-09T09:00", true], // a Saturday, the first minute
    [saturdays, "2021-01-09T20:59", true],
    [saturdays, "2021-01-09T21:00", false], // the end is exclusive
    [saturdays, "2021-01-09T08:59", false],
    [saturdays, "2021-01-10T12:00", false], // Sunday
    [lateFriday, "2021-01-08T23:30", true], // Friday night
    [lateFriday, "2021-01-09T01:59", true], // after midnight: still Friday's window
    [lateFriday, "2021-01-09T02:00", false],
    [lateFriday, "2021-01-08T01:00", false], // early Friday belongs to Thursday's night: closed
    [sundayNight, "2021-01-10T23:30", true], // Sunday 23:30 ...
    [sundayNight, "2021-01-11T00:30", true], // ... runs into Monday of the next ISO week
    [sundayNight, "2021-01-04T00:30", true], // Monday 00:30: the Sunday before opened it
    [[], "2021-01-05T03:00", true], // no windows: all day, every day
  ] as const)("%j at %s → %s", (schedule, time, open) => {
    expect(isOpenAt(schedule, at(time))).toBe(open);
  });

  it("reads the time in the bank's zone, not UTC", () => {
    // 2021-01-09 01:30 UTC is 09:30 Saturday in Shanghai.
    expect(isOpenAt(saturdays, DateTime.fromISO("2021-01-09T01:30:00Z").setZone(zone))).toBe(true);
  });
});

describe("openings", () => {
  it.each([
    [saturdays, "2021-01-09T10:00", "2021-01-09T21:00", "2021-01-16T09:00"],
    [saturdays, "2021-01-06T10:00", null, "2021-01-09T09:00"],
    [lateFriday, "2021-01-08T23:00", "2021-01-09T02:00", "2021-01-15T22:00"],
  ] as const)("%j at %s closes %s, next opens %s", (schedule, time, closes, next) => {
    const instant = at(time).toJSDate();
    const o = openings(schedule, instant, minuteOfWeek(localClock(zone, instant)));
    const local = (d: Date | null) => (d ? DateTime.fromJSDate(d, { zone }).toFormat("yyyy-MM-dd'T'HH:mm") : null);
    expect(local(o.closesAt)).toBe(closes);
    expect(local(o.nextOpensAt)).toBe(next);
  });

  it("has neither for an all-day schedule", () => {
    const instant = at("2021-01-09T10:00").toJSDate();
    expect(openings([], instant, minuteOfWeek(localClock(zone, instant)))).toEqual({ closesAt: null, nextOpensAt: null });
  });

  it("reads the wall clock as luxon does, to the millisecond, in a zone with DST too", () => {
    for (const z of [zone, "Europe/Berlin", "America/St_Johns"]) {
      // Every 4 h 11 min 13.37 s across 2021, through both DST changes.
      for (let t = Date.UTC(2021, 0, 1); t < Date.UTC(2022, 0, 1); t += 251 * 60_000 + 13_370) {
        const l = DateTime.fromMillis(t, { zone: z });
        const c = localClock(z, new Date(t));
        expect(c).toEqual({ date: l.toISODate(), weekday: l.weekday, hour: l.hour, minute: l.minute, second: l.second, millisecond: l.millisecond });
      }
    }
  });

  it("reads it right when the same second is asked again, in several zones by turns, and across DST's gap", () => {
    // Berlin leaves 01:59:59.999 CET for 03:00 CEST at 2021-03-28T01:00:00Z; instants around it,
    // each asked of two zones in turn, several times within a second and just past it.
    const base = Date.UTC(2021, 2, 28, 0, 59, 59);
    for (const t of [base, base + 1, base + 999, base + 1000, base + 1001, base + 1999, base + 2000, base - 1, base + 500]) {
      for (const z of ["Europe/Berlin", zone, "Europe/Berlin"]) {
        const l = DateTime.fromMillis(t, { zone: z });
        const c = localClock(z, new Date(t));
        expect(c).toEqual({ date: l.toISODate(), weekday: l.weekday, hour: l.hour, minute: l.minute, second: l.second, millisecond: l.millisecond });
        c.hour = 99; // a caller's change to its copy does not reach the next reading
      }
    }
  });
});

describe("scheduleProblems", () => {
  it.each([
    [[{ days: [], start: "09:00", end: "10:00" }], "schedule[0].days"],
    [[{ days: ["MONDAY"], start: "9:00", end: "10:00" }], "schedule[0].start"],
    [[{ days: ["MONDAY"], start: "09:00", end: "25:00" }], "schedule[0].end"],
    [[{ days: ["MONDAY"], start: "09:00", end: "09:00" }], "schedule[0].end"],
  ] as const)("%j is refused at %s", (schedule, field) => {
    expect(scheduleProblems(schedule as unknown as ScheduleWindow[]).map(([f]) => f)).toContain(field);
  });
  it("accepts a window across midnight", () => {
    expect(scheduleProblems(lateFriday)).toEqual([]);
  });
});

describe("campaign lifecycle", () => {
  it.each([
    ["DRAFT", "SCHEDULED", true],
    ["DRAFT", "ACTIVE", false],
    ["SCHEDULED", "ACTIVE", true],
    ["ACTIVE", "PAUSED", true],
    ["PAUSED", "ACTIVE", true],
    ["ACTIVE", "ENDED", true],
    ["ENDED", "ACTIVE", false],
    ["PAUSED", "SCHEDULED", false],
  ] as const)("%s → %s is %s", (from, to, ok) => {
    expect(canTransition(from, to)).toBe(ok);
  });
});

describe("redemptionCost", () => {
  it.each([
    [{ kind: "PERCENT_OFF", percentOff: 20 }, 10_000, false, { costFen: 2_000 }],
    [{ kind: "PERCENT_OFF", percentOff: 20, amountFen: 1_500 }, 10_000, false, { costFen: 1_500 }], // capped
    [{ kind: "FIXED_PRICE", amountFen: 100 }, 3_000, false, { costFen: 2_900 }], // the 1-yuan car wash
    [{ kind: "CASHBACK", amountFen: 500, minSpendFen: 5_000 }, 6_000, false, { costFen: 500 }],
    [{ kind: "LUCKY_DRAW", amountFen: 8_800 }, 1_000, true, { costFen: 8_800 }],
    [{ kind: "LUCKY_DRAW", amountFen: 8_800 }, 1_000, false, { costFen: 0 }],
  ] as const)("%j on a spend of %i fen (won: %s) → %j", (rule, spend, won, expected) => {
    expect(redemptionCost(rule, spend, won)).toEqual(expected);
  });
  it.each([
    [{ kind: "CASHBACK", amountFen: 500, minSpendFen: 5_000 }, 4_999],
    [{ kind: "FIXED_PRICE", amountFen: 100 }, 100],
  ] as const)("%j on %i fen does not qualify", (rule, spend) => {
    expect(redemptionCost(rule, spend, false)).toHaveProperty("reason");
  });
});

describe("cardTokenProblem", () => {
  it.each([
    ["tok_card_00000001", null],
    ["A1b2-C3d4_E5f6G7h8", null],
    ["x".repeat(64), null],
    ["tok_card_000001", "16 to 64"], // 15 characters
    ["x".repeat(65), "16 to 64"],
    ["tok card 00000001", "16 to 64"],
    ["tok_card_0000000\u0000", "16 to 64"],
    ["6222020200112233445", "never a card number"], // a card number's shape
    ["1234567890123456-_", "never a card number"],
  ])("%j → %s", (token, problem) => {
    const found = cardTokenProblem(token);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});
