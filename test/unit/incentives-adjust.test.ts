import { describe, expect, it } from "vitest";
import { adjustments } from "../../src/domain/incentives/adjust.js";
import { calculateEarnings, type EarningLine } from "../../src/domain/incentives/calculate.js";
import type { RuleKind } from "../../src/domain/incentives/plan.js";
import { parsePeriod } from "../../src/domain/period.js";
import { showAdjustment as show, totalFen as total } from "../support/incentives.js";

const ids: Record<string, number> = { M01: 11, M02: 12, M03: 13, S1: 2, S2: 3 };
const line = (code: string, ruleIndex: number, ruleKind: RuleKind, quantity: number, rateFen: number, amountFen: number, applications: string[] = []): EarningLine => ({
  recipient: { kind: code.startsWith("M") ? "MANAGER" : "UNIT", id: ids[code], code },
  ruleIndex, ruleKind, metric: "NEW_CUSTOMERS", quantity, rateFen, amountFen, applications,
});

describe("adjustments", () => {
  it.each([
    ["nothing changed", [line("M01", 0, "FIRST_ORDER", 2, 2_000, 4_000, ["A-1", "A-2"])], [line("M01", 0, "FIRST_ORDER", 2, 2_000, 4_000, ["A-2", "A-1"])], []],
    [
      // A late application: a third new customer whose first spend came in time.
      "a late new customer is paid on top",
      [line("M01", 0, "FIRST_ORDER", 2, 2_000, 4_000, ["A-1", "A-2"])],
      [line("M01", 0, "FIRST_ORDER", 3, 2_000, 6_000, ["A-1", "A-2", "A-3"])],
      ["M01 #0 FIRST_ORDER +1 at 2000: 4000 → 6000 = +2000 +[A-3]"],
    ],
    [
      // The only counted customer no longer counts: the whole line is clawed back.
      "a line that is gone is clawed back",
      [line("M02", 0, "FIRST_ORDER", 1, 2_000, 2_000, ["A-5"])],
      [],
      ["M02 #0 FIRST_ORDER -1 at 2000: 2000 → 0 = -2000 -[A-5]"],
    ],
    [
      "a line that is new is paid whole",
      [],
      [line("M03", 1, "TEAM", 10, 300_000, 50_000)],
      ["M03 #1 TEAM +10 at 300000: 0 → 50000 = +50000"],
    ],
    [
      // One customer swapped for another: no money moves, but the statement says which.
      "a swap of customers nets 0 and is still shown",
      [line("M01", 0, "FIRST_ORDER", 1, 2_000, 2_000, ["A-1"])],
      [line("M01", 0, "FIRST_ORDER", 1, 2_000, 2_000, ["A-9"])],
      ["M01 #0 FIRST_ORDER +0 at 2000: 2000 → 2000 = +0 +[A-9] -[A-1]"],
    ],
    [
      // A late record lifts 9 of 10 (band 0.8–1.0, ¥8) to 10 of 10 (≥ 1.0, ¥12): 12,000 − 7,200.
      "a move into a higher band pays the difference",
      [line("M01", 2, "TIERED", 9, 800, 7_200)],
      [line("M01", 2, "TIERED", 10, 1_200, 12_000)],
      ["M01 #2 TIERED +1 at 1200: 7200 → 12000 = +4800"],
    ],
    [
      "a penalty lifted is paid back to the unit; a pool no longer reached is clawed back",
      [line("S2", 3, "PENALTY", 1, -50_000, -50_000), line("S1", 1, "TEAM", 1, 300_000, 300_000)],
      [],
      ["S1 #1 TEAM -1 at 300000: 300000 → 0 = -300000", "S2 #3 PENALTY -1 at -50000: -50000 → 0 = +50000"],
    ],
    [
      // Managers first, then units, each by code, then by rule: the order of earning lines.
      "adjustments are ordered like earning lines",
      [line("S1", 1, "TEAM", 1, 20, 20), line("M02", 1, "TEAM", 1, 20, 10), line("M01", 1, "TEAM", 1, 20, 10), line("M01", 0, "FIRST_ORDER", 1, 2_000, 2_000, ["A-1"])],
      [],
      [
        "M01 #0 FIRST_ORDER -1 at 2000: 2000 → 0 = -2000 -[A-1]",
        "M01 #1 TEAM -1 at 20: 10 → 0 = -10",
        "M02 #1 TEAM -1 at 20: 10 → 0 = -10",
        "S1 #1 TEAM -1 at 20: 20 → 0 = -20",
      ],
    ],
  ])("%s", (_name, locked, recalculated, expected) => {
    expect(adjustments(locked, recalculated).map(show)).toEqual(expected);
  });

  it("brings the locked total to the recalculated one, exactly", () => {
    const locked = [line("M01", 0, "FIRST_ORDER", 2, 2_000, 4_000, ["A-1", "A-2"]), line("M02", 1, "TEAM", 3, 300_000, 128_572), line("S2", 3, "PENALTY", 1, -50_000, -50_000)];
    const recalculated = [line("M01", 0, "FIRST_ORDER", 1, 2_000, 2_000, ["A-1"]), line("M02", 1, "TEAM", 2, 300_000, 100_000), line("M03", 1, "TEAM", 2, 300_000, 100_000)];
    expect(total(locked) + total(adjustments(locked, recalculated))).toBe(total(recalculated));
  });

  it.each([
    ["two locked lines for one recipient and rule", [line("M01", 0, "FIRST_ORDER", 1, 2_000, 2_000), line("M01", 0, "FIRST_ORDER", 1, 2_000, 2_000)], [], /locked lines hold two lines for M01 under rule 0/],
    ["another plan version (rule 0 changed kind)", [line("M01", 0, "FIRST_ORDER", 1, 2_000, 2_000)], [line("M01", 0, "PER_UNIT", 1, 2_000, 2_000)], /not the same plan version/],
  ])("refuses %s", (_name, locked, recalculated, error) => {
    expect(() => adjustments(locked, recalculated)).toThrow(error);
  });
});

describe("a customer whose first approval moves", () => {
  // One city (id 1) and one manager (M01). Customer C's first approval was A-20 (2021-01-20) and
  // C first spent on 2021-02-10: 21 days later, within 30, so the locked statement paid ¥20 for
  // Then an earlier approved application of C is keyed late: A-05, approved 2021-01-05.
  // C's first approval moves to A-05, and 2021-02-10 is 36 days after it: ¥20 clawed back.
  const calculate = (approvedOn: string, application: string) =>
    calculateEarnings({
      plan: { unitId: 1, rules: [{ kind: "FIRST_ORDER", amountFen: 2_000, withinDays: 30 }] },
      period: parsePeriod("2021-Q1"),
      asOf: "2021-04-30",
      units: [{ id: 1, code: "C1", level: "CITY", parentId: null, actual: {}, target: {} }],
      managers: [{ id: 11, code: "M01", unitId: 1, actual: { NEW_CUSTOMERS: 1 }, target: {} }],
      newCustomers: [{ application, managerId: 11, approvedOn, firstSpendOn: "2021-02-10" }],
    }).lines;

  it("claws back the bonus its first spend no longer earns, naming the application", () => {
    const locked = calculate("2021-01-20", "A-20");
    expect(locked.map((l) => `${l.recipient.code} ${l.amountFen} [${l.applications.join(" ")}]`)).toEqual(["M01 2000 [A-20]"]);
    const recalculated = calculate("2021-01-05", "A-05");
    expect(recalculated).toEqual([]);
    expect(adjustments(locked, recalculated).map(show)).toEqual(["M01 #0 FIRST_ORDER -1 at 2000: 2000 → 0 = -2000 -[A-20]"]);
  });

  it("pays it when the move brings the first spend into the window", () => {
    // The other way: A-05 (36 days before the first spend: not paid) was recorded in error and is
    // corrected away, so C's first approval moves later, to A-20, which earns the ¥20.
    const locked = calculate("2021-01-05", "A-05");
    const recalculated = calculate("2021-01-20", "A-20");
    expect(adjustments(locked, recalculated).map(show)).toEqual(["M01 #0 FIRST_ORDER +1 at 2000: 0 → 2000 = +2000 +[A-20]"]);
  });
});
