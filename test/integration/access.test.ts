/**
 * Who may see and do what, through the real API: a matrix of callers × operations, then the
 * sibling-unit leak tests, one per type that holds figures, staff or records.
 */
import { Kind, parse } from "graphql";
import { getMetadataStorage } from "type-graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchema } from "../../src/graphql/schema.js";
import { toGlobalId } from "../../src/modules/common/relay.js";
import { CALLERS, seedTwoCities, twoCities, twoCityCircles, twoCityMerchants, type CallerName } from "../fixtures/access.js";
import { codeOf, startTestApi, type GqlResponse, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await seedTwoCities(api);
  await seedPlan();
  await seedWebhooks();
});

/** A group webhook of C1 (W1) and one of T1 (W-T1), registered by HQ; nothing listens at their address. */
async function seedWebhooks() {
  for (const [code, branchCode] of [["W1", "C1"], ["W-T1", "T1"]]) {
    const res = await api.as(CALLERS.HQ).gql("mutation($in: RegisterWebhookInput!) { registerWebhook(input: $in) { secret } }", {
      in: { code, branchCode, name: `Group of ${branchCode}`, url: "http://127.0.0.1:9/access-hook" },
    });
    expect(res.errors).toBeUndefined();
  }
}

/** C1's plan PL1, ACTIVE, with statements as of 01-31 (¥1 per application: M11 3, M12 2, M13 4). */
async function seedPlan() {
  const bm = api.as(CALLERS.BM_C1);
  const steps: [string, Record<string, unknown>][] = [
    [
      "mutation($in: CreatePlanInput!) { createPlan(input: $in) { code } }",
      { idempotencyKey: "access-plan-1", code: "PL1", name: "City one Q1", branchCode: "C1", period: Q, rules: [{ kind: "PER_UNIT", metric: "APPLICATIONS", amount: 1 }] },
    ],
    ["mutation($in: TransitionPlanInput!) { transitionPlan(input: $in) { code } }", { idempotencyKey: "access-plan-1-active", code: "PL1", to: "ACTIVE" }],
    ["mutation($in: CalculateStatementsInput!) { calculateStatements(input: $in) { created } }", { planCode: "PL1", asOf: "2021-01-31" }],
  ];
  for (const [query, input] of steps) expect((await bm.gql(query, { in: input })).errors).toBeUndefined();
}
afterAll(() => api?.close());

const as = (caller: CallerName, query: string, variables?: Record<string, unknown>) => api.as(CALLERS[caller]).gql(query, variables);
/** "ok" when the answer has no errors, else the first error's code. */
const outcome = (res: GqlResponse) => (res.errors ? codeOf(res) : "ok");

const Q = "2021-Q1";
const perf = `performance(period: "${Q}", asOf: "2021-01-31") { metric(metric: APPLICATIONS) { actual } }`;
const OPERATIONS: Record<string, string> = {
  provinceRanking: `{ branchRanking(parentCode: "P", period: "${Q}", metric: APPLICATIONS) { rank actual branch { code name } } }`,
  otherCityRanking: `{ branchRanking(parentCode: "C2", period: "${Q}", metric: APPLICATIONS) { rank actual } }`,
  unknownUnitRanking: `{ branchRanking(parentCode: "NOPE", period: "${Q}", metric: APPLICATIONS) { rank } }`,
  subBranchFigures: `{ branch(code: "S1") { code ${perf} } }`,
  otherCityFigures: `{ branch(code: "T1") { code ${perf} } }`,
  unitNames: `{ branches(first: 10) { totalCount edges { node { code name } } } }`,
  subBranchStaff: `{ branch(code: "S1") { accountManagers(first: 10) { totalCount edges { node { code } } } } }`,
  ownManager: `{ accountManager(code: "M11") { name ${perf} } }`,
  colleague: `{ accountManager(code: "M12") { name } }`,
  colleagueFigures: `{ accountManager(code: "M12") { ${perf} } }`,
  otherCityManager: `{ accountManager(code: "M21") { name } }`,
  unknownManager: `{ accountManager(code: "NOPE") { name } }`,
  subBranchManagerRanking: `{ accountManagerRanking(branchCode: "S1", period: "${Q}", metric: APPLICATIONS) { rank actual manager { name } } }`,
  cityManagerRanking: `{ accountManagerRanking(branchCode: "C1", period: "${Q}", metric: APPLICATIONS) { rank } }`,
  visits: `{ visits(first: 10) { totalCount } }`,
  merchants: `{ merchants(first: 10) { totalCount edges { node { code branch { code } } } } }`,
  promotionsNear: `{ promotionsNear(latitude: 31.23, longitude: 121.47) { totalCount } }`,
  auditTrail: `{ auditTrail(first: 5) { totalCount } }`,
  ownCityCampaignResults: `{ campaign(code: "CAMP1") { code results(period: "${Q}", asOf: "2021-01-31") { applications newCustomers visits } } }`,
  otherCityCampaignResults: `{ campaign(code: "CAMP2") { code results(period: "${Q}", asOf: "2021-01-31") { applications newCustomers } } }`,
  otherCityCampaignSpending: `{ campaign(code: "CAMP2") { code spent remaining } }`,
  otherCityPromotionSpending: `{ promotion(code: "PR2") { code spent } }`,
  ownCityCircleResults: `{ businessCircle(code: "K1") { code results(period: "${Q}", asOf: "2021-01-31") { visits applications } } }`,
  otherCityCircleResults: `{ businessCircle(code: "K2") { code results(period: "${Q}", asOf: "2021-01-31") { visits applications } } }`,
  circleNames: `{ businessCircles(first: 10) { totalCount edges { node { code name branch { code } } } } }`,
  campaignNames: `{ campaigns(first: 10) { totalCount edges { node { code name status branch { code } } } } }`,
  otherCityMerchant: `{ merchant(code: "ME2") { code name branch { code } } }`,
  // node(id) reaches a manager by another path than accountManager(code): the same rule must hold.
  ownManagerById: `{ node(id: "${toGlobalId("AccountManager", "M11")}") { id ... on AccountManager { name } } }`,
  otherCityManagerById: `{ node(id: "${toGlobalId("AccountManager", "M21")}") { id ... on AccountManager { name } } }`,
  cityPlan: `{ plan(code: "PL1") { code rules { kind amount } } }`,
  cityPlans: `{ plans(branchCode: "C1", first: 5) { totalCount edges { node { code } } } }`,
  ownIncentives: `{ accountManager(code: "M11") { incentives(period: "${Q}") { total lines { amount } } } }`,
  colleagueIncentives: `{ accountManager(code: "M12") { incentives(period: "${Q}") { total } } }`,
  subBranchIncentives: `{ branch(code: "S1") { incentives(period: "${Q}") { total } } }`,
  cityWebhooks: `{ branch(code: "C1") { webhooks(first: 5) { totalCount edges { node { code url deliveries(first: 5) { totalCount } } } } } }`,
};

const F = "FORBIDDEN";
const U = "UNAUTHENTICATED";
// Rows: operation; columns: HQ, BM_C1, BM_S1, AM_M11, MARKETING, INGEST, ACQUIRER, ANONYMOUS.
const MATRIX: [string, ...string[]][] = [
  ["provinceRanking", "ok", "ok", "ok", "ok", F, F, F, U],
  ["otherCityRanking", "ok", F, F, F, F, F, F, U],
  ["unknownUnitRanking", "NOT_FOUND", F, F, F, F, F, F, U],
  ["subBranchFigures", "ok", "ok", "ok", F, F, F, F, U],
  ["otherCityFigures", "ok", F, F, F, F, F, F, U],
  ["unitNames", "ok", "ok", "ok", "ok", "ok", F, F, U],
  ["subBranchStaff", "ok", "ok", "ok", F, F, F, F, U],
  ["ownManager", "ok", "ok", "ok", "ok", F, F, F, U],
  ["colleague", "ok", "ok", "ok", "ok", F, F, F, U],
  ["colleagueFigures", "ok", "ok", "ok", F, F, F, F, U],
  ["otherCityManager", "ok", F, F, F, F, F, F, U],
  ["unknownManager", "ok", F, F, F, F, F, F, U],
  ["subBranchManagerRanking", "ok", "ok", "ok", "ok", F, F, F, U],
  ["cityManagerRanking", "ok", "ok", F, F, F, F, F, U],
  ["visits", "ok", "ok", "ok", "ok", F, F, F, U],
  ["merchants", "ok", "ok", "ok", "ok", "ok", F, F, U],
  ["promotionsNear", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
  ["auditTrail", "ok", F, F, F, F, F, F, U],
  // Campaign and circle results sum the owning unit's records: its figures' readers, and marketing.
  ["ownCityCampaignResults", "ok", "ok", F, F, "ok", F, F, U],
  ["otherCityCampaignResults", "ok", F, F, F, "ok", F, F, U],
  ["otherCityCampaignSpending", "ok", F, F, F, "ok", F, F, U],
  ["otherCityPromotionSpending", "ok", F, F, F, "ok", F, F, U],
  ["ownCityCircleResults", "ok", "ok", F, F, "ok", F, F, U],
  ["otherCityCircleResults", "ok", F, F, F, "ok", F, F, U],
  // Circles, campaigns and merchants are shared reference data: every staff role reads them.
  ["circleNames", "ok", "ok", "ok", "ok", "ok", F, F, U],
  ["campaignNames", "ok", "ok", "ok", "ok", "ok", F, F, U],
  ["otherCityMerchant", "ok", "ok", "ok", "ok", "ok", F, F, U],
  // node is open to all staff, but a manager behind it only to those who may see that manager.
  ["ownManagerById", "ok", "ok", "ok", "ok", F, F, F, U],
  ["otherCityManagerById", "ok", F, F, F, F, F, F, U],
  // A plan's rules: HQ, and the staff at, above or under its unit; listing a subtree's plans: HQ and its branch managers.
  ["cityPlan", "ok", "ok", "ok", "ok", F, F, F, U],
  ["cityPlans", "ok", "ok", F, F, F, F, F, U],
  // Statements are figures: the manager's own, their unit's line of command, HQ.
  ["ownIncentives", "ok", "ok", "ok", "ok", F, F, F, U],
  ["colleagueIncentives", "ok", "ok", "ok", F, F, F, F, U],
  ["subBranchIncentives", "ok", "ok", "ok", F, F, F, F, U],
  // Where a unit's figures are sent, and what was sent: HQ and the unit's branch managers or above.
  ["cityWebhooks", "ok", "ok", F, F, F, F, F, U],
];
const COLUMNS: CallerName[] = ["HQ", "BM_C1", "BM_S1", "AM_M11", "MARKETING", "INGEST", "ACQUIRER", "ANONYMOUS"];

describe("queries: callers × operations", () => {
  const cases = MATRIX.flatMap(([op, ...expected]) => COLUMNS.map((caller, i) => [op, caller, expected[i]] as const));
  it.each(cases)("%s as %s → %s", async (op, caller, expected) => {
    const res = await as(caller, OPERATIONS[op]);
    expect(outcome(res)).toBe(expected);
    if (expected !== "ok") expect(JSON.stringify(res.data ?? null)).not.toMatch(/Zhao|Wang|Li Na|"actual":\d|"(applications|newCustomers|visits|spent|remaining|total)":\d/);
  });

  it("scoped lists hold only the caller's part: visits by staff of the subtree, or the caller's own", async () => {
    const count = async (caller: CallerName, merchant: string) =>
      (await as(caller, `{ visits(merchantCode: "${merchant}", first: 10) { totalCount } merchant(code: "${merchant}") { visits(first: 10) { totalCount } } }`)).data;
    expect(await count("HQ", "ME1")).toEqual({ visits: { totalCount: 2 }, merchant: { visits: { totalCount: 2 } } });
    expect(await count("BM_C1", "ME1")).toEqual({ visits: { totalCount: 2 }, merchant: { visits: { totalCount: 2 } } });
    expect(await count("BM_S1", "ME1")).toEqual({ visits: { totalCount: 1 }, merchant: { visits: { totalCount: 1 } } });
    expect(await count("AM_M11", "ME1")).toEqual({ visits: { totalCount: 1 }, merchant: { visits: { totalCount: 1 } } });
    expect(await count("BM_C1", "ME2")).toEqual({ visits: { totalCount: 0 }, merchant: { visits: { totalCount: 0 } } });
  });

  it("a ranking publishes its managers' names to the peers who may read it, not their figures", async () => {
    const res = await as("AM_M11", `{ accountManagerRanking(branchCode: "S1", period: "${Q}", metric: APPLICATIONS, asOf: "2021-01-31") {
      rank actual manager { code name } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.accountManagerRanking).toEqual([
      { rank: 1, actual: 3, manager: { code: "M11", name: "Li Na" } },
      { rank: 2, actual: 2, manager: { code: "M12", name: "Wang Wei" } },
    ]);
    const figures = await as("AM_M11", `{ accountManagerRanking(branchCode: "S1", period: "${Q}", metric: APPLICATIONS) { manager { code ${perf} } } }`);
    expect(codeOf(figures)).toBe(F);
    expect(figures.errors!.map((e) => e.path?.join("."))).toEqual(["accountManagerRanking.1.manager.performance"]);
  });
});

const row = { externalId: "X-1", customerId: "CU-X-1", branchCode: "S1", channel: "ONLINE", receivedOn: "2021-01-12" };
const target = (branchCode: string) => ({ branchCode, period: Q, metric: "APPLICATIONS", value: 10 });
const WRITES: Record<string, [string, Record<string, unknown>]> = {
  recordApplications: ["mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created updated unchanged } }", { in: [row] }],
  setTargetBelow: ["mutation($in: [TargetInput!]!) { setTargets(input: $in) { created updated unchanged } }", { in: [target("S1")] }],
  createCampaign: [
    "mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }",
    { in: { idempotencyKey: "k-access", code: "ACC", name: "Access", branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 100 } },
  ],
  ownVisit: [
    "mutation($in: [VisitInput!]!) { recordVisits(input: $in) { created updated unchanged } }",
    { in: [{ managerCode: "M11", merchantCode: "ME1", visitedOn: "2021-01-20", outcome: "FOLLOW_UP" }] },
  ],
  upsertBranches: ["mutation($in: [BranchInput!]!) { upsertBranches(input: $in) { created updated unchanged } }", { in: [{ code: "P", name: "Province", level: "PROVINCE" }] }],
  // PR2's campaign is a draft: whoever gets past the access check meets the promotion's rules.
  redeemPromotion: [
    "mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { cost } }",
    { in: { transactionId: "tx-access-1", promotionCode: "PR2", merchantCode: "ME2", cardToken: "tok_access_card_0001", spend: 50 } },
  ],
  // The seed's own rows sent again: whoever gets through writes nothing new ("unchanged").
  upsertAccountManagers: [
    "mutation($in: [AccountManagerInput!]!) { upsertAccountManagers(input: $in) { created updated unchanged } }",
    { in: twoCities.managers!.filter((m) => m.code === "M11") },
  ],
  upsertMerchants: ["mutation($in: [MerchantInput!]!) { upsertMerchants(input: $in) { created updated unchanged } }", { in: twoCityMerchants.slice(0, 1) }],
  upsertBusinessCircles: [
    "mutation($in: [BusinessCircleInput!]!) { upsertBusinessCircles(input: $in) { created updated unchanged } }",
    { in: twoCityCircles.slice(0, 1) },
  ],
  // A12-1 is approved and in no campaign: its activation moves no figure the later tests read.
  recordActivations: [
    "mutation($in: [ActivationInput!]!) { recordActivations(input: $in) { created updated unchanged } }",
    { in: [{ applicationExternalId: "A12-1", activatedOn: "2021-01-12" }] },
  ],
  // On MX, the matrix's own campaign (created before the writes), so CAMP1 and CAMP2 stay as seeded.
  createPromotion: [
    "mutation($in: CreatePromotionInput!) { createPromotion(input: $in) { code } }",
    { in: { idempotencyKey: "k-access-promo", code: "PR-MX", campaignCode: "MX", title: "Matrix", rule: { kind: "CASHBACK", cashback: 5 }, validFrom: "2021-01-01", validTo: "2021-03-31" } },
  ],
  updateCampaign: [
    "mutation($in: UpdateCampaignInput!) { updateCampaign(input: $in) { code name } }",
    { in: { idempotencyKey: "k-access-update", code: "MX", name: "Matrix, renamed" } },
  ],
  transitionCampaign: [
    "mutation($in: TransitionCampaignInput!) { transitionCampaign(input: $in) { code status } }",
    { in: { idempotencyKey: "k-access-transition", code: "MX", to: "SCHEDULED" } },
  ],
  createPlan: [
    "mutation($in: CreatePlanInput!) { createPlan(input: $in) { code } }",
    { in: { idempotencyKey: "k-access-plan", code: "PLW", name: "Matrix plan", branchCode: "C1", period: Q, rules: [{ kind: "FIRST_ORDER", amount: 20, withinDays: 30 }] } },
  ],
  updatePlan: ["mutation($in: UpdatePlanInput!) { updatePlan(input: $in) { code } }", { in: { idempotencyKey: "k-access-plan-update", code: "PLW", name: "Matrix plan, renamed" } }],
  transitionPlan: ["mutation($in: TransitionPlanInput!) { transitionPlan(input: $in) { status } }", { in: { idempotencyKey: "k-access-plan-active", code: "PLW", to: "ACTIVE" } }],
  calculateStatements: ["mutation($in: CalculateStatementsInput!) { calculateStatements(input: $in) { unchanged } }", { in: { planCode: "PL1", asOf: "2021-01-31" } }],
  approveStatements: ["mutation($in: StatementsTransitionInput!) { approveStatements(input: $in) { count } }", { in: { idempotencyKey: "k-access-approve", planCode: "PL1" } }],
  lockStatements: ["mutation($in: StatementsTransitionInput!) { lockStatements(input: $in) { count } }", { in: { idempotencyKey: "k-access-lock", planCode: "PL1" } }],
  // An ftp address: whoever gets past the access check meets the URL's rule.
  registerWebhook: [
    "mutation($in: RegisterWebhookInput!) { registerWebhook(input: $in) { secret } }",
    { in: { code: "W-MX", branchCode: "C1", name: "Matrix group", url: "ftp://127.0.0.1/hook" } },
  ],
  updateWebhook: ["mutation($in: UpdateWebhookInput!) { updateWebhook(input: $in) { code name } }", { in: { code: "W1", name: "Group of C1, renamed" } }],
  // The first caller let through removes it; after that it is unknown, refused like one out of reach.
  removeWebhook: ["mutation($in: RemoveWebhookInput!) { removeWebhook(input: $in) { code } }", { in: { code: "W-T1" } }],
};
const WRITE_MATRIX: [string, ...string[]][] = [
  ["recordApplications", F, F, F, F, F, "ok", F, U],
  ["setTargetBelow", F, "ok", F, F, F, "ok", F, U],
  ["createCampaign", F, F, F, F, "ok", F, F, U],
  ["ownVisit", F, F, F, "ok", F, "ok", F, U],
  ["upsertBranches", F, F, F, F, F, "ok", F, U],
  ["redeemPromotion", F, F, F, F, F, F, "PROMOTION_NOT_AVAILABLE", U],
  ["upsertAccountManagers", F, F, F, F, F, "ok", F, U],
  ["recordActivations", F, F, F, F, F, "ok", F, U],
  ["upsertMerchants", F, F, F, F, "ok", F, F, U],
  ["upsertBusinessCircles", F, F, F, F, "ok", F, F, U],
  ["createPromotion", F, F, F, F, "ok", F, F, U],
  ["updateCampaign", F, F, F, F, "ok", F, F, U],
  ["transitionCampaign", F, F, F, F, "ok", F, F, U],
  // Plans and their statements: a branch manager of the plan's unit (C1) or above; HQ writes nothing.
  ["createPlan", F, "ok", F, F, F, F, F, U],
  ["updatePlan", F, "ok", F, F, F, F, F, U],
  ["transitionPlan", F, "ok", F, F, F, F, F, U],
  ["calculateStatements", F, "ok", F, F, F, F, F, U],
  ["approveStatements", F, "ok", F, F, F, F, F, U],
  ["lockStatements", F, "ok", F, F, F, F, F, U],
  // Group webhooks: HQ and the branch managers of the unit (C1) or above; W-T1 is out of C1's reach.
  ["registerWebhook", "BAD_USER_INPUT", "BAD_USER_INPUT", F, F, F, F, F, U],
  ["updateWebhook", "ok", "ok", F, F, F, F, F, U],
  ["removeWebhook", "ok", F, F, F, F, F, F, U],
];

describe("mutations: callers × writes", () => {
  beforeAll(async () => {
    const res = await as("MARKETING", "mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }", {
      in: { idempotencyKey: "k-access-mx", code: "MX", name: "Matrix", branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 100 },
    });
    expect(res.errors).toBeUndefined();
  });

  const cases = WRITE_MATRIX.flatMap(([op, ...expected]) => COLUMNS.map((caller, i) => [op, caller, expected[i]] as const));
  // The rows that send the seed's own data again: a caller let through must change nothing.
  const RESENT = new Set(["upsertBranches", "upsertAccountManagers", "upsertMerchants", "upsertBusinessCircles"]);
  it.each(cases)("%s as %s → %s", async (op, caller, expected) => {
    const [query, variables] = WRITES[op];
    const res = await as(caller, query, variables);
    expect(outcome(res)).toBe(expected);
    if (expected === "ok" && RESENT.has(op)) expect(res.data[op]).toEqual({ created: 0, updated: 0, unchanged: 1 });
  });

  it("a branch manager's targets outside their subtree, or on their own unit, are refused row by row and nothing is written", async () => {
    const before = await api.database.prisma.target.count();
    const res = await as("BM_S1", "mutation($in: [TargetInput!]!) { setTargets(input: $in) { created } }", {
      in: [target("O1"), target("S1"), target("T1"), target("NOPE"), { managerCode: "M13", period: Q, metric: "APPLICATIONS", value: 3 }],
    });
    expect(codeOf(res)).toBe(F);
    expect(res.errors![0].extensions!.issues!.map((i) => `${i.index} ${i.field}`)).toEqual(["1 branchCode", "2 branchCode", "3 branchCode", "4 managerCode"]);
    expect(await api.database.prisma.target.count()).toBe(before);
  });

  it("an account manager cannot record a colleague's visit", async () => {
    const res = await as("AM_M11", "mutation($in: [VisitInput!]!) { recordVisits(input: $in) { created } }", {
      in: [{ managerCode: "M12", merchantCode: "ME1", visitedOn: "2021-01-21", outcome: "FOLLOW_UP" }],
    });
    expect(codeOf(res)).toBe(F);
    expect(res.errors![0].extensions!.issues).toEqual([{ index: 0, field: "managerCode", reason: "an account manager records only their own visits" }]);
  });
});

describe("sibling units: nothing beyond what rankings publish, whatever the path", () => {
  const leak = /Zhang|Zhao|M13|M21|"actual":4|"actual":5|"totalCount":[1-9]/;

  it.each([
    ["figures of a sibling through parent { children }", `{ branch(code: "S1") { parent { children { code ${perf} } } } }`],
    ["staff of a sibling through parent { children }", `{ branch(code: "S1") { parent { children { code accountManagers(first: 5) { totalCount } } } } }`],
    ["staff of a peer through a ranking's units", `{ branchRanking(parentCode: "C1", period: "${Q}", metric: APPLICATIONS) { branch { accountManagers { edges { node { name } } } } } }`],
    ["figures of a peer through a ranking's units", `{ branchRanking(parentCode: "C1", period: "${Q}", metric: APPLICATIONS) { branch { code ${perf} } } }`],
    ["a sibling's manager by global id", `{ node(id: "${toGlobalId("AccountManager", "M13")}") { ... on AccountManager { name } } }`],
    ["a sibling's manager by code", `{ accountManager(code: "M13") { name branch { code } } }`],
    ["figures of a sibling's unit through a merchant's unit", `{ merchant(code: "ME2") { branch { parent { ${perf} } } } }`],
    ["visits of a sibling's staff through a merchant", `{ merchant(code: "ME1") { visits(first: 10) { edges { node { manager { name } } } } } }`],
    ["visits of a sibling's staff by manager", `{ visits(managerCode: "M13", first: 10) { totalCount edges { node { manager { name } } } } }`],
  ])("%s", async (_, query) => {
    const res = await as("BM_S1", query);
    expect(JSON.stringify(res.data ?? null)).not.toMatch(leak);
    if (res.errors) expect(res.errors.every((e) => e.extensions?.code === F)).toBe(true);
  });

  it("the published parts stay readable: names, codes and the ranking's figures", async () => {
    const res = await as("BM_S1", `{ branchRanking(parentCode: "C1", period: "${Q}", metric: APPLICATIONS, asOf: "2021-01-31") { rank actual branch { code name } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.branchRanking).toEqual([
      { rank: 1, actual: 5, branch: { code: "S1", name: "Sub-branch one" } },
      { rank: 2, actual: 4, branch: { code: "S2", name: "Sub-branch two" } },
    ]);
  });
});

describe("campaign and circle results: only for those who may see the owning unit's figures", () => {
  it("a sub-branch manager refused the city's figures cannot read them through the city's campaign", async () => {
    expect(codeOf(await as("BM_S1", `{ branch(code: "C1") { ${perf} } }`))).toBe(F);
    const res = await as("BM_S1", `{ campaign(code: "CAMP1") { code results(period: "${Q}", asOf: "2021-01-31") { applications newCustomers visits } } }`);
    expect(res.errors!.map((e) => [e.path?.join("."), e.extensions?.code])).toEqual([["campaign.results", F]]);
    expect(JSON.stringify(res.data)).not.toMatch(/"(applications|newCustomers|visits)"/);
  });

  it("an account manager cannot read another city's circle visit counts", async () => {
    const res = await as("AM_M11", `{ businessCircle(code: "K2") { code results(period: "${Q}", asOf: "2021-01-31") { visits merchantsVisited } } }`);
    expect(res.errors!.map((e) => [e.path?.join("."), e.extensions?.code])).toEqual([["businessCircle.results", F]]);
    expect(JSON.stringify(res.data)).not.toMatch(/"visits"/);
  });

  it("nor through a promotion's campaign, a circle's merchants' promotions, or a list", async () => {
    const viaPromotion = await as("BM_S1", `{ promotion(code: "PR1") { spent campaign { spent remaining results(period: "${Q}", asOf: "2021-01-31") { newCustomers } } } }`);
    expect(codeOf(viaPromotion)).toBe(F);
    expect(JSON.stringify(viaPromotion.data)).not.toMatch(/"(spent|remaining|newCustomers)"/);
    const list = await as("BM_C1", `{ campaigns(first: 10) { edges { node { code results(period: "${Q}", asOf: "2021-01-31") { applications } } } } }`);
    // C2's campaign is refused where it stands (results are non-null, so the list goes with it).
    expect(list.errors!.map((e) => e.extensions?.code)).toEqual([F]);
    expect(list.errors![0].path).toEqual(["campaigns", "edges", expect.any(Number), "node", "results"]);
    expect(JSON.stringify(list.data)).not.toMatch(/"applications":5/);
  });

  it("the owning unit's managers and marketing read the actual figures", async () => {
    // As of 01-15: the visits recorded by the write tests above (01-20) are not counted yet.
    const camp = await as("BM_C1", `{ campaign(code: "CAMP1") { spent results(period: "${Q}", asOf: "2021-01-15") { applications newCustomers visits merchantsSigned } } }`);
    expect(camp.errors).toBeUndefined();
    expect(camp.data.campaign).toEqual({ spent: 0, results: { applications: 3, newCustomers: 3, visits: 2, merchantsSigned: 1 } });
    const circle = await as("MARKETING", `{ businessCircle(code: "K2") { results(period: "${Q}", asOf: "2021-01-31") { visits applications newCustomers } } }`);
    expect(circle.errors).toBeUndefined();
    expect(circle.data.businessCircle.results).toEqual({ visits: 1, applications: 5, newCustomers: 5 });
  });
});

describe("every field says who may use it, where it is declared", () => {
  it("every root field is in the access matrix (a new field must join it)", async () => {
    const schema = await createSchema();
    const roots = [schema.getQueryType()!, schema.getMutationType()!].flatMap((t) => Object.keys(t.getFields()));
    // Counted from the matrices' rows, so a document without a row does not count as covered.
    const documents = [...MATRIX.map(([op]) => OPERATIONS[op]), ...WRITE_MATRIX.map(([op]) => WRITES[op]?.[0])];
    expect(documents.every((d) => typeof d === "string")).toBe(true);
    const covered = new Set(
      documents.flatMap((document) =>
        parse(document).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? d.selectionSet.selections.flatMap((f) => (f.kind === Kind.FIELD ? [f.name.value] : [])) : [])),
      ),
    );
    expect(roots.filter((f) => !covered.has(f))).toEqual([]);
  });

  it("every root query, mutation and subscription carries @Allow (a new one without it fails here)", async () => {
    const schema = await createSchema();
    const allowed = new Set(getMetadataStorage().authorizedFields.filter((a) => (a.roles[0] as { roles?: unknown })?.roles).map((a) => a.fieldName));
    const roots = [schema.getQueryType()!, schema.getMutationType()!, schema.getSubscriptionType()!].flatMap((t) => Object.keys(t.getFields()).map((f) => `${t.name}.${f}`));
    expect(roots.length).toBeGreaterThan(20);
    expect(roots.filter((r) => !allowed.has(r.split(".")[1]))).toEqual([]);
  });

  it("every field that holds figures, staff, visits or sums of records carries @Guard", async () => {
    const schema = await createSchema();
    const storage = getMetadataStorage();
    const guardedTypesAndFields = new Set<string>();
    const typeName = (target: Function) => storage.objectTypes.find((o) => o.target === target)?.name;
    for (const a of storage.authorizedFields) {
      if (!(a.roles[0] as { rule?: unknown })?.rule) continue;
      const resolver = storage.resolverClasses.find((r) => r.target === a.target);
      const owner = resolver ? typeName(resolver.getObjectType() as Function) : typeName(a.target);
      guardedTypesAndFields.add(`${owner}.${a.fieldName}`);
    }
    const SENSITIVE_TYPES = /^(Performance|AttributedResults|CampaignResults|AccountManagerConnection|VisitConnection|IncentiveStatement|IncentiveStatementConnection|GroupWebhookConnection|WebhookDeliveryConnection)$/;
    const SUMS = new Set(["Campaign.spent", "Campaign.remaining", "Promotion.spent", "Promotion.budgetCap"]);
    const unguarded: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!("getFields" in type) || type.name.startsWith("__") || ["Query", "Mutation", "Subscription"].includes(type.name) || !("getInterfaces" in type)) continue;
      for (const [name, field] of Object.entries(type.getFields())) {
        const returns = String(field.type).replace(/[[\]!]/g, "");
        const key = `${type.name}.${name}`;
        // An edge is reached only through its connection's field, which the rule guards.
        if (type.name.endsWith("Edge") && name === "node") continue;
        if ((SENSITIVE_TYPES.test(returns) || SUMS.has(key)) && !guardedTypesAndFields.has(key)) unguarded.push(key);
      }
    }
    expect(unguarded).toEqual([]);
  });
});
