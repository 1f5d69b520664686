/**
 * Reads spread over a PostgreSQL streaming replica (issue 17): `branchRanking` and
 * `promotionsNear` over HTTP through
 *   1. one API instance on the primary,
 *   2. two instances on the primary (what more instances alone give),
 *   3. two instances over the primary and a replica (DATABASE_REPLICA_URLS),
 * the same total connections each time, split evenly between the instances. The primary and the
 * replica are a temporary pair of clusters on this machine (test/support/replica-cluster.ts:
 * PostgreSQL 15, pg_basebackup -R), with a synthetic bank built on the primary and streamed to the
 * replica; both are stopped and removed at the end. Writes the section "Reads over a replica"
 * of bench/results.md, under its marker (report.ts writeResults; replaced by each run).
 *
 *   node dist/bench/replicas.js [--records N] [--merchants N] [--promotions N]
 *                               [--concurrency C] [--warmup S] [--duration S] [--pool N] [--out FILE]
 *
 * (after `npx tsc -p tsconfig.bench.json`). BENCH_REDIS_URL (default redis://127.0.0.1:6379) is
 * the Redis the two instances share.
 */
import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startReplicaCluster } from "../test/support/replica-cluster.js";
import { BENCH_JWT_SECRET } from "./capture.js";
import { loadHttp, type LoadResult } from "./load.js";
import { DENSE_CENTRE, ensurePromotionsData, sizeFor } from "./promotions.js";
import { loadAverage, writeResults } from "./report.js";
import { startServerProcess, type ServerProcess } from "./server.js";
import { ensureData, fmt, migrate, PERIOD, PROVINCE_CODE } from "./synthetic.js";
import { loadConfig } from "../src/config.js";
import { signToken } from "../src/modules/auth/auth.service.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const SECTION = "## Reads over a replica";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const opts = {
  records: option("records", 300_000),
  merchants: option("merchants", 20_000),
  promotions: option("promotions", 2_000),
  concurrency: option("concurrency", 8),
  warmupSeconds: option("warmup", 3),
  durationSeconds: option("duration", 10),
  pool: option("pool", 8),
  out: process.argv.includes("--out") ? process.argv[process.argv.indexOf("--out") + 1] : path.resolve(here, "../../bench/results.md"),
};
const log = (line: string) => console.log(`[replicas] ${line}`);

const QUERIES = {
  [`branchRanking(${PROVINCE_CODE})`]: `query BranchRanking {
  branchRanking(parentCode: "${PROVINCE_CODE}", period: "${PERIOD}", metric: NEW_CUSTOMERS, asOf: "2021-02-28") { rank actual target completionRate branch { code name } }
}`,
  [`promotionsNear(${DENSE_CENTRE.name} centre, 2 km)`]: `query PromotionsNear {
  promotionsNear(latitude: ${DENSE_CENTRE.lat}, longitude: ${DENSE_CENTRE.lng}, radiusMeters: 2000, at: "2021-01-09T02:00:00Z", first: 20) {
    totalCount edges { node { distanceMeters merchant { code name } promotion { code title } } }
  }
}`,
};

/** The load split evenly over `servers`, at the same time; figures summed (rates) or worst (latencies). */
async function loadOver(servers: ServerProcess[], query: string, headers: Record<string, string>): Promise<LoadResult> {
  const each = Math.max(1, Math.floor(opts.concurrency / servers.length));
  const results = await Promise.all(servers.map((s) => loadHttp(s.url, query, { concurrency: each, warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds, headers })));
  for (const s of servers) s.assertAlive();
  return {
    ...results[0],
    concurrency: each * servers.length,
    requests: results.reduce((n, r) => n + r.requests, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
    rps: results.reduce((n, r) => n + r.rps, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
  };
}

/** Who answered one request through `server`: the routing must be what the row says it is. */
async function servedBy(server: ServerProcess, query: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(server.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query }) });
  const body = (await res.json()) as { extensions?: { servedBy?: string }; errors?: unknown };
  if (body.errors) throw new Error(`${JSON.stringify(body.errors)}`);
  return body.extensions?.servedBy ?? "primary (no replicas configured)";
}

async function main() {
  const loadAtStart = loadAverage();
  const started = performance.now();
  const cluster = await startReplicaCluster();
  const servers: ServerProcess[] = [];
  try {
    log(`primary ${cluster.primaryUrl}, replica ${cluster.replicaUrl}`);
    await migrate(cluster.primaryUrl, log);
    const data = await ensureData(cluster.primaryUrl, opts.records, false, log);
    await ensurePromotionsData(cluster.primaryUrl, false, log, sizeFor(opts.merchants, opts.promotions));
    await cluster.caughtUp();
    log(`built and replicated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const config = loadConfig({ NODE_ENV: "production", JWT_SECRET: BENCH_JWT_SECRET });
    const headers = { authorization: `Bearer ${await signToken(config, { sub: "bench", role: "HQ" })}` };
    const redis = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
    const start = async (replica: boolean) => {
      const env: Record<string, string> = { REDIS_URL: redis, LIVE_REDIS_CHANNEL: `bench-replicas-${process.pid}` };
      if (replica) env.DATABASE_REPLICA_URLS = cluster.replicaUrl;
      const server = await startServerProcess({ url: cluster.primaryUrl, pool: opts.pool }, [], env);
      servers.push(server);
      return server;
    };
    const stopAll = async () => {
      for (const s of servers.splice(0)) await s.stop();
    };
    const setups: { name: string; replica: boolean; instances: number }[] = [
      { name: "1 instance, primary", replica: false, instances: 1 },
      { name: "2 instances, primary", replica: false, instances: 2 },
      { name: "2 instances, primary + replica", replica: true, instances: 2 },
    ];
    const rows: string[] = [];
    for (const setup of setups) {
      const running = [];
      for (let i = 0; i < setup.instances; i++) running.push(await start(setup.replica));
      for (const [name, query] of Object.entries(QUERIES)) {
        const served = [...new Set(await Promise.all(running.map((s) => servedBy(s, query, headers))))].join(", ");
        log(`${setup.name}: ${name} (served by ${served})`);
        const r = await loadOver(running, query, headers);
        rows.push(`| ${name} | ${setup.name} | ${served} | ${r.concurrency} | ${fmt(Math.round(r.rps))} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`);
      }
      await stopAll();
    }
    const section = [
      `${SECTION}`,
      "",
      `\`node dist/bench/replicas.js\` (bench/replicas.ts), ${new Date().toISOString().slice(0, 16)}Z: ${fmt(data.records)} applications,`,
      `${fmt(opts.merchants)} merchants and ${fmt(opts.promotions)} promotions on a temporary PostgreSQL 15 primary with one`,
      "streaming replica (pg_basebackup -R), both on this machine; HQ's token; two instances share Redis.",
      `${os.cpus().length} logical CPUs shared by both PostgreSQL servers, the instances and the load generator`,
      `(load average at start ${loadAtStart}, other work on the machine included); ${opts.concurrency} connections in all,`,
      `split evenly over the instances; ${opts.warmupSeconds} s warm-up, ${opts.durationSeconds} s measured; pool ${opts.pool} per instance and database.`,
      "`served by` is each instance's `extensions.servedBy` on a probe before the load.",
      "",
      "| read | setup | served by | connections | req/s | p50 ms | p99 ms | errors |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      "On one machine a replica adds no CPU: both PostgreSQL servers, the instances and the load",
      "generator share the same cores (and, here, other work: see the load average), so a second",
      "instance or a replica only adds processes competing for them. These rows show that the reads",
      "are served by the replica, with no errors, through two instances; the capacity a replica on a",
      "server of its own adds is not measured here.",
      "",
    ].join("\n");
    // One writer for results.md (report.ts): a section outside its markers would be lost on its next write.
    writeResults(opts.out, `replicas:records=${data.records}`, section.trimEnd());
    log(`written to ${opts.out} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
