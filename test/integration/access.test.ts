/**
 * Who may see and do what, through the real API: a matrix of callers × operations, then the
 * sibling-unit leak tests, one per type that holds figures, staff or records.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLERS, twoCities, twoCityMerchants, twoCityVisits, type CallerName } from "../fixtures/access.js";
import { writeMerchants } from "../fixtures/merchants.js";
import { seed } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, type GqlResponse, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await seed(api, twoCities);
  await writeMerchants(api, "merchants", twoCityMerchants);
  await writeMerchants(api, "visits", twoCityVisits);
});
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
};

const F = "FORBIDDEN";
const U = "UNAUTHENTICATED";
// Rows: operation; columns: HQ, BM_C1, BM_S1, AM_M11, MARKETING, INGEST, ANONYMOUS.
const MATRIX: [string, ...string[]][] = [
  ["provinceRanking", "ok", "ok", "ok", "ok", F, F, U],
  ["otherCityRanking", "ok", F, F, F, F, F, U],
  ["unknownUnitRanking", "NOT_FOUND", F, F, F, F, F, U],
  ["subBranchFigures", "ok", "ok", "ok", F, F, F, U],
  ["otherCityFigures", "ok", F, F, F, F, F, U],
  ["unitNames", "ok", "ok", "ok", "ok", "ok", F, U],
  ["subBranchStaff", "ok", "ok", "ok", F, F, F, U],
  ["ownManager", "ok", "ok", "ok", "ok", F, F, U],
  ["colleague", "ok", "ok", "ok", "ok", F, F, U],
  ["colleagueFigures", "ok", "ok", "ok", F, F, F, U],
  ["otherCityManager", "ok", F, F, F, F, F, U],
  ["unknownManager", "ok", F, F, F, F, F, U],
  ["subBranchManagerRanking", "ok", "ok", "ok", "ok", F, F, U],
  ["cityManagerRanking", "ok", "ok", F, F, F, F, U],
  ["visits", "ok", "ok", "ok", "ok", F, F, U],
  ["merchants", "ok", "ok", "ok", "ok", "ok", F, U],
  ["promotionsNear", "ok", "ok", "ok", "ok", "ok", "ok", "ok"],
  ["auditTrail", "ok", F, F, F, F, F, U],
];
const COLUMNS: CallerName[] = ["HQ", "BM_C1", "BM_S1", "AM_M11", "MARKETING", "INGEST", "ANONYMOUS"];

describe("queries: callers × operations", () => {
  const cases = MATRIX.flatMap(([op, ...expected]) => COLUMNS.map((caller, i) => [op, caller, expected[i]] as const));
  it.each(cases)("%s as %s → %s", async (op, caller, expected) => {
    const res = await as(caller, OPERATIONS[op]);
    expect(outcome(res)).toBe(expected);
    if (expected !== "ok") expect(JSON.stringify(res.data ?? null)).not.toMatch(/Zhao|Wang|Li Na|"actual":\d/);
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

describe("mutations: callers × writes", () => {
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
    upsertBranches: ["mutation($in: [BranchInput!]!) { upsertBranches(input: $in) { unchanged } }", { in: [{ code: "P", name: "Province", level: "PROVINCE" }] }],
  };
  const WRITE_MATRIX: [string, ...string[]][] = [
    ["recordApplications", F, F, F, F, F, "ok", U],
    ["setTargetBelow", F, "ok", F, F, F, "ok", U],
    ["createCampaign", F, F, F, F, "ok", F, U],
    ["ownVisit", F, F, F, "ok", F, "ok", U],
    ["upsertBranches", F, F, F, F, F, "ok", U],
  ];
  const cases = WRITE_MATRIX.flatMap(([op, ...expected]) => COLUMNS.map((caller, i) => [op, caller, expected[i]] as const));
  it.each(cases)("%s as %s → %s", async (op, caller, expected) => {
    const [query, variables] = WRITES[op];
    expect(outcome(await as(caller, query, variables))).toBe(expected);
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
    ["a sibling's manager by global id", `{ node(id: "${Buffer.from("AccountManager:M13").toString("base64url")}") { ... on AccountManager { name } } }`],
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
