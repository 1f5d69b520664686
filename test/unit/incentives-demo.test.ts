/**
 * The demo's plan, worked by hand: SX-LL's Q1 2021 assessment plan with the story's two bonuses,
 * over a small made-up set of new customers that a reader can add up. (Reproducing the loaded
 * demo's statements from its records belongs to the services' integration test, still to come.)
 *
 *   rule 0  FIRST_ORDER 首单奖: ¥20 for each new customer whose first spend comes within 30 days
 *   rule 1  TEAM 团队奖: ¥3,000 for each sub-branch reaching its NEW_CUSTOMERS plan (≥ 1.0),
 *           split among its account managers by contribution
 */
import { describe, expect, it } from "vitest";
import { adjustments } from "../../src/domain/incentives/adjust.js";
import { calculateEarnings, type NewCustomerInput } from "../../src/domain/incentives/calculate.js";
import type { PlanRule } from "../../src/domain/incentives/plan.js";
import { parsePeriod } from "../../src/domain/period.js";
import { customer, manager, showAdjustment, showLine, totalFen, unit } from "../support/incentives.js";

const rules: PlanRule[] = [
  { kind: "FIRST_ORDER", amountFen: 2_000, withinDays: 30 },
  { kind: "TEAM", metric: "NEW_CUSTOMERS", level: "SUB_BRANCH", threshold: 1, amountFen: 300_000, split: "BY_CONTRIBUTION" },
];

// Account managers (id, code, unit):
//   11 M-SX-LL-0001 and 12 M-SX-LL-0002 at sub-branch SX-LL-01; 13 M-SX-LL-0003 at its outlet SX-LL-01-01;
//   14 M-SX-LL-0004 and 15 M-SX-LL-0005 at SX-LL-02; 16 M-SX-LL-0006 at SX-LL-03.
const M1 = 11, M2 = 12, M3 = 13, M4 = 14, M5 = 15, M6 = 16;

// The new customers of Q1 2021 (first approval in the quarter), with the first spend and the
// number of days from approval to first spend:
const newCustomers: NewCustomerInput[] = [
  customer("A-SX-LL-000001", M1, "2021-01-05", "2021-01-05"), //  0 days: paid
  customer("A-SX-LL-000002", M1, "2021-01-05", "2021-02-04"), // 30 days: paid (the last day that counts)
  customer("A-SX-LL-000003", M1, "2021-01-05", "2021-02-05"), // 31 days: not paid
  customer("A-SX-LL-000004", M2, "2021-02-01", "2021-02-10"), //  9 days: paid
  customer("A-SX-LL-000005", M2, "2021-02-01", null), //          no first spend: not paid
  customer("A-SX-LL-000006", M3, "2021-03-31", "2021-04-30"), // 30 days, after the quarter: paid in the final figures
  customer("A-SX-LL-000007", M3, "2021-03-02", "2021-03-01"), // first spend before approval: not paid
  customer("A-SX-LL-000008", M4, "2021-01-20", "2021-01-25"), //  5 days: paid
  customer("A-SX-LL-000009", M4, "2021-03-15", "2021-03-16"), //  1 day: paid
  customer("A-SX-LL-000010", M5, "2021-02-14", "2021-03-20"), // 34 days: not paid
  customer("A-SX-LL-000011", M5, "2021-02-14", "2021-02-15"), //  1 day: paid
  customer("A-SX-LL-000012", M6, "2021-03-08", "2021-03-08"), //  0 days: paid
];

/**
 * The figures as of a date: each manager's NEW_CUSTOMERS are their customers above approved by
 * then; a unit's are its subtree's. Final (as of 2021-04-30, counting the whole quarter):
 *   M1 3, M2 2, M3 2 → SX-LL-01 7 of a plan of 6 (1.1667: reaches 1.0)
 *   M4 2, M5 2       → SX-LL-02 4 of 5 (0.8: does not)
 *   M6 1             → SX-LL-03 1, no plan: not judged
 */
function inputAsOf(asOf: string, customers: readonly NewCustomerInput[] = newCustomers) {
  const end = asOf < "2021-03-31" ? asOf : "2021-03-31";
  const count = (ids: number[]) => customers.filter((c) => c.managerId !== null && ids.includes(c.managerId) && c.approvedOn <= end).length;
  return {
    plan: { unitId: 1, rules },
    period: parsePeriod("2021-Q1"),
    asOf,
    units: [
      unit(100, "SX", "PROVINCE", null),
      unit(1, "SX-LL", "CITY", 100, count([M1, M2, M3, M4, M5, M6]), 12),
      unit(2, "SX-LL-01", "SUB_BRANCH", 1, count([M1, M2, M3]), 6),
      unit(5, "SX-LL-01-01", "OUTLET", 2, count([M3])),
      unit(3, "SX-LL-02", "SUB_BRANCH", 1, count([M4, M5]), 5),
      unit(4, "SX-LL-03", "SUB_BRANCH", 1, count([M6])),
      // Another city of the province with a sub-branch that reached its plan: not SX-LL's plan.
      unit(200, "SX-TY", "CITY", 100),
      unit(201, "SX-TY-01", "SUB_BRANCH", 200, 50, 10),
    ],
    managers: [
      manager(M1, "M-SX-LL-0001", 2, count([M1])),
      manager(M2, "M-SX-LL-0002", 2, count([M2])),
      manager(M3, "M-SX-LL-0003", 5, count([M3])),
      manager(M4, "M-SX-LL-0004", 3, count([M4])),
      manager(M5, "M-SX-LL-0005", 3, count([M5])),
      manager(M6, "M-SX-LL-0006", 4, count([M6])),
      manager(21, "M-SX-TY-0001", 201, 50),
    ],
    newCustomers: customers,
  };
}

describe("SX-LL's Q1 2021 plan", () => {
  it("final statements, as of 2021-04-30", () => {
    const earnings = calculateEarnings(inputAsOf("2021-04-30"));
    expect(earnings.status).toBe("FINAL");
    // FIRST_ORDER: 8 customers paid (000001, 2, 4, 6, 8, 9, 11, 12) × ¥20 = ¥160.
    // TEAM: SX-LL-01 reached its plan (7 of 6); its ¥3,000 by contribution 3 : 2 : 2 of 7:
    //   300,000 × 3/7 = 128,571 rest 3;  300,000 × 2/7 = 85,714 rest 2 (twice).
    //   The floors sum to 299,999: the fen left goes to the largest rest, M-SX-LL-0001's.
    // SX-LL-02 (4 of 5 = 0.8) has no pool; SX-LL-03 has no plan and is not judged.
    expect(earnings.lines.map(showLine)).toEqual([
      "M-SX-LL-0001 #0 FIRST_ORDER 2 × 2000 = 4000 [A-SX-LL-000001 A-SX-LL-000002]",
      "M-SX-LL-0001 #1 TEAM 3 × 300000 = 128572",
      "M-SX-LL-0002 #0 FIRST_ORDER 1 × 2000 = 2000 [A-SX-LL-000004]",
      "M-SX-LL-0002 #1 TEAM 2 × 300000 = 85714",
      "M-SX-LL-0003 #0 FIRST_ORDER 1 × 2000 = 2000 [A-SX-LL-000006]",
      "M-SX-LL-0003 #1 TEAM 2 × 300000 = 85714",
      "M-SX-LL-0004 #0 FIRST_ORDER 2 × 2000 = 4000 [A-SX-LL-000008 A-SX-LL-000009]",
      "M-SX-LL-0005 #0 FIRST_ORDER 1 × 2000 = 2000 [A-SX-LL-000011]",
      "M-SX-LL-0006 #0 FIRST_ORDER 1 × 2000 = 2000 [A-SX-LL-000012]",
      "SX-LL-01 #1 TEAM 1 × 300000 = 300000",
    ]);
    // Payroll: ¥160 of first-order bonuses + the ¥3,000 pool = ¥3,160.
    const paid = earnings.lines.filter((l) => l.recipient.kind === "MANAGER");
    expect(totalFen(paid)).toBe(316_000);
    // Per manager: 4,000 + 128,572 = 132,572; 2,000 + 85,714 = 87,714 (twice); 4,000; 2,000; 2,000.
    const perManager = new Map<string, number>();
    for (const l of paid) perManager.set(l.recipient.code, (perManager.get(l.recipient.code) ?? 0) + l.amountFen);
    expect([...perManager.values()]).toEqual([132_572, 87_714, 87_714, 4_000, 2_000, 2_000]);
  });

  it("provisional statements, as of the story's date 2021-02-28", () => {
    // By 02-28: M1 3, M2 2, M4 1, M5 2 → SX-LL-01 5 of 6 (0.8333): no team bonus yet.
    // First spends known by then and in time: 000001, 000002, 000004, 000008, 000011.
    const earnings = calculateEarnings(inputAsOf("2021-02-28"));
    expect(earnings.status).toBe("PROVISIONAL");
    expect(earnings.lines.map(showLine)).toEqual([
      "M-SX-LL-0001 #0 FIRST_ORDER 2 × 2000 = 4000 [A-SX-LL-000001 A-SX-LL-000002]",
      "M-SX-LL-0002 #0 FIRST_ORDER 1 × 2000 = 2000 [A-SX-LL-000004]",
      "M-SX-LL-0004 #0 FIRST_ORDER 1 × 2000 = 2000 [A-SX-LL-000008]",
      "M-SX-LL-0005 #0 FIRST_ORDER 1 × 2000 = 2000 [A-SX-LL-000011]",
    ]);
  });

  it("recalculates to the same lines (idempotent)", () => {
    expect(calculateEarnings(inputAsOf("2021-04-30"))).toEqual(calculateEarnings(inputAsOf("2021-04-30")));
  });

  it("a first approval that moves out of the quarter: adjustments on the next statements", () => {
    // The final statements are locked. Then an application keyed late shows that the customer
    // of A-SX-LL-000002 already had a card approved in November 2020: their first approval moves
    // out of Q1, so they are no longer a Q1 new customer. M1 drops to 2 and SX-LL-01 to 6 of 6,
    // exactly 1.0: the pool is still paid, now 2 : 2 : 2, ¥1,000 each.
    const locked = calculateEarnings(inputAsOf("2021-04-30")).lines;
    const recalculated = calculateEarnings(inputAsOf("2021-04-30", newCustomers.filter((c) => c.application !== "A-SX-LL-000002"))).lines;
    const adjusted = adjustments(locked, recalculated);
    expect(adjusted.map(showAdjustment)).toEqual([
      "M-SX-LL-0001 #0 FIRST_ORDER -1 at 2000: 4000 → 2000 = -2000 -[A-SX-LL-000002]", // clawback
      "M-SX-LL-0001 #1 TEAM -1 at 300000: 128572 → 100000 = -28572", // clawback
      "M-SX-LL-0002 #1 TEAM +0 at 300000: 85714 → 100000 = +14286",
      "M-SX-LL-0003 #1 TEAM +0 at 300000: 85714 → 100000 = +14286",
    ]);
    // The pool is unchanged (−28,572 + 14,286 + 14,286 = 0), so the unit has no adjustment; the
    // payroll moves by the one clawed-back first-order bonus.
    expect(totalFen(adjusted)).toBe(-2_000);
  });
});
