/**
 * Reads over a real PostgreSQL streaming replica (DATABASE_REPLICA_URLS): a temporary primary
 * and a replica of it (test/support/replica-cluster.ts), API servers over both. With replay
 * paused on the replica (`pg_wal_replay_pause()`) the replica really is behind: reads fall back
 * to the primary once its lag passes REPLICA_MAX_LAG_MS, and a caller's own write sends that
 * caller's reads to the primary on another instance, while others still read the replica's older
 * rows. Each response names who served it (`extensions.servedBy`). PostgreSQL only: the embedded
 * database has no replicas (vitest.config.ts).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { openPostgres } from "../../src/db/database.js";
import { applyMigrations } from "../../src/db/migrations.js";
import { twoCities } from "../fixtures/access.js";
import { merchant } from "../fixtures/merchants.js";
import { MUTATIONS, write } from "../fixtures/scenarios.js";
import type { TestDatabase } from "../support/database.js";
import { startTestApi, type GqlResponse, type TestApi, type TestApiOptions } from "../support/harness.js";
import { sleep } from "../support/live.js";
import { startReplicaCluster, type ReplicaCluster } from "../support/replica-cluster.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** This run's callers and channel: the read-your-writes positions in Redis outlive a run. */
const run = randomUUID().slice(0, 8);

let cluster: ReplicaCluster | undefined;
let database: TestDatabase | undefined;
const apis: TestApi[] = [];

beforeAll(async () => {
  cluster = await startReplicaCluster();
  const db = await openPostgres(cluster.primaryUrl, 4);
  await applyMigrations(db.adapterFactory);
  database = Object.assign(db, { engine: "postgres" as const, env: { DATABASE_URL: cluster.primaryUrl }, released: <T>(fn: () => Promise<T>) => fn() });
  const seeding = await startApi({}, { reset: true });
  await write(seeding, "branches", twoCities.branches);
  await cluster.caughtUp();
}, 90_000);

afterAll(async () => {
  // Whatever failed before: every server, the pool, then both clusters and their folders.
  await Promise.allSettled(apis.map((api) => api.close()));
  await database?.close().catch(() => {});
  await cluster?.stop();
});

/** An API server over the primary, reading from the replica; servers share Redis (read-your-writes, the feed). */
async function startApi(env: Record<string, string>, options: TestApiOptions = { reset: false }): Promise<TestApi> {
  const api = await startTestApi(
    { DATABASE_REPLICA_URLS: cluster!.replicaUrl, REPLICA_CHECK_INTERVAL_MS: "100", METRICS_PORT: "0", REDIS_URL, LIVE_REDIS_CHANNEL: `test-replica-${run}`, ...env },
    { ...options, database: database! },
  );
  apis.push(api);
  return api;
}

/** Sends `request` until `until` holds (every 50 ms, at most 15 s), then returns that answer. */
async function eventually(request: () => Promise<GqlResponse>, until: (res: GqlResponse) => boolean): Promise<GqlResponse> {
  let last: GqlResponse | undefined;
  for (let i = 0; i < 300; i++) {
    last = await request();
    if (until(last)) return last;
    await sleep(50);
  }
  throw new Error(`never came: last answer ${JSON.stringify(last)}`);
}

const servedBy = (by: string) => (res: GqlResponse) => res.extensions?.servedBy === by;

/** A series' value from the server's Prometheus text; labels in any order. */
async function metric(api: TestApi, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(api.server.metricsUrl!)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const branchName = `query($code: String!) { branch(code: $code) { code name } }`;
const rename = (code: string, name: string, parentCode: string) => ({ in: [{ code, name, level: "SUB_BRANCH", parentCode }] });

describe("read replicas", () => {
  it("config: DATABASE_REPLICA_URLS needs DATABASE_URL (the embedded database has no replicas), and postgres:// URLs", () => {
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: "postgres://replica:5432/db" })).toThrow(/DATABASE_REPLICA_URLS: requires DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: "postgres://primary:5432/db", DATABASE_REPLICA_URLS: "mysql://replica/db" })).toThrow(/DATABASE_REPLICA_URLS: each entry must be a postgres:\/\/ URL/);
  });

  it("a query is served by a caught-up replica; a mutation always by the primary", async () => {
    const api = await startApi({ REPLICA_MAX_LAG_MS: "1000" });
    const read = await eventually(() => api.as("HQ").gql(branchName, { code: "S1" }), servedBy("replica"));
    expect(read.data).toEqual({ branch: { code: "S1", name: "Sub-branch one" } });

    const written = await api.as("INGEST", undefined, `ingest-${run}`).gql(MUTATIONS.branches, rename("S1", "Sub-branch one (renamed)", "C1"));
    expect(written).toEqual({ status: 200, data: { r: { created: 0, updated: 1, unchanged: 0 } }, extensions: { servedBy: "primary" } });
    expect(await metric(api, "cardgrowth_db_routed_requests_total", { served_by: "primary", reason: "write" })).toBe(1);
    expect(await metric(api, "cardgrowth_db_routed_requests_total", { served_by: "replica", reason: "replica" })).toBeGreaterThanOrEqual(1);
  });

  it("with replay paused, reads fall back to the primary once the lag passes REPLICA_MAX_LAG_MS; after resume the replica serves them again", async () => {
    const api = await startApi({ REPLICA_MAX_LAG_MS: "1000" });
    const hq = () => api.as("HQ").gql(branchName, { code: "S2" });
    await eventually(hq, servedBy("replica"));
    await cluster!.sql("replica", "SELECT pg_wal_replay_pause()");
    try {
      const written = await api.as("INGEST", undefined, `ingest-${run}`).gql(MUTATIONS.branches, rename("S2", "Written while paused", "C1"));
      expect(written.data).toEqual({ r: { created: 0, updated: 1, unchanged: 0 } });
      // HQ did not write: only the lag can send its reads to the primary.
      const fallback = await eventually(hq, servedBy("primary"));
      expect(fallback.data).toEqual({ branch: { code: "S2", name: "Written while paused" } });
      expect(await metric(api, "cardgrowth_db_routed_requests_total", { served_by: "primary", reason: "lag" })).toBeGreaterThanOrEqual(1);
      expect(await metric(api, "cardgrowth_db_replica_lag_seconds", {})).toBeGreaterThan(1);
      // The replica really is behind: it still has the name from before the write.
      expect(await cluster!.sql("replica", "SELECT name FROM branch WHERE code = 'S2'")).toEqual([{ name: "Sub-branch two" }]);
    } finally {
      await cluster!.sql("replica", "SELECT pg_wal_replay_resume()");
    }
    const resumed = await eventually(hq, servedBy("replica"));
    expect(resumed.data).toEqual({ branch: { code: "S2", name: "Written while paused" } });
    expect(await metric(api, "cardgrowth_db_replica_lag_seconds", {})).toBeLessThanOrEqual(1);
  });

  it("read-your-writes across instances: a caller's write is in their next read through another instance; others read the replica meanwhile", async () => {
    // A bound the paused replica stays within during the test: here only the caller's write position can move a read.
    const [a, b] = [await startApi({ REPLICA_MAX_LAG_MS: "60000" }), await startApi({ REPLICA_MAX_LAG_MS: "60000" })];
    const writer = { role: "MARKETING" as const, sub: `writer-${run}` };
    const other = { role: "MARKETING" as const, sub: `other-${run}` };
    const merchantMX = `{ merchant(code: "MX") { code name } }`;
    await eventually(() => b.as(other).gql(merchantMX), servedBy("replica"));
    await cluster!.sql("replica", "SELECT pg_wal_replay_pause()");
    try {
      const written = await a.as(writer).gql(MUTATIONS.merchants, { in: [merchant("MX", "S1")] });
      expect(written).toEqual({ status: 200, data: { r: { created: 1, updated: 0, unchanged: 0 } }, extensions: { servedBy: "primary" } });

      const mine = await b.as(writer).gql(merchantMX);
      expect(mine).toEqual({ status: 200, data: { merchant: { code: "MX", name: "Merchant MX" } }, extensions: { servedBy: "primary" } });
      const theirs = await b.as(other).gql(merchantMX);
      expect(theirs).toEqual({ status: 200, data: { merchant: null }, extensions: { servedBy: "replica" } });
      expect(await metric(b, "cardgrowth_db_routed_requests_total", { served_by: "primary", reason: "own_write" })).toBe(1);
    } finally {
      await cluster!.sql("replica", "SELECT pg_wal_replay_resume()");
    }
    // Once the replica has replayed the write, the writer's reads go back to it.
    const replayed = await eventually(() => b.as(writer).gql(merchantMX), servedBy("replica"));
    expect(replayed.data).toEqual({ merchant: { code: "MX", name: "Merchant MX" } });
  });
});
