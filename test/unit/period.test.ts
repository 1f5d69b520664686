import { describe, it, expect } from "vitest";
import { addDays, daysBetweenInclusive } from "../../src/domain/dates.js";
import {
  type Granularity,
  type PeriodKind,
  asOfWindow,
  parsePeriod,
  periodOf,
  seriesBuckets,
  timeProgress,
} from "../../src/domain/period.js";

describe("parsePeriod", () => {
  it.each([
    // input, code, kind, start, end, days
    ["2021-Q1", "2021-Q1", "QUARTER", "2021-01-01", "2021-03-31", 90],
    ["2020-Q1", "2020-Q1", "QUARTER", "2020-01-01", "2020-03-31", 91], // leap year
    ["2021-Q2", "2021-Q2", "QUARTER", "2021-04-01", "2021-06-30", 91],
    ["2021-Q3", "2021-Q3", "QUARTER", "2021-07-01", "2021-09-30", 92],
    ["2021-q4", "2021-Q4", "QUARTER", "2021-10-01", "2021-12-31", 92],
    ["2021-01", "2021-01", "MONTH", "2021-01-01", "2021-01-31", 31],
    ["2021-02", "2021-02", "MONTH", "2021-02-01", "2021-02-28", 28],
    ["2020-02", "2020-02", "MONTH", "2020-02-01", "2020-02-29", 29], // leap day
    ["2021-04", "2021-04", "MONTH", "2021-04-01", "2021-04-30", 30],
    ["2021-12", "2021-12", "MONTH", "2021-12-01", "2021-12-31", 31],
    ["2021-W05", "2021-W05", "WEEK", "2021-02-01", "2021-02-07", 7],
    ["2021-w01", "2021-W01", "WEEK", "2021-01-04", "2021-01-10", 7],
    ["2020-W53", "2020-W53", "WEEK", "2020-12-28", "2021-01-03", 7], // crosses into next year
    ["2015-W53", "2015-W53", "WEEK", "2015-12-28", "2016-01-03", 7],
    ["2026-W53", "2026-W53", "WEEK", "2026-12-28", "2027-01-03", 7],
    ["2026-W01", "2026-W01", "WEEK", "2025-12-29", "2026-01-04", 7], // starts in previous year
    ["2019-W01", "2019-W01", "WEEK", "2018-12-31", "2019-01-06", 7],
    ["2021-W52", "2021-W52", "WEEK", "2021-12-27", "2022-01-02", 7],
    ["1900-W01", "1900-W01", "WEEK", "1900-01-01", "1900-01-07", 7],
    ["1900-Q1", "1900-Q1", "QUARTER", "1900-01-01", "1900-03-31", 90], // 1900 is not leap
    ["2999-12", "2999-12", "MONTH", "2999-12-01", "2999-12-31", 31],
  ] as const)("%s → %s %s %s..%s (%i days)", (input, code, kind, start, end, days) => {
    expect(parsePeriod(input)).toEqual({ code, kind, start, end, days });
  });

  it.each([
    ["2021-Q5", /"2021-Q5": quarter must be 1..4/],
    ["2021-Q0", /quarter must be 1..4/],
    ["2021-13", /"2021-13": month must be 01..12/],
    ["2021-00", /month must be 01..12/],
    ["2021-W00", /week must be 01..53/],
    ["2021-W54", /week must be 01..53/],
    ["2021-W53", /"2021-W53": 2021 has no ISO week 53/],
    ["2019-W53", /2019 has no ISO week 53/],
    ["1899-Q4", /year must be 1900..2999/],
    ["3000-01", /year must be 1900..2999/],
    ["2021-Q01", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["2021-W5", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["2021-2", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["2021-02-01", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["2021", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["21-Q1", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["2021-H1", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["2021Q1", /expected 2021-Q1, 2021-02 or 2021-W05/],
    [" 2021-Q1", /expected 2021-Q1, 2021-02 or 2021-W05/],
    ["", /expected 2021-Q1, 2021-02 or 2021-W05/],
  ])("rejects %j", (input, reason) => {
    expect(() => parsePeriod(input)).toThrow(RangeError);
    expect(() => parsePeriod(input)).toThrow(reason);
  });
});

describe("periodOf", () => {
  it.each([
    ["QUARTER", "2021-02-28", "2021-Q1"],
    ["QUARTER", "2021-01-01", "2021-Q1"],
    ["QUARTER", "2021-12-31", "2021-Q4"],
    ["MONTH", "2020-02-29", "2020-02"],
    ["MONTH", "2021-12-31", "2021-12"],
    ["WEEK", "2021-01-01", "2020-W53"], // early January in last year's week
    ["WEEK", "2021-01-03", "2020-W53"],
    ["WEEK", "2021-01-04", "2021-W01"],
    ["WEEK", "2018-12-31", "2019-W01"], // late December in next year's week
    ["WEEK", "2025-12-29", "2026-W01"],
    ["WEEK", "2021-02-07", "2021-W05"],
  ] as const)("%s containing %s is %s", (kind, date, code) => {
    expect(periodOf(kind, date)).toEqual(parsePeriod(code));
  });

  it.each(["2021-Q1", "2020-Q4", "2020-02", "2021-12", "2020-W53", "2021-W01", "2026-W01", "2015-W53"])(
    "%s contains its own first and last day",
    (code) => {
      const period = parsePeriod(code);
      expect(periodOf(period.kind, period.start)).toEqual(period);
      expect(periodOf(period.kind, period.end)).toEqual(period);
      expect(periodOf(period.kind, addDays(period.start, -1)).code).not.toBe(code);
      expect(periodOf(period.kind, addDays(period.end, 1)).code).not.toBe(code);
    },
  );
});

describe("asOfWindow and timeProgress", () => {
  it.each([
    // period, asOf, start, end, empty, daysElapsed, time progress
    ["2021-Q1", "2020-12-31", "2021-01-01", "2020-12-31", true, 0, 0], // before
    ["2021-Q1", "2020-06-15", "2021-01-01", "2020-12-31", true, 0, 0],
    ["2021-Q1", "2021-01-01", "2021-01-01", "2021-01-01", false, 1, 1 / 90], // first day
    ["2021-Q1", "2021-02-28", "2021-01-01", "2021-02-28", false, 59, 59 / 90], // the story
    ["2021-Q1", "2021-03-31", "2021-01-01", "2021-03-31", false, 90, 1], // last day
    ["2021-Q1", "2021-04-01", "2021-01-01", "2021-03-31", false, 90, 1], // after
    ["2021-Q1", "2022-01-01", "2021-01-01", "2021-03-31", false, 90, 1],
    ["2020-Q1", "2020-02-29", "2020-01-01", "2020-02-29", false, 60, 60 / 91],
    ["2020-02", "2020-02-29", "2020-02-01", "2020-02-29", false, 29, 1],
    ["2021-02", "2021-02-14", "2021-02-01", "2021-02-14", false, 14, 14 / 28],
    ["2020-W53", "2021-01-01", "2020-12-28", "2021-01-01", false, 5, 5 / 7],
    ["2026-W01", "2025-12-28", "2025-12-29", "2025-12-28", true, 0, 0],
    ["2026-W01", "2025-12-29", "2025-12-29", "2025-12-29", false, 1, 1 / 7],
  ] as const)("%s as of %s → %s..%s", (code, asOf, start, end, empty, daysElapsed, progress) => {
    const period = parsePeriod(code);
    expect(asOfWindow(period, asOf)).toEqual({ start, end, empty, daysElapsed });
    expect(timeProgress(period, asOf)).toBe(progress);
  });

  it("shows the story's time progress of 59/90 (65.56 %)", () => {
    expect(timeProgress(parsePeriod("2021-Q1"), "2021-02-28")).toBeCloseTo(0.6556, 4);
  });
});

describe("seriesBuckets", () => {
  const buckets = (code: string, asOf: string, granularity: Granularity) =>
    seriesBuckets(asOfWindow(parsePeriod(code), asOf), granularity).map((b) => `${b.start}..${b.end}`);

  it.each([
    ["DAY", "2021-02", "2021-02-03", ["2021-02-01..2021-02-01", "2021-02-02..2021-02-02", "2021-02-03..2021-02-03"]],
    ["DAY", "2021-Q1", "2021-01-01", ["2021-01-01..2021-01-01"]],
    [
      // 2021-01-01 is a Friday: the first week is clipped at the quarter start, the last is partial
      "WEEK", "2021-Q1", "2021-01-20",
      ["2021-01-01..2021-01-03", "2021-01-04..2021-01-10", "2021-01-11..2021-01-17", "2021-01-18..2021-01-20"],
    ],
    ["WEEK", "2021-02", "2021-02-28", [
      "2021-02-01..2021-02-07", "2021-02-08..2021-02-14", "2021-02-15..2021-02-21", "2021-02-22..2021-02-28",
    ]],
    ["WEEK", "2021-W05", "2021-12-31", ["2021-02-01..2021-02-07"]],
    ["MONTH", "2021-Q1", "2021-02-28", ["2021-01-01..2021-01-31", "2021-02-01..2021-02-28"]],
    ["MONTH", "2021-Q1", "2021-03-10", ["2021-01-01..2021-01-31", "2021-02-01..2021-02-28", "2021-03-01..2021-03-10"]],
    ["MONTH", "2020-Q1", "2020-12-31", ["2020-01-01..2020-01-31", "2020-02-01..2020-02-29", "2020-03-01..2020-03-31"]],
    ["MONTH", "2020-W53", "2021-01-10", ["2020-12-28..2020-12-31", "2021-01-01..2021-01-03"]],
  ] as const)("%s buckets of %s as of %s", (granularity, code, asOf, expected) => {
    expect(buckets(code, asOf, granularity)).toEqual(expected);
  });

  it.each(["DAY", "WEEK", "MONTH"] as const)("%s buckets of an empty window are []", (granularity) => {
    expect(buckets("2021-Q1", "2020-12-31", granularity)).toEqual([]);
  });

  describe.each(["DAY", "WEEK", "MONTH"] as const)("%s buckets tile the window exactly", (granularity) => {
    it.each([
      ["2021-Q1", "2021-03-31"],
      ["2021-Q1", "2021-02-28"],
      ["2020-Q4", "2021-01-15"],
      ["2020-W53", "2021-01-03"],
      ["2026-W01", "2026-01-01"],
      ["2020-02", "2020-02-29"],
    ])("%s as of %s", (code, asOf) => {
      const window = asOfWindow(parsePeriod(code), asOf);
      const result = seriesBuckets(window, granularity);
      expect(result[0].start).toBe(window.start);
      expect(result[result.length - 1].end).toBe(window.end);
      result.slice(1).forEach((b, i) => expect(b.start).toBe(addDays(result[i].end, 1)));
      const total = result.reduce((sum, b) => sum + daysBetweenInclusive(b.start, b.end), 0);
      expect(total).toBe(window.daysElapsed);
    });
  });

  it("counts 14 weekly buckets in the whole of 2021-Q1", () => {
    expect(buckets("2021-Q1", "2021-03-31", "WEEK")).toHaveLength(14);
    expect(buckets("2021-Q1", "2021-03-31", "WEEK").at(-1)).toBe("2021-03-29..2021-03-31");
  });
});

const kinds: PeriodKind[] = ["QUARTER", "MONTH", "WEEK"];
describe.each(kinds)("%s periods", (kind) => {
  it("have days equal to their inclusive span", () => {
    const period = periodOf(kind, "2024-02-29");
    expect(period.days).toBe(daysBetweenInclusive(period.start, period.end));
  });
});

describe("the calendar on day numbers agrees with an independent calendar library (luxon)", () => {
  // The domain computes periods on day numbers (dates.ts); luxon, still a dependency for
  // promotion schedules, is the reference here, so a slip in the ISO week or month-end arithmetic
  // shows as a named date.
  it("periodOf (quarter, month, ISO week) and addDays, every day of 2000..2030 and every turn of the year (25 Dec..5 Jan) of 1900..2999", async () => {
    const { DateTime } = await import("luxon");
    const mismatches: string[] = [];
    const days = [];
    for (let dt = DateTime.utc(2000, 1, 1); dt.year <= 2030; dt = dt.plus({ days: 1 })) days.push(dt);
    for (let year = 1900; year < 2999; year++) for (let d = 0; d < 12; d++) days.push(DateTime.utc(year, 12, 25).plus({ days: d }));
    for (const dt of days) {
      const date = dt.toISODate()!;
      const expected = {
        QUARTER: [dt.startOf("quarter").toISODate(), dt.endOf("quarter").toISODate()],
        MONTH: [dt.startOf("month").toISODate(), dt.endOf("month").toISODate()],
        WEEK: [dt.startOf("week").toISODate(), dt.endOf("week").toISODate(), `${dt.weekYear}-W${String(dt.weekNumber).padStart(2, "0")}`],
      };
      for (const kind of ["QUARTER", "MONTH", "WEEK"] as const) {
        const p = periodOf(kind, date);
        const got = kind === "WEEK" ? [p.start, p.end, p.code] : [p.start, p.end];
        if (got.join() !== expected[kind].join()) mismatches.push(`${date} ${kind}: ${got.join()} ≠ ${expected[kind].join()}`);
      }
      if (addDays(date, 1) !== dt.plus({ days: 1 }).toISODate()) mismatches.push(`${date} + 1 day`);
      if (mismatches.length > 5) break;
    }
    expect(mismatches).toEqual([]);
  }, 60_000);
});
