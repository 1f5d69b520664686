/**
 * Document limits against the product's real documents, on the demo story: the README's
 * examples, the mobile app's trusted documents and the dashboards' pages pass; documents whose
 * rows multiply past the budget are refused before any SQL runs; anonymous callers have a
 * tighter budget. The abusive documents of security.test.ts are refused there.
 */
import { readFileSync } from "node:fs";
import { getIntrospectionQuery, getNamedType, getNullableType, isCompositeType, isListType, isObjectType, type GraphQLField } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_DOCUMENTS, DASHBOARD_SUBSCRIPTIONS } from "../../src/dashboard/documents.js";
import { loadDemo } from "../../src/demo/load.js";
import { DEMO_PLAN } from "../../src/demo/plan.js";
import { DEMO } from "../../src/demo/story.js";
import { limitsOf } from "../../src/graphql/field-limits.js";
import { LIMIT_CODES } from "../../src/graphql/limits.js";
import { createSchema } from "../../src/graphql/schema.js";
import { documentHash, TRUSTED_DOCUMENTS } from "../../src/graphql/trusted-documents.js";
import { startTestApi, type As, type GqlResponse, type TestApi } from "../support/harness.js";
import { follow } from "../support/live.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await loadDemo(api.database.prisma);
});
afterAll(() => api?.close());

const HQ = { role: "HQ" } as const;
const BM_LL = { role: "BRANCH_MANAGER", unit: DEMO.storyBranch } as const;
const { period, asOf } = DEMO;

/** The limit that refused a response, if one did. */
const limitOf = (res: GqlResponse) => res.errors?.map((e) => e.extensions?.code).find((c) => (LIMIT_CODES as readonly (string | undefined)[]).includes(c));

/**
 * Sends a document and checks that a limit refused it before it ran: no SQL but the lookup of
 * who a scoped token names (an unknown unit is refused as a forged token, before the document
 * is looked at); returns the message.
 */
async function refused(who: As, query: string, code: string, variables?: Record<string, unknown>): Promise<string> {
  let res!: GqlResponse;
  const statements = await api.countStatements(async () => {
    res = await api.as(who).gql(query, variables);
  });
  const lookup = who !== "ANONYMOUS" && (who.role === "BRANCH_MANAGER" || who.role === "ACCOUNT_MANAGER") ? 1 : 0;
  expect([res.status, limitOf(res), res.data, statements]).toEqual([400, code, undefined, lookup]);
  return res.errors![0].message;
}

describe("every list declares how many rows it can return", () => {
  it("each list of objects and each connection in the schema has a row bound, and only those", async () => {
    const schema = await createSchema();
    const undeclared: string[] = [];
    const misplaced: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith("__")) continue;
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        const name = `${type.name}.${field.name}`;
        const named = getNamedType(field.type);
        const isList = isListType(getNullableType(field.type));
        const isConnection = isObjectType(named) && named.getFields().edges !== undefined && limitsOf(named.getFields().edges).rows?.kind === "ofPage";
        const rows = limitsOf(field).rows;
        // A list of codes or days is one value of its row: it costs nothing per item.
        const needsRows = (isList && isCompositeType(named)) || isConnection;
        if (needsRows && !rows) undeclared.push(name);
        if (!needsRows && rows) misplaced.push(name);
        if (isConnection && rows?.kind !== "page") undeclared.push(`${name} (its page size)`);
      }
    }
    expect(undeclared).toEqual([]);
    expect(misplaced).toEqual([]);
  });
});

describe("the product's own documents pass", () => {
  /** The README's GraphQL examples: its graphql blocks and the query of its curl example. */
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
  const curl = [...readme.matchAll(/-d '(\{"query":.*\})'/g)].map((m) => (JSON.parse(m[1]) as { query: string }).query);

  it("the README's examples", async () => {
    const documents = [...blocks, ...curl];
    expect(documents.length).toBeGreaterThanOrEqual(4);
    for (const query of documents) {
      const who: As = query.includes("promotionsNear") ? "ANONYMOUS" : query.trimStart().startsWith("mutation") ? { role: "MARKETING" } : BM_LL;
      const res = await api.as(who).gql(query);
      expect(limitOf(res), query).toBeUndefined();
      expect(res.status, query).toBe(200);
    }
    const [ranking] = blocks;
    expect((await api.as(HQ).gql(ranking)).data.branchRanking[0]).toMatchObject({ rank: 1, actual: 6245, target: 4700, branch: { code: "SX-LL" } });
  });

  it("the dashboard page's trusted documents, on the demo bank", async () => {
    const variables = { code: DEMO.storyBranch, unit: DEMO.storyBranch, parent: DEMO.province, hasParent: true, period, asOf, previous: "2021-02-27", metric: "NEW_CUSTOMERS", plan: DEMO_PLAN.code, after: null };
    for (const [name, document] of Object.entries(DASHBOARD_DOCUMENTS)) {
      // A manager's page as HQ (who may read any manager), the rest as SX-LL's branch manager.
      const manager = name === "DashboardManager";
      const res = await api.as(manager || name === "DashboardRoots" ? HQ : BM_LL).gql(document, { ...variables, code: manager ? `M-${DEMO.storyBranch}-0001` : variables.code });
      expect(limitOf(res), name).toBeUndefined();
      expect(res.errors, name).toBeUndefined();
    }
  });

  it("the dashboard page's live documents, by hash over WebSocket, on the demo bank; an unknown hash is refused", async () => {
    const token = await api.token(BM_LL);
    const byHash = (doc: string) => ({ persistedQuery: { version: 1, sha256Hash: documentHash(doc) } });
    const variables = { code: DEMO.storyBranch, parent: DEMO.province, period, asOf, metric: "NEW_CUSTOMERS" };
    for (const [name, document] of Object.entries(DASHBOARD_SUBSCRIPTIONS)) {
      const f = follow(api.server, token, "", { ...variables, code: name === "DashboardCampaignLive" ? DEMO.campaignCode : variables.code }, byHash(document));
      try {
        const [first] = await f.waitFor(1);
        expect(first.errors, name).toBeUndefined();
        expect(Object.values(first.data ?? {})[0], name).toBeTruthy();
      } finally {
        await f.dispose();
      }
    }
    const unknown = follow(api.server, token, "", variables, { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } });
    try {
      expect((await unknown.refused).map((e) => e.extensions?.code)).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    } finally {
      await unknown.dispose();
    }
 
    // Where every caller must send trusted documents, a subscription's text is refused too.
    const strict = await startTestApi({ TRUSTED_DOCUMENTS: "all" }, { reset: false });
    const text = follow(strict.server, await strict.token(BM_LL), DASHBOARD_SUBSCRIPTIONS.DashboardFiguresLive, variables);
    const hashed = follow(strict.server, await strict.token(BM_LL), "", variables, byHash(DASHBOARD_SUBSCRIPTIONS.DashboardFiguresLive));
    try {
      expect((await text.refused).map((e) => e.extensions?.code)).toEqual(["TRUSTED_DOCUMENT_REQUIRED"]);
      expect((await hashed.waitFor(1))[0].data.figuresChanged.metrics).toHaveLength(4);
    } finally {
      await text.dispose();
      await hashed.dispose();
      await strict.close();
    }
  });

  it("the mobile app's trusted documents, anonymous, at their largest page; the acquirer's redemption", async () => {
    // The others are the dashboard page's (above).
    const dashboard = new Set<string>([...Object.values(DASHBOARD_DOCUMENTS), ...Object.values(DASHBOARD_SUBSCRIPTIONS)]);
    const mobile = TRUSTED_DOCUMENTS.filter((d) => !dashboard.has(d));
    expect(mobile).toHaveLength(1); // the app only reads
    const near = await api.as("ANONYMOUS").gql(mobile[0], { latitude: 37.518, longitude: 111.141, radiusMeters: 50_000, first: 50, at: "2021-02-27T03:00:00Z" });
    expect(near.errors).toBeUndefined();
    expect(near.data.promotionsNear.edges.length).toBeGreaterThan(0);
    const redeem = await api.as({ role: "ACQUIRER" }).gql(`mutation($input: RedeemPromotionInput!) { redeemPromotion(input: $input) { transactionId cost won } }`, {
      input: { transactionId: "limits-1", promotionCode: "NONE", merchantCode: "NONE", cardToken: "card-limits-0001", spend: 10 },
    });
    // Refused by the redemption rules, not by a limit.
    expect([redeem.status, limitOf(redeem)]).toEqual([200, undefined]);
    expect(redeem.errors).toHaveLength(1);
  });

  it("the 76 business circles of SX-LL with their results, in one page", async () => {
    const res = await api.as(BM_LL).gql(`{ businessCircles(branchCode: "SX-LL", first: 100) { totalCount edges { node { code kind
      results(period: "${period}", asOf: "${asOf}") { visits merchantsSigned applications newCustomers activations redemptions } } } } }`);
    expect(res.errors).toBeUndefined();
    const circles = res.data.businessCircles.edges.map((e: any) => e.node);
    expect(circles).toHaveLength(76);
    const kinds: Record<string, number> = {};
    for (const c of circles) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
    expect(kinds).toEqual({ COMPLEX: 3, SINGLE: 70, SUPERMARKET: 3 });
    expect(circles[0]).toMatchObject({ code: "LL-C-COMPLEX-1", results: { redemptions: 22 } });
  });

  it("a list of units with the first page of each unit's account managers", async () => {
    const res = await api.as(BM_LL).gql(`{ branches(parentCode: "SX-LL", first: 100) { totalCount edges { node { code name
      accountManagers { totalCount edges { node { code name } } pageInfo { hasNextPage endCursor } } } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.branches.edges.map((e: any) => [e.node.code, e.node.accountManagers.edges.length])).toEqual([
      ["SX-LL-01", 1], ["SX-LL-02", 2], ["SX-LL-03", 2], ["SX-LL-04", 2], ["SX-LL-05", 1], ["SX-LL-06", 2],
    ]);
  });
});

describe("cost counts the rows a document can read", () => {
  // Units, a page of each one's managers, and each manager's figures: 1 + units × (2 + managers × 6).
  const NESTED = `query($units: Int!, $managers: Int!) { branches(parentCode: "SX-LL", first: $units) { edges { node { code
    accountManagers(first: $managers, includeSubtree: true) { edges { node { code performance(period: "${period}", asOf: "${asOf}") { metrics { metric actual target } } } } } } } } }`;

  it("a first: 100 inside a first: 100 with figures is too costly; the same shape with small pages passes", async () => {
    const message = await refused(HQ, NESTED, "QUERY_TOO_COSTLY", { units: 100, managers: 100 });
    expect(message).toBe("Query cost 60,201 exceeds 10,000");
    const res = await api.as(HQ).gql(NESTED, { units: 10, managers: 10 });
    expect(res.errors).toBeUndefined();
    const [first] = res.data.branches.edges;
    expect(first.node.accountManagers.edges).toHaveLength(10);
    expect(first.node.accountManagers.edges[0].node).toMatchObject({ code: "M-SX-LL-0001" });
    expect(first.node.accountManagers.edges[0].node.performance.metrics[2]).toEqual({ metric: "NEW_CUSTOMERS", actual: 72, target: 64 });
  });

  it("a plain list counts its declared bound: 100 units with their children's figures is too costly", async () => {
    // 1 + 100 units × (1 + 50 children × (1 + 1 + 4 metrics)): children are not capped, 50 is their declared estimate.
    const query = `{ branches(first: 100) { edges { node { children { performance(period: "${period}") { metrics { actual } } } } } } }`;
    expect(await refused(BM_LL, query, "QUERY_TOO_COSTLY")).toBe("Query cost 30,101 exceeds 10,000");
  });

  it("anonymous callers have a tighter budget than signed-in ones", async () => {
    // 1 + 50 offers × (1 + merchant 1 + 10 circles × (1 + merchantCount 1)) = 1,101.
    const query = `{ promotionsNear(latitude: 37.518, longitude: 111.141, radiusMeters: 50000, at: "2021-02-27T03:00:00Z", first: 50) {
      edges { node { distanceMeters merchant { code circles { code merchantCount } } } } } }`;
    expect(await refused("ANONYMOUS", query, "QUERY_TOO_COSTLY")).toBe("Query cost 1,101 exceeds 1,000 for an anonymous caller");
    const signedIn = await api.as({ role: "MARKETING" }).gql(query);
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data.promotionsNear.edges.length).toBeGreaterThan(0);
  });

  it("a document whose fragments expand past 10,000 selections is refused", async () => {
    // Each fragment spreads the one before twice: F13 stands for 2^13 branch selections.
    const fragments = Array.from({ length: 13 }, (_, i) => `fragment F${i + 1} on Branch { ...F${i} ...F${i} }`).join(" ");
    const query = `{ branch(code: "SX-LL") { ...F13 } } fragment F0 on Branch { code } ${fragments}`;
    expect(await refused(HQ, query, "QUERY_TOO_COSTLY")).toBe("Query more than 10,000 fields once fragments are expanded");
  });

  it("a mutation over the budget is not run: its one statement is the refusal's audit entry", async () => {
    const tight = await startTestApi({ MAX_QUERY_COST: "10" }, { reset: false });
    try {
      const query = `mutation { createCampaign(input: { idempotencyKey: "limits-1", code: "LIMITS-1", name: "n", branchCode: "SX-LL",
        startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 1 }) { code promotions { code } } }`;
      let res!: GqlResponse;
      const statements = await tight.countStatements(async () => {
        res = await tight.as({ role: "MARKETING" }).gql(query);
      });
      expect([res.status, limitOf(res), res.errors![0].message, statements]).toEqual([400, "QUERY_TOO_COSTLY", "Query cost 51 exceeds 10", 1]);
      expect(await tight.database.prisma.campaign.count({ where: { code: "LIMITS-1" } })).toBe(0);
      const [entry] = await tight.database.prisma.auditEntry.findMany({ where: { operation: "createCampaign" }, orderBy: { id: "desc" }, take: 1 });
      expect([entry.outcome, entry.errorCode]).toEqual(["REJECTED", "QUERY_TOO_COSTLY"]);
    } finally {
      await tight.close();
    }
  });
});

describe("depth counts what a client sees", () => {
  it("introspection is not counted (an IDE's schema query passes)", async () => {
    const res = await api.as(HQ).gql(getIntrospectionQuery());
    expect(res.errors).toBeUndefined();
    expect(res.data.__schema.queryType.name).toBe("Query");
  });


  it("a connection's edges { node } is one level, pageInfo none: units, their managers and the managers' figures fit in 7", async () => {
    const query = (extra: string) => `{ branches(parentCode: "SX-LL", first: 2) { pageInfo { endCursor } edges { node {
      accountManagers(first: 2) { pageInfo { hasNextPage } edges { node { code ${extra} performance(period: "${period}") { metrics { actual } } } } } } } } }`;
    expect((await api.as(BM_LL).gql(query(""))).errors).toBeUndefined();
    expect(await refused(BM_LL, query("branch { parent { parent { code } } }"), "QUERY_TOO_DEEP")).toBe("Query depth 8 exceeds 7");
  });
});
