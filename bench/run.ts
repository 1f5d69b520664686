/**
 * `npm run bench`: builds (or reuses) a synthetic bank on PostgreSQL, then measures the two
 * dashboard reads over HTTP against the real server in a child process, and the same SQL
 * straight through node-postgres, at 1 and 8 connections. Writes bench/results.md.
 *
 *   node dist/bench/run.js [--records N | --10m] [--rebuild] [--build-only]
 *                          [--warmup S] [--duration S] [--concurrency 1,8] [--pool N]
 *                          [--branch CODE] [--out FILE]
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cardgrowth_bench) names the
 * database; it is created when missing and must be on this machine.
 */
import "reflect-metadata";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSchema } from "../src/graphql/schema.js";
import { captureStatements, describe, explain, labelOf, profileStatements } from "./capture.js";
import { loadHttp, loadPg, type LoadOptions, type Statement } from "./load.js";
import { describeMachine, loadAverage, renderSection, resultsTable, writeResults, type Row, type ScenarioInfo } from "./report.js";
import { CITY_COUNT, PERIOD, PROVINCE_CODE, ensureData, ensureDatabase, fmt, migrate } from "./synthetic.js";

const AS_OF = "2021-02-28";
const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cardgrowth_bench";

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
}

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

function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(e\d+)?([kKmM]?)$/.exec(s.replace(/[_,]/g, ""));
  if (!m) throw new Error(`not a count: "${s}" (e.g. 1000000, 1m, 500k)`);
  const n = Number(m[1] + (m[2] ?? "")) * (m[3].toLowerCase() === "k" ? 1e3 : m[3].toLowerCase() === "m" ? 1e6 : 1);
  if (!Number.isInteger(n) || n < 1000 || n > 100_000_000) throw new Error(`--records must be a whole number in 1,000..100,000,000, got ${s}`);
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
      case "--warmup": o.warmupSeconds = positive("--warmup", value(), 600); break;
      case "--duration": o.durationSeconds = positive("--duration", value(), 600); break;
      case "--concurrency":
        o.concurrency = (value() ?? "").split(",").map((c) => Math.round(positive("--concurrency", c, 256)));
        break;
      case "--pool": o.pool = Math.round(positive("--pool", value(), 200)); break;
      case "--branch": o.branch = value() ?? o.branch; break;
      case "--out": o.out = path.resolve(value() ?? o.out); break;
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

interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Throws when the server has exited: figures measured against a dead server mean nothing. */
  assertAlive(): void;
  stop(): Promise<void>;
}

/** Starts `node dist/src/main.js` on a free loopback port; resolves with its GraphQL URL. */
async function startServerProcess(opts: Options): Promise<ServerProcess> {
  const main = path.resolve(here, "..", "src", "main.js");
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      DATABASE_URL: opts.url,
      PORT: "0",
      HOST: "127.0.0.1",
      NODE_ENV: "production",
      // Quiet on the happy path; a failure still says why.
      LOG_LEVEL: "error",
      MIGRATE_ON_START: "false",
      DATABASE_POOL_SIZE: String(opts.pool),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exit: string | null = null;
  let stopping = false;
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-8000);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  child.once("exit", (code, signal) => {
    exit = signal ? `signal ${signal}` : `code ${code}`;
  });
  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const m = /GraphQL API ready at (\S+)/.exec(output);
      if (m) {
        clearInterval(poll);
        resolve(m[1]);
      } else if (exit !== null) {
        clearInterval(poll);
        reject(new Error(`server exited (${exit}) before it was ready:\n${output.slice(-2000)}`));
      } else if (Date.now() - started > 60_000) {
        clearInterval(poll);
        reject(new Error(`server not ready after 60 s:\n${output.slice(-2000)}`));
      }
    }, 50);
  });
  if (new URL(url).hostname !== "127.0.0.1") {
    await stop();
    throw new Error(`server is not on loopback: ${url}`);
  }
  return {
    url,
    child,
    assertAlive() {
      if (exit !== null && !stopping) throw new Error(`the server (pid ${child.pid}) exited with ${exit} during the run:\n${output.slice(-3000)}`);
    },
    stop,
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  // Taken before this run does anything: it tells whether other work was loading the machine.
  const loadBefore = loadAverage();
  log(`bench: ${fmt(opts.records)} applications on ${opts.url.replace(/:[^:@/]*@/, ":***@")}`);

  await ensureDatabase(opts.url, log);
  await migrate(opts.url, log);
  const data = await ensureData(opts.url, opts.records, opts.rebuild, log);
  log(
    `data: ${fmt(data.units)} units, ${fmt(data.managers)} managers, ${fmt(data.customers)} customers, ` +
      `${fmt(data.records)} applications, ${fmt(data.activations)} activations, ${fmt(data.targets)} targets, ${data.databaseSize}`,
  );
  if (!data.reused) log(`build: ${data.buildSteps.reduce((a, s) => a + s.seconds, 0).toFixed(1)} s in all`);
  if (opts.buildOnly) return;

  const scenarios = [
    {
      name: `branchRanking(${PROVINCE_CODE})`,
      graphql: `query BranchRanking {
  branchRanking(parentCode: "${PROVINCE_CODE}", period: "${PERIOD}", metric: NEW_CUSTOMERS, asOf: "${AS_OF}") {
    rank actual target completionRate
    branch { code name }
  }
}`,
    },
    {
      name: `performance(${opts.branch})`,
      graphql: `query BranchPerformance {
  branch(code: "${opts.branch}") {
    code
    performance(period: "${PERIOD}", asOf: "${AS_OF}") {
      timeProgress
      metrics { metric actual target completionRate }
      rank(metric: NEW_CUSTOMERS)
    }
  }
}`,
    },
  ];

  // What the server sends for each request, and how long each statement takes alone.
  const schema = await createSchema();
  const captured: { name: string; graphql: string; statements: Statement[]; info: ScenarioInfo }[] = [];
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
        const load: LoadOptions = { concurrency, warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds };
        const h = await loadHttp(server.url, s.graphql, load);
        server.assertAlive();
        rows.push({ request: s.name, path: "HTTP GraphQL", result: h });
        log(`  ${s.name} HTTP x${concurrency}: ${h.rps.toFixed(1)} req/s, p50 ${h.p50.toFixed(2)} ms, p99 ${h.p99.toFixed(2)} ms, ${h.requests} requests, ${h.errors} errors${h.firstError ? ` (${h.firstError})` : ""}`);
        const p = await loadPg(opts.url, s.statements, load);
        rows.push({ request: s.name, path: "pg direct", result: p });
        log(`  ${s.name} pg   x${concurrency}: ${p.rps.toFixed(1)} req/s, p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, ${p.requests} requests, ${p.errors} errors${p.firstError ? ` (${p.firstError})` : ""}`);
      }
    }
  } finally {
    await server.stop();
    process.off("SIGINT", stopOnSignal);
    process.off("SIGTERM", stopOnSignal);
  }

  // Rows grouped by request: HTTP at each concurrency, then pg direct.
  const ordered = captured.flatMap((c) =>
    (["HTTP GraphQL", "pg direct"] as const).flatMap((p) => rows.filter((r) => r.request === c.name && r.path === p)),
  );
  const section = renderSection({
    date: new Date(),
    machine: await describeMachine(opts.url, loadBefore),
    data,
    settings: { warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds, pool: opts.pool, asOf: AS_OF, period: PERIOD },
    rows: ordered,
    scenarios: captured.map((c) => c.info),
  });
  writeResults(opts.out, opts.records, section);
  log(`\n${resultsTable(ordered)}\n`);
  log(`written to ${opts.out} (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
