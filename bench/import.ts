/**
 * The import benchmark: the real command (`node dist/src/cli/import.js applications <file>`) on
 * a generated applications CSV, against a scratch copy of the bench database (same units,
 * managers, customers and records, rollups filled), so the bench database itself keeps its
 * nominal size and the import meets indexes and rollups of full size.
 *
 * For each size: wall time, rows/s, the child's peak RSS (VmHWM from /proc/<pid>/status, sampled
 * while it runs, with the RSS along the way), then a raw COPY of the same rows (psql \copy into
 * a table created LIKE application INCLUDING ALL) for the ratio. Before the timed runs, a small
 * slice is imported in this process with every statement timed. After the runs, verifyRollups
 * on the scratch database must find 0 differences. The scratch database is dropped at the end.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { runImport } from "../src/modules/import/import.service.js";
import { verifyRollups } from "../src/figures/rebuild.js";
import { postgresCpuMs, procCpuMs } from "./cpu.js";
import { loadAverage } from "./report.js";
import { bulkPrisma, fmt, quoteIdent } from "./synthetic.js";

type Log = (line: string) => void;

export interface RssSample {
  rows: number;
  rssMb: number;
}

/** Which path of the import command a run measures: the batch path, or `--bulk`. */
export type ImportPath = "batch" | "bulk";

export interface ImportRun {
  path: ImportPath;
  rows: number;
  /** Global numbers of the generated rows: IMP<first>..IMP<first + rows - 1>. */
  first: number;
  fileMb: number;
  generateSeconds: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  /** RSS while the import ran, against the rows it had reported. */
  samples: RssSample[];
  exitCode: number | null;
  summaryLine: string;
  /** CPU time over the run: the import process (last sample before it exited), and every PostgreSQL process. */
  importCpuSeconds: number;
  postgresCpuSeconds: number;
  loadAtStart: string;
  copySeconds: number;
  copyRowsPerSecond: number;
  copyTable: string;
}

export interface StatementTiming {
  label: string;
  calls: number;
  totalMs: number;
}

export interface ImportProfile {
  path: ImportPath;
  rows: number;
  batches: number;
  wallSeconds: number;
  statements: StatementTiming[];
}

/** A bulk run of a file whose every row is refused: what the import holds of refused rows. */
export interface RefusedRun {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  summaryLine: string;
  loadAtStart: string;
}

export interface ImportReport {
  scratchDatabase: string;
  copySeconds: number;
  baseRecords: number;
  /** One per path measured. */
  profiles: ImportProfile[];
  runs: ImportRun[];
  /** One per size at which the bulk path ran (older reports have none). */
  refused?: RefusedRun[];
  verify: { seconds: number; differences: number; sample: string[] };
  after: { applications: number; customers: number; imported: number; rollupBranchRows: number };
  cleanupSeconds: number;
}

/** The unit every row of a refused run names: no bank has it. */
const REFUSED_UNIT = "NO-SUCH-UNIT";

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** uniform in [0, 1), a pure function of (i, salt): murmur3's finaliser on a mix of both. */
function u(i: number, salt: number): number {
  let h = (Math.imul(i, 0x9e3779b1) ^ Math.imul(salt + 0x632be5ab, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** 2021-01-01 .. 2021-03-31 (90 days), index 0..89. */
const Q1_DAYS = Array.from({ length: 90 }, (_, d) => new Date(Date.UTC(2021, 0, 1 + d)).toISOString().slice(0, 10));

interface Org {
  outlets: { id: number; code: string }[];
  managers: { id: number; code: string; branchId: number; branchCode: string }[];
  customers: number;
}

export async function readOrg(client: pg.Client): Promise<Org> {
  const outlets = await client.query<{ id: number; code: string }>("SELECT id, code FROM branch WHERE level = 'OUTLET' ORDER BY id");
  const managers = await client.query<{ id: number; code: string; branch_id: number; branch_code: string }>(
    "SELECT m.id, m.code, m.branch_id, b.code AS branch_code FROM account_manager m JOIN branch b ON b.id = m.branch_id ORDER BY m.id",
  );
  // The bench's customers are CU<id>, ids 1..n (bench/synthetic.ts).
  const customers = await client.query<{ n: number }>("SELECT coalesce(max(id), 0)::int AS n FROM customer WHERE external_id LIKE 'CU%'");
  return {
    outlets: outlets.rows,
    managers: managers.rows.map((m) => ({ id: m.id, code: m.code, branchId: m.branch_id, branchCode: m.branch_code })),
    customers: customers.rows[0].n,
  };
}

const IMPORT_HEADER = "externalId,customerId,branchCode,managerCode,channel,receivedOn,keyedOn,decision,decidedOn,campaignCode,merchantCode";
const COPY_COLUMNS = "external_id, customer_id, branch_id, manager_id, channel, received_on, keyed_on, decision, decided_on, campaign_code, merchant_code";

/**
 * Writes rows first..first+count-1 twice: as an import file (codes, the GraphQL input's columns)
 * and as the table's own columns (ids) for the raw COPY. Row k: IMP<k>, received on a day of
 * 2021-Q1, keyed 0..20 days later on paper and 0..2 otherwise (1 % never keyed), decided 0..10
 * days after keying (60 % approved, 28 % rejected, rest pending), all within Q1. Customers: 20 %
 * an existing customer of the bench (CU…), 10 % the new customer of an earlier imported row
 * (IMPC<j>, j < k), 70 % a new one (IMPC<k>). Channels and managers as in the synthetic bank.
 * With `refused`, every row of the import file names a unit that does not exist, so the import
 * refuses them all; such a file has no twin (`copyFile` null).
 */
export async function generateFiles(org: Org, importFile: string, copyFile: string | null, first: number, count: number, refused = false): Promise<void> {
  const imp = fs.createWriteStream(importFile);
  const raw = copyFile === null ? null : fs.createWriteStream(copyFile);
  const write = async (stream: fs.WriteStream, text: string) => {
    if (!stream.write(text)) await new Promise<void>((resolve) => stream.once("drain", () => resolve()));
  };
  await write(imp, `${IMPORT_HEADER}\n`);
  const nOutlets = org.outlets.length;
  const nManagers = org.managers.length;
  let a: string[] = [];
  let b: string[] = [];
  for (let k = first; k < first + count; k++) {
    const c = u(k, 1);
    let customerExt: string;
    let customerId: number;
    if (c < 0.2 && org.customers > 0) {
      customerId = 1 + Math.floor(u(k, 11) * org.customers);
      customerExt = `CU${pad(customerId, 10)}`;
    } else if (c < 0.3 && k > 1) {
      const j = 1 + Math.floor(u(k, 12) * (k - 1));
      customerExt = `IMPC${pad(j, 10)}`;
      customerId = org.customers + j;
    } else {
      customerExt = `IMPC${pad(k, 10)}`;
      customerId = org.customers + k;
    }
    const ch = u(k, 2);
    const channel = ch < 0.3 ? "PAPER" : ch < 0.7 ? "ONLINE" : "MERCHANT_SITE";
    let branchCode: string;
    let branchId: number;
    let managerCode = "";
    let managerId = "";
    if (channel === "ONLINE" && u(k, 5) < 0.5) {
      const o = org.outlets[Math.floor(u(k, 4) * nOutlets)];
      branchCode = o.code;
      branchId = o.id;
    } else {
      const m = org.managers[Math.floor(u(k, 3) * nManagers)];
      branchCode = m.branchCode;
      branchId = m.branchId;
      managerCode = m.code;
      managerId = String(m.id);
    }
    const received = Math.floor(u(k, 6) * 90);
    const uk = u(k, 7);
    const keyed = uk < 0.01 ? -1 : Math.min(89, received + Math.floor(uk * (channel === "PAPER" ? 21 : 3)));
    const ud = u(k, 8);
    const decision = keyed < 0 || ud >= 0.88 ? "PENDING" : ud < 0.6 ? "APPROVED" : "REJECTED";
    const decided = decision === "PENDING" ? -1 : Math.min(89, keyed + Math.floor(u(k, 9) * 11));
    const um = u(k, 10);
    const campaign = channel === "MERCHANT_SITE" ? `CAMP${1 + Math.floor(um * 12)}` : "";
    const merchant = channel === "MERCHANT_SITE" ? `M${pad(1 + Math.floor(um * 568), 4)}` : "";
    const ext = `IMP${pad(k, 10)}`;
    const keyedOn = keyed < 0 ? "" : Q1_DAYS[keyed];
    const decidedOn = decided < 0 ? "" : Q1_DAYS[decided];
    if (refused) [branchCode, managerCode] = [REFUSED_UNIT, ""];
    a.push(`${ext},${customerExt},${branchCode},${managerCode},${channel},${Q1_DAYS[received]},${keyedOn},${decision},${decidedOn},${campaign},${merchant}\n`);
    if (raw) b.push(`${ext},${customerId},${branchId},${managerId},${channel},${Q1_DAYS[received]},${keyedOn},${decision},${decidedOn},${campaign},${merchant}\n`);
    if (a.length === 10_000) {
      await write(imp, a.join(""));
      if (raw) await write(raw, b.join(""));
      a = [];
      b = [];
    }
  }
  await write(imp, a.join(""));
  if (raw) await write(raw, b.join(""));
  await Promise.all([new Promise<void>((r) => imp.end(() => r())), new Promise<void>((r) => (raw ? raw.end(() => r()) : r()))]);
}

/** `url` with another database name. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
}

/** One statement on the server's `postgres` database (CREATE / DROP DATABASE). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs the real import command as a child process, sampling its memory from /proc. */
async function runImportCommand(root: string, scratchUrl: string, file: string, bulk: boolean, log: Log, expectedExit = 0): Promise<Omit<ImportRun, "path" | "rows" | "first" | "fileMb" | "generateSeconds" | "copySeconds" | "copyRowsPerSecond" | "copyTable" | "loadAtStart">> {
  const cli = path.join(root, "dist", "src", "cli", "import.js");
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: build first (npm run build)`);
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, "applications", file, ...(bulk ? ["--bulk"] : [])], {
    env: { ...process.env, DATABASE_URL: scratchUrl, NODE_ENV: "production", LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let rows = 0;
  let output = "";
  let peakKb = 0;
  const samples: RssSample[] = [];
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-20_000);
    for (const m of text.matchAll(/progress: (\d+) rows/g)) rows = Number(m[1]);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const status = `/proc/${child.pid}/status`;
  let lastLogged = 0;
  let childCpuMs = 0;
  const pg0 = postgresCpuMs();
  const sample = () => {
    childCpuMs = procCpuMs(child.pid!, false) ?? childCpuMs;
    try {
      const s = fs.readFileSync(status, "utf8");
      const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(s)?.[1] ?? 0);
      const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(s)?.[1] ?? 0);
      peakKb = Math.max(peakKb, hwm);
      if (rss > 0 && (samples.length === 0 || samples[samples.length - 1].rows !== rows)) samples.push({ rows, rssMb: mb(rss) });
      if (performance.now() - lastLogged > 30_000) {
        lastLogged = performance.now();
        const secs = (performance.now() - t0) / 1000;
        log(`    ${fmt(rows)} rows after ${secs.toFixed(0)} s (${fmt(Math.round(rows / Math.max(secs, 0.001)))} rows/s), RSS ${mb(rss)} MB, peak ${mb(peakKb)} MB`);
      }
    } catch {
      // the process has just exited
    }
  };
  const timer = setInterval(sample, 100);
  const exitCode = await new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  const postgresCpuSeconds = (postgresCpuMs() - pg0) / 1000;
  const summaryLine = /^\d+ rows read in .*$/m.exec(output)?.[0] ?? output.trim().split("\n").slice(-3).join(" / ");
  if (exitCode !== expectedExit) throw new Error(`the import exited with ${exitCode}:\n${output.slice(-3000)}`);
  const total = Number(/^(\d+) rows read/m.exec(summaryLine)?.[1] ?? rows);
  return { seconds, rowsPerSecond: total / seconds, peakRssMb: mb(peakKb), samples, exitCode, summaryLine, importCpuSeconds: childCpuMs / 1000, postgresCpuSeconds };
}

/** psql \copy of the table-shaped file into a fresh table LIKE application INCLUDING ALL. */
async function rawCopy(scratchUrl: string, client: pg.Client, file: string, rows: number): Promise<{ seconds: number; table: string }> {
  const table = "bench.copy_application";
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (LIKE application INCLUDING ALL)`);
  await client.query("CHECKPOINT");
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const psql = spawn("psql", [scratchUrl, "-v", "ON_ERROR_STOP=1", "-qc", `\\copy ${table} (${COPY_COLUMNS}) FROM '${file.replace(/'/g, "''")}' WITH (FORMAT csv)`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    psql.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    psql.once("error", reject);
    psql.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`psql \\copy exited with ${code}: ${err}`))));
  });
  const seconds = (performance.now() - t0) / 1000;
  const n = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  if (Number(n.rows[0].n) !== rows) throw new Error(`raw COPY loaded ${n.rows[0].n} rows, expected ${rows}`);
  await client.query(`DROP TABLE ${table}`);
  return { seconds, table: "LIKE application INCLUDING ALL (primary key, unique external_id, customer_id index, defaults, checks)" };
}

/** A short name for a statement the import sends. */
export function importLabel(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  if (/^(BEGIN|COMMIT|ROLLBACK)/i.test(t)) return t.split(" ")[0].toUpperCase();
  if (/pg_advisory_xact_lock/.test(t)) return "advisory lock (record writes)";
  if (/CREATE TEMP TABLE IF NOT EXISTS rollup_delta/.test(t)) return "CREATE TEMP TABLE rollup_delta";
  if (/^INSERT INTO rollup_delta/.test(t)) return "rollup_delta: contributions that move";
  if (/^SELECT set_config/.test(t)) return "set_config (planner settings for the batch)";
  if (/^CREATE TEMP TABLE IF NOT EXISTS (\w+)/.test(t)) return `CREATE TEMP TABLE ${/^CREATE TEMP TABLE IF NOT EXISTS (\w+)/.exec(t)![1]}`;
  if (/^INSERT INTO app_batch/.test(t)) return "stage the batch (unnest → app_batch)";
  if (/^COPY app_batch/.test(t)) return "stream the chunk (COPY → app_batch; parsing and checks overlap it)";
  if (/^SELECT pg_backend_pid/.test(t)) return "the transaction's connection (for COPY)";
  if (/^WITH last AS/.test(t)) return "later rows replace earlier ones (dedupe by line)";
  if (/^SELECT \* FROM \( SELECT s\.idx AS line/.test(t)) return "rows some check refuses (suspects)";
  if (/^SELECT 'unit' AS k/.test(t)) return "lookups for the row checks (units, managers, activations)";
  if (/^DELETE FROM app_batch/.test(t)) return "drop rejected rows from the stage";
  if (/^INSERT INTO app_change/.test(t)) return "changed rows → app_change (customer, unit, manager, old row)";
  if (/^SELECT count\(\*\) FILTER/.test(t)) return "count created/updated";
  if (/^WITH firsts AS/.test(t)) return "INSERT new customers with their first approval";
  if (/^INSERT INTO batch_customer/.test(t)) return "customers seen before → batch_customer";
  if (/^UPDATE application/.test(t)) return "UPDATE changed applications";
  if (/^UPDATE batch_customer/.test(t)) return "first approvals of customers seen before";
  if (/^UPDATE customer c SET first_approved_application_id = bc/.test(t)) return "UPDATE customer first approvals that moved";
  if (/^(?:WITH moved AS \(\s*)?INSERT INTO rollup_merchant_day/.test(t)) return "apply delta → rollup_merchant_day";
  if (/^(?:WITH moved AS \(\s*)?INSERT INTO rollup_campaign_day/.test(t)) return "apply delta → rollup_campaign_day";
  if (/^(?:WITH moved AS \(\s*)?INSERT INTO rollup_branch_day/.test(t)) return "apply delta → rollup_branch_day (via closure)";
  if (/^(?:WITH moved AS \(\s*)?INSERT INTO rollup_manager_day/.test(t)) return "apply delta → rollup_manager_day";
  if (/^DELETE FROM rollup_delta/.test(t)) return "DELETE FROM rollup_delta";
  if (/^INSERT INTO customer/.test(t)) return "INSERT customers (ON CONFLICT DO NOTHING)";
  if (/^SELECT id FROM customer WHERE external_id/.test(t)) return "customer ids by external_id";
  if (/^INSERT INTO application/.test(t)) return "INSERT new applications";
  if (/^UPDATE customer c SET first_approved_application_id/.test(t)) return "refreshFirstApprovals";
  if (/FROM "public"\."branch"/.test(t)) return "units by code";
  if (/FROM "public"\."account_manager"/.test(t)) return "managers by code";
  if (/FROM "public"\."application"/.test(t)) return "existing applications by external_id";
  if (/FROM "public"\."activation"/.test(t)) return "their activations";
  return t.slice(0, 60);
}

type QueryFn = (...args: unknown[]) => unknown;

/** Imports a small file in this process through runImport, timing every statement node-postgres sends. */
async function profileImport(scratchUrl: string, file: string, rows: number, path: ImportPath): Promise<ImportProfile> {
  const { openPostgres } = await import("../src/db/database.js");
  const database = await openPostgres(scratchUrl, 10);
  const timings = new Map<string, StatementTiming>();
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { text?: unknown } | undefined;
    const text = typeof first === "string" ? first : typeof first?.text === "string" ? first.text : null;
    const result = original.apply(this, args);
    const t0 = performance.now();
    const done = () => {
      const label = importLabel(text!);
      const t = timings.get(label) ?? { label, calls: 0, totalMs: 0 };
      t.calls += 1;
      t.totalMs += performance.now() - t0;
      timings.set(label, t);
    };
    if (text !== null && result && typeof (result as Promise<unknown>).then === "function") {
      (result as Promise<unknown>).then(done, done);
    } else if (text !== null && result && typeof (result as NodeJS.WritableStream).once === "function") {
      // COPY FROM STDIN (pg-copy-streams): done when the server has taken the last row.
      (result as NodeJS.WritableStream).once("finish", done);
    }
    return result;
  };
  try {
    await database.prisma.$queryRawUnsafe("SELECT 1");
    timings.clear();
    const t0 = performance.now();
    const summary = await runImport(database.prisma, { kind: "applications", file, reportPath: `${file}.report.ndjson`, bulk: path === "bulk" });
    const wallSeconds = (performance.now() - t0) / 1000;
    if (summary.rejected || summary.created !== rows) throw new Error(`profile import: ${JSON.stringify(summary)}`);
    return { path, rows, batches: summary.batches, wallSeconds, statements: [...timings.values()].sort((a, b) => b.totalMs - a.totalMs) };
  } finally {
    proto.query = original;
    await database.close();
  }
}

export interface ImportOptions {
  url: string;
  root: string;
  /** Sizes to import, smallest first (e.g. 1 M, then 10 M). */
  sizes: number[];
  profileRows: number;
  baseRecords: number;
  /** The paths to measure at the first size, each on rows of its own (new external ids). */
  paths: ImportPath[];
  /** The paths to measure at the larger sizes (default: `paths`). */
  largePaths?: ImportPath[];
}

export async function benchImport(opts: ImportOptions, log: Log): Promise<ImportReport> {
  const source = databaseOf(opts.url);
  const scratchName = `${source}_import`;
  const scratchUrl = withDatabase(opts.url, scratchName);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-bench-import-"));
  log(`\nimport: scratch database ${scratchName} (a copy of ${source}), files in ${dir}`);

  // A file-level copy of the bench database: same units, managers, customers, records and
  // rollups. Needs no other session on the source (the server has been stopped by now).
  await adminQuery(opts.url, `DROP DATABASE IF EXISTS ${quoteIdent(scratchName)} WITH (FORCE)`);
  let t0 = performance.now();
  await adminQuery(opts.url, `CREATE DATABASE ${quoteIdent(scratchName)} TEMPLATE ${quoteIdent(source)} STRATEGY FILE_COPY`);
  const copySeconds = (performance.now() - t0) / 1000;
  log(`  copied ${source} in ${copySeconds.toFixed(1)} s`);

  const client = new pg.Client({ connectionString: scratchUrl });
  await client.connect();
  const report: ImportReport = {
    scratchDatabase: scratchName,
    copySeconds,
    baseRecords: opts.baseRecords,
    profiles: [],
    runs: [],
    refused: [],
    verify: { seconds: 0, differences: -1, sample: [] },
    after: { applications: 0, customers: 0, imported: 0, rollupBranchRows: 0 },
    cleanupSeconds: 0,
  };
  try {
    const org = await readOrg(client);
    let next = 1;

    // Where an import's time goes: a small slice in this process, every statement timed.
    for (const which of opts.profileRows > 0 ? opts.paths : []) {
      const file = path.join(dir, "profile.csv");
      await generateFiles(org, file, path.join(dir, "profile.copy.csv"), next, opts.profileRows);
      next += opts.profileRows;
      log(`  profiling an in-process ${which} import of ${fmt(opts.profileRows)} rows (every statement timed) ...`);
      const profile = await profileImport(scratchUrl, file, opts.profileRows, which);
      report.profiles.push(profile);
      log(`  profile (${which}): ${(opts.profileRows / profile.wallSeconds).toFixed(0)} rows/s in process`);
      for (const s of profile.statements.slice(0, 8)) log(`    ${s.label.padEnd(48)} ${String(s.calls).padStart(5)} calls ${(s.totalMs / 1000).toFixed(2).padStart(7)} s`);
    }

    for (const rows of opts.sizes) {
      let copy: { seconds: number; table: string } | null = null;
      for (const which of rows === opts.sizes[0] ? opts.paths : (opts.largePaths ?? opts.paths)) {
        const importFile = path.join(dir, `applications-${rows}.csv`);
        const copyFile = path.join(dir, `applications-${rows}.copy.csv`);
        t0 = performance.now();
        await generateFiles(org, importFile, copyFile, next, rows);
        const generateSeconds = (performance.now() - t0) / 1000;
        const fileMb = Math.round(fs.statSync(importFile).size / 2 ** 20);
        log(`  generated ${fmt(rows)} rows (IMP${pad(next, 10)}..) in ${generateSeconds.toFixed(1)} s, ${fileMb} MB`);
        await client.query("CHECKPOINT");
        const loadAtStart = loadAverage();
        log(`  importing ${fmt(rows)} rows with the import command, ${which} path (load average ${loadAtStart}) ...`);
        const run = await runImportCommand(opts.root, scratchUrl, importFile, which === "bulk", log);
        log(`  import ${fmt(rows)} (${which}): ${run.seconds.toFixed(1)} s, ${fmt(Math.round(run.rowsPerSecond))} rows/s, peak RSS ${run.peakRssMb} MB (${run.summaryLine})`);
        if (!copy) {
          // Once per size: the same kind of rows, into an empty table.
          log(`  raw COPY of the same ${fmt(rows)} rows ...`);
          copy = await rawCopy(scratchUrl, client, copyFile, rows);
          log(`  raw COPY ${fmt(rows)}: ${copy.seconds.toFixed(1)} s, ${fmt(Math.round(rows / copy.seconds))} rows/s`);
        }
        report.runs.push({
          path: which,
          rows,
          first: next,
          fileMb,
          generateSeconds,
          ...run,
          loadAtStart,
          copySeconds: copy.seconds,
          copyRowsPerSecond: rows / copy.seconds,
          copyTable: copy.table,
        });
        next += rows;
        // Kept while the run goes on, so a run that dies later still leaves its figures.
        fs.writeFileSync(path.join(os.tmpdir(), "cardgrowth-bench-import-last.json"), JSON.stringify(report, null, 1));
        fs.rmSync(importFile, { force: true });
        fs.rmSync(copyFile, { force: true });
        fs.rmSync(`${importFile}.report.ndjson`, { force: true });
      }
    }

    // The same sizes again, every row refused (their unit does not exist): the refused rows come
    // back from the database to be reported, and must not be held in memory all at once either.
    for (const rows of opts.sizes) {
      if (!(rows === opts.sizes[0] ? opts.paths : (opts.largePaths ?? opts.paths)).includes("bulk")) continue;
      const importFile = path.join(dir, `refused-${rows}.csv`);
      await generateFiles(org, importFile, null, next, rows, true);
      const loadAtStart = loadAverage();
      log(`  importing ${fmt(rows)} rows that are all refused, bulk path (load average ${loadAtStart}) ...`);
      const run = await runImportCommand(opts.root, scratchUrl, importFile, true, log, 1);
      if (!new RegExp(`${rows} rejected`).test(run.summaryLine)) throw new Error(`expected every row refused: ${run.summaryLine}`);
      log(`  refused ${fmt(rows)}: ${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMb} MB`);
      report.refused!.push({ rows, seconds: run.seconds, rowsPerSecond: run.rowsPerSecond, peakRssMb: run.peakRssMb, summaryLine: run.summaryLine, loadAtStart });
      fs.rmSync(importFile, { force: true });
      fs.rmSync(`${importFile}.report.ndjson`, { force: true });
    }

    const counts = await client.query(`SELECT (SELECT count(*) FROM application)::bigint AS apps,
        (SELECT count(*) FROM application WHERE external_id LIKE 'IMP%')::bigint AS imported,
        (SELECT count(*) FROM customer)::bigint AS customers,
        (SELECT count(*) FROM rollup_branch_day)::bigint AS rollups`);
    report.after = {
      applications: Number(counts.rows[0].apps),
      customers: Number(counts.rows[0].customers),
      imported: Number(counts.rows[0].imported),
      rollupBranchRows: Number(counts.rows[0].rollups),
    };
    const expected = opts.baseRecords + next - 1;
    if (report.after.applications !== expected) throw new Error(`scratch holds ${report.after.applications} applications, expected ${expected}`);

    log(`  verifyRollups on ${fmt(report.after.applications)} applications ...`);
    await client.query("VACUUM (ANALYZE) application, customer, rollup_branch_day, rollup_manager_day");
    const db = bulkPrisma(scratchUrl);
    try {
      t0 = performance.now();
      const v = await verifyRollups(db, 10);
      report.verify = {
        seconds: (performance.now() - t0) / 1000,
        differences: v.total,
        sample: v.differences.map((d) => `${d.table} ${d.key}: stored ${d.stored ?? "-"}, expected ${d.expected ?? "-"}`),
      };
    } finally {
      await db.$disconnect();
    }
    log(`  verifyRollups: ${report.verify.differences} differences (${report.verify.seconds.toFixed(1)} s)`);
  } finally {
    await client.end();
    t0 = performance.now();
    await adminQuery(opts.url, `DROP DATABASE IF EXISTS ${quoteIdent(scratchName)} WITH (FORCE)`).catch((err) => log(`  could not drop ${scratchName}: ${err}`));
    fs.rmSync(dir, { recursive: true, force: true });
    report.cleanupSeconds = (performance.now() - t0) / 1000;
  }
  return report;
}
