/**
 * The audit trail: every write attempt (mutation root field) is recorded with who, when, what,
 * the idempotency key and the outcome, refusals included; HQ reads it with filters and pages.
 */
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runImport } from "../../src/modules/import/import.service.js";
import { CALLERS, twoCities } from "../fixtures/access.js";
import { seed } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, type TestApi } from "../support/harness.js";

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
