/**
 * No N+1: the number of SQL statements a request costs must not grow with the rows it returns.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apps, write } from "../fixtures/scenarios.js";
import { startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;

/** A province with `n` cities, a target and a few records for some of them. */
async function province(code: string, n: number) {
  const cities = Array.from({ length: n }, (_, i) => ({ code: `${code}-C${i}`, name: `City ${i}`, level: "CITY", parentCode: code }));
  await write(api, "branches", [{ code, name: `Province ${code}`, level: "PROVINCE" }, ...cities]);
  await write(
    api,
    "targets",
    cities.filter((_, i) => i % 2 === 0).map((c) => ({ branchCode: c.code, period: "2021-Q1", metric: "NEW_CUSTOMERS", value: 5 })),
  );
  await write(api, "applications", cities.slice(0, 10).flatMap((c) => apps(c.code, c.code, 3, "2021-02-01")));
}

beforeAll(async () => {
  api = await startTestApi();
  await province("P10", 10);
  await province("P1000", 1000);
});
afterAll(() => api?.close());

async function statementsFor(query: string, variables: Record<string, unknown>, expectedRows: number) {
  let rows = 0;
  const statements = await api.countStatements(async () => {
    const res = await api.as("HQ").gql(query, variables);
    expect(res.errors).toBeUndefined();
    rows = (Object.values(res.data)[0] as any).length ?? (Object.values(res.data)[0] as any).children.length;
  });
  expect(rows).toBe(expectedRows);
  return statements;
}

describe("statement counts", () => {
  it("a ranking with nested branch { parent { name } } costs the same for 10 units as for 1,000", async () => {
    const query = `query($p: String!) { branchRanking(parentCode: $p, period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") {
      rank actual target completionRate branch { code name parent { name code } } } }`;
    const ten = await statementsFor(query, { p: "P10" }, 10);
    const thousand = await statementsFor(query, { p: "P1000" }, 1000);
    expect(ten).toBeGreaterThan(0);
    expect(thousand).toBe(ten);
    console.log(`ranking: ${ten} statements for 10 units, ${thousand} for 1,000`);
  });

  it("children with their performance, every metric, their rank and a weekly series cost the same for 10 units as for 1,000", async () => {
    const query = `query($p: String!) { branch(code: $p) { children { code parent { code }
      performance(period: "2021-Q1", asOf: "2021-02-28") { timeProgress metrics { metric actual target completionRate } rank(metric: NEW_CUSTOMERS)
        series(metric: NEW_CUSTOMERS, granularity: WEEK) { start actual cumulative } } } } }`;
    const count = async (p: string, n: number) => {
      let rows = 0;
      const statements = await api.countStatements(async () => {
        const res = await api.as("HQ").gql(query, { p });
        expect(res.errors).toBeUndefined();
        rows = res.data.branch.children.length;
      });
      expect(rows).toBe(n);
      return statements;
    };
    const ten = await count("P10", 10);
    expect(ten).toBeGreaterThan(0);
    expect(await count("P1000", 1000)).toBe(ten);
  });

  it("the ranking figures are right at 1,000 units", async () => {
    const res = await api.as("HQ").gql(`{ branchRanking(parentCode: "P1000", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") { rank actual target branch { code } } }`);
    const top = res.data.branchRanking.slice(0, 6);
    // Cities 0, 2, 4, 6, 8 have 3 of 5 (0.6) and tie for first; city 10 has a target and nothing.
    expect(top.map((s: any) => [s.branch.code, s.rank])).toEqual([
      ["P1000-C0", 1],
      ["P1000-C2", 1],
      ["P1000-C4", 1],
      ["P1000-C6", 1],
      ["P1000-C8", 1],
      ["P1000-C10", 6],
    ]);
  });
});
