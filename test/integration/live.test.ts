/**
 * Live figures over GraphQL subscriptions (graphql-ws), across two API instances sharing the
 * test database and the local Redis: instance A (the harness) takes the writes, subscribers
 * listen on instance B. Events are checked for what they carry, for what must not cause one
 * (a dry run, a refused batch, a write that changed nothing visible), for coalescing, and for
 * the connection's rules (scope, the token's expiry, the per-caller cap, shutdown).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebuildRollups } from "../../src/figures/rebuild.js";
import { announceOutsideWrite, createChangeFeed } from "../../src/live/feed.js";
import { createLogger } from "../../src/logger.js";
import { signToken } from "../../src/modules/auth/auth.service.js";
import { runImport } from "../../src/modules/import/import.service.js";
import type { RunningServer } from "../../src/server.js";
import { apps } from "../fixtures/scenarios.js";
import { startTestApi, type TestApi } from "../support/harness.js";
import { follow, sleep, startSecondInstance, TEST_REDIS_URL, uniqueChannel, type Follower } from "../support/live.js";

/** Short, so the tests are quick; the coalescing test measures against it. */
const COALESCE_MS = 250;
const CAP = 4;

let api: TestApi;
let b: RunningServer;
beforeAll(async () => {
  api = await startTestApi({
    REDIS_URL: TEST_REDIS_URL,
    LIVE_REDIS_CHANNEL: uniqueChannel(),
    LIVE_COALESCE_MS: String(COALESCE_MS),
    LIVE_MAX_SUBSCRIPTIONS_PER_CALLER: String(CAP),
    // The campaign scenario replays 2021: let its redemption be dated then.
    REDEMPTION_MAX_CLOCK_SKEW_SECONDS: String(10 * 365 * 86_400),
  });
  b = await startSecondInstance(api);
  const ingest = api.as({ role: "INGEST" });
  const units = await ingest.gql(`mutation($in: [BranchInput!]!) { upsertBranches(input: $in) { created } }`, {
    in: [
      { code: "P", name: "Province", level: "PROVINCE" },
      { code: "A", name: "City A", level: "CITY", parentCode: "P" },
      { code: "B", name: "City B", level: "CITY", parentCode: "P" },
      { code: "A1", name: "Sub A1", level: "SUB_BRANCH", parentCode: "A" },
      { code: "B1", name: "Sub B1", level: "SUB_BRANCH", parentCode: "B" },
      { code: "Q", name: "Other province", level: "PROVINCE" },
      { code: "Q1", name: "Other city", level: "CITY", parentCode: "Q" },
    ],
  });
  expect(units.data.upsertBranches.created).toBe(7);
  const targets = await ingest.gql(`mutation($in: [TargetInput!]!) { setTargets(input: $in) { created } }`, {
    in: ["A", "B"].map((branchCode) => ({ branchCode, period: "2021-Q1", metric: "APPLICATIONS", value: 100 })),
  });
  expect(targets.data.setTargets.created).toBe(2);
});
afterAll(async () => {
  await b?.close();
  await api?.close();
});

const FIGURES = `subscription($code: String!) {
  figuresChanged(branchCode: $code, period: "2021-Q1") { metric(metric: APPLICATIONS) { actual target } rank(metric: APPLICATIONS) }
}`;
const RANKING = `subscription($code: String!) {
  rankingChanged(parentCode: $code, period: "2021-Q1", metric: APPLICATIONS) { rank actual target branch { code } }
}`;
const RECORD = `mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created updated unchanged } }`;

let batches = 0;
/** `n` new approved applications at `unit` on `day`, written through instance A. */
async function record(unit: string, n: number, day = "2021-01-05") {
  const res = await api.as({ role: "INGEST" }).gql(RECORD, { in: apps(`L${++batches}`, unit, n, day) });
  expect(res.errors).toBeUndefined();
  return res.data.recordApplications;
}

const actualOf = (e: { data?: any }) => e.data.figuresChanged.metric.actual as number;
const open: Follower[] = [];
function subscribe(server: RunningServer, token: string | null, query: string, variables: Record<string, unknown> = {}) {
  const f = follow(server, token, query, variables);
  open.push(f);
  return f;
}
const disposeAll = () => Promise.all(open.splice(0).map((f) => f.dispose()));

describe("live figures across instances", () => {
  it("a write through A reaches a subscriber on B with the new figures, as the query shows them", async () => {
    const manager = await api.token({ role: "BRANCH_MANAGER", unit: "P" });
    const f = subscribe(b, manager, FIGURES, { code: "A" });
    const [first] = await f.waitFor(1);
    expect(first.errors).toBeUndefined();
    const before = actualOf(first);
    expect(first.data.figuresChanged.metric.target).toBe(100);

    await record("A1", 3);
    const next = await f.waitUntil((e) => actualOf(e) === before + 3);
    const query = await api.as({ role: "BRANCH_MANAGER", unit: "P" }).gql(
      `{ branch(code: "A") { performance(period: "2021-Q1") { metric(metric: APPLICATIONS) { actual target } rank(metric: APPLICATIONS) } } }`,
    );
    expect(next.data.figuresChanged).toEqual(query.data.branch.performance);
    await disposeAll();
  });

  it("a target set through A, and a batch imported by another process through Redis, reach B", async () => {
    const f = subscribe(b, await api.token({ role: "HQ" }), FIGURES, { code: "B" });
    const before = actualOf((await f.waitFor(1))[0]);
    const res = await api.as({ role: "INGEST" }).gql(`mutation { setTargets(input: [{ branchCode: "B", period: "2021-Q1", metric: APPLICATIONS, value: 120 }]) { updated } }`);
    expect(res.data.setTargets.updated).toBe(1);
    await f.waitUntil((e) => e.data.figuresChanged.metric.target === 120);

    // What `npm run import` does: its own, publish-only feed on the same Redis channel.
    const feed = await createChangeFeed(api.config, createLogger("silent"), { listen: false });
    try {
      const summary = await runImport(api.database.prisma, { kind: "applications", file: ndjson(apps("IMP", "B1", 4, "2021-01-06")), reportPath: reportPath(), feed });
      expect(summary.created).toBe(4);
    } finally {
      await feed.close();
    }
    await f.waitUntil((e) => actualOf(e) === before + 4);
    await disposeAll();
  });

  it("sends nothing for a dry run, a refused batch, or writes that change nothing the subscriber sees", async () => {
    const f = subscribe(b, await api.token({ role: "HQ" }), FIGURES, { code: "A" });
    const before = actualOf((await f.waitFor(1))[0]);
    const ranking = subscribe(b, await api.token({ role: "HQ" }), RANKING, { code: "P" });
    await ranking.waitFor(1);

    // A dry run does all its work, then rolls back.
    const dry = await runImport(api.database.prisma, { kind: "applications", file: ndjson(apps("DRY", "A1", 5, "2021-01-05")), reportPath: reportPath(), dryRun: true, feed: api.server.feed });
    expect(dry.created).toBe(5);
    // One bad row refuses the whole call.
    const refused = await api.as({ role: "INGEST" }).gql(RECORD, { in: [...apps("BAD", "A1", 2, "2021-01-05"), ...apps("BAD2", "NOPE", 1, "2021-01-05")] });
    expect(refused.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    // The same batch again: every row unchanged.
    const batch = apps("SAME", "A1", 2, "2021-01-05");
    await api.as({ role: "INGEST" }).gql(RECORD, { in: batch });
    await f.waitUntil((e) => actualOf(e) === before + 2);
    await ranking.waitFor(2);
    const events = f.events.length;
    const replay = await api.as({ role: "INGEST" }).gql(RECORD, { in: batch });
    expect(replay.data.recordApplications.unchanged).toBe(2);
    // Figures that move, but outside what these subscriptions show: another province, and A's
    // figures in another quarter (A and P are told, their Q1 figures and order stay).
    await record("Q1", 3);
    await record("A1", 2, "2021-05-04");
    await sleep(COALESCE_MS * 4);
    expect(f.events.length).toBe(events);
    expect(ranking.events.length).toBe(2);

    // Still listening: the next visible change arrives.
    await record("A1", 1);
    await f.waitUntil((e) => actualOf(e) === before + 3);
    await disposeAll();
  });

  it("rankingChanged sends the standings when the order changes", async () => {
    const f = subscribe(b, await api.token({ role: "BRANCH_MANAGER", unit: "B" }), RANKING, { code: "P" });
    const [first] = await f.waitFor(1);
    const standings = first.data.rankingChanged as { rank: number; actual: number; target: number; branch: { code: string } }[];
    expect(standings.map((s) => s.branch.code).sort()).toEqual(["A", "B"]);
    // Ranked by completion (shared/domain.md): enough records to lift the second above the first.
    const [leader, second] = standings;
    const needed = Math.floor((leader.actual / leader.target) * second.target) - second.actual + 1;
    const last = second.branch.code;
    await record(`${last}1`, needed);
    const moved = await f.waitUntil((e) => e.data.rankingChanged[0].branch.code === last);
    expect(moved.data.rankingChanged[0].rank).toBe(1);
    await disposeAll();
  });

  it("coalesces a burst of 100 writes into a few events, the last one with the final figures", async () => {
    const f = subscribe(b, await api.token({ role: "HQ" }), FIGURES, { code: "B" });
    const before = actualOf((await f.waitFor(1))[0]);
    const started = Date.now();
    // Ten at a time, as concurrent feeds would send them (record writes take turns on one lock).
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 10 }, () => record("B1", 1)));
    const elapsed = Date.now() - started;
    await f.waitUntil((e) => actualOf(e) === before + 100);
    await sleep(COALESCE_MS * 3);
    const during = f.events.slice(1);
    // At most one event per interval (and one more for the last change), never more.
    expect(during.length).toBeLessThanOrEqual(Math.ceil(elapsed / COALESCE_MS) + 2);
    expect(during.length).toBeLessThan(100);
    expect(actualOf(during[during.length - 1])).toBe(before + 100);
    // And an interval apart as they arrive. Not on the embedded database: it runs in this
    // process's thread, so while it works the client reads nothing and a late event arrives
    // together with the next (the unit test of live/ticks.ts checks the spacing itself).
    if (api.database.kind !== "embedded") {
      const arrivals = f.arrivals.slice(1);
      for (let i = 1; i < arrivals.length; i++) expect(arrivals[i] - arrivals[i - 1]).toBeGreaterThanOrEqual(COALESCE_MS - 25);
    }
    await disposeAll();
  }, 120_000);
});

describe("a re-org", () => {
  it("moves the standings: a sub-branch moved to another city takes its figures along", async () => {
    const f = subscribe(b, await api.token({ role: "HQ" }), RANKING, { code: "P" });
    const [first] = await f.waitFor(1);
    const actual = (e: { data?: any }, code: string) => (e.data.rankingChanged as { actual: number; branch: { code: string } }[]).find((s) => s.branch.code === code)!.actual;
    const [a, bb] = [actual(first, "A"), actual(first, "B")];
    const moved = await api.as({ role: "INGEST" }).gql(`mutation { upsertBranches(input: [{ code: "B1", name: "Sub B1", level: SUB_BRANCH, parentCode: "A" }]) { updated } }`);
    expect(moved.data.upsertBranches.updated).toBe(1);
    const after = await f.waitUntil((e) => actual(e, "B") === 0);
    expect(actual(after, "A")).toBe(a + bb);
    await disposeAll();
  });

  it("a unit moved under another parent is then ranked, live, among its new peers", async () => {
    const ingest = api.as({ role: "INGEST" });
    const units = await ingest.gql(`mutation($in: [BranchInput!]!) { upsertBranches(input: $in) { created } }`, {
      in: [
        { code: "C", name: "City C", level: "CITY", parentCode: "P" },
        { code: "D", name: "City D", level: "CITY", parentCode: "P" },
        { code: "C1", name: "Sub C1", level: "SUB_BRANCH", parentCode: "C" },
        { code: "D1", name: "Sub D1", level: "SUB_BRANCH", parentCode: "D" },
      ],
    });
    expect(units.data.upsertBranches.created).toBe(4);
    const target = (code: string, value: number) =>
      ingest.gql(`mutation($in: [TargetInput!]!) { setTargets(input: $in) { created updated } }`, { in: [{ branchCode: code, period: "2021-Q1", metric: "APPLICATIONS", value }] });
    await target("C1", 10);
    await target("D1", 10);
    await record("C1", 5);
    await record("D1", 6);
    const f = subscribe(b, await api.token({ role: "HQ" }), FIGURES, { code: "C1" });
    expect((await f.waitFor(1))[0].data.figuresChanged.rank).toBe(1); // C's only child

    // C1 (5 of 10) joins D1 (6 of 10) under D: second.
    const moved = await ingest.gql(`mutation { upsertBranches(input: [{ code: "C1", name: "Sub C1", level: SUB_BRANCH, parentCode: "D" }]) { updated } }`);
    expect(moved.data.upsertBranches.updated).toBe(1);
    await f.waitUntil((e) => e.data.figuresChanged.rank === 2);
    const seen = f.events.length;
    // D1's plan raised to 20: 6 of 20 falls behind C1's 5 of 10. Only a subscription that follows
    // C1's new peers hears it (it followed its old parent's children before it looked the unit up again).
    expect((await target("D1", 20)).data.setTargets.updated).toBe(1);
    await f.waitUntil((e) => f.events.indexOf(e) >= seen && e.data.figuresChanged.rank === 1);
    await disposeAll();
  });
});

describe("a rollup rebuild", () => {
  it("by another process reaches B's subscribers with the figures it repaired", async () => {
    await record("A1", 2, "2021-02-01");
    const hq = api.as({ role: "HQ" });
    const query = `{ branch(code: "A") { performance(period: "2021-Q1") { metric(metric: APPLICATIONS) { actual } } } }`;
    const truth = (await hq.gql(query)).data.branch.performance.metric.actual as number;
    // Drift that no write announces: what `npm run rollups:rebuild` repairs.
    const drifted = await api.database.prisma.$executeRaw`
      UPDATE rollup_branch_day SET count = count - 1 WHERE (branch_id, metric, day) = (
        SELECT branch_id, metric, day FROM rollup_branch_day
        WHERE metric = 'APPLICATIONS' AND count > 0 AND day BETWEEN '2021-01-01' AND '2021-03-31' AND branch_id = (SELECT id FROM branch WHERE code = 'A') LIMIT 1)`;
    expect(drifted).toBe(1);
    try {
      const f = subscribe(b, await api.token({ role: "HQ" }), FIGURES, { code: "A" });
      expect(actualOf((await f.waitFor(1))[0])).toBe(truth - 1);

      // What the command does (src/cli/rollups.ts): rebuild, then tell the instances. The
      // rebuild alone sends nothing (it writes outside the services); the announcement does.
      await rebuildRollups(api.database.prisma);
      await sleep(COALESCE_MS * 3);
      expect(f.events).toHaveLength(1);
      await announceOutsideWrite(api.config, createLogger("silent"));
      await f.waitUntil((e) => actualOf(e) === truth);
    } finally {
      await rebuildRollups(api.database.prisma); // the drift must not outlive a failure
      await disposeAll();
    }
  });
});

describe("who may subscribe", () => {
  it("refuses a subscriber outside the unit's scope, as the query does", async () => {
    const outside = await api.token({ role: "BRANCH_MANAGER", unit: "B" });
    const figures = subscribe(b, outside, FIGURES, { code: "A" });
    const ranking = subscribe(b, outside, RANKING, { code: "A" });
    const ingest = subscribe(b, await api.token({ role: "INGEST" }), FIGURES, { code: "A" });
    for (const f of [figures, ranking, ingest]) {
      const [refusal] = await f.waitFor(1);
      expect(refusal.data ?? null).toBeNull();
      expect(refusal.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    }
    // Nothing follows a refusal.
    await record("A1", 1);
    await sleep(COALESCE_MS * 3);
    expect([figures, ranking, ingest].map((f) => f.events.length)).toEqual([1, 1, 1]);
    await disposeAll();
  });

  it("closes the connection of an anonymous caller, a forged token and a unit that does not exist", async () => {
    const anonymous = subscribe(b, null, FIGURES, { code: "A" });
    expect(await anonymous.closed).toMatchObject({ code: 4401, reason: expect.stringContaining("sign in") });
    const forged = subscribe(b, "not.a.token", FIGURES, { code: "A" });
    expect(await forged.closed).toMatchObject({ code: 4401, reason: expect.stringContaining("malformed") });
    const nowhere = subscribe(b, await api.token({ role: "BRANCH_MANAGER", unit: "GONE" }), FIGURES, { code: "A" });
    expect(await nowhere.closed).toMatchObject({ code: 4401, reason: expect.stringContaining("unit claim") });
    expect([anonymous, forged, nowhere].map((f) => f.events.length)).toEqual([0, 0, 0]);
    await disposeAll();
  });

  it("ends a subscription when its token expires, with the reason", async () => {
    const token = await signToken(api.config, { sub: "short-lived", role: "HQ" }, 2);
    const f = subscribe(b, token, FIGURES, { code: "A" });
    await f.waitFor(1);
    const closed = await Promise.race([f.closed, sleep(6_000).then(() => null)]);
    expect(closed).toEqual({ code: 4401, reason: expect.stringContaining("the token has expired") });
    await disposeAll();
  });

  it(`caps open subscriptions per caller at LIVE_MAX_SUBSCRIPTIONS_PER_CALLER (${CAP})`, async () => {
    const token = await signToken(api.config, { sub: "capped", role: "HQ" });
    const first = Array.from({ length: CAP }, () => subscribe(b, token, FIGURES, { code: "A" }));
    await Promise.all(first.map((f) => f.waitFor(1)));
    const over = subscribe(b, token, FIGURES, { code: "A" });
    const [refusal] = await over.refused;
    expect(refusal.extensions?.code).toBe("TOO_MANY_SUBSCRIPTIONS");
    // Another caller is not affected, and a completed subscription frees its place.
    const other = subscribe(b, await signToken(api.config, { sub: "other", role: "HQ" }), FIGURES, { code: "A" });
    await other.waitFor(1);
    await first[0].dispose();
    await sleep(100);
    const again = subscribe(b, token, FIGURES, { code: "A" });
    expect((await again.waitFor(1))[0].errors).toBeUndefined();
    await disposeAll();
  });

  it("takes only subscriptions (and HTTP none), within the same document limits as HTTP", async () => {
    const token = await api.token({ role: "HQ" });
    const query = subscribe(b, token, `{ branch(code: "A") { code } }`);
    expect((await query.refused)[0]).toMatchObject({ extensions: { code: "BAD_REQUEST" }, message: expect.stringContaining("over HTTP") });
    const deep = subscribe(b, token, `subscription { rankingChanged(parentCode: "P", period: "2021-Q1", metric: APPLICATIONS) { branch { parent { parent { parent { parent { parent { parent { code } } } } } } } } }`);
    expect((await deep.refused)[0].extensions?.code).toBe("QUERY_TOO_DEEP");
    const nul = subscribe(b, token, FIGURES, { code: "A\u0000" });
    expect((await nul.refused)[0].extensions?.code).toBe("BAD_USER_INPUT");
    // And the other way round: HTTP runs no subscription.
    const overHttp = await api.as({ role: "HQ" }).gql(FIGURES, { code: "A" });
    expect(overHttp.status).toBe(400);
    expect(overHttp.errors?.[0]).toMatchObject({ extensions: { code: "BAD_REQUEST" }, message: expect.stringContaining("WebSocket") });
    await disposeAll();
  });
});

describe("campaigns, live", () => {
  it("a redemption that spends the budget reaches B: spent, remaining and the self-pause", async () => {
    const db = api.database.prisma;
    const unit = (await db.branch.findUnique({ where: { code: "A" } }))!.id;
    await db.merchant.create({ data: { code: "LM1", name: "Car wash", category: "CAR_WASH", address: "1 street", latitude: 37.52, longitude: 111.14, branchId: unit } });
    const marketing = api.as({ role: "MARKETING" });
    let key = 0;
    const k = () => `live-test-key-${++key}`;
    const created = await marketing.gql(`mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }`, {
      in: { idempotencyKey: k(), code: "LIVE", name: "Live", branchCode: "A", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 29, merchantCodes: ["LM1"], circleCodes: [] },
    });
    expect(created.errors).toBeUndefined();
    await marketing.gql(`mutation($in: CreatePromotionInput!) { createPromotion(input: $in) { code } }`, {
      in: { idempotencyKey: k(), code: "LIVE-WASH", campaignCode: "LIVE", title: "1-yuan wash", rule: { kind: "FIXED_PRICE", fixedPrice: 1, listPrice: 30 }, validFrom: "2021-01-01", validTo: "2021-03-31" },
    });
    const move = (to: string) => marketing.gql(`mutation($in: TransitionCampaignInput!) { transitionCampaign(input: $in) { status } }`, { in: { idempotencyKey: k(), code: "LIVE", to } });
    await move("SCHEDULED");

    const CAMPAIGN = `subscription { campaignChanged(code: "LIVE") { status spent remaining results(period: "2021-Q1") { redemptions } } }`;
    const f = subscribe(b, await api.token({ role: "MARKETING" }), CAMPAIGN);
    expect((await f.waitFor(1))[0].data.campaignChanged).toEqual({ status: "SCHEDULED", spent: 0, remaining: 29, results: { redemptions: 0 } });
    await move("ACTIVE");
    await f.waitUntil((e) => e.data.campaignChanged.status === "ACTIVE");

    const used = await api.as({ role: "ACQUIRER" }).gql(`mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { cost } }`, {
      in: { transactionId: "LIVE-T1", promotionCode: "LIVE-WASH", merchantCode: "LM1", cardToken: "tok_card_live_0001", at: "2021-01-09T02:00:00Z", spend: 30 },
    });
    expect(used.data.redeemPromotion.cost).toBe(29);
    const paused = await f.waitUntil((e) => e.data.campaignChanged.status === "PAUSED");
    expect(paused.data.campaignChanged).toEqual({ status: "PAUSED", spent: 29, remaining: 0, results: { redemptions: 1 } });

    // A branch manager beside the owning unit may not follow it.
    const beside = subscribe(b, await api.token({ role: "BRANCH_MANAGER", unit: "B" }), CAMPAIGN);
    expect((await beside.waitFor(1))[0].errors?.[0].extensions?.code).toBe("FORBIDDEN");
    await disposeAll();
  });
});

describe("shutdown", () => {
  it("closes every subscriber's connection cleanly when an instance stops", async () => {
    const c = await startSecondInstance(api);
    const f = subscribe(c, await api.token({ role: "HQ" }), FIGURES, { code: "A" });
    await f.waitFor(1);
    await c.close();
    expect(await f.closed).toMatchObject({ code: 1001 });
    await disposeAll();
  });
});

let files = 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "live-test-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
function ndjson(rows: object[]): string {
  const file = path.join(dir, `batch-${++files}.ndjson`);
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}
const reportPath = () => path.join(dir, `report-${++files}.ndjson`);
