/**
 * The response cache (src/graphql/response-cache.ts) across two API instances sharing the test
 * database and the local Redis, both with the cache on: instance A (the harness) takes the
 * writes, the reads go to instance B. A cached answer must change once B has heard a write
 * made through A (or by the import, another process); a hit sends no SQL; a dry run leaves
 * the entry served and still true; no answer reaches a caller whose answer differs.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeChanges, type Change } from "../../src/live/change.js";
import { announceOutsideWrite, createChangeFeed } from "../../src/live/feed.js";
import { createLogger } from "../../src/logger.js";
import { runImport } from "../../src/modules/import/import.service.js";
import type { RunningServer } from "../../src/server.js";
import { merchant } from "../fixtures/merchants.js";
import { apps, seed, write } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, type As, type GqlResponse, type TestApi } from "../support/harness.js";
import { sleep, startSecondInstance, TEST_REDIS_URL, uniqueChannel } from "../support/live.js";

const Q = "2021-Q1";
const AS_OF = "2021-02-28";

let api: TestApi;
let b: RunningServer;
let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "response-cache-"));
  api = await startTestApi({ REDIS_URL: TEST_REDIS_URL, LIVE_REDIS_CHANNEL: uniqueChannel(), RESPONSE_CACHE_ENTRIES: "1000", METRICS_PORT: "0" });
  b = await startSecondInstance(api);
  await seed(api, {
    branches: [
      { code: "SX", name: "Province", level: "PROVINCE" },
      { code: "SX-LL", name: "City", level: "CITY", parentCode: "SX" },
      { code: "SX-LL-01", name: "First sub-branch", level: "SUB_BRANCH", parentCode: "SX-LL" },
      { code: "SX-LL-02", name: "Second sub-branch", level: "SUB_BRANCH", parentCode: "SX-LL" },
    ],
    managers: [
      { code: "M-01", name: "Manager one", branchCode: "SX-LL-01" },
      { code: "M-02", name: "Manager two", branchCode: "SX-LL-01" },
      { code: "M-03", name: "Manager three", branchCode: "SX-LL-02" },
    ],
    targets: [
      { branchCode: "SX-LL-01", period: Q, metric: "APPLICATIONS", value: 10 },
      { branchCode: "SX-LL-02", period: Q, metric: "APPLICATIONS", value: 10 },
    ],
    applications: [
      ...apps("A1", "SX-LL-01", 3, "2021-01-05", { managerCode: "M-01" }),
      ...apps("A2", "SX-LL-01", 2, "2021-01-06", { managerCode: "M-02" }),
      ...apps("B1", "SX-LL-02", 4, "2021-01-07", { managerCode: "M-03" }),
    ],
  });
});
afterAll(async () => {
  await b?.close();
  await api?.close();
});

const FIGURES = `query($code: String!) { branch(code: $code) { code name performance(period: "${Q}", asOf: "${AS_OF}") { metric(metric: APPLICATIONS) { actual target } } } }`;
const RANKING = `query($code: String!) { branchRanking(parentCode: $code, period: "${Q}", metric: APPLICATIONS, asOf: "${AS_OF}") { rank actual branch { code name } } }`;
const MANAGERS = `query($code: String!) { accountManagerRanking(branchCode: $code, period: "${Q}", metric: APPLICATIONS, asOf: "${AS_OF}") {
  rank actual manager { code name performance(period: "${Q}", asOf: "${AS_OF}") { metric(metric: APPLICATIONS) { actual } } } } }`;

const MANAGER_NAMES = `query($code: String!) { accountManagerRanking(branchCode: $code, period: "${Q}", metric: APPLICATIONS, asOf: "${AS_OF}") { rank manager { name } } }`;

/** A request to instance B as `who`. */
const atB = (who: As, query: string, variables: Record<string, unknown> = {}): Promise<GqlResponse> => api.at(b, who).gql(query, variables);

/**
 * The same request twice: the second must be a hit with the same answer, sending no SQL, not
 * even a scoped caller's unit check: the HTTP layer answers it before GraphQL runs.
 */
async function cached(who: As, query: string, variables: Record<string, unknown> = {}): Promise<GqlResponse> {
  // A change of an earlier write still on its way would (rightly) make the second request a miss.
  await settled();
  const first = await atB(who, query, variables);
  expect(first.errors).toBeUndefined();
  let second!: GqlResponse;
  expect(await api.countStatements(async () => (second = await atB(who, query, variables)))).toBe(0);
  expect(second).toEqual(first);
  return second;
}

/** The same request as `cached` sends, as raw HTTP: status, headers and bytes. */
async function raw(who: Exclude<As, "ANONYMOUS">, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(b.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await api.token(who)}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const kept = ["content-type", "cache-control", "etag", "content-length", "vary"];
  return { status: res.status, headers: Object.fromEntries(kept.map((h) => [h, res.headers.get(h)])), body: await res.text() };
}

/** Waits until `test` holds (fails after 10 s). */
async function until(test: () => boolean): Promise<void> {
  for (const started = Date.now(); !test(); await sleep(10)) if (Date.now() - started > 10_000) throw new Error("timed out waiting");
}

/** Waits until B has heard every change published through A so far (Redis keeps one publisher's order). */
async function settled(): Promise<void> {
  const marker = `settled-${randomUUID()}`;
  const heard = new Promise<void>((resolve) => {
    const stop = b.feed.subscribe((change) => {
      if (!change.campaigns.includes(marker)) return;
      stop();
      resolve();
    });
  });
  api.server.feed.publish(mergeChanges({ campaigns: [marker] }));
  await heard;
}

/** Resolves with the next change B hears (through Redis). */
function nextChangeAtB(): Promise<Change> {
  return new Promise((resolve) => {
    const stop = b.feed.subscribe((change) => {
      stop();
      resolve(change);
    });
  });
}

const HQ: As = { role: "HQ" };
const actual = (res: GqlResponse) => res.data.branch.performance.metric.actual as number;

let files = 0;
function ndjson(rows: object[]): string {
  const file = path.join(dir, `batch-${++files}.ndjson`);
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}

describe("never stale", () => {
  it("a cached answer changes on the next request once B has heard a write made through A", async () => {
    const before = actual(await cached(HQ, FIGURES, { code: "SX-LL-01" }));
    expect(before).toBe(5);
    const ranking = await cached(HQ, RANKING, { code: "SX-LL" });
    // 5 of 10 ranks above 4 of 10.
    expect(ranking.data.branchRanking.map((r: { branch: { code: string }; actual: number }) => [r.branch.code, r.actual])).toEqual([
      ["SX-LL-01", 5],
      ["SX-LL-02", 4],
    ]);

    const heard = nextChangeAtB();
    await write(api, "applications", apps("W1", "SX-LL-01", 2, "2021-01-08"));
    expect((await heard).figures.units).toContain("SX-LL-01");
    expect(actual(await atB(HQ, FIGURES, { code: "SX-LL-01" }))).toBe(before + 2);
    const after = await atB(HQ, RANKING, { code: "SX-LL" });
    expect(after.data.branchRanking.find((r: { branch: { code: string } }) => r.branch.code === "SX-LL-01").actual).toBe(7);
  });

  it("a rename, which moves no figure, still reaches the cached ranking", async () => {
    await cached(HQ, RANKING, { code: "SX-LL" });
    const heard = nextChangeAtB();
    await write(api, "branches", [{ code: "SX-LL-02", name: "Second, renamed", level: "SUB_BRANCH", parentCode: "SX-LL" }]);
    expect((await heard).other).toBe(true);
    const after = await atB(HQ, RANKING, { code: "SX-LL" });
    expect(after.data.branchRanking.map((r: { branch: { name: string } }) => r.branch.name)).toContain("Second, renamed");
  });

  it("a dry run publishes nothing and leaves the cached answer served, and true; the real import then reaches B", async () => {
    const cachedAnswer = await cached(HQ, FIGURES, { code: "SX-LL-02" });
    const feed = await createChangeFeed(api.config, createLogger("silent"), { listen: false });
    let heardAnything = false;
    const stop = b.feed.subscribe(() => (heardAnything = true));
    try {
      const rows = apps("IMP", "SX-LL-02", 3, "2021-01-09");
      const dry = await runImport(api.database.prisma, { kind: "applications", file: ndjson(rows), reportPath: path.join(dir, "dry.ndjson"), feed, dryRun: true });
      expect(dry.created).toBe(3);
      // Served from the cache (no SQL), and still what the database says: the same document
      // spelled differently is a miss, computed afresh.
      let hit!: GqlResponse;
      expect(await api.countStatements(async () => (hit = await atB(HQ, FIGURES, { code: "SX-LL-02" })))).toBe(0);
      expect(hit).toEqual(cachedAnswer);
      const fresh = await atB(HQ, FIGURES.replace("code name", "code name __typename"), { code: "SX-LL-02" });
      expect(fresh.data.branch.performance).toEqual(cachedAnswer.data.branch.performance);

      const heard = nextChangeAtB();
      const real = await runImport(api.database.prisma, { kind: "applications", file: ndjson(rows), reportPath: path.join(dir, "real.ndjson"), feed });
      expect(real.created).toBe(3);
      await heard;
      expect(actual(await atB(HQ, FIGURES, { code: "SX-LL-02" }))).toBe(actual(cachedAnswer) + 3);
    } finally {
      stop();
      await feed.close();
    }
    // Only the real import was heard (the dry run's absence is checked by the hit above).
    expect(heardAnything).toBe(true);
  });

  it("a unit's campaigns and circles (the dashboard's details) follow a campaign created and a circle changed through A", async () => {
    await write(api, "merchants", [merchant("ME-01", "SX-LL-01"), merchant("ME-02", "SX-LL-01")]);
    await write(api, "circles", [{ code: "K-01", name: "Mall", kind: "COMPLEX", branchCode: "SX-LL", merchantCodes: ["ME-01"] }]);
    const DETAILS = `{ campaigns(branchCode: "SX-LL", first: 10) { totalCount edges { node { code status results(period: "${Q}", asOf: "${AS_OF}") { applications } } } }
      businessCircles(branchCode: "SX-LL", first: 10) { edges { node { code merchantCount } } } }`;
    const before = await cached(HQ, DETAILS);
    expect(before.data.campaigns.totalCount).toBe(0);
    expect(before.data.businessCircles.edges[0].node.merchantCount).toBe(1);

    let heard = nextChangeAtB();
    const created = await api.as({ role: "MARKETING" }).gql("mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }", {
      in: { idempotencyKey: "rc-camp-1", code: "CAMP-RC", name: "Campaign", branchCode: "SX-LL", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 1000, circleCodes: ["K-01"] },
    });
    expect(created.errors).toBeUndefined();
    await heard;
    expect((await atB(HQ, DETAILS)).data.campaigns.edges.map((e: { node: { code: string; status: string } }) => [e.node.code, e.node.status])).toEqual([["CAMP-RC", "DRAFT"]]);

    heard = nextChangeAtB();
    await write(api, "circles", [{ code: "K-01", name: "Mall", kind: "COMPLEX", branchCode: "SX-LL", merchantCodes: ["ME-01", "ME-02"] }]);
    await heard;
    expect((await atB(HQ, DETAILS)).data.businessCircles.edges[0].node.merchantCount).toBe(2);
  });

  it("a command-line tool that writes outside the services (demo loader, rollup rebuild) announces it, and B's entries go", async () => {
    await cached(HQ, FIGURES, { code: "SX-LL" });
    const heard = nextChangeAtB();
    await announceOutsideWrite(api.config, createLogger("silent"));
    expect(await heard).toMatchObject({ other: true, rederived: true });
    expect(await api.countStatements(() => atB(HQ, FIGURES, { code: "SX-LL" }))).toBeGreaterThan(0);
  });

  it("drops what it holds when B's Redis subscription goes down, and starts afresh once it is back", async () => {
    await cached(HQ, FIGURES, { code: "SX-LL-01" });
    // Cut the feed's subscriber connections of this test's channel (A's and B's, nobody else's).
    const admin = new Redis(TEST_REDIS_URL);
    try {
      const name = `live:${api.config.LIVE_REDIS_CHANNEL}`;
      const ids = ((await admin.call("CLIENT", "LIST", "TYPE", "pubsub")) as string)
        .split("\n")
        .filter((line) => line.includes(` name=${name} `))
        .map((line) => /\bid=(\d+)/.exec(line)![1]);
      expect(ids.length).toBe(2);
      for (const id of ids) await admin.call("CLIENT", "KILL", "ID", id);
    } finally {
      admin.disconnect();
    }
    await until(() => !b.feed.complete());
    // A change published meanwhile would be lost to B: what it held is not served.
    expect(await api.countStatements(() => atB(HQ, FIGURES, { code: "SX-LL-01" }))).toBeGreaterThan(0);
    // ioredis reconnects by itself; the feed subscribes again, and the gap's end drops what was
    // kept in between: a new answer is computed once, then kept.
    await until(() => b.feed.complete());
    expect(await api.countStatements(() => atB(HQ, FIGURES, { code: "SX-LL-01" }))).toBeGreaterThan(0);
    expect(await api.countStatements(() => atB(HQ, FIGURES, { code: "SX-LL-01" }))).toBe(0);
  });

  it("reports hits, misses and its memory in the metrics", async () => {
    await cached(HQ, FIGURES, { code: "SX" });
    const text = await (await fetch(b.metricsUrl!)).text();
    const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    expect(sample("cardgrowth_response_cache_hits_total")).toBeGreaterThanOrEqual(1);
    expect(sample("cardgrowth_response_cache_misses_total")).toBeGreaterThanOrEqual(1);
    expect(sample("cardgrowth_response_cache_bytes")).toBeGreaterThan(0);
    expect(sample("cardgrowth_response_cache_evictions_total")).toBe(0);
    expect(sample("cardgrowth_response_cache_early_hits_total")).toBeGreaterThanOrEqual(1);
  });

  it("a hit answered before GraphQL runs has the status, headers and bytes Apollo sent; a request it cannot answer exactly goes on to Apollo, which serves the entry", async () => {
    const who: As = { role: "BRANCH_MANAGER", unit: "SX-LL" };
    const vars = { code: "SX-LL" };
    await settled();
    const stats = () => fetch(b.metricsUrl!).then(async (r) => {
      const text = await r.text();
      const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
      // The early answer still counts as its operation in the request metrics.
      const rankings = Number(/^cardgrowth_graphql_requests_total\{operation="Query.branchRanking",type="query",status="200"\} (\S+)$/m.exec(text)?.[1]);
      return { hits: sample("cardgrowth_response_cache_hits_total"), early: sample("cardgrowth_response_cache_early_hits_total"), rankings };
    });
    const first = await raw(who, RANKING, vars); // computed by Apollo, and stored
    const before = await stats();
    const early = await raw(who, RANKING, vars);
    const afterEarly = await stats();
    expect(afterEarly).toEqual({ hits: before.hits + 1, early: before.early + 1, rankings: before.rankings + 1 });
    expect(early).toEqual(first);
    expect(first.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(first.body).data.branchRanking.length).toBe(2);
    // Another Accept: Apollo negotiates the content type, and its plugin serves the same entry.
    const negotiated = await raw(who, RANKING, vars, { accept: "application/graphql-response+json" });
    expect(await stats()).toEqual({ hits: afterEarly.hits + 1, early: afterEarly.early, rankings: afterEarly.rankings + 1 });
    expect(negotiated.headers["content-type"]).toBe("application/graphql-response+json; charset=utf-8");
    expect(negotiated.body).toBe(first.body);
  });
});

describe("never across scopes", () => {
  it("a sibling's figures cached for HQ never reach a branch manager of SX-LL-01", async () => {
    // Their own unit is theirs, cached for them alone.
    const own = await cached({ role: "BRANCH_MANAGER", unit: "SX-LL-01" }, FIGURES, { code: "SX-LL-01" });
    expect(own.data.branch.code).toBe("SX-LL-01");
    await cached(HQ, FIGURES, { code: "SX-LL-02" });
    const manager = await atB({ role: "BRANCH_MANAGER", unit: "SX-LL-01" }, FIGURES, { code: "SX-LL-02" });
    expect(codeOf(manager)).toBe("FORBIDDEN");
    expect(manager.data?.branch ?? null).toBeNull();
    // And HQ's entry is still served, untouched by the refusal.
    expect(await api.countStatements(() => atB(HQ, FIGURES, { code: "SX-LL-02" }))).toBe(0);
  });

  it("a manager ranking cached for HQ gives an account manager neither another unit's names nor their peers' figures", async () => {
    const forHq = await cached(HQ, MANAGERS, { code: "SX-LL-02" });
    expect(forHq.data.accountManagerRanking.map((r: { manager: { name: string } }) => r.manager.name)).toEqual(["Manager three"]);
    const am = { role: "ACCOUNT_MANAGER", unit: "SX-LL-01", sub: "M-01" } as const;
    const elsewhere = await atB(am, MANAGERS, { code: "SX-LL-02" });
    expect(codeOf(elsewhere)).toBe("FORBIDDEN");
    expect(JSON.stringify(elsewhere)).not.toContain("Manager three");

    // Their own unit's ranking with every manager's figures, cached for HQ: the account manager
    // may not read a peer's figures, so the whole answer is refused for them.
    const own = await cached(HQ, MANAGERS, { code: "SX-LL-01" });
    const m02 = own.data.accountManagerRanking.findIndex((r: { manager: { code: string } }) => r.manager.code === "M-02");
    expect(own.data.accountManagerRanking[m02].manager.performance.metric.actual).toBe(2);
    const peers = await atB(am, MANAGERS, { code: "SX-LL-01" });
    expect(peers.errors?.map((e) => [e.extensions?.code, e.path?.join(".")])).toEqual([["FORBIDDEN", `accountManagerRanking.${m02}.manager.performance`]]);
    expect(peers.data).toBeNull();
    // The names are published to peers: that answer is theirs, cached for them.
    const names = await cached(am, MANAGER_NAMES, { code: "SX-LL-01" });
    expect(names.data.accountManagerRanking.map((r: { manager: { name: string } }) => r.manager.name).sort()).toEqual(["Manager one", "Manager two"]);
  });

  it("answers outside the allow-list are never served from the cache", async () => {
    // The audit trail is written without a published change: every request reads it afresh.
    const trail = `{ auditTrail(first: 1) { totalCount } }`;
    await atB(HQ, trail);
    expect(await api.countStatements(() => atB(HQ, trail))).toBeGreaterThan(0);
  });
});
