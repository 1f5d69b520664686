/**
 * The response cache (issue 16, item 2) against the same reads uncached, on the bench bank:
 * the ranking and one unit's figures over HTTP at 1 and 8 connections, through an instance with
 * RESPONSE_CACHE_ENTRIES and one without, alternately; then the event delay: a target changed
 * through a second instance, and how long after that write's response the first instance's
 * cached ranking shows it (polled back to back). Every change is undone at the end.
 *
 *   node dist/bench/cache.js [--duration S] [--warmup S] [--concurrency 1,8] [--changes N]
 *                            [--branch CODE] [--out FILE]
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cardgrowth_bench) must hold the
 * synthetic bank (`npm run bench -- --build-only`); BENCH_REDIS_URL (redis://127.0.0.1:6379)
 * carries the change events between the instances. Figures go to bench/results.md under
 * `cache:records=N`.
 */
import "reflect-metadata";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { AS_OF, RANKING_DOCUMENT, RANKING_NAME, benchToken, performanceDocument, performanceName } from "./reads.js";
import { loadHttp, type LoadResult } from "./load.js";
import { describeMachine, loadAverage, writeResults } from "./report.js";
import { startServerProcess, type ServerProcess } from "./server.js";
import { fmt, PERIOD, PROVINCE_CODE } from "./synthetic.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (line: string) => console.log(line);

interface Options {
  url: string;
  redisUrl: string;
  warmupSeconds: number;
  durationSeconds: number;
  concurrency: number[];
  changes: number;
  branch: string;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    url: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/cardgrowth_bench",
    redisUrl: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
    warmupSeconds: 2,
    durationSeconds: 10,
    concurrency: [1, 8],
    changes: 100,
    branch: "C07",
    out: path.resolve(here, "..", "..", "bench", "results.md"),
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i];
    switch (argv[i]) {
      case "--duration": o.durationSeconds = Number(value()); break;
      case "--warmup": o.warmupSeconds = Number(value()); break;
      case "--concurrency": o.concurrency = value().split(",").map(Number); break;
      case "--changes": o.changes = Number(value()); break;
      case "--branch": o.branch = value(); break;
      case "--out": o.out = path.resolve(value()); break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return o;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function post(url: string, auth: string, query: string, variables?: unknown): Promise<any> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${auth}` }, body: JSON.stringify({ query, variables }) });
  const json = (await res.json()) as { data?: any; errors?: { message: string }[] };
  if (json.errors?.length) throw new Error(json.errors.map((e) => e.message).join("; "));
  return json.data;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const loadBefore = loadAverage();
  const machine = await describeMachine(opts.url, loadBefore);
  const admin = new pg.Client({ connectionString: opts.url });
  await admin.connect();
  const records = Number((await admin.query("SELECT count(*)::bigint AS n FROM application")).rows[0].n);
  if (records === 0) throw new Error(`${opts.url} holds no bank: build it first (npm run bench -- --build-only)`);
  const city = (await admin.query("SELECT b.code FROM branch b JOIN branch p ON p.id = b.parent_id WHERE p.code = $1 ORDER BY b.code LIMIT 1", [PROVINCE_CODE])).rows[0].code as string;
  const original = (await admin.query("SELECT t.value FROM target t JOIN branch b ON b.id = t.branch_id WHERE b.code = $1 AND t.period = $2 AND t.metric = 'NEW_CUSTOMERS'", [city, PERIOD])).rows[0]?.value as number | undefined;
  if (original === undefined) throw new Error(`${city} has no NEW_CUSTOMERS target for ${PERIOD}`);

  const metricsPort = await freePort();
  const shared = { REDIS_URL: opts.redisUrl };
  const servers: ServerProcess[] = [];
  const start = async (env: Record<string, string>) => {
    const s = await startServerProcess({ url: opts.url, pool: 10 }, [], { ...shared, ...env });
    servers.push(s);
    return s;
  };
  try {
    const cached = await start({ RESPONSE_CACHE_ENTRIES: "10000", METRICS_PORT: String(metricsPort) });
    const writer = await start({ RESPONSE_CACHE_ENTRIES: "10000" });
    const uncached = await start({});
    const hq = await benchToken("HQ");
    const ingest = await benchToken("INGEST");
    const headers = { authorization: `Bearer ${hq}` };

    // Reads: the same document through the instance with the cache and the one without, alternately.
    const documents = [
      { name: RANKING_NAME, graphql: RANKING_DOCUMENT },
      { name: performanceName(opts.branch), graphql: performanceDocument(opts.branch) },
    ];
    const rows: { request: string; path: string; result: LoadResult }[] = [];
    for (const d of documents) {
      for (const c of opts.concurrency) {
        for (const [label, server] of [["uncached", uncached], ["response cache", cached]] as const) {
          const result = await loadHttp(server.url, d.graphql, { concurrency: c, warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds, headers });
          server.assertAlive();
          log(`${d.name} ${label} c=${c}: ${result.rps.toFixed(0)} req/s, p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms, errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ""}`);
          rows.push({ request: d.name, path: label, result });
        }
      }
    }
    const hits = await metric(metricsPort, "cardgrowth_response_cache_hits_total");
    const misses = await metric(metricsPort, "cardgrowth_response_cache_misses_total");
    const bytes = await metric(metricsPort, "cardgrowth_response_cache_bytes");

    // Event delay: change the city's target through the writer; poll the cached instance until its ranking shows it.
    const setTarget = `mutation($in: [TargetInput!]!) { setTargets(input: $in) { created updated unchanged } }`;
    const targetOf = async () => (await post(cached.url, hq, RANKING_DOCUMENT)).branchRanking.find((s: any) => s.branch.code === city).target as number;
    const delays: number[] = [];
    let polls = 0;
    let seenAtOnce = 0; // changes the first request after the write's response already showed
    for (let i = 1; i <= opts.changes; i++) {
      const value = original + (i % 2 === 1 ? 1 : 2);
      await targetOf();
      await targetOf(); // now a hit
      await post(writer.url, ingest, setTarget, { in: [{ branchCode: city, period: PERIOD, metric: "NEW_CUSTOMERS", value }] });
      const answered = performance.now();
      for (let tries = 1; ; tries++) {
        polls++;
        if ((await targetOf()) === value) {
          if (tries === 1) seenAtOnce++;
          break;
        }
        if (performance.now() - answered > 10_000) throw new Error(`the cached ranking still showed the old target 10 s after the write (change ${i})`);
      }
      delays.push(performance.now() - answered);
    }
    await post(writer.url, ingest, setTarget, { in: [{ branchCode: city, period: PERIOD, metric: "NEW_CUSTOMERS", value: original }] });
    delays.sort((a, b) => a - b);
    const loadAfter = loadAverage();
    log(`event delay over ${opts.changes} changes: p50 ${ms(quantile(delays, 0.5))} ms, p99 ${ms(quantile(delays, 0.99))} ms, max ${ms(delays[delays.length - 1])} ms`);

    const table = [
      "| request | server | conns | req/s | p50 ms | p99 ms | requests | errors | cached ÷ uncached |",
      "|---|---|--:|--:|--:|--:|--:|--:|--:|",
      ...rows.map((r) => {
        const base = rows.find((o) => o.request === r.request && o.path === "uncached" && o.result.concurrency === r.result.concurrency)!;
        const ratio = r.path === "uncached" ? "" : `${(r.result.rps / base.result.rps).toFixed(1)} ×`;
        return `| ${r.request} | ${r.path} | ${r.result.concurrency} | ${r.result.rps.toFixed(0)} | ${ms(r.result.p50)} | ${ms(r.result.p99)} | ${fmt(r.result.requests)} | ${r.result.errors} | ${ratio} |`;
      }),
    ];
    const at8 = rows.filter((r) => r.path === "response cache" && r.result.concurrency === 8);
    const section = [
      `## Response cache: ${fmt(records)} applications, two instances sharing Redis`,
      "",
      `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC by \`node dist/bench/cache.js\` (bench/cache.ts).`,
      "",
      `- **Machine**: ${machine.cpu}, ${os.cpus().length} logical CPUs; shared with other work. **Load average** at the start: ${loadBefore}; at the end: ${loadAfter}`,
      `- **Servers**: three \`node dist/src/main.js\` on ${new URL(opts.url).pathname.slice(1)}, pool 10, REDIS_URL set on all: one with RESPONSE_CACHE_ENTRIES=10000 (measured), one with the same cache that takes the writes, one without (the uncached rows). Closed loop, HQ token, warm-up ${opts.warmupSeconds} s, ${opts.durationSeconds} s per row, period ${PERIOD} as of ${AS_OF}; load generator, servers, PostgreSQL and Redis on the same machine.`,
      "",
      ...table,
      "",
      `Cache counters of the measured instance after the reads: ${fmt(hits)} hits, ${fmt(misses)} misses (hit ratio ${((100 * hits) / (hits + misses)).toFixed(2)} %), ${fmt(bytes)} bytes held.`,
      "",
      "### Targets",
      "",
      "| target | measured | verdict |",
      "|---|---|---|",
      ...at8.map((r) => `| ${r.request} with the cache: p99 at 8 connections < 5 ms | ${ms(r.result.p99)} ms (${r.result.rps.toFixed(0)} req/s) | ${r.result.p99 < 5 ? "met" : "**not met**"} |`),
      "",
      "### Event delay",
      "",
      `${opts.changes} changes of ${city}'s NEW_CUSTOMERS target through the writing instance (\`setTargets\` as INGEST); after each write's response the measured instance's cached ranking was asked back to back until it showed the new target (${fmt(polls)} requests in all). **${seenAtOnce} of ${opts.changes}** changes were shown by the very first request after the write's response: the change event had reached the other instance before that request did, so the delay below is mostly that one request's own time (a miss, recomputing the ranking). From the write's response to the first answer showing it: **p50 ${ms(quantile(delays, 0.5))} ms, p90 ${ms(quantile(delays, 0.9))} ms, p99 ${ms(quantile(delays, 0.99))} ms, max ${ms(delays[delays.length - 1])} ms**. The target was set back to ${fmt(original)} afterwards.`,
    ].join("\n");
    writeResults(opts.out, `cache:records=${records}`, section);
    log(`written to ${opts.out}`);
  } finally {
    for (const s of servers) await s.stop();
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
