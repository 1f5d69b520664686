/**
 * The audit trail: every write attempt (mutation root field) is recorded with who, when, what,
 * the idempotency key and the outcome, refusals included; HQ reads it with filters and pages.
 * It cannot be bypassed (fragments, aliases, directives), erased (bad strings) or lost (a kill
 * right after the commit), and each root field's outcome is exact.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLInputType,
} from "graphql";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DATA_TABLES } from "../../src/db/tables.js";
import { signToken } from "../../src/modules/auth/auth.service.js";
import { runImport } from "../../src/modules/import/import.service.js";
import { CALLERS, twoCities } from "../fixtures/access.js";
import { merchant } from "../fixtures/merchants.js";
import { apps, seed } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/harness.js";
import { seededRandom } from "../support/random.js";
import { startProduct } from "../support/product.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await seed(api, twoCities);
  await api.database.prisma.auditEntry.deleteMany(); // the seed's own writes are not what these tests look at
});
afterAll(() => api?.close());

const TRAIL = `query($first: Int!, $after: String, $subject: String, $operation: String, $outcome: AuditOutcome, $from: DateTime, $to: DateTime) {
  auditTrail(first: $first, after: $after, subject: $subject, operation: $operation, outcome: $outcome, from: $from, to: $to) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { at subject role operation idempotencyKey outcome errorCode target details } } } }`;
const trail = (variables: Record<string, unknown>) => api.as(CALLERS.HQ).gql(TRAIL, { first: 20, ...variables });

describe("audit trail", () => {
  const started = new Date();

  beforeAll(async () => {
    const ingest = api.as({ role: "INGEST", sub: "card-feed" });
    const apps = "mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }";
    const row = { externalId: "AU-1", customerId: "CU-AU-1", branchCode: "S1", channel: "ONLINE", receivedOn: "2021-01-12" };
    expect((await ingest.gql(apps, { in: [row] })).errors).toBeUndefined();
    expect(codeOf(await ingest.gql(apps, { in: [{ ...row, branchCode: "NOPE" }] }))).toBe("BAD_USER_INPUT");
    expect(codeOf(await api.as({ role: "HQ", sub: "hq-analyst" }).gql(apps, { in: [row] }))).toBe("FORBIDDEN");
    const campaign = "mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }";
    const input = { idempotencyKey: "key-12345678", code: "AUD", name: "Audited", branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 100 };
    expect((await api.as({ role: "MARKETING", sub: "mkt-1" }).gql(campaign, { in: input })).errors).toBeUndefined();
    const redeem = "mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { cost } }";
    const acquirer = await api.as({ role: "ACQUIRER", sub: "acquirer-1" }).gql(redeem, { in: { transactionId: "tx-00000001", promotionCode: "NOPE", merchantCode: "ME1", cardToken: "card-token-00000001", spend: 10 } });
    expect(acquirer.errors).toBeDefined();
  });

  it("records each attempt: who, what, the key and the outcome, newest first", async () => {
    const res = await trail({});
    expect(res.errors).toBeUndefined();
    const rows = res.data.auditTrail.edges.map((e: any) => e.node);
    expect(rows.map((r: any) => [r.subject, r.role, r.operation, r.outcome, r.errorCode, r.idempotencyKey, r.target])).toEqual([
      ["acquirer-1", "ACQUIRER", "redeemPromotion", "REJECTED", "NOT_FOUND", "tx-00000001", "NOPE at ME1"],
      ["mkt-1", "MARKETING", "createCampaign", "SUCCEEDED", null, "key-12345678", "AUD"],
      ["hq-analyst", "HQ", "recordApplications", "DENIED", "FORBIDDEN", null, "1 row(s)"],
      ["card-feed", "INGEST", "recordApplications", "REJECTED", "BAD_USER_INPUT", null, "1 row(s)"],
      ["card-feed", "INGEST", "recordApplications", "SUCCEEDED", null, null, "1 row(s)"],
    ]);
    expect(JSON.parse(rows[4].details)).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(JSON.parse(rows[3].details).issues).toEqual([{ index: 0, field: "branchCode", reason: 'unknown unit "NOPE"' }]);
    for (const r of rows) expect(new Date(r.at).getTime()).toBeGreaterThanOrEqual(started.getTime() - 1_000);
  });

  it("filters by subject, operation, outcome and time, and pages", async () => {
    const bySubject = await trail({ subject: "card-feed" });
    expect(bySubject.data.auditTrail.totalCount).toBe(2);
    const denied = await trail({ outcome: "DENIED" });
    expect(denied.data.auditTrail.edges.map((e: any) => e.node.subject)).toEqual(["hq-analyst"]);
    const op = await trail({ operation: "createCampaign" });
    expect(op.data.auditTrail.totalCount).toBe(1);
    const future = await trail({ from: new Date(Date.now() + 60_000).toISOString() });
    expect(future.data.auditTrail.totalCount).toBe(0);
    const first = await trail({ first: 2 });
    expect(first.data.auditTrail.pageInfo.hasNextPage).toBe(true);
    const next = await trail({ first: 2, after: first.data.auditTrail.pageInfo.endCursor });
    expect(next.data.auditTrail.edges.map((e: any) => e.node.operation)).toEqual(["recordApplications", "recordApplications"]);
    expect(next.data.auditTrail.edges[0].node.outcome).toBe("DENIED");
  });

  it("refuses a bad filter by name", async () => {
    const res = await trail({ from: "2021-02-01T00:00:00Z", to: "2021-01-01T00:00:00Z" });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].extensions!.issues).toEqual([{ field: "to", reason: "is before from" }]);
    expect(codeOf(await trail({ after: "bm90LWEtY3Vyc29y" }))).toBe("BAD_USER_INPUT");
  });

  it("is for HQ only", async () => {
    for (const caller of [CALLERS.BM_C1, CALLERS.MARKETING, CALLERS.INGEST]) expect(codeOf(await api.as(caller).gql(TRAIL, { first: 1 }))).toBe("FORBIDDEN");
  });
});

describe("audit trail of imports", () => {
  it("records each written batch with the operator, the lines, a key that repeats on replay, and the counts; a dry run records nothing", async () => {
    await api.database.prisma.auditEntry.deleteMany();
    const file = path.resolve("docs/import/units.csv");
    const run = (dryRun = false) =>
      runImport(api.database.prisma, { kind: "units", file, batchSize: 2, dryRun, reportPath: path.join(os.tmpdir(), "audit-units.report.ndjson"), auditSubject: "cli:ops" });
    const first = await run();
    await run(true);
    await run();
    const res = await trail({ operation: "import:units" });
    const rows = res.data.auditTrail.edges.map((e: any) => e.node);
    expect(rows).toHaveLength(first.batches * 2);
    expect(rows.every((r: any) => r.subject === "cli:ops" && r.role === "INGEST" && r.outcome === "SUCCEEDED")).toBe(true);
    const [replayed, original] = [rows.slice(0, first.batches), rows.slice(first.batches)];
    expect(replayed.map((r: any) => r.idempotencyKey)).toEqual(original.map((r: any) => r.idempotencyKey));
    expect(original.at(-1).target).toMatch(/^lines 2-3 of units\.csv$/);
    expect(JSON.parse(original.at(-1).details)).toMatchObject({ rows: 2, created: 2, updated: 0, unchanged: 0, rejected: 0 });
    expect(JSON.parse(replayed.at(-1).details)).toMatchObject({ created: 0, unchanged: 2 });
  });
});

/** The whole trail, oldest first, as [operation, outcome, errorCode, target] (and the rest in `all`). */
async function entries() {
  const res = await api.as(CALLERS.HQ).gql(TRAIL, { first: 100 });
  expect(res.errors).toBeUndefined();
  const all = res.data.auditTrail.edges.map((e: any) => e.node).reverse();
  return { all, rows: all.map((r: any) => [r.operation, r.outcome, r.errorCode, r.target]) };
}

const ingest = () => api.as({ role: "INGEST", sub: "feed" });
const marketing = () => api.as({ role: "MARKETING", sub: "mkt" });
const target = (period: string) => ({ branchCode: "C1", period, metric: "APPLICATIONS", value: 10 });
const campaign = (code: string, extra: Record<string, unknown> = {}) => ({
  idempotencyKey: `key-${code}-0001`, code, name: `Campaign ${code}`, branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 100, ...extra,
});

describe("audit trail that cannot be bypassed", () => {
  beforeEach(() => api.database.prisma.auditEntry.deleteMany());

  it("records a write however the document spells its root field: inline fragment, named spread, nested fragments, alias", async () => {
    const documents = [
      "mutation($in: [TargetInput!]!) { ... on Mutation { setTargets(input: $in) { created } } }",
      "mutation($in: [TargetInput!]!) { ...W } fragment W on Mutation { w: setTargets(input: $in) { created } }",
      "mutation($in: [TargetInput!]!) { ... { ...V } } fragment V on Mutation { ... on Mutation { setTargets(input: $in) { created } } }",
      "mutation($in: [TargetInput!]!) { t: setTargets(input: $in) { created } }",
    ];
    for (const [i, doc] of documents.entries()) {
      const res = await ingest().gql(doc, { in: [target(`2022-Q${i + 1}`)] });
      expect(res.errors).toBeUndefined();
      expect(Object.values(res.data)).toEqual([{ created: 1 }]);
    }
    const { rows, all } = await entries();
    expect(rows).toEqual(Array(4).fill(["setTargets", "SUCCEEDED", null, "1 row(s)"]));
    expect(all.map((r: any) => JSON.parse(r.details))).toEqual(Array(4).fill({ created: 1, updated: 0, unchanged: 0 }));
  });

  it("a NUL byte or a lone surrogate refuses the whole request before it runs, and that refusal is recorded; an endless value is cut, and the good write before it keeps its entry", async () => {
    const doc = `mutation($m: [MerchantInput!]!, $c: CreateCampaignInput!, $d: CreateCampaignInput!) {
      m: upsertMerchants(input: $m) { created } c: createCampaign(input: $c) { code } d: createCampaign(input: $d) { code } }`;
    // Not text: the request is refused before anything runs (nothing written), naming the field.
    const notText = [
      campaign("NUL\u0000X", { idempotencyKey: "key-\u0000-nul-01", name: "a\u0000b" }),
      campaign("SUR\uD800X", { idempotencyKey: "key-\uDC00-sur-01", name: "lone \uD800 surrogate" }),
    ];
    for (const [i, c] of notText.entries()) {
      const res = await marketing().gql(doc, { m: [merchant(`NUL-M${i}`, "S1")], c, d: campaign(`AFTER${i}`) });
      expect(codeOf(res)).toBe("BAD_USER_INPUT");
      expect(res.errors![0].extensions!.issues!.map((x) => x.field).sort()).toEqual(["input.code", "input.idempotencyKey", "input.name"]);
      expect(await api.database.prisma.merchant.count({ where: { code: `NUL-M${i}` } })).toBe(0);
    }
    // Text, but endless: the good write runs, the bad one is refused by its rule, both recorded.
    const res = await marketing().gql(doc, { m: [merchant("LONG-M", "S1")], c: campaign("LONG", { idempotencyKey: "k".repeat(10_000) }), d: campaign("AFTER-LONG") });
    expect(res.errors).toHaveLength(1);
    expect(await api.database.prisma.merchant.count({ where: { code: "LONG-M" } })).toBe(1);
    const { rows, all } = await entries();
    expect(rows.map((r: any[]) => [r[0], r[1], r[2]])).toEqual([
      ["upsertMerchants,createCampaign", "REJECTED", "BAD_USER_INPUT"],
      ["upsertMerchants,createCampaign", "REJECTED", "BAD_USER_INPUT"],
      ["upsertMerchants", "SUCCEEDED", null],
      ["createCampaign", "REJECTED", "BAD_USER_INPUT"],
    ]);
    const long = all[3];
    expect(long.idempotencyKey).toBe(`${"k".repeat(200)}…[+9800 chars]`);
    expect(JSON.parse(long.details).issues).toEqual([{ field: "idempotencyKey", reason: "must be 8 to 128 characters" }]);
  });

  it("a write whose nested field is refused SUCCEEDED: the write committed", async () => {
    const res = await marketing().gql(
      `mutation($c: CreateCampaignInput!) { createCampaign(input: $c) { code branch { performance(period: "2021-Q1", asOf: "2021-02-28") { timeProgress } } } }`,
      { c: campaign("NESTED") },
    );
    expect(codeOf(res)).toBe("FORBIDDEN");
    expect(res.errors![0].path!.slice(0, 3)).toEqual(["createCampaign", "branch", "performance"]);
    expect((await api.as(CALLERS.HQ).gql(`{ campaign(code: "NESTED") { code } }`)).data.campaign).toEqual({ code: "NESTED" });
    expect((await entries()).rows).toEqual([["createCampaign", "SUCCEEDED", null, "NESTED"]]);
  });

  it("a root field left out by @skip or @include never ran and has no entry", async () => {
    const res = await marketing().gql(
      `mutation($c: CreateCampaignInput!, $m: [MerchantInput!]!, $yes: Boolean!) {
        createCampaign(input: $c) @skip(if: true) { code } upsertMerchants(input: $m) @include(if: $yes) { created } }`,
      { c: campaign("SKIPPED"), m: [merchant("SKIPPED-M", "S1")], yes: false },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({});
    expect((await entries()).rows).toEqual([]);
    expect(await api.database.prisma.campaign.count({ where: { code: "SKIPPED" } })).toBe(0);
  });

  it("a bad variable is REJECTED, once, naming the root fields", async () => {
    const res = await marketing().gql("mutation($c: CreateCampaignInput!) { createCampaign(input: $c) { code } }", { c: { ...campaign("BADVAR"), budget: "lots" } });
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    const { rows, all } = await entries();
    expect(rows).toEqual([["createCampaign", "REJECTED", "BAD_USER_INPUT", null]]);
    expect(all[0].subject).toBe("mkt");
  });

  it("refusals before execution are recorded, one entry per request: validation, limits, parse errors, forged and expired tokens", async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `t${i}: setTargets(input: $in) { created }`).join(" ");
    const refused = [
      await ingest().gql("mutation { setTargets(input: []) { nope } recordVisits(input: []) { created } }"),
      await ingest().gql(`mutation($in: [TargetInput!]!) { ${aliases} }`, { in: [target("2023-Q1")] }),
      await ingest().gql("mutation { setTargets(input: ["),
    ];
    expect(refused.map(codeOf)).toEqual(["GRAPHQL_VALIDATION_FAILED", "TOO_MANY_ALIASES", "GRAPHQL_PARSE_FAILED"]);
    const expired = await signToken(api.config, { sub: "feed", role: "INGEST" }, -60);
    for (const token of ["forged.token.value", expired]) {
      const res = await fetch(api.server.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "mutation($in: [TargetInput!]!) { ... on Mutation { setTargets(input: $in) { created } } }", variables: { in: [target("2023-Q2")] } }),
      });
      expect(res.status).toBe(401);
    }
    // Queries refused by validation or parsing are not write attempts.
    expect(codeOf(await ingest().gql("{ nope }"))).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(codeOf(await ingest().gql("{ branch(code: "))).toBe("GRAPHQL_PARSE_FAILED");
    const query = await fetch(api.server.url, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer forged" }, body: JSON.stringify({ query: "{ branch(code: \"P\") { code } }" }) });
    expect(query.status).toBe(401);

    const { rows, all } = await entries();
    // A request refused for its token is refused before its body is read (src/server.ts), so
    // its entry cannot say what it asked for: every such refusal is recorded, as "unparsed".
    expect(rows).toEqual([
      ["setTargets,recordVisits", "REJECTED", "GRAPHQL_VALIDATION_FAILED", null],
      ["setTargets", "REJECTED", "TOO_MANY_ALIASES", null],
      ["unparsed", "REJECTED", "GRAPHQL_PARSE_FAILED", null],
      ["unparsed", "DENIED", "UNAUTHENTICATED", null],
      ["unparsed", "DENIED", "UNAUTHENTICATED", null],
      ["unparsed", "DENIED", "UNAUTHENTICATED", null],
    ]);
    expect(all.map((r: any) => r.subject)).toEqual(["feed", "feed", "feed", "anonymous", "anonymous", "anonymous"]);
    expect(JSON.parse(all[4].details).message).toMatch(/^Not authenticated/);
    expect(await api.database.prisma.target.count({ where: { period: { startsWith: "2023" } } })).toBe(0);
  });

  it("costs one statement per write attempt, whatever the batch's size", async () => {
    const hq = api.as({ role: "HQ", sub: "hq" });
    const refusals = (n: number) => `mutation($in: [TargetInput!]!) { ${Array.from({ length: n }, (_, i) => `t${i}: setTargets(input: $in) { created }`).join(" ")} }`;
    // A refused write costs its entry and nothing else.
    const one = await api.countStatements(() => hq.gql(refusals(1), { in: [target("2024-Q1")] }));
    expect(one).toBe(1);
    expect((await entries()).rows).toEqual([["setTargets", "DENIED", "FORBIDDEN", "1 row(s)"]]);

    const small = await api.countStatements(() => ingest().gql("mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }", { in: apps("ST1", "S1", 1, "2021-01-12") }));
    const large = await api.countStatements(() => ingest().gql("mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }", { in: apps("ST2", "S1", 500, "2021-01-12") }));
    expect(large).toBe(small);
    const rows = (await entries()).all.slice(1).map((r: any) => [r.operation, r.outcome, JSON.parse(r.details).created]);
    expect(rows).toEqual([["recordApplications", "SUCCEEDED", 1], ["recordApplications", "SUCCEEDED", 500]]);
  });
});

describe("audit fuzz over every mutation", () => {
  const random = seededRandom;
  let serial = 0;
  // Plausible values (known codes, fresh codes, valid dates) let some writes through; hostile
  // ones are what an attacker sends.
  const PLAUSIBLE: Record<string, () => unknown[]> = {
    String: () => ["S1", "C1", "O1", "M11", `FZ-${++serial}`, `key-fuzz-${String(++serial).padStart(6, "0")}`],
    Date: () => ["2021-01-12", "2021-02-01"],
    Period: () => ["2021-Q1", "2021-02", "2021-W05"],
    DateTime: () => [new Date().toISOString()],
    Int: () => [0, 1, 5],
    Float: () => [0, 1.5, 30],
    Boolean: () => [true, false],
  };
  /** Plausible values by input field name: the codes of the two-city bank, fresh codes and keys. */
  const BY_NAME: Record<string, () => unknown[]> = {
    idempotencyKey: () => [`key-fuzz-${String(++serial).padStart(6, "0")}`],
    transactionId: () => [`tx-fuzz-${++serial}`],
    code: () => [`FZ-${++serial}`],
    branchCode: () => ["S1", "C1", "O1"],
    parentCode: () => ["C1", "S1"],
    managerCode: () => ["M11", "M12"],
    merchantCode: () => ["FZ-ME"],
    merchantCodes: () => ["FZ-ME"],
    cardToken: () => ["card-token-fuzz-0001"],
    latitude: () => [31.2],
    longitude: () => [121.4],
    at: () => [new Date().toISOString()],
  };
  const HOSTILE: Record<string, () => unknown[]> = {
    String: () => ["", " ", "a\u0000b", "x\uD800y", "\uDC00", "%_\\", "x".repeat(300), "漢字-1", "S1\u0000"],
    Date: () => ["2021-02-30", "21-1-1", "2021-01-12\u0000"],
    Period: () => ["2021-Q5", "\uD800", "2021"],
    DateTime: () => ["yesterday", "2021-01-01T00:00:00Z"],
    Int: () => [-1, 2_147_483_647, -2_147_483_648],
    Float: () => [-3, 0.001, 1e12, 1e300],
    Boolean: () => [true, false],
  };

  /** A value of `type` from a pool of scalars; nullable fields are sometimes left out. */
  function valueOf(type: GraphQLInputType, rnd: () => number, pool: typeof PLAUSIBLE, name = "", depth = 0): unknown {
    const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)];
    if (isNonNullType(type)) return valueOf(type.ofType, rnd, pool, name, depth);
    if (isListType(type)) return Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => valueOf(type.ofType, rnd, pool, name, depth + 1));
    if (isEnumType(type)) return pick(type.getValues()).value;
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) || (depth < 3 && rnd() < 0.6));
      return Object.fromEntries(fields.map((f) => [f.name, valueOf(f.type, rnd, pool, f.name, depth + 1)]));
    }
    const byName = pool === PLAUSIBLE ? BY_NAME[name] : undefined;
    return pick((byName ?? pool[getNamedType(type).name] ?? pool.String)());
  }

  /** Every data table but the trail's, fingerprinted: a refused write must leave them as they were. */
  async function fingerprint(): Promise<string> {
    const tables = DATA_TABLES.filter((t) => t !== "audit_entry");
    // An order-free sum of row hashes: no sort, so it stays cheap as the tables grow.
    const sql = tables.map((t) => `SELECT '${t}' AS t, count(*) || ':' || coalesce(sum(hashtextextended(x::text, 0)), 0) AS sum FROM ${t} x`).join(" UNION ALL ");
    const rows = await api.database.prisma.$queryRawUnsafe<{ t: string; sum: string }[]>(sql);
    return rows.map((r) => `${r.t}:${r.sum}`).join(" ");
  }

  /** Per mutation: each caller twice with plausible values, twice with hostile ones, in three document shapes. */
  const VARIANTS = 24;

  beforeAll(async () => {
    await api.as(CALLERS.MARKETING).gql("mutation($m: [MerchantInput!]!) { upsertMerchants(input: $m) { created } }", { m: [merchant("FZ-ME", "S1")] });
  });

  // 24 requests and 48 fingerprints of every data table per mutation: the time grows with the
  // mutations (22 with the plan and webhook calls), past the default minute on a loaded embedded database.
  it("every request gets exactly one entry matching its answer; no 5xx, no half-writes", { timeout: 300_000 }, async () => {
    const schema = buildSchema(fs.readFileSync(path.resolve(import.meta.dirname, "../../schema.graphql"), "utf8"));
    const callers = Object.values(CALLERS);
    const rnd = random(10);
    const tally = { tried: 0, succeeded: 0, refused: 0, status5xx: 0, internal: 0, halfWrites: 0, missingEntries: 0, extraEntries: 0, wrongOutcomes: 0 };
    const shapes = [
      (f: string, t: string) => `mutation($in: ${t}) { r: ${f}(input: $in) { __typename } }`,
      (f: string, t: string) => `mutation($in: ${t}) { ... on Mutation { r: ${f}(input: $in) { __typename } } }`,
      (f: string, t: string) => `mutation($in: ${t}) { ...F } fragment F on Mutation { r: ${f}(input: $in) { __typename } }`,
    ];
    for (const field of Object.values(schema.getMutationType()!.getFields())) {
      const inputType = field.args.find((a) => a.name === "input")!.type;
      for (let i = 0; i < VARIANTS; i++) {
        const before = { count: await api.database.prisma.auditEntry.count(), data: await fingerprint() };
        const res = await api.as(callers[i % callers.length]).gql(shapes[i % shapes.length](field.name, String(inputType)), { in: valueOf(inputType, rnd, Math.floor(i / callers.length) % 2 ? HOSTILE : PLAUSIBLE) });
        const after = await api.database.prisma.auditEntry.findMany({ orderBy: { id: "asc" }, skip: before.count });
        tally.tried += 1;
        if (res.status >= 500) tally.status5xx += 1;
        const code = codeOf(res);
        if (code === "INTERNAL_SERVER_ERROR") tally.internal += 1;
        if (res.errors) tally.refused += 1;
        else tally.succeeded += 1;
        if (after.length === 0) tally.missingEntries += 1;
        if (after.length > 1) tally.extraEntries += 1;
        const entry = after[0];
        if (entry && (res.errors ? entry.outcome === "SUCCEEDED" || entry.errorCode !== code || entry.operation !== field.name : entry.outcome !== "SUCCEEDED")) {
          tally.wrongOutcomes += 1;
        }
        if (res.errors && (await fingerprint()) !== before.data) tally.halfWrites += 1;
      }
    }
    console.log(`audit fuzz: ${JSON.stringify(tally)}`);
    expect(tally).toMatchObject({ status5xx: 0, halfWrites: 0, missingEntries: 0, extraEntries: 0, wrongOutcomes: 0 });
    expect(tally.tried).toBe(Object.keys(schema.getMutationType()!.getFields()).length * VARIANTS);
  });
});

describe("audit trail that survives a kill right after the commit", () => {
  it("5 times of 5: kill -9 the moment a 5,000-row recordApplications commits (or answers), and the write has its entry", async () => {
    // On PostgreSQL the test watches for the commit itself; an embedded folder is held by the
    // child alone, so there the kill follows the answer (which the commit precedes).
    const watch = api.database.engine === "postgres";
    for (let round = 0; round < 5; round++) {
      const subject = `kill-feed-${round}`;
      const rows = apps(`KILL${round}`, "S1", 5_000, "2021-01-13");
      const last = rows.at(-1)!.externalId;
      const token = await api.token({ role: "INGEST", sub: subject });
      await api.database.released(async () => {
        const { child, url } = await startProduct({ ...process.env, ...api.database.env, JWT_SECRET: TEST_JWT_SECRET, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent" });
        const exited = new Promise((resolve) => child.on("exit", resolve));
        let killed = false;
        const kill = () => {
          if (!killed) child.kill("SIGKILL");
          killed = true;
        };
        const response = fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: "mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }", variables: { in: rows } }),
        }).then(kill, kill);
        // The rows become visible all at once, at the commit: that is the moment to kill.
        while (watch && !killed) {
          if (await api.database.prisma.application.findUnique({ where: { externalId: last }, select: { id: true } })) kill();
        }
        await Promise.all([response, exited]);
      });
      const db = api.database.prisma;
      expect(await db.application.count({ where: { externalId: { startsWith: `KILL${round}-` } } })).toBe(5_000);
      const trail = await db.auditEntry.findMany({ where: { subject } });
      expect(trail.map((e) => [e.operation, e.outcome, (e.details as { created: number }).created])).toEqual([["recordApplications", "SUCCEEDED", 5_000]]);
    }
  }, 300_000);
});
