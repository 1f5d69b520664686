import { describe, it, expect } from "vitest";
import {
  eachDay,
  fromDbDate,
  toDbDate,
  addDays,
  compareDates,
  daysBetweenInclusive,
  maxDate,
  minDate,
  parseBusinessDate,
  todayIn,
} from "../../src/domain/dates.js";

describe("parseBusinessDate", () => {
  it.each([
    ["2021-02-28"],
    ["2020-02-29"],
    ["2024-02-29"],
    ["2000-02-29"],
    ["1900-01-01"],
    ["2999-12-31"],
    ["2021-12-31"],
  ])("accepts %s", (input) => {
    expect(parseBusinessDate(input)).toBe(input);
  });

  it.each([
    ["2021-02-29", /"2021-02-29" is not a calendar date/],
    ["2023-02-29", /is not a calendar date/],
    ["1900-02-29", /is not a calendar date/],
    ["2021-02-30", /"2021-02-30" is not a calendar date/],
    ["2021-04-31", /is not a calendar date/],
    ["2021-13-01", /is not a calendar date/],
    ["2021-00-10", /is not a calendar date/],
    ["2021-01-00", /is not a calendar date/],
    ["2021-2-28", /expected YYYY-MM-DD/],
    ["20210228", /expected YYYY-MM-DD/],
    ["2021-02-28T00:00:00Z", /expected YYYY-MM-DD/],
    [" 2021-02-28", /expected YYYY-MM-DD/],
    ["", /expected YYYY-MM-DD/],
    ["1899-12-31", /year must be 1900..2999/],
    ["3000-01-01", /year must be 1900..2999/],
  ])("rejects %j", (input, reason) => {
    expect(() => parseBusinessDate(input)).toThrow(RangeError);
    expect(() => parseBusinessDate(input)).toThrow(reason);
  });
});

describe("todayIn", () => {
  it.each([
    ["2021-02-28T15:59:59Z", "Asia/Shanghai", "2021-02-28"],
    ["2021-02-28T16:00:00Z", "Asia/Shanghai", "2021-03-01"],
    ["2021-02-28T16:30:00Z", "Asia/Shanghai", "2021-03-01"],
    ["2021-02-28T16:30:00Z", "UTC", "2021-02-28"],
    ["2020-12-31T16:00:00Z", "Asia/Shanghai", "2021-01-01"],
    ["2021-03-01T03:00:00Z", "America/New_York", "2021-02-28"],
  ])("%s in %s is %s", (instant, zone, expected) => {
    expect(todayIn(zone, new Date(instant))).toBe(expected);
  });

  it("defaults to the current instant", () => {
    expect(todayIn("Asia/Shanghai")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("rejects an unknown zone", () => {
    expect(() => todayIn("Mars/Olympus", new Date())).toThrow(/not a known time zone/);
  });
});

describe("small helpers", () => {
  it.each([
    ["2021-01-01", "2021-01-02", -1],
    ["2021-01-02", "2021-01-01", 1],
    ["2021-01-01", "2021-01-01", 0],
    ["2020-12-31", "2021-01-01", -1],
  ])("compareDates(%s, %s) = %i", (a, b, expected) => {
    expect(compareDates(a, b)).toBe(expected);
  });

  it.each([
    ["2021-02-28", "2021-03-31", "2021-02-28", "2021-03-31"],
    ["2021-03-31", "2021-02-28", "2021-02-28", "2021-03-31"],
    ["2021-03-31", "2021-03-31", "2021-03-31", "2021-03-31"],
  ])("min/max of %s and %s", (a, b, min, max) => {
    expect(minDate(a, b)).toBe(min);
    expect(maxDate(a, b)).toBe(max);
  });

  it.each([
    ["2021-02-28", 1, "2021-03-01"],
    ["2020-02-28", 1, "2020-02-29"],
    ["2021-01-01", -1, "2020-12-31"],
    ["2021-03-27", 2, "2021-03-29"], // across a European DST change, irrelevant in UTC
    ["2021-01-01", 0, "2021-01-01"],
    ["1900-01-01", -1, "1899-12-31"],
  ])("addDays(%s, %i) = %s", (date, n, expected) => {
    expect(addDays(date, n)).toBe(expected);
  });

  it.each([
    ["2021-01-01", "2021-02-28", 59],
    ["2021-01-01", "2021-03-31", 90],
    ["2020-01-01", "2020-03-31", 91],
    ["2021-01-01", "2021-01-01", 1],
    ["2021-01-01", "2020-12-31", 0],
    ["2021-01-10", "2021-01-01", 0],
  ])("daysBetweenInclusive(%s, %s) = %i", (start, end, expected) => {
    expect(daysBetweenInclusive(start, end)).toBe(expected);
  });

  it("rejects a malformed date in arithmetic", () => {
    expect(() => addDays("2021-02-30", 1)).toThrow(RangeError);
  });
});

describe("eachDay", () => {
  it.each([
    ["2021-02-27", "2021-03-02", ["2021-02-27", "2021-02-28", "2021-03-01", "2021-03-02"]],
    ["2020-02-28", "2020-03-01", ["2020-02-28", "2020-02-29", "2020-03-01"]],
    ["2021-01-01", "2021-01-01", ["2021-01-01"]],
    ["2021-01-02", "2021-01-01", []],
  ])("%s..%s", (start, end, days) => expect(eachDay(start, end)).toEqual(days));
});

describe("DATE column values", () => {
  it.each(["2021-02-28", "1900-01-01", "2999-12-31"])("%s survives the round trip at UTC midnight", (day) => {
    expect(toDbDate(day).toISOString()).toBe(`${day}T00:00:00.000Z`);
    expect(fromDbDate(toDbDate(day))).toBe(day);
  });
});

