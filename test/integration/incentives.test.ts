/**
 * Assessment plans and statements through the API (issue 14): a plan's lifecycle, calculation
 * that is idempotent, approved and locked statements that never change, and the adjustments a
 * late record gives on the next statement.
 *
 * The bank: P ⊃ C ⊃ {S1, S2}; M1, M2 at S1, M3 at S2; NEW_CUSTOMERS targets S1 3, S2 5.
 * C's plan for 2021-Q1:
 *   rule 0 FIRST_ORDER ¥20 when the first spend comes within 30 days of the approval
 *   rule 1 TEAM ¥300 per sub-branch reaching its plan, by contribution
 *   rule 2 PENALTY ¥100 per sub-branch below 0.8 of its plan
 * New customers: A1 (M1, 01-10, first spend 01-15: paid), A2 (M1, 02-01, spend 03-20, 47 days:
 * not paid), B1 (M2, 01-20, spend the same day: paid), C1 (M3, 02-01, spend 02-05: paid).
 * Final: S1 3 of 3 reaches its plan: ¥300 by 2 : 1 → M1 ¥200, M2 ¥100. S2 1 of 5 = 0.2: −¥100.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apps, seed, write } from "../fixtures/scenarios.js";
import { codeOf, DEEP_DOCUMENTS, startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
const BM = { role: "BRANCH_MANAGER", unit: "C", sub: "bm-c" } as const;
const bm = () => api.as(BM);

beforeAll(async () => {
  // The statement-count test reads a page of managers with their statements' lines, deeper and
  // costlier than production's document limits allow.
  api = await startTestApi(DEEP_DOCUMENTS);
  await seed(api, {
    branches: [
      { code: "P", name: "Province", level: "PROVINCE" },
      { code: "C", name: "City", level: "CITY", parentCode: "P" },
      { code: "S1", name: "Sub-branch one", level: "SUB_BRANCH", parentCode: "C" },
      { code: "S2", name: "Sub-branch two", level: "SUB_BRANCH", parentCode: "C" },
    ],
    managers: [
      { code: "M1", name: "One", branchCode: "S1" },
      { code: "M2", name: "Two", branchCode: "S1" },
      { code: "M3", name: "Three", branchCode: "S2" },
    ],
    targets: [
      { branchCode: "S1", period: "2021-Q1", metric: "NEW_CUSTOMERS", value: 3 },
      { branchCode: "S2", period: "2021-Q1", metric: "NEW_CUSTOMERS", value: 5 },
    ],
    applications: [
      ...apps("A1", "S1", 1, "2021-01-10", { managerCode: "M1" }),
      ...apps("A2", "S1", 1, "2021-02-01", { managerCode: "M1" }),
      ...apps("B1", "S1", 1, "2021-01-20", { managerCode: "M2" }),
      ...apps("C1", "S2", 1, "2021-02-01", { managerCode: "M3" }),
    ],
    activations: [
      { applicationExternalId: "A1-1", activatedOn: "2021-01-15", firstSpendOn: "2021-01-15" },
      { applicationExternalId: "A2-1", activatedOn: "2021-03-20", firstSpendOn: "2021-03-20" },
      { applicationExternalId: "B1-1", activatedOn: "2021-01-20", firstSpendOn: "2021-01-20" },
      { applicationExternalId: "C1-1", activatedOn: "2021-02-05", firstSpendOn: "2021-02-05" },
    ],
  });
});
afterAll(() => api?.close());

const RULES = [
  { kind: "FIRST_ORDER", amount: 20, withinDays: 30 },
  { kind: "TEAM", metric: "NEW_CUSTOMERS", level: "SUB_BRANCH", threshold: 1, amount: 300, split: "BY_CONTRIBUTION" },
  { kind: "PENALTY", metric: "NEW_CUSTOMERS", level: "SUB_BRANCH", threshold: 0.8, amount: 100 },
];
const CREATE = "mutation($in: CreatePlanInput!) { r: createPlan(input: $in) { code status version period rules { kind amount withinDays threshold } branch { code } } }";
const TRANSITION = "mutation($in: TransitionPlanInput!) { r: transitionPlan(input: $in) { code status version } }";
const UPDATE = "mutation($in: UpdatePlanInput!) { r: updatePlan(input: $in) { code status version rules { kind amount } } }";
const CALCULATE = "mutation($in: CalculateStatementsInput!) { r: calculateStatements(input: $in) { planVersion asOf basis created updated unchanged removed } }";
const APPROVE = "mutation($in: StatementsTransitionInput!) { r: approveStatements(input: $in) { status count } }";
const LOCK = "mutation($in: StatementsTransitionInput!) { r: lockStatements(input: $in) { status count } }";
const STATEMENT = "planCode planVersion sequence recipientCode asOf basis status total lines { ruleKind quantity rate amount applications applicationsRemoved adjustment note }";

async function ok(query: string, input: Record<string, unknown>) {
  const res = await bm().gql(query, { in: input });
  expect(res.errors).toBeUndefined();
  return res.data.r;
}

/** Each statement as "recipient #sequence status total: kind amount [applications] ...", for every manager and unit. */
async function statements(): Promise<string[]> {
  const res = await api.as({ role: "HQ" }).gql(`{
    m1: accountManager(code: "M1") { incentives(period: "2021-Q1") { ${STATEMENT} } }
    m2: accountManager(code: "M2") { incentives(period: "2021-Q1") { ${STATEMENT} } }
    m3: accountManager(code: "M3") { incentives(period: "2021-Q1") { ${STATEMENT} } }
    s1: branch(code: "S1") { incentives(period: "2021-Q1") { ${STATEMENT} } }
    s2: branch(code: "S2") { incentives(period: "2021-Q1") { ${STATEMENT} } }
  }`);
  expect(res.errors).toBeUndefined();
  return Object.values(res.data as Record<string, { incentives: any[] }>).flatMap((r) =>
    r.incentives.map(
      (s) =>
        `${s.recipientCode} #${s.sequence} ${s.status} ${s.basis} ${s.total}: ` +
        s.lines.map((l: any) => `${l.adjustment ? "adj " : ""}${l.ruleKind} ${l.quantity}×${l.rate}=${l.amount}${l.applications.length ? ` +[${l.applications}]` : ""}${l.applicationsRemoved.length ? ` -[${l.applicationsRemoved}]` : ""}`).join(", "),
    ),
  );
}

describe("a plan's lifecycle", () => {
  it("is created as a DRAFT with its rules; bad rules are refused naming rules[i].field", async () => {
    const bad = await bm().gql(CREATE, {
      in: { idempotencyKey: "plan-bad-0001", code: "Q1-BAD", name: "Bad", branchCode: "C", period: "2021-Q1", rules: [RULES[0], { ...RULES[1], threshold: 0, amount: 1.234 }] },
    });
    expect(codeOf(bad)).toBe("BAD_USER_INPUT");
    expect(bad.errors![0].extensions!.issues).toEqual([{ field: "rules[1].amount", reason: "1.234 has more than two decimals" }]);
    const noThreshold = await bm().gql(CREATE, {
      in: { idempotencyKey: "plan-bad-0002", code: "Q1-BAD", name: "Bad", branchCode: "C", period: "2021-Q1", rules: [{ ...RULES[1], threshold: 0 }, { kind: "TIERED", metric: "APPROVALS", bands: [{ from: 0.5, amount: 1 }] }] },
    });
    expect(noThreshold.errors![0].extensions!.issues!.map((i) => i.field)).toEqual(["rules[0].threshold", "rules[1].bands[0].from"]);

    const created = await ok(CREATE, { idempotencyKey: "plan-create-0001", code: "Q1-C", name: "City Q1 plan", branchCode: "C", period: "2021-Q1", rules: RULES });
    expect(created).toEqual({
      code: "Q1-C", status: "DRAFT", version: 1, period: "2021-Q1", branch: { code: "C" },
      rules: [
        { kind: "FIRST_ORDER", amount: 20, withinDays: 30, threshold: null },
        { kind: "TEAM", amount: 300, withinDays: null, threshold: 1 },
        { kind: "PENALTY", amount: 100, withinDays: null, threshold: 0.8 },
      ],
    });
    // The same key and input: the same plan, nothing created twice; another input: CONFLICT.
    expect(await ok(CREATE, { idempotencyKey: "plan-create-0001", code: "Q1-C", name: "City Q1 plan", branchCode: "C", period: "2021-Q1", rules: RULES })).toEqual(created);
    const conflict = await bm().gql(CREATE, { in: { idempotencyKey: "plan-create-0001", code: "Q1-C", name: "Other", branchCode: "C", period: "2021-Q1", rules: RULES } });
    expect(codeOf(conflict)).toBe("CONFLICT");
  });

  it("a DRAFT changes in place; it cannot be calculated nor closed", async () => {
    const changed = await ok(UPDATE, { idempotencyKey: "plan-update-0001", code: "Q1-C", rules: [{ ...RULES[0], amount: 25 }, RULES[1], RULES[2]] });
    expect(changed).toMatchObject({ status: "DRAFT", version: 1, rules: [{ kind: "FIRST_ORDER", amount: 25 }, { kind: "TEAM" }, { kind: "PENALTY" }] });
    const calc = await bm().gql(CALCULATE, { in: { planCode: "Q1-C", asOf: "2021-04-30" } });
    expect(calc.errors![0].extensions!.issues).toEqual([{ field: "planCode", reason: 'plan "Q1-C" is a DRAFT: activate it before calculating its statements' }]);
    const close = await bm().gql(TRANSITION, { in: { idempotencyKey: "plan-close-0000", code: "Q1-C", to: "CLOSED" } });
    expect(close.errors![0].extensions!.issues).toEqual([{ field: "to", reason: "DRAFT → CLOSED is not a legal move" }]);
  });

  it("an ACTIVE plan's change is a new version", async () => {
    expect(await ok(TRANSITION, { idempotencyKey: "plan-activate-0001", code: "Q1-C", to: "ACTIVE" })).toEqual({ code: "Q1-C", status: "ACTIVE", version: 1 });
    const v2 = await ok(UPDATE, { idempotencyKey: "plan-update-0002", code: "Q1-C", rules: RULES });
    expect(v2).toMatchObject({ status: "ACTIVE", version: 2, rules: [{ kind: "FIRST_ORDER", amount: 20 }, { kind: "TEAM" }, { kind: "PENALTY" }] });
  });

  it("provisional statements during the period, final after it, and a recalculation changes nothing", async () => {
    // As of 02-28: S1 has 3 of 3 (A2 approved 02-01), S2 1 of 5; A2's first spend is not known yet.
    expect(await ok(CALCULATE, { planCode: "Q1-C", asOf: "2021-02-28" })).toEqual({
      planVersion: 2, asOf: "2021-02-28", basis: "PROVISIONAL", created: 5, updated: 0, unchanged: 0, removed: 0,
    });
    expect(await ok(CALCULATE, { planCode: "Q1-C", asOf: "2021-04-30" })).toMatchObject({ basis: "FINAL", created: 0, updated: 5, unchanged: 0 });
    const final = await statements();
    expect(final).toEqual([
      "M1 #1 CALCULATED FINAL 220: FIRST_ORDER 1×20=20 +[A1-1], TEAM 2×300=200",
      "M2 #1 CALCULATED FINAL 120: FIRST_ORDER 1×20=20 +[B1-1], TEAM 1×300=100",
      "M3 #1 CALCULATED FINAL 20: FIRST_ORDER 1×20=20 +[C1-1]",
      // The unit's TEAM line shows the pool; its money is on M1's and M2's lines, so the total leaves it out.
      "S1 #1 CALCULATED FINAL 0: TEAM 1×300=300",
      "S2 #1 CALCULATED FINAL -100: PENALTY 1×-100=-100",
    ]);
    // Idempotent: the same inputs give the same lines and totals, and nothing is rewritten.
    expect(await ok(CALCULATE, { planCode: "Q1-C", asOf: "2021-04-30" })).toMatchObject({ created: 0, updated: 0, unchanged: 5, removed: 0 });
    expect(await statements()).toEqual(final);
  });

  it("approved and locked statements never change: a late record gives adjustment lines on the next statement", async () => {
    expect(await ok(APPROVE, { idempotencyKey: "approve-q1-c-0001", planCode: "Q1-C" })).toEqual({ status: "APPROVED", count: 5 });
    expect(await ok(APPROVE, { idempotencyKey: "approve-q1-c-0001", planCode: "Q1-C" })).toEqual({ status: "APPROVED", count: 5 });
    expect(await ok(LOCK, { idempotencyKey: "lock-q1-c-0001", planCode: "Q1-C" })).toEqual({ status: "LOCKED", count: 5 });
    // Rules frozen once a statement is approved.
    const change = await bm().gql(UPDATE, { in: { idempotencyKey: "plan-update-0003", code: "Q1-C", rules: RULES.slice(0, 1) } });
    expect(change.errors![0].extensions!.issues!.map((i) => i.field)).toEqual(["rules"]);
    const locked = await statements();

    // Late records: M3's customer D1 approved 03-15, first spend 03-20 (in time); and B1's
    // customer turns out to have had a card approved in 2020, so B1 is no longer a Q1 new
    // customer: S1 falls to 2 of 3 (0.667), loses its pool and, below 0.8, is penalised.
    await write(api, "applications", [
      ...apps("D1", "S2", 1, "2021-03-15", { managerCode: "M3" }),
      { ...apps("B0", "S1", 1, "2020-12-01", { managerCode: "M2" })[0], customerId: "CU-B1-1" },
    ]);
    await write(api, "activations", [{ applicationExternalId: "D1-1", activatedOn: "2021-03-20", firstSpendOn: "2021-03-20" }]);
    expect(await ok(CALCULATE, { planCode: "Q1-C", asOf: "2021-04-30" })).toMatchObject({ created: 4, updated: 0, unchanged: 0 });
    const after = await statements();
    // Every locked statement as it was; the adjustments on each recipient's next statement.
    expect(after.filter((s) => s.includes(" LOCKED "))).toEqual(locked.map((s) => s.replace("CALCULATED", "LOCKED")));
    expect(after.filter((s) => !s.includes(" LOCKED "))).toEqual([
      "M1 #2 CALCULATED FINAL -200: adj TEAM -2×300=-200",
      "M2 #2 CALCULATED FINAL -120: adj FIRST_ORDER -1×20=-20 -[B1-1], adj TEAM -1×300=-100",
      "M3 #2 CALCULATED FINAL 20: adj FIRST_ORDER 1×20=20 +[D1-1]",
      "S1 #2 CALCULATED FINAL -100: adj TEAM -1×300=-300, adj PENALTY 1×-100=-100",
    ]);
    // And again: the same adjustments, not twice.
    expect(await ok(CALCULATE, { planCode: "Q1-C", asOf: "2021-04-30" })).toMatchObject({ created: 0, updated: 0, unchanged: 4 });
    expect(await statements()).toEqual(after);
  });

  it("closes only after its period, and every change is in the audit trail", async () => {
    const res = await ok(TRANSITION, { idempotencyKey: "plan-close-0001", code: "Q1-C", to: "CLOSED" });
    expect(res.status).toBe("CLOSED");
    const trail = await api.as({ role: "HQ" }).gql(`{ auditTrail(subject: "bm-c", outcome: SUCCEEDED, first: 50) { edges { node { operation target } } } }`);
    const ops = new Set(trail.data.auditTrail.edges.map((e: any) => `${e.node.operation} ${e.node.target}`));
    expect([...ops].sort()).toEqual([
      "approveStatements Q1-C", "calculateStatements Q1-C", "createPlan Q1-C", "lockStatements Q1-C", "transitionPlan Q1-C", "updatePlan Q1-C",
    ]);
  });
});

describe("statement counts", () => {
  // Two units under Q: W with 2 account managers, X with 40; one application each in January.
  const managersOf = (unit: string, n: number) => Array.from({ length: n }, (_, i) => ({ code: `${unit}-M${String(i).padStart(2, "0")}`, name: `${unit} ${i}`, branchCode: unit }));
  const BM_Q = { role: "BRANCH_MANAGER", unit: "Q", sub: "bm-q" } as const;

  beforeAll(async () => {
    const managers = [...managersOf("W", 2), ...managersOf("X", 40)];
    await seed(api, {
      branches: [
        { code: "Q", name: "Province Q", level: "PROVINCE" },
        { code: "W", name: "Small city", level: "CITY", parentCode: "Q" },
        { code: "X", name: "Large city", level: "CITY", parentCode: "Q" },
      ],
      managers,
      applications: managers.flatMap((m) => apps(m.code, m.branchCode, 1, "2021-01-05", { managerCode: m.code })),
    });
  });

  async function planFor(unit: string): Promise<{ first: number; again: number }> {
    const q = api.as(BM_Q);
    const rules = [{ kind: "PER_UNIT", metric: "APPLICATIONS", amount: 5 }, { kind: "FIRST_ORDER", amount: 20, withinDays: 30 }];
    for (const [query, input] of [
      [CREATE, { idempotencyKey: `count-plan-${unit}`, code: `PLAN-${unit}`, name: unit, branchCode: unit, period: "2021-Q1", rules }],
      [TRANSITION, { idempotencyKey: `count-plan-${unit}-active`, code: `PLAN-${unit}`, to: "ACTIVE" }],
    ] as const) {
      expect((await q.gql(query, { in: input })).errors).toBeUndefined();
    }
    const calculate = (asOf: string) =>
      api.countStatements(async () => {
        const res = await q.gql(CALCULATE, { in: { planCode: `PLAN-${unit}`, asOf } });
        expect(res.errors).toBeUndefined();
      });
    // The first calculation creates every statement; the next, as of a later day, rewrites them all.
    return { first: await calculate("2021-01-31"), again: await calculate("2021-02-28") };
  }

  it("calculating a plan, and recalculating it, costs the same for 2 managers as for 40 (inputs read set-based, statements written in bulk)", async () => {
    const small = await planFor("W");
    const large = await planFor("X");
    expect(small.first).toBeGreaterThan(0);
    expect(large).toEqual(small);
  });

  it("reading a page of managers with their statements and lines costs the same for 2 as for 40", async () => {
    const query = `query($u: String!) { branch(code: $u) { accountManagers(first: 50) { edges { node { code
      incentives(period: "2021-Q1") { planCode total lines { ruleKind amount } } } } } } }`;
    const read = async (unit: string, n: number) => {
      let rows: any[] = [];
      const statements = await api.countStatements(async () => {
        const res = await api.as({ role: "HQ" }).gql(query, { u: unit });
        expect(res.errors).toBeUndefined();
        rows = res.data.branch.accountManagers.edges;
      });
      expect(rows).toHaveLength(n);
      expect(rows.every((e) => e.node.incentives.length === 1 && e.node.incentives[0].total === 5)).toBe(true);
      return statements;
    };
    const small = await read("W", 2);
    const large = await read("X", 40);
    expect(large).toBe(small);
  });
});
