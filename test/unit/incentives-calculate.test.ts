import { describe, expect, it } from "vitest";
import { calculateEarnings, firstSpendInTime, splitByLargestRemainder, type EarningsInput, type UnitInput } from "../../src/domain/incentives/calculate.js";
import type { Band, PlanLevel, PlanRule } from "../../src/domain/incentives/plan.js";
import { parsePeriod } from "../../src/domain/period.js";
import { customer, manager, showLine as show, unit } from "../support/incentives.js";

const period = parsePeriod("2021-Q1");

// The tree: city C1 (the plan's unit) with sub-branches S1..S5 and an outlet under S1; city C9,
// outside the plan, with a sub-branch of its own.
const C1 = unit(1, "C1", "CITY", null);
const otherUnits = [unit(4, "C1-S1-O1", "OUTLET", 2), unit(9, "C9", "CITY", null), unit(10, "C9-S1", "SUB_BRANCH", 9)];
const baseUnits = [C1, unit(2, "C1-S1", "SUB_BRANCH", 1), ...otherUnits];
/** The base tree with C1-S1 (id 2) and C9-S1 (id 10) replaced by units carrying figures. */
const withUnits = (...units: UnitInput[]) => [C1, ...otherUnits.filter((u) => !units.some((v) => v.id === u.id)), ...units];

const run = (rules: PlanRule[], parts: Partial<EarningsInput> & { asOf?: string }) =>
  calculateEarnings({ plan: { unitId: 1, rules }, period, asOf: "2021-04-30", units: baseUnits, managers: [], newCustomers: [], ...parts });

describe("firstSpendInTime", () => {
  it.each([
    // approved, first spend, withinDays, counts?
    ["2021-01-10", "2021-01-10", 30, true], // the same day: 0 days after
    ["2021-01-10", "2021-02-09", 30, true], // day 30 (21 days left of January + 9): the last day that counts
    ["2021-01-10", "2021-02-10", 30, false], // day 31
    ["2021-01-10", "2021-01-09", 30, false], // before the approval
    ["2021-01-10", null, 30, false], // no first spend yet
    ["2021-01-10", "2021-01-10", 0, true], // withinDays 0: the day of approval only
    ["2021-01-10", "2021-01-11", 0, false],
    ["2020-02-28", "2020-03-29", 30, true], // across a leap day: Feb 29 is day 1, Mar 29 day 30
    ["2020-02-28", "2020-03-30", 30, false],
    ["2021-03-31", "2021-04-30", 30, true], // after the period's end: still within the window
  ] as const)("approved %s, first spend %s, within %i days: %s", (approvedOn, firstSpendOn, withinDays, counts) => {
    expect(firstSpendInTime(approvedOn, firstSpendOn, withinDays)).toBe(counts);
  });
});

describe("splitByLargestRemainder", () => {
  const split = (pool: number, weights: number[], codes = weights.map((_, i) => `M${i + 1}`)) =>
    splitByLargestRemainder(pool, weights.map((weight, i) => ({ code: codes[i], weight })));

  it.each([
    [
      // ¥3,000 over 7 managers by contribution 13+11+9+7+5+3+1 = 49. 300,000 × w ÷ 49:
      //   13 → 79,591 rest 41; 11 → 67,346 rest 46;  9 → 55,102 rest 2;  7 → 42,857 rest 7;
      //    5 → 30,612 rest 12;  3 → 18,367 rest 17;  1 →  6,122 rest 22.
      // The floors sum to 299,997: the 3 fen left go to the rests 46, 41 and 22.
      "¥3,000 over 7 managers by contribution",
      300_000, [13, 11, 9, 7, 5, 3, 1], undefined,
      [79_592, 67_347, 55_102, 42_857, 30_612, 18_367, 6_123],
    ],
    // ¥1,000 in three equal shares: 33,333 each, rest 1 each; the one fen left goes to the lowest code.
    ["¥1,000 in three equal shares", 100_000, [1, 1, 1], undefined, [33_334, 33_333, 33_333]],
    // 3 fen over two equal shares: 1 each, rest 1 each: the lower code gets the fen, whatever the order given.
    ["equal rests go to the lower code", 3, [1, 1], ["M2", "M1"], [1, 2]],
    // 10 × 2/4 = 5 rest 0; 10 × 1/4 = 2 rest 2, twice: the one fen left goes to M2 (lower than M3).
    ["a tie among the rests, not the weights", 10, [2, 1, 1], undefined, [5, 3, 2]],
    // 5 × 1/4 = 1 rest 1, twice; 5 × 2/4 = 2 rest 2: the fen left goes to the largest rest, M3.
    ["the largest rest beats the lower code", 5, [1, 1, 2], undefined, [1, 1, 3]],
    // 100 × 0/3 = 0; × 1/3 = 33 rest 1; × 2/3 = 66 rest 2: a weight of 0 never gets a left-over fen.
    ["a weight of 0 gets nothing", 100, [0, 1, 2], undefined, [0, 33, 67]],
    ["a pool of 0", 0, [3, 4], undefined, [0, 0]],
    ["one manager takes the whole pool", 300_000, [17], undefined, [300_000]],
  ])("%s", (_name, pool, weights, codes, expected) => {
    const parts = split(pool, weights, codes);
    expect(parts).toEqual(expected);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(pool);
  });

  it("always sums to the pool exactly", () => {
    for (let n = 1; n <= 12; n++) {
      for (const pool of [1, 7, 99_999, 300_000, 100_000_000]) {
        const weights = Array.from({ length: n }, (_, i) => ((i * 7919 + pool) % 97) + 1);
        expect(split(pool, weights).reduce((a, b) => a + b, 0)).toBe(pool);
      }
    }
  });

  it.each([
    ["all weights 0", 100, [0, 0]],
    ["no shares", 100, []],
    ["a negative weight", 100, [2, -1]],
    ["a fractional weight", 100, [1.5]],
    ["a fractional pool", 100.5, [1]],
  ])("refuses %s", (_name, pool, weights) => {
    expect(() => split(pool, weights)).toThrow(RangeError);
  });
});

describe("FIRST_ORDER", () => {
  const rules: PlanRule[] = [{ kind: "FIRST_ORDER", amountFen: 2_000, withinDays: 30 }];
  const managers = [manager(11, "M01", 1), manager(12, "M02", 4), manager(19, "M09", 9)];
  const newCustomers = [
    customer("A-01", 11, "2021-01-10", "2021-01-10"), // day 0: paid
    customer("A-02", 11, "2021-01-10", "2021-02-09"), // day 30: paid
    customer("A-03", 11, "2021-01-10", "2021-02-10"), // day 31: not paid
    customer("A-04", 11, "2021-01-10", "2021-01-09"), // first spend before the approval: not paid
    customer("A-05", 11, "2021-01-10", null), // no first spend: not paid
    customer("A-06", 11, "2020-12-31", "2021-01-05"), // approved in the period before: not this plan's
    customer("A-07", 11, "2021-03-31", "2021-04-20"), // approved on the last day, spent 20 days later: paid, once known
    customer("A-08", null, "2021-01-10", "2021-01-11"), // no account manager credited: nobody to pay
    customer("A-09", 19, "2021-01-10", "2021-01-11"), // a manager outside the plan's subtree
    customer("A-10", 11, "2021-04-01", "2021-04-02"), // approved in the next period
    customer("A-11", 12, "2021-02-28", "2021-03-30"), // day 30 across a month end: paid (M02 is at an outlet)
  ];

  it.each([
    // as of, status, lines
    // Final: M01 has and A-07 (3 × ¥20); M02 has A-11.
    ["2021-04-30", "FINAL", ["M01 #0 FIRST_ORDER 3 × 2000 = 6000 [A-01 A-02 A-07]", "M02 #0 FIRST_ORDER 1 × 2000 = 2000 [A-11]"]],
    // On the last day the period has not ended yet, and A-07's first spend (04-20) is not known.
    ["2021-03-31", "PROVISIONAL", ["M01 #0 FIRST_ORDER 2 × 2000 = 4000 [A-01 A-02]", "M02 #0 FIRST_ORDER 1 × 2000 = 2000 [A-11]"]],
    // As of 02-08 A-02's first spend (02-09) has not happened and A-11 is not approved yet.
    ["2021-02-08", "PROVISIONAL", ["M01 #0 FIRST_ORDER 1 × 2000 = 2000 [A-01]"]],
    // Before the period: nothing is counted.
    ["2020-12-31", "PROVISIONAL", []],
  ])("as of %s (%s)", (asOf, status, expected) => {
    const earnings = run(rules, { asOf, managers, newCustomers });
    expect(earnings.status).toBe(status);
    expect(earnings.lines.map(show)).toEqual(expected);
  });

  it("pays the same new customer once per FIRST_ORDER rule, each with its own window", () => {
    const two: PlanRule[] = [rules[0], { kind: "FIRST_ORDER", amountFen: 500, withinDays: 0 }];
    expect(run(two, { managers, newCustomers }).lines.map(show)).toEqual([
      "M01 #0 FIRST_ORDER 3 × 2000 = 6000 [A-01 A-02 A-07]",
      "M01 #1 FIRST_ORDER 1 × 500 = 500 [A-01]", // only A-01 spent on the day of approval
      "M02 #0 FIRST_ORDER 1 × 2000 = 2000 [A-11]",
    ]);
  });
});

describe("PER_UNIT", () => {
  it("pays each manager of the subtree for their credited actual, with or without a target", () => {
    const managers = [
      manager(11, "M01", 1, 7, 10, "APPLICATIONS"), // 7 × ¥5
      manager(12, "M02", 4, 0, 10, "APPLICATIONS"), // nothing: no line
      manager(13, "M03", 4, 3, null, "APPLICATIONS"), // no target: PER_UNIT does not judge, 3 × ¥5
      manager(14, "M04", 4, 9, 10, "APPROVALS"), // another metric only: no line
      manager(19, "M09", 9, 100, 10, "APPLICATIONS"), // outside the plan
    ];
    const lines = run([{ kind: "PER_UNIT", metric: "APPLICATIONS", amountFen: 500 }], { managers }).lines;
    expect(lines.map(show)).toEqual(["M01 #0 PER_UNIT 7 × 500 = 3500", "M03 #0 PER_UNIT 3 × 500 = 1500"]);
  });
});

describe("TIERED", () => {
  // The contract's bands: < 0.8 → 0, 0.8–1.0 → ¥8, ≥ 1.0 → ¥12 per new customer; and a rule
  // with one edge at 1.1, where a float product (1.1 × 100 = 110.00000000000001) would miss.
  const bands: Band[] = [
    { from: 0, to: 0.8, amountFen: 0 },
    { from: 0.8, to: 1, amountFen: 800 },
    { from: 1, to: null, amountFen: 1200 },
  ];
  const rules: PlanRule[] = [
    { kind: "TIERED", metric: "NEW_CUSTOMERS", bands },
    { kind: "TIERED", metric: "NEW_CUSTOMERS", bands: [{ from: 0, to: 1.1, amountFen: 0 }, { from: 1.1, to: null, amountFen: 500 }] },
  ];
  const managers = [
    manager(11, "T1", 1, 8, 10), // 0.8 falls in 0.8–1.0: 8 × ¥8
    manager(12, "T2", 1, 10, 10), // 1.0 falls in ≥ 1.0: 10 × ¥12; below 1.1
    manager(13, "T3", 1, 7_999_999, 10_000_000), // 0.7999999 < 0.8: band 0, no line
    manager(14, "T4", 1, 50), // no target: not judged
    manager(15, "T5", 1, 50, 0), // a target of 0 gives no rate: not judged
    manager(16, "T6", 1, 23, 20), // 1.15: 23 × ¥12 and, ≥ 1.1, 23 × ¥5
    manager(17, "T7", 1, 0, 10), // 0: band 0
    manager(18, "T8", 1, 110, 100), // 1.1 exactly: 110 × ¥12 and 110 × ¥5
    manager(19, "T9", 1, 4, 5), // 4 of 5 = 0.8: 4 × ¥8
  ];

  it("pays every unit of actual at the rate of the band the completion falls in", () => {
    expect(run(rules, { managers }).lines.map(show)).toEqual([
      "T1 #0 TIERED 8 × 800 = 6400",
      "T2 #0 TIERED 10 × 1200 = 12000",
      "T6 #0 TIERED 23 × 1200 = 27600",
      "T6 #1 TIERED 23 × 500 = 11500",
      "T8 #0 TIERED 110 × 1200 = 132000",
      "T8 #1 TIERED 110 × 500 = 55000",
      "T9 #0 TIERED 4 × 800 = 3200",
    ]);
  });

  it("names the band and the figures it judged", () => {
    const t1 = run(rules, { managers }).lines[0];
    expect(t1).toMatchObject({ completion: { actual: 8, target: 10 }, band: bands[1], metric: "NEW_CUSTOMERS" });
  });
});

describe("TEAM and PENALTY", () => {
  const rules = (split: "EQUAL" | "BY_CONTRIBUTION"): PlanRule[] => [
    { kind: "TEAM", metric: "NEW_CUSTOMERS", level: "SUB_BRANCH", threshold: 1, amountFen: 300_000, split },
    { kind: "PENALTY", metric: "NEW_CUSTOMERS", level: "SUB_BRANCH", threshold: 0.8, amountFen: 50_000 },
  ];
  const units = withUnits(
    unit(2, "C1-S1", "SUB_BRANCH", 1, 120, 100), // 1.2: pool; its outlet C1-S1-O1 is in it
    unit(3, "C1-S2", "SUB_BRANCH", 1, 79, 100), // 0.79: no pool, and below 0.8: penalty
    unit(5, "C1-S3", "SUB_BRANCH", 1, 40), // no target: judged by neither
    unit(6, "C1-S4", "SUB_BRANCH", 1, 10, 10), // 1.0: pool, but none of its managers has an actual
    unit(7, "C1-S5", "SUB_BRANCH", 1, 80, 100), // 0.8 exactly: not below 0.8, no penalty
    unit(10, "C9-S1", "SUB_BRANCH", 9, 500, 100), // outside the plan
  );
  const managers = [
    manager(11, "M01", 2, 70),
    manager(12, "M02", 4, 50), // at the outlet under C1-S1: shares C1-S1's pool
    manager(16, "M06", 2, 0), // contributed nothing: no share
    manager(13, "M03", 3, 79),
    manager(14, "M04", 1, 5), // at the city, above the sub-branches: in no pool
    manager(15, "M05", 6, 0),
    manager(17, "M07", 5, 40),
    manager(19, "M09", 10, 500),
  ];

  it("BY_CONTRIBUTION: C1-S1's ¥3,000 split 70 : 50; C1-S2 penalised; C1-S4's pool not paid", () => {
    // 300,000 × 70/120 = 175,000 and 300,000 × 50/120 = 125,000, exactly.
    expect(run(rules("BY_CONTRIBUTION"), { units, managers }).lines.map(show)).toEqual([
      "M01 #0 TEAM 70 × 300000 = 175000",
      "M02 #0 TEAM 50 × 300000 = 125000",
      "C1-S1 #0 TEAM 1 × 300000 = 300000",
      "C1-S2 #1 PENALTY 1 × -50000 = -50000",
      "C1-S4 #0 TEAM 0 × 300000 = 0 (pool not paid: nobody to split among (no account manager of C1-S4 has NEW_CUSTOMERS ≥ 1))",
    ]);
  });

  it("EQUAL: one share per manager with an actual ≥ 1 (M06, with 0, has none)", () => {
    const lines = run(rules("EQUAL"), { units, managers }).lines;
    expect(lines.map(show).slice(0, 3)).toEqual(["M01 #0 TEAM 1 × 300000 = 150000", "M02 #0 TEAM 1 × 300000 = 150000", "C1-S1 #0 TEAM 1 × 300000 = 300000"]);
    expect(lines[0].pool).toEqual({ unit: { id: 2, code: "C1-S1" }, amountFen: 300_000, sharedBy: 2, totalQuantity: 2 });
  });

  it("shows the unit's figures on its TEAM and PENALTY lines", () => {
    const lines = run(rules("BY_CONTRIBUTION"), { units, managers }).lines;
    expect(lines.find((l) => l.recipient.code === "C1-S1")?.completion).toEqual({ actual: 120, target: 100 });
    expect(lines.find((l) => l.ruleKind === "PENALTY")).toMatchObject({ recipient: { kind: "UNIT", id: 3, code: "C1-S2" }, completion: { actual: 79, target: 100 } });
  });

  it("judges as of the date: provisional, on the actual so far against the whole target", () => {
    // As of February C1-S1 has 60 of 100 (0.6): no pool yet, and a provisional penalty.
    const early = units.map((u) => (u.code === "C1-S1" ? unit(2, "C1-S1", "SUB_BRANCH", 1, 60, 100) : u));
    const earnings = run(rules("BY_CONTRIBUTION"), { asOf: "2021-02-28", units: early, managers });
    expect(earnings.status).toBe("PROVISIONAL");
    expect(earnings.lines.filter((l) => l.recipient.code === "C1-S1").map(show)).toEqual(["C1-S1 #1 PENALTY 1 × -50000 = -50000"]);
  });

  it("pays the plan's own unit when it is at the level, never a unit above it, and pools per outlet at OUTLET", () => {
    // A plan issued by sub-branch C1-S1, under a city that reached its own plan.
    const units = [unit(1, "C1", "CITY", null, 100, 10), unit(2, "C1-S1", "SUB_BRANCH", 1, 12, 10), unit(4, "C1-S1-O1", "OUTLET", 2, 5, 5)];
    const managers = [manager(11, "M01", 2, 7), manager(12, "M02", 4, 5)];
    const lines = (level: PlanLevel) => {
      const rule: PlanRule = { kind: "TEAM", metric: "NEW_CUSTOMERS", level, threshold: 1, amountFen: 1_200, split: "BY_CONTRIBUTION" };
      return calculateEarnings({ plan: { unitId: 2, rules: [rule] }, period, asOf: "2021-04-30", units, managers, newCustomers: [] }).lines.map(show);
    };
    // SUB_BRANCH: C1-S1 itself, 12 of 10; its ¥12 split 7 : 5 → 1,200 × 7/12 = 700 and 500.
    expect(lines("SUB_BRANCH")).toEqual(["M01 #0 TEAM 7 × 1200 = 700", "M02 #0 TEAM 5 × 1200 = 500", "C1-S1 #0 TEAM 1 × 1200 = 1200"]);
    // OUTLET: C1-S1-O1 (5 of 5) has the pool, and only its manager shares it: M01 is at the
    // sub-branch itself, under no outlet.
    expect(lines("OUTLET")).toEqual(["M02 #0 TEAM 5 × 1200 = 1200", "C1-S1-O1 #0 TEAM 1 × 1200 = 1200"]);
    // CITY: C1 is above the plan's unit, outside its subtree.
    expect(lines("CITY")).toEqual([]);
  });

  it("¥3,000 over 7 managers by contribution, through the whole calculation, sums exactly", () => {
    // The split worked in splitByLargestRemainder's table: 13, 11, 9, 7, 5, 3, 1 of 49.
    const contributions = [13, 11, 9, 7, 5, 3, 1];
    const seven = contributions.map((actual, i) => manager(100 + i, `K${i + 1}`, 2, actual));
    const lines = run([rules("BY_CONTRIBUTION")[0]], { units: withUnits(unit(2, "C1-S1", "SUB_BRANCH", 1, 49, 49)), managers: seven }).lines;
    const shares = lines.filter((l) => l.recipient.kind === "MANAGER");
    expect(shares.map((l) => l.amountFen)).toEqual([79_592, 67_347, 55_102, 42_857, 30_612, 18_367, 6_123]);
    expect(shares.reduce((sum, l) => sum + l.amountFen, 0)).toBe(300_000);
  });
});

describe("calculateEarnings as a whole", () => {
  const rules: PlanRule[] = [
    { kind: "FIRST_ORDER", amountFen: 2_000, withinDays: 30 },
    { kind: "TEAM", metric: "NEW_CUSTOMERS", level: "SUB_BRANCH", threshold: 1, amountFen: 100_000, split: "BY_CONTRIBUTION" },
    { kind: "PER_UNIT", metric: "NEW_CUSTOMERS", amountFen: 100 },
  ];
  const input = {
    units: withUnits(unit(2, "C1-S1", "SUB_BRANCH", 1, 3, 3), unit(3, "C1-S2", "SUB_BRANCH", 1, 2, 2)),
    managers: [manager(11, "M01", 2, 2), manager(12, "M02", 4, 1), manager(13, "M03", 3, 2)],
    newCustomers: [customer("A-1", 11, "2021-01-04", "2021-01-05"), customer("A-2", 13, "2021-02-01", "2021-02-02"), customer("A-3", 12, "2021-03-01", "2021-03-01")],
  };

  it("is idempotent and independent of the order of its input rows", () => {
    const first = run(rules, input);
    expect(run(rules, input)).toEqual(first);
    const shuffled = {
      units: [...input.units].reverse(),
      managers: [input.managers[2], input.managers[0], input.managers[1]],
      newCustomers: [...input.newCustomers].reverse(),
    };
    expect(run(rules, shuffled)).toEqual(first);
    // 1 line per recipient and rule, managers before units, by code, then by rule.
    expect(first.lines.map((l) => `${l.recipient.code} #${l.ruleIndex}`)).toEqual([
      "M01 #0", "M01 #1", "M01 #2", "M02 #0", "M02 #1", "M02 #2", "M03 #0", "M03 #1", "M03 #2", "C1-S1 #1", "C1-S2 #1",
    ]);
  });

  it("refuses invalid rules and a plan unit it is not given", () => {
    expect(() => run([{ kind: "FIRST_ORDER", amountFen: -1, withinDays: 30 }], input)).toThrow(/rules\[0\]\.amountFen: -1 must be zero or more/);
    expect(() => calculateEarnings({ plan: { unitId: 42, rules }, period, asOf: "2021-04-30", ...input })).toThrow(/the plan's unit \(id 42\) is not among the units/);
  });

  it.each([
    ["parents that form a cycle", [C1, unit(2, "A", "SUB_BRANCH", 3), unit(3, "B", "SUB_BRANCH", 2)], 2, /the units' parents form a cycle through/],
    // A unit whose parent is missing would drop its subtree without a word.
    ["a unit without its parent", [C1, unit(4, "C1-S1-O1", "OUTLET", 2)], 4, /the parent \(id 2\) of unit C1-S1-O1 is not among the units/],
    ["a manager without their unit", [C1], 2, /the unit \(id 2\) of account manager M01 is not among the units/],
  ] as const)("refuses %s", (_name, units, managerUnit, error) => {
    expect(() => run(rules, { units: [...units], managers: [manager(11, "M01", managerUnit, 1)] })).toThrow(error);
  });
});
