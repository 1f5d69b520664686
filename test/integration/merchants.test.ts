/**
 * Merchants, business circles and the visit log, through the GraphQL API on PostgreSQL:
 * idempotent atomic writes, every kind of bad input, lookups, filters, paging and batching.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BadInputError } from "../../src/errors.js";
import { upsertMerchants } from "../../src/modules/merchants/merchants.service.js";
import { circles, merchant, merchants, org, seedMerchants, visits } from "../fixtures/merchants.js";
import { MUTATIONS as M, seed, write, WRITES } from "../fixtures/scenarios.js";
import { codeOf, DEEP_DOCUMENTS, issuesOf, startTestApi, type GqlResponse, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi(DEEP_DOCUMENTS);
});
afterAll(() => api?.close());

async function tableCounts() {
  const rows = await api.database.prisma.$queryRaw<{ t: string; n: number }[]>`
    SELECT 'merchant' AS t, count(*)::int AS n FROM merchant UNION ALL
    SELECT 'circle', count(*)::int FROM business_circle UNION ALL
    SELECT 'member', count(*)::int FROM circle_member UNION ALL
    SELECT 'visit', count(*)::int FROM visit`;
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}

const codes = (conn: { edges: { node: { code: string } }[] }) => conn.edges.map((e) => e.node.code);

describe("writes", () => {
  beforeEach(async () => {
    await api.reset();
    await seed(api, org);
  });

  it("merchants: create, replay unchanged, update only what changed", async () => {
    expect(await write(api, "merchants", merchants)).toEqual({ created: 4, updated: 0, unchanged: 0 });
    const before = await tableCounts();
    expect(await write(api, "merchants", merchants)).toEqual({ created: 0, updated: 0, unchanged: 4 });
    expect(await tableCounts()).toEqual(before);
    const moved = [{ ...merchants[0], latitude: 31.2305 }, { ...merchants[1], branchCode: "C2" }, merchants[2], merchant("ME", "C2")];
    expect(await write(api, "merchants", moved)).toEqual({ created: 1, updated: 2, unchanged: 1 });
    const res = await api.as("HQ").gql(`{ a: merchant(code: "MA") { latitude longitude } b: merchant(code: "MB") { branch { code } } }`);
    expect(res.data).toEqual({ a: { latitude: 31.2305, longitude: 121.4737 }, b: { branch: { code: "C2" } } });
  });

  it("circles: membership is replaced by the list; the same set in another order is unchanged", async () => {
    await write(api, "merchants", merchants);
    expect(await write(api, "circles", circles)).toEqual({ created: 3, updated: 0, unchanged: 0 });
    const reordered = circles.map((c) => ({ ...c, merchantCodes: [...c.merchantCodes].reverse() }));
    expect(await write(api, "circles", reordered)).toEqual({ created: 0, updated: 0, unchanged: 3 });

    const changed = [
      { ...circles[0], merchantCodes: ["MA", "MD"] }, // members change: MB, MC out, MD in
      { ...circles[1], name: "Renamed" }, // own field changes
      { ...circles[2], merchantCodes: ["MC"] }, // an empty circle gains a member
    ];
    expect(await write(api, "circles", changed)).toEqual({ created: 0, updated: 3, unchanged: 0 });
    expect(await write(api, "circles", changed)).toEqual({ created: 0, updated: 0, unchanged: 3 });
    const res = await api.as("HQ").gql(`{ businessCircle(code: "MALL") { merchantCount merchants { edges { node { code } } } }
      d: merchant(code: "MD") { circles { code } } }`);
    expect(res.data.businessCircle.merchantCount).toBe(2);
    expect(codes(res.data.businessCircle.merchants)).toEqual(["MA", "MD"]);
    expect(res.data.d.circles.map((c: any) => c.code)).toEqual(["MALL", "SUPER"]);

    expect(await write(api, "circles", [{ ...circles[0], merchantCodes: [] }])).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect((await api.as("HQ").gql(`{ businessCircle(code: "MALL") { merchantCount } }`)).data.businessCircle.merchantCount).toBe(0);
  });

  it("visits: keyed by manager, merchant and day; a changed outcome or note is an update", async () => {
    await write(api, "merchants", merchants);
    expect(await write(api, "visits", visits)).toEqual({ created: 6, updated: 0, unchanged: 0 });
    expect(await write(api, "visits", visits)).toEqual({ created: 0, updated: 0, unchanged: 6 });
    const changed = [{ ...visits[0], note: "Signed, poster up" }, { ...visits[1], outcome: "SIGNED_UP" }, visits[2], { ...visits[2], visitedOn: "2021-01-13" }];
    expect(await write(api, "visits", changed)).toEqual({ created: 1, updated: 2, unchanged: 1 });
    // An omitted note is stored empty, so omitting it again is no change.
    expect(await write(api, "visits", [visits[1]].map(({ note: _, ...v }: any) => ({ ...v, outcome: "SIGNED_UP" })))).toEqual({
      created: 0,
      updated: 0,
      unchanged: 1,
    });
  });
});

describe("bad input: one bad row rejects the call, every bad row is listed, nothing is written", () => {
  beforeEach(async () => {
    await api.reset();
    await seedMerchants(api);
  });

  it("merchants: coordinates out of range, unknown unit, blank and oversize fields, bad and repeated codes", async () => {
    const before = await tableCounts();
    const res = await api.as("MARKETING").gql(M.merchants, {
      in: [
        merchant("OK1", "O1"), // 0: good, must not be written
        merchant("X1", "O1", { latitude: 90.0001 }), // 1
        merchant("X2", "O1", { longitude: -180.5 }), // 2
        merchant("X3", "O1", { latitude: -91, longitude: 181 }), // 3: both
        merchant("X4", "NOPE"), // 4
        merchant("X5", "O1", { name: " ", address: "\t" }), // 5 (a category off the list fails the whole request: offers.test.ts)
        merchant("X6", "O1", { name: "n".repeat(201), address: "a".repeat(501) }), // 6
        merchant("bad code!", "O1"), // 7
        merchant("OK1", "O1"), // 8: repeats 0
      ],
    });
    expect(issuesOf(res)).toEqual([
      "1 latitude",
      "2 longitude",
      "3 latitude",
      "3 longitude",
      "4 branchCode",
      "5 name",
      "5 address",
      "6 name",
      "6 address",
      "7 code",
      "8 code",
    ]);
    expect(res.errors![0].message).toContain("input[1].latitude: 90.0001 is outside -90..90");
    expect(res.errors![0].message).toContain('input[4].branchCode: unknown unit "NOPE"');
    expect(await tableCounts()).toEqual(before);
  });

  it("merchants: the edges of the ranges are accepted", async () => {
    const edges = [merchant("N", "O1", { latitude: 90, longitude: 180 }), merchant("S", "O1", { latitude: -90, longitude: -180 })];
    expect(await write(api, "merchants", edges)).toEqual({ created: 2, updated: 0, unchanged: 0 });
  });

  it("merchants: a non-finite coordinate is refused, through GraphQL and through the service", async () => {
    const literal = await api.as("MARKETING").gql(`mutation { r: upsertMerchants(input: [{ code: "INF", name: "n", category: RESTAURANT, address: "a",
      latitude: 1e400, longitude: 0, branchCode: "O1" }]) { created } }`);
    expect(issuesOf(literal)).toEqual(["0 latitude"]);
    expect(literal.errors![0].message).toContain("finite");
    // The import calls the service directly, where nothing stops NaN.
    const err = await upsertMerchants(api.database.prisma, [merchant("NAN", "O1", { longitude: Number.NaN }) as any], 10).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err.issues).toEqual([{ index: 0, field: "longitude", reason: "must be a finite number" }]);
  });

  it("merchants: a missing or mistyped field is refused by the schema", async () => {
    const res = await api.as("MARKETING").gql(M.merchants, { in: [{ ...merchant("X", "O1"), latitude: "north" }] });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toContain("latitude");
  });

  it("circles: unknown unit and merchants, repeated members, blank name, bad kind, repeated codes", async () => {
    const before = await tableCounts();
    const res = await api.as("MARKETING").gql(M.circles, {
      in: [
        { ...circles[0], merchantCodes: ["MA"] }, // 0: good, must not be written
        { ...circles[1], branchCode: "NOPE" }, // 1
        { ...circles[1], code: "X2", merchantCodes: ["MD", "GHOST", "SPOOK"] }, // 2
        { ...circles[1], code: "X3", merchantCodes: ["MD", "MD"] }, // 3
        { ...circles[1], code: "X4", name: "   " }, // 4
        { ...circles[1], code: "" }, // 5
        { ...circles[0], merchantCodes: ["MB"] }, // 6: repeats 0
      ],
    });
    expect(issuesOf(res)).toEqual(["1 branchCode", "2 merchantCodes", "3 merchantCodes", "4 name", "5 code", "6 code"]);
    expect(res.errors![0].message).toContain('input[2].merchantCodes: unknown merchants "GHOST", "SPOOK"');
    expect(await tableCounts()).toEqual(before);
    const members = await api.as("HQ").gql(`{ businessCircle(code: "MALL") { merchantCount } }`);
    expect(members.data.businessCircle.merchantCount).toBe(3);

    const kind = await api.as("MARKETING").gql(M.circles, { in: [{ ...circles[0], kind: "MARKET" }] });
    expect(codeOf(kind)).toBe("BAD_USER_INPUT");
    expect(kind.errors![0].message).toContain("kind");
  });

  it("visits: unknown manager and merchant, oversize note, repeated key, bad outcome and date", async () => {
    const before = await tableCounts();
    const base = { managerCode: "M1", merchantCode: "MB", visitedOn: "2021-03-01", outcome: "FOLLOW_UP" };
    const res = await api.as("INGEST").gql(M.visits, {
      in: [
        base, // 0: good, must not be written
        { ...base, managerCode: "NOPE" }, // 1
        { ...base, merchantCode: "NOPE", visitedOn: "2021-03-02" }, // 2
        { ...base, visitedOn: "2021-03-03", note: "x".repeat(2001) }, // 3
        { ...base, outcome: "DECLINED" }, // 4: repeats 0's key
      ],
    });
    expect(issuesOf(res)).toEqual(["1 managerCode", "2 merchantCode", "3 note", "4 visitedOn"]);
    expect(await tableCounts()).toEqual(before);
    expect(await write(api, "visits", [{ ...base, note: "x".repeat(2000) }])).toEqual({ created: 1, updated: 0, unchanged: 0 });

    const outcome = await api.as("INGEST").gql(M.visits, { in: [{ ...base, outcome: "MAYBE" }] });
    expect(codeOf(outcome)).toBe("BAD_USER_INPUT");
    expect(outcome.errors![0].message).toContain("outcome");
    const date = await api.as("INGEST").gql(M.visits, { in: [{ ...base, visitedOn: "2021-02-30" }] });
    expect(codeOf(date)).toBe("BAD_USER_INPUT");
    expect(date.errors![0].message).toContain("visitedOn");
  });

  it.each(["merchants", "circles", "visits"] as const)("%s: an empty batch is refused", async (kind) => {
    expect(issuesOf(await api.as(WRITES[kind].by).gql(M[kind], { in: [] }))).toEqual(["- input"]);
  });
});

describe("oversize batches", () => {
  let small: TestApi;
  beforeAll(async () => {
    await api.reset();
    small = await startTestApi({ MAX_BATCH_SIZE: "3" });
    await seedMerchants(api);
  });
  afterAll(() => small?.close());

  it.each([
    ["merchants", Array.from({ length: 4 }, (_, i) => merchant(`Z${i}`, "O1"))],
    ["circles", Array.from({ length: 4 }, (_, i) => ({ ...circles[2], code: `Z${i}` }))],
    ["visits", Array.from({ length: 4 }, (_, i) => ({ ...visits[0], visitedOn: `2021-03-0${i + 1}` }))],
  ] as const)("%s: more rows than MAX_BATCH_SIZE are refused, naming the limit, and nothing is written", async (kind, rows) => {
    const before = await tableCounts();
    const res = await small.as(WRITES[kind].by).gql(M[kind], { in: rows });
    expect(issuesOf(res)).toEqual(["- input"]);
    expect(res.errors![0].message).toContain("at most 3");
    expect(await tableCounts()).toEqual(before);
    expect(await write(small, kind, rows.slice(0, 3) as unknown[])).toMatchObject({ created: 3 });
  });
});

describe("queries", () => {
  beforeAll(async () => {
    await api.reset();
    await seedMerchants(api);
  });

  it("looks a merchant up by code with its unit, circles and visits", async () => {
    const res = await api.as("HQ").gql(`{ merchant(code: "MA") { id code name category address latitude longitude branch { code }
      circles { code kind } visits { totalCount edges { node { visitedOn outcome note manager { code } merchant { code } } } } }
      none: merchant(code: "NOPE") { code } }`);
    expect(res.errors).toBeUndefined();
    const m = res.data.merchant;
    expect(m).toMatchObject({ code: "MA", name: "Golden Noodles", category: "RESTAURANT", address: "MA Road 1", latitude: 31.2304, longitude: 121.4737 });
    expect(m.id).toEqual(expect.any(String));
    expect(m.branch).toEqual({ code: "O1" });
    expect(m.circles).toEqual([{ code: "MALL", kind: "COMPLEX" }]);
    expect(m.visits.totalCount).toBe(3);
    expect(m.visits.edges.map((e: any) => e.node)).toEqual([
      { visitedOn: "2021-02-01", outcome: "SIGNED_UP", note: "", manager: { code: "M3" }, merchant: { code: "MA" } },
      { visitedOn: "2021-01-12", outcome: "FOLLOW_UP", note: "", manager: { code: "M1" }, merchant: { code: "MA" } },
      { visitedOn: "2021-01-05", outcome: "SIGNED_UP", note: "Agreed to on-site marketing", manager: { code: "M1" }, merchant: { code: "MA" } },
    ]);
    expect(res.data.none).toBeNull();
  });

  it("lists merchants of a unit's whole subtree, of a circle, or matching a search", async () => {
    const res = await api.as("HQ").gql(`{ c1: merchants(branchCode: "C1") { totalCount edges { node { code } } }
      s1: merchants(branchCode: "S1") { edges { node { code } } } o1: merchants(branchCode: "O1") { edges { node { code } } }
      c2: merchants(branchCode: "C2") { edges { node { code } } } nope: merchants(branchCode: "NOPE") { totalCount }
      mall: merchants(circleCode: "MALL", branchCode: "O1") { edges { node { code } } }
      found: merchants(search: "MALL cin") { edges { node { code } } } all: merchants { totalCount } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.c1.totalCount).toBe(3);
    expect(codes(res.data.c1)).toEqual(["MA", "MB", "MC"]);
    expect(codes(res.data.s1)).toEqual(["MA", "MB", "MC"]);
    expect(codes(res.data.o1)).toEqual(["MA", "MB"]);
    expect(codes(res.data.c2)).toEqual(["MD"]);
    expect(res.data.nope.totalCount).toBe(0);
    expect(codes(res.data.mall)).toEqual(["MA", "MB"]);
    expect(codes(res.data.found)).toEqual(["MC"]);
    expect(res.data.all.totalCount).toBe(4);
  });

  it("pages through merchants with cursors", async () => {
    const page = (after: string | null) =>
      api.as("HQ").gql(`query($a: String) { merchants(first: 3, after: $a) { totalCount edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`, {
        a: after,
      });
    const first = (await page(null)).data.merchants;
    expect(codes(first)).toEqual(["MA", "MB", "MC"]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = (await page(first.pageInfo.endCursor)).data.merchants;
    expect(codes(second)).toEqual(["MD"]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(second.totalCount).toBe(4);
  });

  it("looks a circle up with its unit, a page of its members and their count", async () => {
    const res = await api.as("HQ").gql(`{ businessCircle(code: "MALL") { id code name kind branch { code } merchantCount
      p1: merchants(first: 2) { totalCount edges { node { code } } pageInfo { hasNextPage endCursor } } }
      empty: businessCircle(code: "EMPTY") { merchantCount merchants { totalCount edges { node { code } } pageInfo { hasNextPage } } }
      none: businessCircle(code: "NOPE") { code } }`);
    expect(res.errors).toBeUndefined();
    const c = res.data.businessCircle;
    expect(c).toMatchObject({ code: "MALL", name: "City Mall", kind: "COMPLEX", branch: { code: "C1" }, merchantCount: 3 });
    expect(c.p1.totalCount).toBe(3);
    expect(codes(c.p1)).toEqual(["MA", "MB"]);
    expect(c.p1.pageInfo.hasNextPage).toBe(true);
    const next = await api.as("HQ").gql(`query($a: String) { businessCircle(code: "MALL") { merchants(first: 2, after: $a) { edges { node { code } } pageInfo { hasNextPage hasPreviousPage } } } }`, {
      a: c.p1.pageInfo.endCursor,
    });
    expect(codes(next.data.businessCircle.merchants)).toEqual(["MC"]);
    expect(next.data.businessCircle.merchants.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
    expect(res.data.empty).toEqual({ merchantCount: 0, merchants: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false } } });
    expect(res.data.none).toBeNull();
  });

  it("lists circles of a unit's subtree and of one kind, with paging", async () => {
    const res = await api.as("HQ").gql(`{ all: businessCircles { totalCount edges { node { code } } }
      c1: businessCircles(branchCode: "C1") { edges { node { code } } } s1: businessCircles(branchCode: "S1") { edges { node { code } } }
      kind: businessCircles(kind: SUPERMARKET) { edges { node { code } } }
      none: businessCircles(branchCode: "C2", kind: COMPLEX) { totalCount }
      p1: businessCircles(first: 2) { edges { node { code } } pageInfo { endCursor hasNextPage } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.all.totalCount).toBe(3);
    expect(codes(res.data.all)).toEqual(["EMPTY", "MALL", "SUPER"]);
    expect(codes(res.data.c1)).toEqual(["EMPTY", "MALL"]);
    expect(codes(res.data.s1)).toEqual(["EMPTY"]);
    expect(codes(res.data.kind)).toEqual(["SUPER"]);
    expect(res.data.none.totalCount).toBe(0);
    expect(codes(res.data.p1)).toEqual(["EMPTY", "MALL"]);
    const p2 = await api.as("HQ").gql(`query($a: String) { businessCircles(first: 2, after: $a) { edges { node { code } } pageInfo { hasNextPage } } }`, {
      a: res.data.p1.pageInfo.endCursor,
    });
    expect(codes(p2.data.businessCircles)).toEqual(["SUPER"]);
  });

  const visitKeys = (conn: any) => conn.edges.map((e: any) => `${e.node.visitedOn} ${e.node.manager.code} ${e.node.merchant.code}`);

  it("lists visits newest first, filtered by the managers' unit subtree, merchant, manager and dates", async () => {
    const res = await api.as("HQ").gql(`fragment V on VisitConnection { totalCount edges { node { visitedOn outcome manager { code } merchant { code } } } }
      { all: visits { ...V } c1: visits(branchCode: "C1") { ...V } o1: visits(branchCode: "O1") { ...V }
        ma: visits(merchantCode: "MA") { ...V } m3: visits(managerCode: "M3") { ...V }
        jan: visits(from: "2021-01-01", to: "2021-01-31") { ...V } from: visits(from: "2021-02-03") { ...V }
        day: visits(from: "2021-01-12", to: "2021-01-12", merchantCode: "MB", managerCode: "M1", branchCode: "S1") { ...V }
        other: visits(managerCode: "M2", branchCode: "C1") { ...V } }`);
    expect(res.errors).toBeUndefined();
    const d = res.data;
    expect(d.all.totalCount).toBe(6);
    expect(visitKeys(d.all)).toEqual([
      "2021-02-10 M2 MD",
      "2021-02-03 M3 MC",
      "2021-02-01 M3 MA",
      expect.stringMatching(/^2021-01-12 M1 M[AB]$/),
      expect.stringMatching(/^2021-01-12 M1 M[AB]$/),
      "2021-01-05 M1 MA",
    ]);
    expect(visitKeys(d.c1)).toEqual(visitKeys(d.all).slice(1));
    expect(d.o1.totalCount).toBe(3);
    expect(visitKeys(d.ma)).toEqual(["2021-02-01 M3 MA", "2021-01-12 M1 MA", "2021-01-05 M1 MA"]);
    expect(visitKeys(d.m3)).toEqual(["2021-02-03 M3 MC", "2021-02-01 M3 MA"]);
    expect(d.jan.totalCount).toBe(3);
    expect(visitKeys(d.from)).toEqual(["2021-02-10 M2 MD", "2021-02-03 M3 MC"]);
    expect(visitKeys(d.day)).toEqual(["2021-01-12 M1 MB"]);
    expect(d.other.totalCount).toBe(0);
  });

  it("pages through visits, including a day with two visits split across pages", async () => {
    const all: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res: GqlResponse = await api.as("HQ").gql(
        `query($a: String) { visits(first: 2, after: $a) { totalCount edges { node { visitedOn manager { code } merchant { code } } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
        { a: after },
      );
      const v = res.data.visits;
      expect(v.totalCount).toBe(6);
      expect(v.pageInfo.hasPreviousPage).toBe(i > 0);
      all.push(...visitKeys(v));
      after = v.pageInfo.endCursor;
      if (!v.pageInfo.hasNextPage) break;
    }
    const everything = await api.as("HQ").gql(`{ visits { edges { node { visitedOn manager { code } merchant { code } } } } }`);
    expect(all).toEqual(visitKeys(everything.data.visits));
    expect(new Set(all).size).toBe(6);

    const nested = await api.as("HQ").gql(`{ merchant(code: "MA") { visits(first: 1) { edges { node { visitedOn } } pageInfo { endCursor } } } }`);
    const rest = await api.as("HQ").gql(`query($a: String) { merchant(code: "MA") { visits(first: 5, after: $a) { edges { node { visitedOn } } pageInfo { hasNextPage hasPreviousPage } } } }`, {
      a: nested.data.merchant.visits.pageInfo.endCursor,
    });
    expect(rest.data.merchant.visits.edges.map((e: any) => e.node.visitedOn)).toEqual(["2021-01-12", "2021-01-05"]);
    expect(rest.data.merchant.visits.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
  });

  it("refuses a date range that ends before it starts, foreign cursors and oversize pages", async () => {
    const range = await api.as("HQ").gql(`{ visits(from: "2021-02-01", to: "2021-01-31") { totalCount } }`);
    expect(codeOf(range)).toBe("BAD_USER_INPUT");
    expect(range.errors![0].message).toContain("to: 2021-01-31 is before from 2021-02-01");
    // A merchant cursor is a code, not a visit position.
    const merchantCursor = (await api.as("HQ").gql(`{ merchants(first: 1) { pageInfo { endCursor } } }`)).data.merchants.pageInfo.endCursor;
    const foreign = await api.as("HQ").gql(`query($a: String) { visits(after: $a) { totalCount } }`, { a: merchantCursor });
    expect(codeOf(foreign)).toBe("BAD_USER_INPUT");
    expect(foreign.errors![0].message).toContain("after");
    const nested = await api.as("HQ").gql(`{ merchant(code: "MA") { code visits(after: "nonsense") { totalCount } } }`);
    expect(codeOf(nested)).toBe("BAD_USER_INPUT");
    expect(nested.data.merchant).toBeNull();
    const big = await api.as("HQ").gql(`{ merchants(first: 101) { totalCount } }`);
    expect(codeOf(big)).toBe("BAD_USER_INPUT");
  });
});

describe("statement counts", () => {
  beforeAll(async () => {
    await api.reset();
    await seed(api, {
      branches: [
        { code: "P", name: "Province", level: "PROVINCE" },
        { code: "SMALL", name: "Small city", level: "CITY", parentCode: "P" },
        { code: "SMALL-O", name: "Small outlet", level: "OUTLET", parentCode: "SMALL" },
        { code: "BIG", name: "Big city", level: "CITY", parentCode: "P" },
        { code: "BIG-O", name: "Big outlet", level: "OUTLET", parentCode: "BIG" },
      ],
      managers: [
        { code: "MS", name: "Small", branchCode: "SMALL-O" },
        { code: "MB", name: "Big", branchCode: "BIG-O" },
      ],
    });
    // Both cities have the same shape (merchants alternate between the city and its outlet),
    // so only the number of rows differs between the two measurements.
    const town = (prefix: string, city: string, n: number) =>
      Array.from({ length: n }, (_, i) => merchant(`${prefix}${String(i).padStart(3, "0")}`, i % 2 === 0 ? city : `${city}-O`));
    const small = town("S", "SMALL", 5);
    const big = town("B", "BIG", 200);
    await write(api, "merchants", [...small, ...big]);
    // Every merchant in two circles; every one visited on three days.
    const circlesOf = (prefix: string, branch: string, list: { code: string }[], size: number) =>
      Array.from({ length: Math.ceil(list.length / size) }, (_, i) => ({
        code: `${prefix}${i}`,
        name: `Circle ${i}`,
        kind: "STREET",
        branchCode: branch,
        merchantCodes: list.slice(i * size, (i + 1) * size).map((m) => m.code),
      }));
    await write(api, "circles", [
      ...circlesOf("SA", "SMALL", small, 2),
      ...circlesOf("SB", "SMALL", small, 3),
      ...circlesOf("BA", "BIG", big, 10),
      ...circlesOf("BB", "BIG", big, 7),
    ]);
    const visitsOf = (manager: string, list: { code: string }[]) =>
      list.flatMap((m) => ["2021-01-04", "2021-01-11", "2021-01-18"].map((d) => ({ managerCode: manager, merchantCode: m.code, visitedOn: d, outcome: "FOLLOW_UP" })));
    await write(api, "visits", visitsOf("MS", small));
    await write(api, "visits", visitsOf("MB", big));
  });

  async function statementsFor(query: string, variables: Record<string, unknown>, rowsOf: (data: any) => number, expectedRows: number) {
    let rows = 0;
    const statements = await api.countStatements(async () => {
      const res = await api.as("HQ").gql(query, variables);
      expect(res.errors).toBeUndefined();
      rows = rowsOf(res.data);
    });
    expect(rows).toBe(expectedRows);
    return statements;
  }

  it("merchants with nested unit, circles and visits cost the same for 5 merchants as for a full page of 100 (of 200)", async () => {
    const query = `query($b: String!) { merchants(branchCode: $b, first: 100) { totalCount edges { node { code branch { code parent { code } }
      circles { code merchantCount branch { code } } visits(first: 2) { totalCount edges { node { visitedOn manager { code branch { code } } merchant { code } } } } } } } }`;
    const five = await statementsFor(query, { b: "SMALL" }, (d) => d.merchants.edges.length, 5);
    const hundred = await statementsFor(query, { b: "BIG" }, (d) => d.merchants.edges.length, 100);
    expect(five).toBeGreaterThan(0);
    expect(hundred).toBe(five);
    console.log(`merchants: ${five} statements for 5 merchants, ${hundred} for 100`);
  });

  it("circles with a page of members each, and the members' circles, cost the same for few circles as for many", async () => {
    const query = `query($b: String!) { businessCircles(branchCode: $b, first: 100) { edges { node { code merchantCount
      merchants(first: 3) { totalCount edges { node { code circles { code } } } } } } } }`;
    const few = await statementsFor(query, { b: "SMALL" }, (d) => d.businessCircles.edges.length, 5);
    const many = await statementsFor(query, { b: "BIG" }, (d) => d.businessCircles.edges.length, 49);
    expect(many).toBe(few);
  });

  it("circles with their results cost the same for few circles as for many", async () => {
    const query = `query($b: String!) { businessCircles(branchCode: $b, first: 100) { edges { node { code
      results(period: "2021-Q1", asOf: "2021-03-31") { visits merchantsVisited applications redemptions } } } } }`;
    const few = await statementsFor(query, { b: "SMALL" }, (d) => d.businessCircles.edges.length, 5);
    const many = await statementsFor(query, { b: "BIG" }, (d) => d.businessCircles.edges.length, 49);
    expect(many).toBe(few);
  });

  it("the nested pages are right when batched", async () => {
    const res = await api.as("HQ").gql(`{ businessCircles(branchCode: "SMALL") { edges { node { code merchants(first: 1) { totalCount edges { node { code } } pageInfo { hasNextPage } } } } } }`);
    expect(res.data.businessCircles.edges.map((e: any) => [e.node.code, e.node.merchants.totalCount, codes(e.node.merchants), e.node.merchants.pageInfo.hasNextPage])).toEqual([
      ["SA0", 2, ["S000"], true],
      ["SA1", 2, ["S002"], true],
      ["SA2", 1, ["S004"], false],
      ["SB0", 3, ["S000"], true],
      ["SB1", 2, ["S003"], true],
    ]);
  });
});
