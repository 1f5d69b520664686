/**
 * Reading the org tree: lookups by code and global id, drill-down, and Relay connections.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seed, sixCities } from "../fixtures/scenarios.js";
import { codeOf, DEEP_DOCUMENTS, startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi(DEEP_DOCUMENTS);
  await seed(api, sixCities);
});
afterAll(() => api?.close());

describe("org tree", () => {
  it("drills down from the province to an outlet and back up", async () => {
    const res = await api.as("HQ").gql(`{ branch(code: "P") { level children { code level children { code children { code parent { parent { code } } } } } } }`);
    expect(res.data.branch.level).toBe("PROVINCE");
    const c1 = res.data.branch.children.find((c: any) => c.code === "C1");
    expect(c1).toEqual({ code: "C1", level: "CITY", children: [{ code: "C1-S1", children: [{ code: "C1-S1-O1", parent: { parent: { code: "C1" } } }] }] });
  });

  it("finds a unit and a manager by global id", async () => {
    const ids = await api.as("HQ").gql(`{ branch(code: "C1") { id } accountManager(code: "M1") { id } }`);
    const res = await api.as("HQ").gql(`query($b: ID!, $m: ID!) { b: node(id: $b) { id ... on Branch { code } } m: node(id: $m) { ... on AccountManager { code branch { code } } } x: node(id: "bm9wZQ") { id } }`, {
      b: ids.data.branch.id,
      m: ids.data.accountManager.id,
    });
    expect(res.data).toEqual({ b: { id: ids.data.branch.id, code: "C1" }, m: { code: "M1", branch: { code: "C1-S1-O1" } }, x: null });
  });

  it("pages through units with cursors", async () => {
    const page = (after: string | null) => api.as("HQ").gql(`query($a: String) { branches(parentCode: "P", first: 4, after: $a) {
      totalCount edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`, { a: after });
    const first = (await page(null)).data.branches;
    expect(first.totalCount).toBe(6);
    expect(first.edges.map((e: any) => e.node.code)).toEqual(["C1", "C2", "C3", "C4"]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = (await page(first.pageInfo.endCursor)).data.branches;
    expect(second.edges.map((e: any) => e.node.code)).toEqual(["C5", "C6"]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it("filters units by level and by search", async () => {
    const res = await api.as("HQ").gql(`{ outlets: branches(level: OUTLET) { edges { node { code } } } found: branches(search: "sub-BR") { edges { node { code } } } }`);
    expect(res.data.outlets.edges.map((e: any) => e.node.code)).toEqual(["C1-S1-O1"]);
    expect(res.data.found.edges.map((e: any) => e.node.code)).toEqual(["C1-S1"]);
  });

  it("lists a unit's own account managers, or its whole subtree's", async () => {
    const res = await api.as("HQ").gql(`{ branch(code: "C1") {
      own: accountManagers { totalCount edges { node { code } } }
      all: accountManagers(includeSubtree: true, first: 2) { totalCount edges { node { code } } pageInfo { hasNextPage } } } }`);
    expect(res.data.branch.own).toEqual({ totalCount: 1, edges: [{ node: { code: "M3" } }] });
    expect(res.data.branch.all).toEqual({ totalCount: 3, edges: [{ node: { code: "M1" } }, { node: { code: "M2" } }], pageInfo: { hasNextPage: true } });
  });

  it("searches % and _ literally, and refuses an overlong search", async () => {
    const res = await api.as("HQ").gql(`{ all: branches(search: "%") { totalCount } under: branches(search: "_") { totalCount } }`);
    expect(res.data).toEqual({ all: { totalCount: 0 }, under: { totalCount: 0 } });
    const long = await api.as("HQ").gql(`query($s: String) { branches(search: $s) { totalCount } }`, { s: "x".repeat(101) });
    expect(codeOf(long)).toBe("BAD_USER_INPUT");
  });

  it("refuses a cursor it did not issue", async () => {
    const res = await api.as("HQ").gql(`{ branches(after: "not-a-cursor") { totalCount } }`);
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain("after");
  });
});
