/**
 * The response cache's pure parts: which documents it may keep (the allow-list, checked
 * against the real schema, fragments and aliases included), and the configuration it refuses.
 */
import { parse } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import type { GraphQLSchema } from "graphql";
import { loadConfig } from "../../src/config.js";
import { DASHBOARD_DOCUMENTS } from "../../src/dashboard/documents.js";
import { isCacheableDocument } from "../../src/graphql/response-cache.js";
import { createSchema } from "../../src/graphql/schema.js";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await createSchema();
});

const perf = `performance(period: "2021-Q1") { metric(metric: APPLICATIONS) { actual target completionRate } series(granularity: DAY, metric: APPLICATIONS) { start actual } }`;

describe("what may be cached", () => {
  it.each([
    ["a unit's figures", `{ branch(code: "A") { code name ${perf} } }`, true],
    ["a ranking, aliased, with __typename", `{ r: branchRanking(parentCode: "P", period: "2021-Q1", metric: APPLICATIONS) { __typename rank actual branch { code name } } }`, true],
    ["a manager ranking through a fragment", `query { accountManagerRanking(branchCode: "A", period: "2021-Q1", metric: APPLICATIONS) { ...Row } } fragment Row on ManagerStanding { rank manager { name ${perf} } }`, true],
    ["units paged", `{ branches(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { code children { code } } } } }`, true],
    ["the dashboard's details (campaigns and circles with their results)", DASHBOARD_DOCUMENTS.DashboardDetails, true],
    ["the dashboard's unit", DASHBOARD_DOCUMENTS.DashboardUnit, true],
    ["a campaign's promotions (schedules judged against the clock)", `{ campaign(code: "C") { code promotions { code } } }`, false],
    ["a unit's incentives (statements: every plan and statement write is announced)", `{ branch(code: "A") { incentives(period: "2021-Q1") { total lines { amount } } } }`, true],
    ["a webhook's deliveries (written by the notifier, unannounced)", `{ branch(code: "A") { webhooks(first: 5) { totalCount } } }`, false],
    ["a unit's webhooks, hidden in a fragment", `{ branch(code: "A") { ...W } } fragment W on Branch { webhooks(first: 1) { totalCount } }`, false],
    ["the audit trail", `{ auditTrail(first: 1) { totalCount } }`, false],
    ["the nearby promotions (the clock)", `{ promotionsNear(latitude: 31.2, longitude: 121.4) { totalCount } }`, false],
    ["node (reaches any type)", `{ node(id: "x") { id } }`, false],
    ["introspection", `{ __schema { queryType { name } } }`, false],
    ["a mutation", `mutation { upsertBranches(input: []) { created } }`, false],
    ["a cacheable query next to one that is not", `query A { branch(code: "A") { code } } query B { auditTrail(first: 1) { totalCount } }`, false],
  ])("%s: %s", (_, text, cacheable) => {
    expect(isCacheableDocument(schema, parse(text))).toBe(cacheable);
  });
});

describe("configuration", () => {
  it("refuses the cache on PostgreSQL without Redis: other processes' writes would go unheard", () => {
    const postgres = { DATABASE_URL: "postgres://db.example/cardgrowth", RESPONSE_CACHE_ENTRIES: "1000" };
    expect(() => loadConfig(postgres)).toThrow(/RESPONSE_CACHE_ENTRIES: needs REDIS_URL with DATABASE_URL/);
    expect(loadConfig({ ...postgres, REDIS_URL: "redis://cache.example:6379" }).RESPONSE_CACHE_ENTRIES).toBe(1000);
    // The embedded database is one process's: every write passes through it.
    expect(loadConfig({ RESPONSE_CACHE_ENTRIES: "1000" }).RESPONSE_CACHE_MB).toBe(64);
    expect(loadConfig({}).RESPONSE_CACHE_ENTRIES).toBe(0);
  });
});
