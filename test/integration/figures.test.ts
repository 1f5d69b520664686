/**
 * The metric contract of shared/domain.md, through the API: windows and as-of, subtree rollup,
 * de-duplicated new customers, completion, time progress, ranks and series.
 */
import { DateTime } from "luxon";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { app, returningCustomers, seed, sixCities, write } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api?.close());

const PERF = `query($code: String!, $period: Period!, $asOf: Date) {
  branch(code: $code) {
    performance(period: $period, asOf: $asOf) {
      period asOf timeProgress
      metrics { metric actual target completionRate }
      rank(metric: APPLICATIONS)
    }
  }
}`;

async function perf(code: string, period: string, asOf?: string) {
  const res = await api.as("HQ").gql(PERF, { code, period, asOf });
  expect(res.errors).toBeUndefined();
  return res.data.branch.performance;
}

function metric(p: { metrics: { metric: string }[] }, name: string) {
  return p.metrics.find((m) => m.metric === name) as unknown as { actual: number; target: number | null; completionRate: number | null };
}

describe("six cities (windows, rollup, completion, ranking)", () => {
  beforeAll(async () => {
    await api.reset();
    await seed(api, sixCities);
  });

  it.each([
    // asOf, C1's APPLICATIONS actual, time progress (2021-Q1 has 90 days)
    ["2020-12-31", 0, 0], // before the period: nothing counts, even the records of that day
    ["2021-01-01", 2, 1 / 90], // the first day counts
    ["2021-02-27", 4, 58 / 90],
    ["2021-02-28", 5, 59 / 90], // the as-of day counts: the story's 59 ÷ 90
    ["2021-03-31", 8, 1], // the whole period
    ["2021-06-30", 8, 1], // after the period: capped at its last day
  ])("as of %s C1 counts %i applications with time progress %d", async (asOf, actual, progress) => {
    const p = await perf("C1", "2021-Q1", asOf);
    expect(p.asOf).toBe(asOf);
    expect(p.timeProgress).toBeCloseTo(progress, 12);
    expect(metric(p, "APPLICATIONS").actual).toBe(actual);
  });

  it("rolls a unit's figure up from every unit below it", async () => {
    const [outlet, sub, city, province] = await Promise.all(["C1-S1-O1", "C1-S1", "C1", "P"].map((c) => perf(c, "2021-Q1", "2021-02-28")));
    expect(metric(outlet, "APPLICATIONS").actual).toBe(3);
    expect(metric(sub, "APPLICATIONS").actual).toBe(5);
    expect(metric(city, "APPLICATIONS").actual).toBe(5);
    expect(metric(province, "APPLICATIONS").actual).toBe(5 + 10 + 4 + 7 + 7 + 3);
  });

  it("gives completion = actual ÷ target, and null without a target or with a zero target", async () => {
    const [c1, c4, c6] = await Promise.all(["C1", "C4", "C6"].map((c) => perf(c, "2021-Q1", "2021-02-28")));
    expect(metric(c1, "APPLICATIONS")).toMatchObject({ actual: 5, target: 10, completionRate: 0.5 });
    expect(metric(c4, "APPLICATIONS")).toMatchObject({ actual: 7, target: null, completionRate: null });
    expect(metric(c6, "APPLICATIONS")).toMatchObject({ actual: 3, target: 0, completionRate: null });
  });

  it("ranks with ties (1, 2, 2, 4) and puts units without a rate last, by actual", async () => {
    const res = await api.as("HQ").gql(`{ branchRanking(parentCode: "P", period: "2021-Q1", metric: APPLICATIONS, asOf: "2021-02-28") {
      rank actual target completionRate branch { code } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.branchRanking.map((s: any) => [s.branch.code, s.rank, s.actual, s.target, s.completionRate])).toEqual([
      ["C3", 1, 4, 4, 1],
      ["C1", 2, 5, 10, 0.5],
      ["C2", 2, 10, 20, 0.5],
      ["C4", 4, 7, null, null],
      ["C5", 4, 7, null, null],
      ["C6", 6, 3, 0, null],
    ]);
  });

  it("gives each unit's rank among its parent's children, and null at the root", async () => {
    const [c2, c6, p] = await Promise.all(["C2", "C6", "P"].map((c) => perf(c, "2021-Q1", "2021-02-28")));
    expect([c2.rank, c6.rank, p.rank]).toEqual([2, 6, null]);
  });

  it("ranks the account managers of a unit's subtree", async () => {
    const res = await api.as("HQ").gql(`{ accountManagerRanking(branchCode: "C1", period: "2021-Q1", metric: APPLICATIONS, asOf: "2021-02-28") {
      rank actual target completionRate manager { code branch { code } } } }`);
    expect(res.errors).toBeUndefined();
    // M1 2/4 = 0.5 and M2 1/2 = 0.5 tie; M3 has no target (2). M4 belongs to C2: not listed.
    expect(res.data.accountManagerRanking.map((s: any) => [s.manager.code, s.rank, s.actual, s.completionRate])).toEqual([
      ["M1", 1, 2, 0.5],
      ["M2", 1, 1, 0.5],
      ["M3", 3, 2, null],
    ]);
  });

  it("gives a manager's own performance and rank", async () => {
    const res = await api.as("HQ").gql(`{ accountManager(code: "M3") { code branch { code }
      performance(period: "2021-Q1", asOf: "2021-02-28") { metric(metric: APPLICATIONS) { actual target } rank(metric: APPLICATIONS) } } }`);
    expect(res.data.accountManager).toEqual({
      code: "M3",
      branch: { code: "C1" },
      performance: { metric: { actual: 2, target: null }, rank: 3 },
    });
  });

  it.each([
    ["DAY", 59, 5],
    ["WEEK", 9, 5],
    ["MONTH", 2, 5],
  ])("gives a %s series whose buckets add up to the actual", async (granularity, buckets, total) => {
    const res = await api.as("HQ").gql(`query($g: Granularity!) { branch(code: "C1") { performance(period: "2021-Q1", asOf: "2021-02-28") {
      series(metric: APPLICATIONS, granularity: $g) { start end actual cumulative } } } }`, { g: granularity });
    const series = res.data.branch.performance.series;
    expect(series).toHaveLength(buckets);
    expect(series[0].start).toBe("2021-01-01");
    expect(series.at(-1).end).toBe("2021-02-28");
    expect(series.reduce((n: number, p: any) => n + p.actual, 0)).toBe(total);
    expect(series.at(-1).cumulative).toBe(total);
  });

  it("uses the month and ISO-week periods too", async () => {
    expect(metric(await perf("C1", "2021-02", "2021-02-28"), "APPLICATIONS").actual).toBe(3);
    // 2021-W01 runs 2021-01-04..01-10; 2020-W53 runs 2020-12-28..2021-01-03 across the new year.
    expect(metric(await perf("C1", "2020-W53", "2021-01-03"), "APPLICATIONS")).toMatchObject({ actual: 5 });
    const w = await perf("C1", "2020-W53", "2021-01-01");
    expect(w.timeProgress).toBeCloseTo(5 / 7, 12);
  });

  it("defaults asOf to today in the bank's time zone", async () => {
    const today = DateTime.now().setZone("Asia/Shanghai").toISODate();
    const res = await api.as("HQ").gql(`{ branch(code: "C1") { performance(period: "2021-Q1") { asOf timeProgress } } }`);
    // A test run across Shanghai midnight could see either day.
    const tomorrow = DateTime.now().setZone("Asia/Shanghai").plus({ days: 1 }).toISODate();
    expect([today, tomorrow]).toContain(res.data.branch.performance.asOf);
    expect(res.data.branch.performance.timeProgress).toBe(1);
  });

  it("answers NOT_FOUND for a ranking under an unknown unit, and null for an unknown branch", async () => {
    const res = await api.as("HQ").gql(`{ branchRanking(parentCode: "NOPE", period: "2021-Q1", metric: APPLICATIONS) { rank } }`);
    expect(codeOf(res)).toBe("NOT_FOUND");
    expect(res.errors![0].message).toContain("parentCode");
    expect((await api.as("HQ").gql(`{ branch(code: "NOPE") { code } }`)).data.branch).toBeNull();
  });
});

describe("returning customers (new-customer de-duplication over the whole history)", () => {
  beforeEach(async () => {
    await api.reset();
    await seed(api, returningCustomers);
  });

  const figures = async (code: string, period = "2021-Q1", asOf = "2021-02-28") => {
    const p = await perf(code, period, asOf);
    return Object.fromEntries(p.metrics.map((m: any) => [m.metric, m.actual]));
  };

  it("counts a customer once, at the unit of their first-ever approval", async () => {
    expect(await figures("A")).toEqual({ APPLICATIONS: 3, APPROVALS: 1, NEW_CUSTOMERS: 1, ACTIVATIONS: 1 });
    expect(await figures("B")).toEqual({ APPLICATIONS: 3, APPROVALS: 3, NEW_CUSTOMERS: 1, ACTIVATIONS: 0 });
    expect(await figures("A", "2020-Q4", "2020-12-31")).toMatchObject({ NEW_CUSTOMERS: 1, APPROVALS: 1 });
    expect(await figures("A", "2021-Q1", "2021-03-31")).toMatchObject({ NEW_CUSTOMERS: 2, ACTIVATIONS: 2 });
  });

  it("credits the new customer to the manager of that first application", async () => {
    const res = await api.as("HQ").gql(`{ accountManagerRanking(branchCode: "P", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") {
      rank actual manager { code } } }`);
    expect(res.data.accountManagerRanking.map((s: any) => [s.manager.code, s.actual])).toEqual([
      ["MA", 1],
      ["MB", 1],
    ]);
  });

  it("moves a customer's first approval when an earlier, back-dated approval arrives late", async () => {
    await write(api, "applications", [app("X9", "CU3", "A", "2020-12-01", "APPROVED", "MA")]);
    expect(await figures("B")).toMatchObject({ NEW_CUSTOMERS: 0, APPROVALS: 3 });
    expect(await figures("A", "2020-Q4", "2020-12-31")).toMatchObject({ NEW_CUSTOMERS: 2 });
  });

  it("moves it back when that approval is corrected to a rejection", async () => {
    await write(api, "applications", [app("X9", "CU3", "A", "2020-12-01", "APPROVED", "MA")]);
    await write(api, "applications", [app("X9", "CU3", "A", "2020-12-01", "REJECTED", "MA")]);
    expect(await figures("B")).toMatchObject({ NEW_CUSTOMERS: 1 });
  });

  it("follows an application moved to another customer", async () => {
    // X3 was CU2's first approval; re-assigned to CU9, CU2's first becomes X4 at B.
    await write(api, "applications", [app("X3", "CU9", "A", "2021-01-20", "APPROVED", "MA")]);
    expect(await figures("A")).toMatchObject({ NEW_CUSTOMERS: 1 });
    expect(await figures("B")).toMatchObject({ NEW_CUSTOMERS: 2 });
  });

  it("ranks with completion: A 1/4, B 1/2", async () => {
    const res = await api.as("HQ").gql(`{ branchRanking(parentCode: "P", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") {
      rank completionRate branch { code } } }`);
    expect(res.data.branchRanking).toEqual([
      { rank: 1, completionRate: 0.5, branch: { code: "B" } },
      { rank: 2, completionRate: 0.25, branch: { code: "A" } },
    ]);
  });
});

describe("manager attribution", () => {
  it("refuses to credit an application to a manager outside the unit's line", async () => {
    await api.reset();
    await seed(api, returningCustomers);
    // MB belongs to city B; an application taken at city A cannot be credited to MB.
    const res = await api.as("INGEST").gql(`mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }`, {
      in: [app("Z1", "CU8", "A", "2021-01-20", "APPROVED", "MB")],
    });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].extensions!.issues).toEqual([{ index: 0, field: "managerCode", reason: '"MB" does not belong to "A" or a unit above it' }]);
  });
});
