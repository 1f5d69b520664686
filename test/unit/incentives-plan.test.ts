import { describe, expect, it } from "vitest";
import {
  canTransitionPlan,
  canTransitionStatement,
  MAX_RULES,
  PLAN_LEVELS,
  PLAN_METRICS,
  reachesRate,
  scaledRate,
  validatePlanRules,
  type Band,
  type PlanRule,
} from "../../src/domain/incentives/plan.js";
import { Metric, OrgLevel } from "../../src/generated/prisma/enums.js";

// The bands of the contract's example: < 0.8 → 0, 0.8–1.0 → ¥8, ≥ 1.0 → ¥12 per unit.
const bands: Band[] = [
  { from: 0, to: 0.8, amountFen: 0 },
  { from: 0.8, to: 1, amountFen: 800 },
  { from: 1, to: null, amountFen: 1200 },
];
const team: PlanRule = { kind: "TEAM", metric: "NEW_CUSTOMERS", level: "SUB_BRANCH", threshold: 1, amountFen: 300_000, split: "BY_CONTRIBUTION" };

describe("the plan's names", () => {
  it("are the database's metrics and org levels, in the same order", () => {
    expect([...PLAN_METRICS]).toEqual(Object.values(Metric));
    expect([...PLAN_LEVELS]).toEqual(Object.values(OrgLevel));
  });
});

describe("validatePlanRules", () => {
  it("accepts one valid rule of each kind, the demo's plan among them", () => {
    const rules: PlanRule[] = [
      { kind: "FIRST_ORDER", amountFen: 2_000, withinDays: 30 },
      { kind: "PER_UNIT", metric: "APPLICATIONS", amountFen: 500 },
      { kind: "TIERED", metric: "NEW_CUSTOMERS", bands },
      team,
      { kind: "PENALTY", metric: "NEW_CUSTOMERS", level: "OUTLET", threshold: 0.6, amountFen: 50_000 },
      // edges that are still valid: a zero amount, withinDays 0 and 366, a single open band,
      // thresholds of 0.0001 and 10, four decimals
      { kind: "FIRST_ORDER", amountFen: 0, withinDays: 0 },
      { kind: "FIRST_ORDER", amountFen: 100_000_000, withinDays: 366 },
      { kind: "TIERED", metric: "ACTIVATIONS", bands: [{ from: 0, to: null, amountFen: 100 }] },
      { kind: "TEAM", metric: "APPROVALS", level: "CITY", threshold: 0.0001, amountFen: 1, split: "EQUAL" },
      { kind: "PENALTY", metric: "APPROVALS", level: "PROVINCE", threshold: 10, amountFen: 0 },
      { kind: "TIERED", metric: "APPROVALS", bands: [{ from: 0, to: 0.8125, amountFen: 0 }, { from: 0.8125, to: null, amountFen: 1 }] },
    ];
    expect(validatePlanRules(rules)).toEqual([]);
    expect(validatePlanRules([])).toEqual([]); // a DRAFT may have no rules yet
  });

  it.each([
    // [case, rule, the issues' field: reason]
    ["an amount in yuan (not whole fen)", { kind: "FIRST_ORDER", amountFen: 19.5, withinDays: 30 }, ["amountFen: 19.5 must be a whole number of fen"]],
    ["a negative amount", { kind: "PER_UNIT", metric: "APPROVALS", amountFen: -1 }, ["amountFen: -1 must be zero or more"]],
    ["an amount above the cap", { kind: "PER_UNIT", metric: "APPROVALS", amountFen: 100_000_001 }, ["amountFen: 100000001 must be at most 100000000 fen"]],
    ["a negative window", { kind: "FIRST_ORDER", amountFen: 2_000, withinDays: -1 }, ["withinDays: -1 must be a whole number of days, 0..366"]],
    ["a window of half a day", { kind: "FIRST_ORDER", amountFen: 2_000, withinDays: 0.5 }, ["withinDays: 0.5 must be a whole number of days, 0..366"]],
    ["a window above a year", { kind: "FIRST_ORDER", amountFen: 2_000, withinDays: 367 }, ["withinDays: 367 must be a whole number of days, 0..366"]],
    ["an unknown metric", { kind: "PER_UNIT", metric: "VISITS", amountFen: 1 }, ["metric: VISITS must be one of APPLICATIONS, APPROVALS, NEW_CUSTOMERS, ACTIVATIONS"]],
    ["an unknown level", { ...team, level: "REGION" }, ["level: REGION must be one of PROVINCE, CITY, SUB_BRANCH, OUTLET"]],
    ["an unknown split", { ...team, split: "BY_SENIORITY" }, ["split: BY_SENIORITY must be one of EQUAL, BY_CONTRIBUTION"]],
    ["a threshold of 0", { ...team, threshold: 0 }, ["threshold: 0 must be more than zero"]],
    ["a negative threshold", { kind: "PENALTY", metric: "APPROVALS", level: "CITY", threshold: -0.5, amountFen: 1 }, ["threshold: -0.5 must be more than zero"]],
    ["a threshold above 1,000 %", { ...team, threshold: 10.0001 }, ["threshold: 10.0001 must be at most 10 (1000 % of plan)"]],
    ["a threshold with five decimals", { ...team, threshold: 0.80001 }, ["threshold: 0.80001 has more than 4 decimals"]],
    ["a threshold that is not a number", { ...team, threshold: Number.NaN }, ["threshold: NaN must be a number"]],
    ["an unknown kind", { kind: "BONUS", amountFen: 1 }, ["kind: BONUS must be one of FIRST_ORDER, PER_UNIT, TIERED, TEAM, PENALTY"]],
    ["no bands", { kind: "TIERED", metric: "APPROVALS", bands: [] }, ["bands: must hold at least one band"]],
    ["bands not starting at 0", { kind: "TIERED", metric: "APPROVALS", bands: [{ from: 0.5, to: null, amountFen: 1 }] }, ["bands[0].from: 0.5: the first band must start at 0"]],
    [
      "a gap between bands (0.8 to 0.9 uncovered)",
      { kind: "TIERED", metric: "APPROVALS", bands: [bands[0], { from: 0.9, to: 1, amountFen: 800 }, bands[2]] },
      ["bands[1].from: 0.9 leaves a gap after the band before, which ends at 0.8"],
    ],
    [
      "overlapping bands (0.7 to 0.8 twice)",
      { kind: "TIERED", metric: "APPROVALS", bands: [bands[0], { from: 0.7, to: 1, amountFen: 800 }, bands[2]] },
      ["bands[1].from: 0.7 overlaps the band before, which ends at 0.8"],
    ],
    [
      "bands out of order",
      { kind: "TIERED", metric: "APPROVALS", bands: [bands[1], bands[0], bands[2]] },
      [
        "bands[0].from: 0.8: the first band must start at 0",
        "bands[1].from: 0 overlaps the band before, which ends at 1",
        "bands[2].from: 1 leaves a gap after the band before, which ends at 0.8",
      ],
    ],
    [
      "a band that ends where it starts",
      { kind: "TIERED", metric: "APPROVALS", bands: [{ from: 0, to: 0.5, amountFen: 1 }, { from: 0.5, to: 0.5, amountFen: 2 }, { from: 0.5, to: null, amountFen: 3 }] },
      ["bands[1].to: 0.5 must be above from (0.5)"],
    ],
    [
      "a band ending at 0",
      { kind: "TIERED", metric: "APPROVALS", bands: [{ from: 0, to: 0, amountFen: 1 }, { from: 0, to: null, amountFen: 2 }] },
      ["bands[0].to: 0 must be more than zero"],
    ],
    [
      "an open band that is not the last",
      { kind: "TIERED", metric: "APPROVALS", bands: [{ from: 0, to: null, amountFen: 1 }, bands[2]] },
      ["bands[0].to: only the last band may be open (to: null)"],
    ],
    [
      "a last band with an upper end (rates above 1.5 uncovered)",
      { kind: "TIERED", metric: "APPROVALS", bands: [bands[0], bands[1], { from: 1, to: 1.5, amountFen: 1200 }] },
      ["bands[2].to: 1.5: the last band must be open (to: null), so every higher rate is covered"],
    ],
    [
      "a band with a bad amount and a bound of five decimals",
      { kind: "TIERED", metric: "APPROVALS", bands: [{ from: 0, to: 0.12345, amountFen: -5 }, { from: 0.12345, to: null, amountFen: 1 }] },
      ["bands[0].to: 0.12345 has more than 4 decimals", "bands[0].amountFen: -5 must be zero or more", "bands[1].from: 0.12345 has more than 4 decimals"],
    ],
    ["a band that is not an object", { kind: "TIERED", metric: "APPROVALS", bands: [null] }, ["bands[0]: must be a band { from, to, amountFen }"]],
    [
      "a rule read from a file with fields left out",
      { kind: "TEAM", metric: "APPROVALS", threshold: null },
      ["level: is required", "threshold: is required", "amountFen: is required", "split: is required"],
    ],
    ["a first-order rule without its window", { kind: "FIRST_ORDER", amountFen: 2_000 }, ["withinDays: is required"]],
    ["a band without its lower bound", { kind: "TIERED", metric: "APPROVALS", bands: [{ to: null, amountFen: 1 }] }, ["bands[0].from: is required"]],
  ])("refuses %s", (_name, rule, expected) => {
    // The rule sits at index 1, after a valid one, so the index is checked too.
    const issues = validatePlanRules([team, rule as unknown as PlanRule]);
    expect(issues.map((i) => `${i.field}: ${i.reason}`)).toEqual(expected);
    expect(issues.every((i) => i.index === 1)).toBe(true);
  });

  it("reports every bad field of every rule at once", () => {
    const issues = validatePlanRules([
      { kind: "FIRST_ORDER", amountFen: -1, withinDays: 400 },
      team,
      { kind: "PENALTY", metric: "X" as never, level: "Y" as never, threshold: 0, amountFen: 0.5 },
    ]);
    expect(issues).toEqual([
      { index: 0, field: "amountFen", reason: "-1 must be zero or more" },
      { index: 0, field: "withinDays", reason: "400 must be a whole number of days, 0..366" },
      { index: 2, field: "metric", reason: "X must be one of APPLICATIONS, APPROVALS, NEW_CUSTOMERS, ACTIVATIONS" },
      { index: 2, field: "level", reason: "Y must be one of PROVINCE, CITY, SUB_BRANCH, OUTLET" },
      { index: 2, field: "threshold", reason: "0 must be more than zero" },
      { index: 2, field: "amountFen", reason: "0.5 must be a whole number of fen" },
    ]);
  });

  it(`refuses more than ${MAX_RULES} rules as a whole`, () => {
    const rules = Array.from({ length: MAX_RULES + 1 }, () => team);
    expect(validatePlanRules(rules)).toEqual([{ field: "rules", reason: `holds ${MAX_RULES + 1} rules; at most ${MAX_RULES}` }]);
  });
});

describe("scaledRate", () => {
  it.each([
    [0.8, 8_000],
    [1, 10_000],
    [1.1, 11_000], // 1.1 × 10,000 is 11000.000000000002 as a float: still four decimals
    [0.0001, 1],
    [1.3287, 13_287],
    [0.12345, null],
    [Number.POSITIVE_INFINITY, null],
  ])("%s → %s", (rate, scaled) => {
    expect(scaledRate(rate)).toBe(scaled);
  });
});

describe("reachesRate (exact, in integers)", () => {
  it.each([
    // actual, target, rate, reaches?
    [8, 10, 0.8, true], // 0.8 falls in 0.8–1.0: the lower bound is included
    [4, 5, 0.8, true],
    [7, 10, 0.8, false],
    [7_999_999, 10_000_000, 0.8, false], // 0.7999999: just below
    [79_999_999_999, 100_000_000_000, 0.8, false], // 0.79999999999: a float would still tell, the integers always do
    [10, 10, 1, true], // 1.0 reaches "≥ 1.0"
    [9, 10, 1, false],
    [110, 100, 1.1, true], // 1.1 × 100 is 110.00000000000001 as a float: a float product would say no
    [6_245, 4_700, 1.3287, true], // the story's 1.32872…
    [6_244, 4_700, 1.3287, false], // 1.32851…
    [0, 10, 0.0001, false],
    [1, 10_000, 0.0001, true],
  ])("%i of %i reaches %s: %s", (actual, target, rate, expected) => {
    expect(reachesRate(actual, target, rate)).toBe(expected);
  });

  it("shows why: the float product misses the edge", () => {
    expect(110 >= 1.1 * 100).toBe(false);
    expect(reachesRate(110, 100, 1.1)).toBe(true);
  });

  it.each([
    [5, 0, 0.8],
    [5, -1, 0.8],
    [5.5, 10, 0.8],
    [5, 10, 0.12345],
  ])("refuses %s of %s against %s (no target, a fraction, or an unvalidated rate)", (actual, target, rate) => {
    expect(() => reachesRate(actual, target, rate)).toThrow(RangeError);
  });
});

describe("lifecycles", () => {
  it.each([
    ["DRAFT", "ACTIVE", true],
    ["ACTIVE", "CLOSED", true],
    ["DRAFT", "CLOSED", false],
    ["ACTIVE", "DRAFT", false], // an active plan's rules are frozen: a change is a new version
    ["CLOSED", "ACTIVE", false],
  ] as const)("plan %s → %s: %s", (from, to, ok) => {
    expect(canTransitionPlan(from, to)).toBe(ok);
  });

  it.each([
    ["CALCULATED", "APPROVED", true],
    ["APPROVED", "LOCKED", true],
    ["CALCULATED", "LOCKED", false], // never paid without approval
    ["LOCKED", "CALCULATED", false], // a locked statement never changes
    ["LOCKED", "APPROVED", false],
    ["APPROVED", "CALCULATED", false],
  ] as const)("statement %s → %s: %s", (from, to, ok) => {
    expect(canTransitionStatement(from, to)).toBe(ok);
  });
});
