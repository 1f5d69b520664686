/**
 * The live path's bench (docs/architecture.md, "The live path"): two API instances as separate
 * processes (`node dist/src/main.js`) on a scratch copy of the bench database (<name>_live), sharing
 * the local Redis on a channel of this run's own, and 1,000 graphql-ws subscriptions, half on each.
 *
 * - Subscriptions: `figuresChanged` on every city and sub-branch (and the province) twice and on
 *   outlets spread over the bank, `rankingChanged` on the province, the cities and sub-branches;
 *   the two subscriptions of a unit sit on different instances. Each socket belongs to one
 *   branch manager (a token of the unit's city, or the province's for the province and cities:
 *   allowed to see it) and carries `perSocket` subscriptions.
 * - Latency: one approved application at a time through instance A's HTTP (`recordApplications`),
 *   spaced wider than LIVE_COALESCE_MS so coalescing holds little back. Per event, the time
 *   from the mutation's response (the commit is before it) and from its sending to the event's
 *   arrival, split by the subscriber's instance (A: the writer's own; B: through Redis). The
 *   subscriptions whose figures the write moved must each get one event: expected vs received.
 * - Memory: each server's RSS (/proc VmRSS) and heap used (process.memoryUsage through the
 *   inspector, after a forced GC: the servers run with --inspect on a loopback port) before and
 *   after the subscriptions are opened → bytes per subscription.
 * - Throughput: the import command (a process of its own, publishing each batch through Redis)
 *   on a generated file while every subscription listens: events per second at the clients, and
 *   the import's rows/s; then the same size again with the subscriptions closed, for the cost.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { loadConfig } from "../src/config.js";
import { signToken } from "../src/modules/auth/auth.service.js";
import { BENCH_JWT_SECRET } from "./capture.js";
import { adminQuery, generateFiles, readOrg, withDatabase } from "./import.js";
import { loadAverage, type Machine } from "./report.js";
import { startServerProcess, type ServerProcess } from "./server.js";
import { fmt, PERIOD, quoteIdent } from "./synthetic.js";

type Log = (line: string) => void;

export interface LiveOptions {
  /** The bench database (copied, never written). */
  url: string;
  root: string;
  pool: number;
  redisUrl: string;
  subscriptions: number;
  perSocket: number;
  writes: number;
  coalesceMs: number;
  spacingMs: number;
  /** Rows of the import run under the subscriptions (0: none). */
  importRows: number;
  /** Import as many rows again once the subscriptions are closed. */
  compareImport: boolean;
}

export interface Memory {
  rssMb: number;
  heapUsedMb: number;
}

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export interface ImportUnderLoad {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  summaryLine: string;
  loadAtStart: string;
  /** Events received by every client from the import's start to the last one its batches caused. */
  events: number;
  eventsPerSecond: number;
  /** The busiest whole second. */
  peakEventsPerSecond: number;
  /** Subscriptions that got at least one event during the import. */
  subscriptionsReached: number;
  /** Peak RSS of each instance while it ran (VmRSS sampled every 250 ms). */
  peakRssMb: [number, number];
  /** From the import's exit to the last event of its last batch at a client. */
  lastEventAfterEndSeconds: number;
  /** Each instance after the import, after a forced GC, the subscriptions still open: what stays. */
  afterImport: [Memory, Memory];
  /** Events per subscription during the import: fewest, median, most (one per batch at most). */
  perSubscription: { min: number; median: number; max: number };
  batches: number;
  /** After the import: subscriptions whose last event shows the figure the query gives now. */
  finalChecked: number;
  finalMatching: number;
}

export interface LiveReport {
  scratchDatabase: string;
  channel: string;
  pool: number;
  subscriptions: number;
  figuresSubscriptions: number;
  rankingSubscriptions: number;
  sockets: number;
  perSocket: number;
  coalesceMs: number;
  spacingMs: number;
  openSeconds: number;
  openErrors: number;
  firstError: string | null;
  memory: { before: [Memory, Memory]; after: [Memory, Memory]; perInstance: [number, number] };
  latency: {
    writes: number;
    mutationMs: Stats;
    fromResponse: { same: Stats; other: Stats };
    fromSend: { same: Stats; other: Stats };
    expected: number;
    /** Events that showed the total of the write they answer. */
    received: number;
    /** Writes whose total a subscriber saw only in a later event (coalesced with the next write). */
    coalesced: number;
    /** Events showing no new total (a unit's rank among its peers moved). */
    extra: number;
    /** Events whose total matches no write (should be 0). */
    wrongContent: number;
    /** Subscriptions whose last event shows every write that moved them. */
    lastShowsAll: number;
  };
  loadAtStart: string;
  loadAfterLatency: string;
  withSubscribers: ImportUnderLoad | null;
  withoutSubscribers: { rows: number; seconds: number; rowsPerSecond: number; loadAtStart: string; afterClose: [Memory, Memory] } | null;
}

interface Unit {
  code: string;
  level: string;
  parent: string | null;
}

interface Planned {
  id: number;
  kind: "figures" | "ranking";
  unit: string;
  instance: 0 | 1;
  /** The branch manager's unit whose token opens it. */
  caller: string;
  /** Arrival times (performance.now()) and payloads. */
  arrivals: number[];
  events: any[];
}

const FIGURES = `subscription Figures($code: String!) {
  figuresChanged(branchCode: $code, period: "${PERIOD}") { metric(metric: APPLICATIONS) { actual target } rank(metric: APPLICATIONS) }
}`;
const RANKING = `subscription Ranking($code: String!) {
  rankingChanged(parentCode: $code, period: "${PERIOD}", metric: APPLICATIONS) { rank actual target branch { code } }
}`;
const RECORD = `mutation Record($in: [ApplicationInput!]!) { recordApplications(input: $in) { created updated unchanged } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export function stats(values: number[]): Stats {
  if (values.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

function vmRssMb(pid: number): number {
  try {
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return Math.round((kb / 1024) * 10) / 10;
  } catch {
    return 0;
  }
}

/**
 * A server's memory after a forced GC, through its inspector (the Chrome DevTools protocol over
 * the WebSocket the server printed at startup): no product change is needed to read the heap.
 */
async function serverMemory(server: ServerProcess): Promise<Memory> {
  const m = /Debugger listening on (ws:\/\/\S+)/.exec(server.output());
  if (!m) throw new Error(`no inspector URL in the server's output:\n${server.output().slice(-1000)}`);
  const ws = new WebSocket(m[1]);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let next = 0;
  const pending = new Map<number, (msg: { result?: any; error?: { message: string } }) => void>();
  ws.on("message", (data: WebSocket.RawData) => {
    const msg = JSON.parse(data.toString());
    pending.get(msg.id)?.(msg);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const id = ++next;
      pending.set(id, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call("HeapProfiler.collectGarbage");
    await call("HeapProfiler.collectGarbage");
    const r = await call("Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true });
    const usage = JSON.parse(r.result.value as string) as NodeJS.MemoryUsage;
    return { rssMb: vmRssMb(server.child.pid!), heapUsedMb: mb(usage.heapUsed) };
  } finally {
    ws.close();
  }
}

/** The subscriptions: who follows what, on which instance, as whom. */
function plan(units: Unit[], total: number): Planned[] {
  const byCode = new Map(units.map((u) => [u.code, u]));
  const province = units.find((u) => u.level === "PROVINCE")!.code;
  /** The manager of the unit's city; the province's for the province and the cities (a ranking of the cities is the province's). */
  const callerOf = (code: string) => {
    let u = byCode.get(code)!;
    if (u.level === "PROVINCE" || u.level === "CITY") return province;
    while (u.level !== "CITY") u = byCode.get(u.parent!)!;
    return u.code;
  };
  const upper = units.filter((u) => u.level !== "OUTLET").map((u) => u.code);
  const outlets = units.filter((u) => u.level === "OUTLET").map((u) => u.code);
  const rankingCount = Math.round(total * 0.2);
  const figuresCount = total - rankingCount;
  const ranking = Array.from({ length: rankingCount }, (_, i) => upper[i % upper.length]);
  const figures = [...upper, ...upper].slice(0, figuresCount);
  const rest = figuresCount - figures.length;
  for (let i = 0; i < rest; i++) figures.push(outlets[Math.floor((i * outlets.length) / rest)]);
  // Sorted so that a unit's two subscriptions are neighbours and land on different instances.
  const all = [...figures.map((unit) => ({ kind: "figures" as const, unit })), ...ranking.map((unit) => ({ kind: "ranking" as const, unit }))].sort(
    (a, b) => a.kind.localeCompare(b.kind) || a.unit.localeCompare(b.unit),
  );
  return all.map((s, id) => ({ id, ...s, instance: (id % 2) as 0 | 1, caller: callerOf(s.unit), arrivals: [], events: [] }));
}

interface Socket {
  client: Client;
  subs: Planned[];
}

export async function benchLive(opts: LiveOptions, log: Log): Promise<LiveReport> {
  const source = decodeURIComponent(new URL(opts.url).pathname.replace(/^\//, ""));
  const scratchName = `${source}_live`;
  const scratchUrl = withDatabase(opts.url, scratchName);
  const channel = `cardgrowth-bench:live:${process.pid}:${randomUUID()}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-bench-live-"));
  log(`\nlive: scratch database ${scratchName} (a copy of ${source}), Redis channel ${channel}`);
  await adminQuery(opts.url, `DROP DATABASE IF EXISTS ${quoteIdent(scratchName)} WITH (FORCE)`);
  await adminQuery(opts.url, `CREATE DATABASE ${quoteIdent(scratchName)} TEMPLATE ${quoteIdent(source)} STRATEGY FILE_COPY`);

  const config = loadConfig({ NODE_ENV: "production", JWT_SECRET: BENCH_JWT_SECRET });
  const client = new pg.Client({ connectionString: scratchUrl });
  await client.connect();
  const servers: ServerProcess[] = [];
  const sockets: Socket[] = [];
  try {
    const units = (
      await client.query<{ code: string; level: string; parent: string | null }>(
        "SELECT b.code, b.level, p.code AS parent FROM branch b LEFT JOIN branch p ON p.id = b.parent_id ORDER BY b.code",
      )
    ).rows;
    const byCode = new Map(units.map((u) => [u.code, u]));
    const env = {
      REDIS_URL: opts.redisUrl,
      LIVE_REDIS_CHANNEL: channel,
      LIVE_COALESCE_MS: String(opts.coalesceMs),
    };
    for (let i = 0; i < 2; i++) servers.push(await startServerProcess({ url: scratchUrl, pool: opts.pool }, ["--inspect=127.0.0.1:0"], env));
    log(`  instance A ${servers[0].url} (pid ${servers[0].child.pid}), instance B ${servers[1].url} (pid ${servers[1].child.pid})`);
    const wsUrl = (s: ServerProcess) => s.url.replace(/^http/, "ws");

    let callers = 0;
    const openSocket = async (instance: 0 | 1, callerUnit: string, subs: Planned[], errors: string[]): Promise<Socket> => {
      const token = await signToken(config, { sub: `bench-live-${++callers}`, role: "BRANCH_MANAGER", unit: callerUnit });
      const c = createClient({
        url: wsUrl(servers[instance]),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: false,
        keepAlive: 0,
        onNonLazyError: (e) => errors.push(String((e as { reason?: string }).reason ?? e)),
      });
      for (const s of subs) {
        c.subscribe(
          { query: s.kind === "figures" ? FIGURES : RANKING, variables: { code: s.unit } },
          {
            next: (e) => {
              s.arrivals.push(performance.now());
              s.events.push(e);
              if (e.errors) errors.push(JSON.stringify(e.errors).slice(0, 300));
            },
            error: (e) => errors.push(JSON.stringify(e).slice(0, 300)),
            complete: () => {},
          },
        );
      }
      return { client: c, subs };
    };
    const waitFirst = async (subs: Planned[], errors: string[], ms: number) => {
      const until = performance.now() + ms;
      while (subs.some((s) => s.arrivals.length === 0)) {
        if (errors.length > 0 || performance.now() > until) {
          throw new Error(`${subs.filter((s) => s.arrivals.length === 0).length} subscriptions without a first event; errors: ${errors.slice(0, 3).join(" | ")}`);
        }
        await sleep(20);
      }
    };

    // Warm-up: a few subscriptions per instance opened and closed, so that the baseline
    // holds the code paths a subscription loads, not just a server that never served one.
    {
      const errors: string[] = [];
      const warm = plan(units, 40);
      const ws = await Promise.all([0, 1].map((i) => openSocket(i as 0 | 1, warm[0].caller, warm.filter((s) => s.instance === i && s.caller === warm[0].caller).slice(0, 8), errors)));
      await waitFirst(ws.flatMap((w) => w.subs), errors, 30_000);
      await Promise.all(ws.map((w) => w.client.dispose()));
      await sleep(2_000);
    }
    const before = (await Promise.all(servers.map(serverMemory))) as [Memory, Memory];
    log(`  memory before: A ${before[0].rssMb} MB RSS / ${before[0].heapUsedMb} MB heap, B ${before[1].rssMb} MB / ${before[1].heapUsedMb} MB`);

    // The 1,000: sockets by (instance, caller), `perSocket` subscriptions each.
    const planned = plan(units, opts.subscriptions);
    const groups = new Map<string, Planned[]>();
    for (const s of planned) {
      const key = `${s.instance}|${s.caller}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(s);
    }
    const errors: string[] = [];
    const t0 = performance.now();
    for (const [key, subs] of groups) {
      const [instance, caller] = key.split("|");
      for (let i = 0; i < subs.length; i += opts.perSocket) {
        sockets.push(await openSocket(Number(instance) as 0 | 1, caller, subs.slice(i, i + opts.perSocket), errors));
      }
    }
    await waitFirst(planned, errors, 180_000);
    const openSeconds = (performance.now() - t0) / 1000;
    log(`  opened ${fmt(planned.length)} subscriptions on ${sockets.length} sockets in ${openSeconds.toFixed(1)} s (first event of each received)`);
    await sleep(3_000);
    const after = (await Promise.all(servers.map(serverMemory))) as [Memory, Memory];
    const perInstance = [0, 1].map((i) => planned.filter((s) => s.instance === i).length) as [number, number];
    log(`  memory after: A ${after[0].rssMb} MB RSS / ${after[0].heapUsedMb} MB heap, B ${after[1].rssMb} MB / ${after[1].heapUsedMb} MB`);
    for (const s of planned) if (s.events.length !== 1) log(`  note: ${s.kind}(${s.unit}) has ${s.events.length} events before any write`);

    // ---- Latency: one application at a time through A.
    const loadAtStart = loadAverage();
    const ingest = await signToken(config, { sub: "bench-live-ingest", role: "INGEST" });
    // Outlets someone follows (any outlet when a small run follows none): each write moves a
    // subscribed outlet and its ancestors.
    const followed = [...new Set(planned.filter((s) => s.kind === "figures" && byCode.get(s.unit)!.level === "OUTLET").map((s) => s.unit))];
    const subscribedOutlets = followed.length > 0 ? followed : units.filter((u) => u.level === "OUTLET").map((u) => u.code);
    const ancestorsOf = (code: string): string[] => {
      const out: string[] = [];
      for (let u = byCode.get(code)!.parent; u; u = byCode.get(u)!.parent) out.push(u);
      return out;
    };
    const writes: { outlet: string; sent: number; answered: number; from: number[] }[] = [];
    const runTag = Date.now().toString(36);
    for (let k = 0; k < opts.writes; k++) {
      const outlet = subscribedOutlets[Math.floor((k * subscribedOutlets.length) / opts.writes + (k % 7)) % subscribedOutlets.length];
      const application = {
        externalId: `LIVE-${runTag}-${k}`,
        customerId: `CU-LIVE-${runTag}-${k}`,
        branchCode: outlet,
        channel: "ONLINE",
        receivedOn: "2021-02-15",
        keyedOn: "2021-02-15",
        decision: "APPROVED",
        decidedOn: "2021-02-16",
      };
      // Where each subscription's events stood before this write.
      const from = planned.map((s) => s.arrivals.length);
      const sent = performance.now();
      const res = await fetch(servers[0].url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ingest}` },
        body: JSON.stringify({ query: RECORD, variables: { in: [application] } }),
      });
      const body = (await res.json()) as { data?: { recordApplications: { created: number } }; errors?: unknown };
      const answered = performance.now();
      if (body.errors || body.data?.recordApplications.created !== 1) throw new Error(`write ${k}: ${JSON.stringify(body).slice(0, 500)}`);
      writes.push({ outlet, sent, answered, from });
      await sleep(Math.max(0, opts.spacingMs - (performance.now() - sent)));
    }
    await sleep(Math.max(2_000, opts.coalesceMs * 4));
    servers.forEach((s) => s.assertAlive());
    const loadAfterLatency = loadAverage();

    // Each event is matched to the write it shows, by content: a figuresChanged's actual, and
    // a rankingChanged's sum of its children's actuals, grow by one with each write that moves
    // the subscription. An event showing the i-th such write's total is that write's event; a
    // jump over a total means writes were folded into one event (coalesced); an event showing
    // no new total is one the write did not cause for this subscription (a rank among peers).
    const fromResponse: [number[], number[]] = [[], []];
    const fromSend: [number[], number[]] = [[], []];
    let expected = 0;
    let received = 0;
    let coalesced = 0;
    let extra = 0;
    let wrongContent = 0;
    let lastShowsAll = 0;
    const totalOf = (s: Planned, e: any): number =>
      s.kind === "figures" ? e?.data?.figuresChanged?.metric?.actual : (e?.data?.rankingChanged as { actual: number }[] | undefined)?.reduce((n, x) => n + x.actual, 0) ?? NaN;
    for (const s of planned) {
      const moving = writes.filter((w) => {
        const ancestors = ancestorsOf(w.outlet);
        return s.kind === "figures" ? w.outlet === s.unit || ancestors.includes(s.unit) : ancestors.includes(s.unit);
      });
      expected += moving.length;
      const first = writes[0].from[s.id];
      const base = totalOf(s, s.events[first - 1]);
      let seen = 0;
      for (let e = first; e < s.events.length; e++) {
        const i = totalOf(s, s.events[e]) - base;
        if (i === seen) {
          extra++;
        } else if (Number.isInteger(i) && i > seen && i <= moving.length) {
          received++;
          coalesced += i - seen - 1;
          seen = i;
          fromResponse[s.instance].push(s.arrivals[e] - moving[i - 1].answered);
          fromSend[s.instance].push(s.arrivals[e] - moving[i - 1].sent);
        } else {
          wrongContent++;
        }
      }
      if (seen === moving.length) lastShowsAll++;
    }
    const latency = {
      writes: writes.length,
      mutationMs: stats(writes.map((w) => w.answered - w.sent)),
      fromResponse: { same: stats(fromResponse[0]), other: stats(fromResponse[1]) },
      fromSend: { same: stats(fromSend[0]), other: stats(fromSend[1]) },
      expected,
      received,
      coalesced,
      extra,
      wrongContent,
      lastShowsAll,
    };
    const ms = (s: Stats) => `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (${fmt(s.n)} events)`;
    log(`  ${writes.length} writes through A, mutation round trip ${ms(latency.mutationMs)}`);
    log(`  from response, same instance (A): ${ms(latency.fromResponse.same)}`);
    log(`  from response, other instance (B): ${ms(latency.fromResponse.other)}`);
    log(`  expected ${fmt(expected)} events, received ${fmt(received)}, ${fmt(coalesced)} writes folded into a later event; ${fmt(extra)} extra; ${wrongContent} unexplained; last event shows every write for ${lastShowsAll}/${planned.length}`);

    // ---- Throughput: the import command under the subscriptions.
    let withSubscribers: ImportUnderLoad | null = null;
    let withoutSubscribers: LiveReport["withoutSubscribers"] = null;
    if (opts.importRows > 0) {
      const org = await readOrg(client);
      const file = path.join(dir, "applications.csv");
      await generateFiles(org, file, path.join(dir, "applications.copy.csv"), 1, opts.importRows);
      fs.rmSync(path.join(dir, "applications.copy.csv"), { force: true });
      const from = planned.map((s) => s.arrivals.length);
      const peak: [number, number] = [0, 0];
      const sampler = setInterval(() => servers.forEach((s, i) => (peak[i] = Math.max(peak[i], vmRssMb(s.child.pid!)))), 250);
      const loadAt = loadAverage();
      log(`  importing ${fmt(opts.importRows)} rows under the subscriptions (load average ${loadAt}) ...`);
      const started = performance.now();
      const run = await runImportCli(opts.root, scratchUrl, file, { ...env }, log);
      const importEnd = performance.now();
      // The last batch's events are still being computed when the import exits: wait until
      // the clients have heard nothing for 3 s (at most a minute).
      const count = () => planned.reduce((n, s) => n + s.arrivals.length, 0);
      for (let quiet = 0, last = count(); quiet < 3_000 && performance.now() - importEnd < 60_000; ) {
        await sleep(250);
        const now = count();
        quiet = now === last ? quiet + 250 : 0;
        last = now;
      }
      clearInterval(sampler);
      const arrivals = planned.flatMap((s) => s.arrivals.slice(from[s.id]));
      const windowEnd = Math.max(importEnd, ...arrivals);
      const perSecond = new Map<number, number>();
      for (const a of arrivals) perSecond.set(Math.floor((a - started) / 1000), (perSecond.get(Math.floor((a - started) / 1000)) ?? 0) + 1);
      // The last event of each figures subscription against what the query answers now.
      let finalChecked = 0;
      let finalMatching = 0;
      const hq = await signToken(config, { sub: "bench-live-check", role: "HQ" });
      for (const s of planned.filter((x) => x.kind === "figures").slice(0, 50)) {
        const r = await fetch(servers[1].url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${hq}` },
          body: JSON.stringify({ query: `query($c: String!) { branch(code: $c) { performance(period: "${PERIOD}") { metric(metric: APPLICATIONS) { actual } } } }`, variables: { c: s.unit } }),
        });
        const actual = ((await r.json()) as any).data.branch.performance.metric.actual;
        finalChecked++;
        if (s.events[s.events.length - 1].data.figuresChanged.metric.actual === actual) finalMatching++;
      }
      const afterImport = (await Promise.all(servers.map(serverMemory))) as [Memory, Memory];
      log(`  memory after the import (GC): A ${afterImport[0].rssMb} MB RSS / ${afterImport[0].heapUsedMb} MB heap, B ${afterImport[1].rssMb} MB / ${afterImport[1].heapUsedMb} MB`);
      const counts = planned.map((s) => s.arrivals.length - from[s.id]).sort((a, b) => a - b);
      withSubscribers = {
        rows: opts.importRows,
        ...run,
        loadAtStart: loadAt,
        events: arrivals.length,
        eventsPerSecond: arrivals.length / ((windowEnd - started) / 1000),
        peakEventsPerSecond: Math.max(0, ...perSecond.values()),
        subscriptionsReached: planned.filter((s) => s.arrivals.length > from[s.id]).length,
        peakRssMb: peak,
        lastEventAfterEndSeconds: (windowEnd - importEnd) / 1000,
        afterImport,
        perSubscription: { min: counts[0], median: counts[Math.floor(counts.length / 2)], max: counts[counts.length - 1] },
        batches: Math.ceil(opts.importRows / 50_000),
        finalChecked,
        finalMatching,
      };
      log(
        `  import with ${fmt(planned.length)} subscribers: ${run.seconds.toFixed(1)} s, ${fmt(Math.round(run.rowsPerSecond))} rows/s; ` +
          `${fmt(arrivals.length)} events (${withSubscribers.eventsPerSecond.toFixed(0)}/s, peak ${withSubscribers.peakEventsPerSecond}/s) to ${withSubscribers.subscriptionsReached} subscriptions; ` +
          `final figures match the query for ${finalMatching}/${finalChecked}`,
      );
      servers.forEach((s) => s.assertAlive());

      if (opts.compareImport) {
        await Promise.all(sockets.splice(0).map((s) => s.client.dispose()));
        await sleep(3_000);
        const afterClose = (await Promise.all(servers.map(serverMemory))) as [Memory, Memory];
        log(`  memory with the subscriptions closed (GC): A ${afterClose[0].rssMb} MB RSS / ${afterClose[0].heapUsedMb} MB heap, B ${afterClose[1].rssMb} MB / ${afterClose[1].heapUsedMb} MB`);
        const file2 = path.join(dir, "applications-2.csv");
        await generateFiles(org, file2, path.join(dir, "applications-2.copy.csv"), opts.importRows + 1, opts.importRows);
        fs.rmSync(path.join(dir, "applications-2.copy.csv"), { force: true });
        const loadAt2 = loadAverage();
        log(`  importing ${fmt(opts.importRows)} rows again, the subscriptions closed (load average ${loadAt2}) ...`);
        const run2 = await runImportCli(opts.root, scratchUrl, file2, { ...env }, log);
        withoutSubscribers = { rows: opts.importRows, seconds: run2.seconds, rowsPerSecond: run2.rowsPerSecond, loadAtStart: loadAt2, afterClose };
        log(`  import without subscribers: ${run2.seconds.toFixed(1)} s, ${fmt(Math.round(run2.rowsPerSecond))} rows/s`);
      }
    }

    return {
      scratchDatabase: scratchName,
      channel,
      pool: opts.pool,
      subscriptions: planned.length,
      figuresSubscriptions: planned.filter((s) => s.kind === "figures").length,
      rankingSubscriptions: planned.filter((s) => s.kind === "ranking").length,
      sockets: groups.size === 0 ? 0 : [...groups.values()].reduce((n, g) => n + Math.ceil(g.length / opts.perSocket), 0),
      perSocket: opts.perSocket,
      coalesceMs: opts.coalesceMs,
      spacingMs: opts.spacingMs,
      openSeconds,
      openErrors: errors.length,
      firstError: errors[0] ?? null,
      memory: { before, after, perInstance },
      latency,
      loadAtStart,
      loadAfterLatency,
      withSubscribers,
      withoutSubscribers,
    };
  } finally {
    await Promise.all(sockets.map((s) => s.client.dispose()));
    await Promise.all(servers.map((s) => s.stop()));
    await client.end();
    await adminQuery(opts.url, `DROP DATABASE IF EXISTS ${quoteIdent(scratchName)} WITH (FORCE)`).catch((err) => log(`  could not drop ${scratchName}: ${err}`));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The import command in a process of its own, publishing to the instances' Redis channel. */
async function runImportCli(root: string, url: string, file: string, env: Record<string, string>, log: Log): Promise<{ seconds: number; rowsPerSecond: number; summaryLine: string }> {
  const cli = path.join(root, "dist", "src", "cli", "import.js");
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, "applications", file], {
    env: { ...process.env, ...env, DATABASE_URL: url, NODE_ENV: "production", LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let lastLogged = 0;
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
    if (performance.now() - lastLogged > 30_000) {
      lastLogged = performance.now();
      const m = [...output.matchAll(/progress: (\d+) rows/g)].pop();
      if (m) log(`    ${fmt(Number(m[1]))} rows after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`the import exited with ${code}:\n${output.slice(-3000)}`);
  const summaryLine = /^\d+ rows read in .*$/m.exec(output)?.[0] ?? "";
  const rows = Number(/^(\d+) rows read/m.exec(summaryLine)?.[1] ?? NaN);
  return { seconds, rowsPerSecond: rows / seconds, summaryLine };
}

/** The results.md section of a live run. */
export function renderLiveSection(r: LiveReport, machine: Machine, records: number, date: Date): string {
  const ms = (x: number) => (Number.isNaN(x) ? "—" : x.toFixed(1));
  const row = (name: string, s: Stats) => `| ${name} | ${fmt(s.n)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${ms(s.mean)} |`;
  const perSub = (i: 0 | 1, key: keyof Memory) => Math.round(((r.memory.after[i][key] - r.memory.before[i][key]) * 2 ** 20) / r.memory.perInstance[i]);
  const kb = (bytes: number) => `${fmt(Math.round(bytes / 1024))} KB`;
  const load1 = (l: string) => Number(l.split(" ")[0]);
  const busy = [r.loadAtStart, r.loadAfterLatency, r.withSubscribers?.loadAtStart, r.withoutSubscribers?.loadAtStart].filter((l): l is string => !!l).some((l) => load1(l) >= 1.5);
  const lines = [
    `## Live path: ${fmt(r.subscriptions)} subscriptions over two instances`,
    "",
    `Measured ${date.toISOString().slice(0, 16).replace("T", " ")} UTC by bench/live.ts (\`npm run bench\`, or alone \`npm run bench -- --live-only\`). No numeric target was set: the figures are reported.`,
    "",
    `- **Machine**: ${machine.cpu}, ${machine.logicalCpus} logical CPUs${machine.cpuQuota ? ` (${machine.cpuQuota})` : ""}, ${machine.memory} RAM, ${machine.kernel}; **shared with other work**. ` +
      `Load average (1/5/15 min): ${r.loadAtStart} when the writes started, ${r.loadAfterLatency} after them` +
      (r.withSubscribers ? `, ${r.withSubscribers.loadAtStart} when the import under the subscriptions started` : "") +
      (r.withoutSubscribers ? `, ${r.withoutSubscribers.loadAtStart} when the import without them started` : "") +
      "." +
      (busy ? " **The load was high** (≥ 1.5 on 2 cores) during part of the run: the two servers, the clients, the import, PostgreSQL, Redis and other jobs share both cores, so every figure here includes waiting for a core." : ""),
    `- **Node** ${machine.node}; **PostgreSQL** ${machine.postgres.split(" on ")[0]}; Redis on 127.0.0.1:6379.`,
    `- **Data**: a scratch copy (\`${r.scratchDatabase}\`, dropped afterwards) of the synthetic bank of ${fmt(records)} applications (1,208 units: 1 province, 13 cities, 92 sub-branches, 1,102 outlets).`,
    `- **Instances**: two \`node dist/src/main.js\` processes (NODE_ENV=production, Prisma pool ${r.pool} each), A and B, with REDIS_URL and a Redis channel of this run's own (\`LIVE_REDIS_CHANNEL\`), run with \`--inspect=127.0.0.1:0\` so that the bench can force a GC and read \`process.memoryUsage()\` (no session is attached while latency is measured). **LIVE_COALESCE_MS=${r.coalesceMs}** for the run (default 1,000), and the writes are ${r.spacingMs} ms apart, so that coalescing seldom holds an event back (how often it did is counted below).`,
    `- **Subscriptions**: ${fmt(r.figuresSubscriptions)} \`figuresChanged\` (each city and sub-branch and the province twice, the rest outlets spread over the bank) and ${fmt(r.rankingSubscriptions)} \`rankingChanged\` (the province, cities and sub-branches as parents), period ${PERIOD}; the two subscriptions of a unit sit on different instances (${fmt(r.memory.perInstance[0])} on A, ${fmt(r.memory.perInstance[1])} on B). The \`graphql-ws\` client the tests use, over **${r.sockets} sockets** of at most ${r.perSocket} subscriptions each, one branch manager per socket (a token of the unit's city; the province's for the province and the cities). All opened in ${r.openSeconds.toFixed(1)} s (until each had its first event); ${r.openErrors} errors${r.firstError ? ` (first: ${r.firstError})` : ""}.`,
    `- **Client**: this bench process, on the same machine: the arrival time is when its event loop read the message.`,
    "",
    "### Event latency",
    "",
    `${fmt(r.latency.writes)} writes, each one approved application at an outlet that has a subscriber, through instance A's HTTP (\`recordApplications\`, mutation round trip p50 ${ms(r.latency.mutationMs.p50)} ms, p99 ${ms(r.latency.mutationMs.p99)} ms). ` +
      `Per event, the time from the mutation's response (its transaction committed before it) to the event's arrival at the client, and from the mutation's sending; ` +
      `A is the writer's own instance (the change still goes round Redis: every instance hears every write from Redis), B the other. A negative time: the event arrived before the HTTP response.`,
    "",
    "| from | subscriber's instance | events | p50 ms | p99 ms | max ms | mean ms |",
    "|---|---|--:|--:|--:|--:|--:|",
    row("the response | same (A)", r.latency.fromResponse.same),
    row("the response | other (B)", r.latency.fromResponse.other),
    row("the sending | same (A)", r.latency.fromSend.same),
    row("the sending | other (B)", r.latency.fromSend.other),
    "",
    `Each event is matched to the write it shows by content: a \`figuresChanged\`'s actual, and a \`rankingChanged\`'s sum of its children's actuals, grow by one with each write under the unit (a \`figuresChanged\` of the outlet or an ancestor, a \`rankingChanged\` of an ancestor), so the times above are from the write whose total the event first shows. ` +
      `Expected (subscription, write) pairs: **${fmt(r.latency.expected)}; events that showed their write's total: ${fmt(r.latency.received)}**; ${fmt(r.latency.coalesced)} writes were seen only in a later event (folded into the next write's, coalescing); ` +
      `${fmt(r.latency.extra)} further events showed no new total (a unit's rank among its peers moved: not in the times above); ${r.latency.wrongContent} events matched no write. ` +
      `The last event of **${fmt(r.latency.lastShowsAll)} of ${fmt(r.subscriptions)}** subscriptions shows every write that moved them.`,
    "",
    "### Memory per subscription",
    "",
    "After a forced GC (twice) through the inspector, 2 s after a warm-up (a few subscriptions opened and closed) and again 3 s after the subscriptions had their first events; RSS is VmRSS from /proc.",
    "",
    "| instance | subscriptions | RSS before → after MB | heap used before → after MB | RSS per subscription | heap per subscription |",
    "|---|--:|--:|--:|--:|--:|",
    ...([0, 1] as const).map(
      (i) =>
        `| ${i === 0 ? "A" : "B"} | ${fmt(r.memory.perInstance[i])} | ${r.memory.before[i].rssMb} → ${r.memory.after[i].rssMb} | ${r.memory.before[i].heapUsedMb} → ${r.memory.after[i].heapUsedMb} | ${kb(perSub(i, "rssMb"))} | ${kb(perSub(i, "heapUsedMb"))} |`,
    ),
    "",
  ];
  const w = r.withSubscribers;
  if (w) {
    lines.push(
      "### Events while the import runs",
      "",
      `The import command (\`node dist/src/cli/import.js applications\`, a process of its own with REDIS_URL: each committed batch of 50,000 rows is published to the instances) on ${fmt(w.rows)} generated rows while the ${fmt(r.subscriptions)} subscriptions listen.`,
      "",
      "| import | rows | s | rows/s | events at the clients | events/s (mean) | busiest second | subscriptions reached | peak RSS A / B MB |",
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
      `| with ${fmt(r.subscriptions)} subscriptions | ${fmt(w.rows)} | ${w.seconds.toFixed(1)} | ${fmt(Math.round(w.rowsPerSecond))} | ${fmt(w.events)} | ${w.eventsPerSecond.toFixed(1)} | ${fmt(w.peakEventsPerSecond)} | ${fmt(w.subscriptionsReached)} | ${w.peakRssMb[0]} / ${w.peakRssMb[1]} |`,
    );
    const wo = r.withoutSubscribers;
    if (wo) lines.push(`| the subscriptions closed (instances still up) | ${fmt(wo.rows)} | ${wo.seconds.toFixed(1)} | ${fmt(Math.round(wo.rowsPerSecond))} | — | — | — | — | — |`);
    const mem = (m: [Memory, Memory]) => `A ${m[0].rssMb} MB RSS / ${m[0].heapUsedMb} MB heap, B ${m[1].rssMb} / ${m[1].heapUsedMb} MB`;
    lines.push(
      "",
      `Events per subscription during the import (${w.batches} batches, so at most ${w.batches}): fewest ${w.perSubscription.min}, median ${w.perSubscription.median}, most ${w.perSubscription.max}; fewer than one per batch means changes folded into one event while the subscription's last one was still being computed or sent (coalescing).`,
      "",
      `Memory after a forced GC: with the subscriptions open, after the import: ${mem(w.afterImport)} (before it: ${mem(r.memory.after)})` +
        (wo ? `; once the subscriptions were closed: ${mem(wo.afterClose)} (before any was opened: ${mem(r.memory.before)}).` : "."),
      "",
      `Events are counted from the import's start to the last event of its last batch, which reached a client ${w.lastEventAfterEndSeconds.toFixed(1)} s after the import exited (events/s over that whole window). After it, the last \`figuresChanged\` event of ${w.finalChecked} subscriptions was compared with what \`branch { performance }\` answers: **${w.finalMatching} of ${w.finalChecked} equal**. The import's own line: \`${w.summaryLine}\`.`,
    );
    if (!wo) lines.push("", "The import was not run again without the subscriptions in this run.");
  } else {
    lines.push("The import was not run under the subscriptions in this run (--live-import-rows 0).");
  }
  return lines.join("\n");
}
