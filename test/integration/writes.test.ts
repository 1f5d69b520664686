/**
 * Writes: idempotent upserts, atomic batches, and a precise error for every kind of bad input.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { app, MUTATIONS as M, seed, write, type Scenario } from "../fixtures/scenarios.js";
import { codeOf, issuesOf, startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api?.close());

const tree: Scenario = {
  branches: [
    { code: "P", name: "Province", level: "PROVINCE" },
    { code: "C", name: "City", level: "CITY", parentCode: "P" },
    { code: "S", name: "Sub-branch", level: "SUB_BRANCH", parentCode: "C" },
    { code: "O", name: "Outlet", level: "OUTLET", parentCode: "S" },
  ],
  managers: [{ code: "M", name: "Manager", branchCode: "O" }],
};

async function tableCounts() {
  const rows = await api.database.prisma.$queryRaw<{ t: string; n: number }[]>`
    SELECT 'branch' AS t, count(*)::int AS n FROM branch UNION ALL
    SELECT 'manager', count(*)::int FROM account_manager UNION ALL
    SELECT 'target', count(*)::int FROM target UNION ALL
    SELECT 'application', count(*)::int FROM application UNION ALL
    SELECT 'customer', count(*)::int FROM customer UNION ALL
    SELECT 'activation', count(*)::int FROM activation`;
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}

beforeEach(async () => {
  await api.reset();
  await seed(api, tree);
});

describe("idempotent replays", () => {
  it.each([
    ["branches", [{ code: "C2", name: "City 2", level: "CITY", parentCode: "P" }, { code: "C2-S", name: "Sub", level: "SUB_BRANCH", parentCode: "C2" }]],
    ["managers", [{ code: "M2", name: "Two", branchCode: "S" }, { code: "M3", name: "Three", branchCode: "C" }]],
    ["targets", [{ branchCode: "C", period: "2021-Q1", metric: "APPROVALS", value: 10 }, { managerCode: "M", period: "2021-02", metric: "NEW_CUSTOMERS", value: 3 }]],
    ["applications", [app("A1", "CU1", "O", "2021-01-05", "APPROVED", "M"), app("A2", "CU2", "O", "2021-01-06", "PENDING")]],
  ] as const)("%s: the same batch twice writes once, then reports every row unchanged", async (kind, rows) => {
    const input = kind === "applications" ? rows.map((r: any) => (r.decision === "PENDING" ? { ...r, decidedOn: null } : r)) : rows;
    expect(await write(api, kind, [...input])).toEqual({ created: 2, updated: 0, unchanged: 0 });
    const before = await tableCounts();
    expect(await write(api, kind, [...input])).toEqual({ created: 0, updated: 0, unchanged: 2 });
    expect(await tableCounts()).toEqual(before);
  });

  it("counts a changed row as updated and leaves the others unchanged", async () => {
    await write(api, "applications", [app("A1", "CU1", "O", "2021-01-05", "APPROVED"), app("A2", "CU2", "O", "2021-01-06", "APPROVED")]);
    const changed = { ...app("A2", "CU2", "O", "2021-01-06", "APPROVED"), channel: "ONLINE" };
    expect(await write(api, "applications", [app("A1", "CU1", "O", "2021-01-05", "APPROVED"), changed])).toEqual({ created: 0, updated: 1, unchanged: 1 });
    expect(await write(api, "activations", [{ applicationExternalId: "A1", activatedOn: "2021-01-07" }])).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(await write(api, "activations", [{ applicationExternalId: "A1", activatedOn: "2021-01-07" }])).toEqual({ created: 0, updated: 0, unchanged: 1 });
    expect(await write(api, "activations", [{ applicationExternalId: "A1", activatedOn: "2021-01-08" }])).toEqual({ created: 0, updated: 1, unchanged: 0 });
  });

  it("moves a unit to another parent and keeps the subtree rollup right", async () => {
    await write(api, "branches", [{ code: "C2", name: "City 2", level: "CITY", parentCode: "P" }]);
    await write(api, "applications", [app("A1", "CU1", "O", "2021-01-05", "APPROVED")]);
    expect(await write(api, "branches", [{ code: "S", name: "Sub-branch", level: "SUB_BRANCH", parentCode: "C2" }])).toEqual({ created: 0, updated: 1, unchanged: 0 });
    const res = await api.as("HQ").gql(`{ c: branch(code: "C") { performance(period: "2021-Q1", asOf: "2021-03-31") { metric(metric: APPLICATIONS) { actual } } }
      c2: branch(code: "C2") { performance(period: "2021-Q1", asOf: "2021-03-31") { metric(metric: APPLICATIONS) { actual } } } }`);
    expect(res.data.c.performance.metric.actual).toBe(0);
    expect(res.data.c2.performance.metric.actual).toBe(1);
  });
});

describe("bad input: one bad row rejects the call, every bad row is listed, nothing is written", () => {
  it("units: unknown parent, level not below its parent, cycles, duplicates, blank and malformed fields", async () => {
    const before = await tableCounts();
    const res = await api.as("INGEST").gql(M.branches, {
      in: [
        { code: "OK1", name: "Fine", level: "CITY", parentCode: "P" }, // 0: good, must not be written
        { code: "X1", name: "Orphan", level: "CITY", parentCode: "NOPE" }, // 1
        { code: "X2", name: "Too high", level: "CITY", parentCode: "O" }, // 2
        { code: "X3", name: "Province below", level: "PROVINCE", parentCode: "C" }, // 3
        { code: "P", name: "Province", level: "PROVINCE", parentCode: "S" }, // 4: cycle
        { code: "OK1", name: "Again", level: "CITY", parentCode: "P" }, // 5: duplicate
        { code: "", name: "  ", level: "CITY", parentCode: "P" }, // 6: blank code and name
        { code: "bad code!", name: "x", level: "CITY", parentCode: "P" }, // 7
        { code: "X8", name: "Self", level: "CITY", parentCode: "X8" }, // 8
      ],
    });
    expect(issuesOf(res)).toEqual(expect.arrayContaining(["1 parentCode", "2 level", "3 level", "4 parentCode", "5 code", "6 code", "6 name", "7 code", "8 parentCode"]));
    expect(issuesOf(res)).not.toContain("0 code");
    expect(res.errors![0].message).toMatch(/input\[1\]\.parentCode: unknown unit "NOPE"/);
    expect(res.errors![0].message).toMatch(/cycle/);
    expect(await tableCounts()).toEqual(before);
  });

  it("units: only a province may be a root, so a unit sent without its parent never leaves its tree", async () => {
    const res = await api.as("INGEST").gql(M.branches, { in: [{ code: "C", name: "City renamed", level: "CITY" }] });
    expect(issuesOf(res)).toEqual(["0 parentCode"]);
    expect(res.errors![0].message).toContain("is required");
  });

  it("units: a level change that would put a unit at or below its existing child", async () => {
    const res = await api.as("INGEST").gql(M.branches, { in: [{ code: "S", name: "Sub-branch", level: "OUTLET", parentCode: "C" }] });
    expect(issuesOf(res)).toEqual(["0 level"]);
    expect(res.errors![0].message).toContain('child OUTLET "O"');
  });

  it("units: an unknown level is refused by the schema", async () => {
    const res = await api.as("INGEST").gql(M.branches, { in: [{ code: "Z", name: "Z", level: "REGION" }] });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain("level");
  });

  it("managers: unknown unit and duplicate codes", async () => {
    const res = await api.as("INGEST").gql(M.managers, { in: [{ code: "M9", name: "x", branchCode: "NOPE" }, { code: "M", name: "Dup", branchCode: "O" }, { code: "M", name: "Dup", branchCode: "O" }] });
    expect(issuesOf(res)).toEqual(["0 branchCode", "2 code"]);
  });

  it("targets: negative values, both or neither owner, unknown codes, repeated keys", async () => {
    const before = await tableCounts();
    const res = await api.as("INGEST").gql(M.targets, {
      in: [
        { branchCode: "C", period: "2021-Q1", metric: "APPROVALS", value: 5 }, // 0: good
        { branchCode: "C", period: "2021-Q1", metric: "NEW_CUSTOMERS", value: -1 }, // 1
        { branchCode: "C", managerCode: "M", period: "2021-Q1", metric: "APPROVALS", value: 1 }, // 2
        { period: "2021-Q1", metric: "APPROVALS", value: 1 }, // 3
        { branchCode: "NOPE", period: "2021-Q1", metric: "APPROVALS", value: 1 }, // 4
        { managerCode: "NOPE", period: "2021-Q1", metric: "APPROVALS", value: 1 }, // 5
        { branchCode: "C", period: "2021-Q1", metric: "APPROVALS", value: 6 }, // 6: repeats 0
      ],
    });
    expect(issuesOf(res)).toEqual(["1 value", "2 managerCode", "3 branchCode", "4 branchCode", "5 managerCode", "6 period"]);
    expect(await tableCounts()).toEqual(before);
  });

  it.each([
    ["2021-Q5", /quarter/],
    ["2021-13", /month/],
    ["2021-W53", /no ISO week 53/],
    ["Q1-2021", /expected/],
  ])("targets: the malformed period %s is refused, naming the field", async (period, reason) => {
    const res = await api.as("INGEST").gql(M.targets, { in: [{ branchCode: "C", period, metric: "APPROVALS", value: 1 }] });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain("period");
    expect(res.errors![0].message).toMatch(reason);
  });

  it("applications: unknown codes, decisions without dates, dates out of order, duplicates", async () => {
    const before = await tableCounts();
    const base = app("G1", "CU1", "O", "2021-01-05", "APPROVED", "M");
    const res = await api.as("INGEST").gql(M.applications, {
      in: [
        base, // 0: good
        { ...base, externalId: "B1", branchCode: "NOPE" }, // 1
        { ...base, externalId: "B2", managerCode: "NOPE" }, // 2
        { ...base, externalId: "B3", decidedOn: null }, // 3: APPROVED without a date
        { ...base, externalId: "B4", decision: "PENDING" }, // 4: PENDING with a date
        { ...base, externalId: "B5", receivedOn: "2021-01-06" }, // 5: keyed before received
        { ...base, externalId: "B6", decidedOn: "2021-01-04" }, // 6: decided before keyed
        { ...base, externalId: "G1" }, // 7: duplicate
        { ...base, externalId: "B8", customerId: "" }, // 8
        { ...base, externalId: "B9", decision: "REJECTED", decidedOn: null }, // 9
      ],
    });
    expect(issuesOf(res)).toEqual(["1 branchCode", "2 managerCode", "3 decidedOn", "4 decidedOn", "5 keyedOn", "6 decidedOn", "7 externalId", "8 customerId", "9 decidedOn"]);
    expect(await tableCounts()).toEqual(before);
  });

  it.each([
    ["2021-02-30", /calendar date/],
    ["2021-2-3", /YYYY-MM-DD/],
    ["yesterday", /YYYY-MM-DD/],
  ])("applications: the malformed date %s is refused, naming the field", async (date, reason) => {
    const res = await api.as("INGEST").gql(M.applications, { in: [{ ...app("A1", "CU1", "O", "2021-01-05", "APPROVED"), receivedOn: date }] });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain("receivedOn");
    expect(res.errors![0].message).toMatch(reason);
  });

  it("activations: only approved applications, not before the approval, first spend not before activation", async () => {
    await write(api, "applications", [
      app("A1", "CU1", "O", "2021-01-05", "APPROVED"),
      { ...app("A2", "CU2", "O", "2021-01-05", "PENDING"), decidedOn: null },
      app("A3", "CU3", "O", "2021-01-05", "REJECTED"),
    ]);
    const before = await tableCounts();
    const res = await api.as("INGEST").gql(M.activations, {
      in: [
        { applicationExternalId: "A1", activatedOn: "2021-01-06" }, // 0: good
        { applicationExternalId: "A2", activatedOn: "2021-01-06" }, // 1: pending
        { applicationExternalId: "A3", activatedOn: "2021-01-06" }, // 2: rejected
        { applicationExternalId: "NOPE", activatedOn: "2021-01-06" }, // 3
        { applicationExternalId: "A1", activatedOn: "2021-01-06" }, // 4: duplicate
      ],
    });
    expect(issuesOf(res)).toEqual(["1 applicationExternalId", "2 applicationExternalId", "3 applicationExternalId", "4 applicationExternalId"]);
    expect(res.errors![0].message).toContain("PENDING");
    const dates = await api.as("INGEST").gql(M.activations, { in: [{ applicationExternalId: "A1", activatedOn: "2021-01-04", firstSpendOn: "2021-01-03" }] });
    expect(issuesOf(dates)).toEqual(["0 firstSpendOn", "0 activatedOn"]);
    expect(await tableCounts()).toEqual(before);
  });

  it("applications: an activated card's application cannot be un-approved or approved after activation", async () => {
    await write(api, "applications", [app("A1", "CU1", "O", "2021-01-05", "APPROVED")]);
    await write(api, "activations", [{ applicationExternalId: "A1", activatedOn: "2021-01-06" }]);
    const res = await api.as("INGEST").gql(M.applications, { in: [app("A1", "CU1", "O", "2021-01-05", "REJECTED"), { ...app("A1", "CU1", "O", "2021-01-05", "APPROVED"), externalId: "A1x" }] });
    expect(issuesOf(res)).toEqual(["0 decision"]);
    const later = await api.as("INGEST").gql(M.applications, { in: [{ ...app("A1", "CU1", "O", "2021-01-05", "APPROVED"), decidedOn: "2021-01-07" }] });
    expect(issuesOf(later)).toEqual(["0 decidedOn"]);
  });

  it("an empty batch is refused", async () => {
    expect(issuesOf(await api.as("INGEST").gql(M.branches, { in: [] }))).toEqual(["- input"]);
  });
});

describe("oversize batches", () => {
  let small: TestApi;
  beforeAll(async () => {
    small = await startTestApi({ MAX_BATCH_SIZE: "3" });
  });
  afterAll(() => small?.close());

  it("refuses more rows than MAX_BATCH_SIZE, naming the limit", async () => {
    const rows = Array.from({ length: 4 }, (_, i) => ({ code: `C${i}`, name: "c", level: "CITY", parentCode: "P" }));
    const res = await small.as("INGEST").gql(M.branches, { in: rows });
    expect(issuesOf(res)).toEqual(["- input"]);
    expect(res.errors![0].message).toContain("at most 3");
  });
});

describe("query arguments", () => {
  it.each([
    [`{ branchRanking(parentCode: "P", period: "2021-Q9", metric: APPROVALS) { rank } }`, "2021-Q9"],
    [`{ branch(code: "P") { performance(period: "2021-Q1", asOf: "2021-02-29") { asOf } } }`, "2021-02-29"],
  ])("a malformed literal is BAD_USER_INPUT: %s", async (query, value) => {
    const res = await api.as("HQ").gql(query);
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain(value);
  });

  it("a malformed variable is BAD_USER_INPUT naming the variable", async () => {
    const res = await api.as("HQ").gql(`query($p: Period!) { branchRanking(parentCode: "P", period: $p, metric: APPROVALS) { rank } }`, { p: "2021-W99" });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain("$p");
  });

  it("a page larger than 100 is refused", async () => {
    const res = await api.as("HQ").gql(`{ branches(first: 1000) { totalCount } }`);
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain("first");
  });
});
