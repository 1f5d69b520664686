/**
 * What the run was measured on, and the Markdown it leaves in bench/results.md: one section per
 * data size, so a 10 M run sits beside the 1 M one and each re-run replaces its own section.
 */
import fs from "node:fs";
import os from "node:os";
import pg from "pg";
import type { StatementProfile } from "./capture.js";
import type { LoadResult } from "./load.js";
import type { CpuPerRequest, ProfileSummary } from "./cpu.js";
import type { ImportReport } from "./import.js";
import { fmt, type DataSummary } from "./synthetic.js";
import type { PromotionsData } from "./promotions.js";

export interface Machine {
  cpu: string;
  logicalCpus: number;
  cpuQuota: string | null;
  memory: string;
  kernel: string;
  /** /proc/loadavg when the run started: other work on the machine skews the figures. */
  loadAverage: string;
  node: string;
  postgres: string;
  postgresSettings: string;
}

function readFile(path: string): string | null {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export function loadAverage(): string {
  const parts = (readFile("/proc/loadavg") ?? "").trim().split(/\s+/);
  return parts.length >= 3 ? parts.slice(0, 3).join(" ") : os.loadavg().map((x) => x.toFixed(2)).join(" ");
}

export async function describeMachine(url: string, loadAtStart: string): Promise<Machine> {
  const cpuinfo = readFile("/proc/cpuinfo") ?? "";
  const models = [...cpuinfo.matchAll(/^model name\s*:\s*(.+)$/gm)].map((m) => m[1].trim());
  const logical = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || os.cpus().length;
  const memKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFile("/proc/meminfo") ?? "")?.[1] ?? NaN);
  const quotaRaw = readFile("/sys/fs/cgroup/cpu.max")?.trim() ?? null;
  let cpuQuota: string | null = null;
  if (quotaRaw && !quotaRaw.startsWith("max")) {
    const [quota, period] = quotaRaw.split(/\s+/).map(Number);
    if (quota > 0 && period > 0) cpuQuota = `${(quota / period).toFixed(2)} CPUs (cgroup cpu.max)`;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const v = await client.query<{ v: string }>("SELECT version() AS v");
    const s = await client.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
       WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'max_parallel_workers_per_gather', 'jit', 'random_page_cost')
       ORDER BY name`,
    );
    const settings = s.rows.map((r) => `${r.name}=${pretty(r.setting, r.unit)}`).join(", ");
    return {
      cpu: models[0] ?? os.cpus()[0]?.model ?? "unknown",
      logicalCpus: logical,
      cpuQuota,
      memory: Number.isFinite(memKb) ? `${(memKb / 1024 / 1024).toFixed(1)} GiB` : `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      kernel: `${os.type()} ${os.release()}`,
      loadAverage: loadAtStart,
      node: process.version,
      postgres: v.rows[0].v,
      postgresSettings: settings,
    };
  } finally {
    await client.end();
  }
}

function pretty(setting: string, unit: string | null): string {
  const n = Number(setting);
  const bytes = unit === "8kB" ? n * 8192 : unit === "kB" ? n * 1024 : unit === "MB" ? n * 2 ** 20 : null;
  if (bytes === null || !Number.isFinite(bytes)) return setting;
  return bytes >= 2 ** 30 ? `${+(bytes / 2 ** 30).toFixed(1)}GB` : `${+(bytes / 2 ** 20).toFixed(1)}MB`;
}

export interface Row {
  request: string;
  path: "HTTP GraphQL" | "pg direct";
  result: LoadResult;
  /** CPU per request (warm-up included) of the server, PostgreSQL and the load generator. */
  cpu?: CpuPerRequest;
}

export interface ScenarioInfo {
  name: string;
  graphql: string;
  statements: string[];
  profile: StatementProfile[];
  slowestPlan: { label: string; plan: string } | null;
}

export interface RunReport {
  date: Date;
  machine: Machine;
  data: DataSummary;
  settings: { warmupSeconds: number; durationSeconds: number; pool: number; asOf: string; period: string };
  rows: Row[];
  scenarios: ScenarioInfo[];
}

const ms = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : "-");

export function resultsTable(rows: readonly Row[]): string {
  const lines = [
    "| request | path | conns | req/s | p50 ms | p99 ms | requests | errors | HTTP ÷ pg |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const r of rows) {
    const pgRow = rows.find((o) => o.request === r.request && o.path === "pg direct" && o.result.concurrency === r.result.concurrency);
    const share = r.path === "HTTP GraphQL" && pgRow && pgRow.result.rps > 0 ? `${((100 * r.result.rps) / pgRow.result.rps).toFixed(0)} %` : "";
    lines.push(
      `| ${r.request} | ${r.path} | ${r.result.concurrency} | ${r.result.rps < 10 ? r.result.rps.toFixed(2) : r.result.rps.toFixed(1)} | ${ms(r.result.p50)} | ${ms(r.result.p99)} | ${fmt(r.result.requests)} | ${r.result.errors} | ${share} |`,
    );
  }
  return lines.join("\n");
}

export function renderSection(r: RunReport): string {
  const m = r.machine;
  const d = r.data;
  const out: string[] = [];
  out.push(`## ${fmt(d.records)} applications`);
  out.push("");
  out.push(`Measured ${r.date.toISOString().replace("T", " ").slice(0, 16)} UTC.`);
  out.push("");
  out.push(`- **Machine**: ${m.cpu}, ${m.logicalCpus} logical CPUs${m.cpuQuota ? ` (${m.cpuQuota})` : ""}, ${m.memory} RAM, ${m.kernel}; load average (1/5/15 min) when the run started: ${m.loadAverage}`);
  out.push(`- **Node** ${m.node}; **PostgreSQL**: ${m.postgres}`);
  out.push(`- **PostgreSQL settings** (server defaults, untuned): ${m.postgresSettings}`);
  out.push(
    `- **Data**: ${fmt(d.units)} units (${d.cities} cities, ${d.subBranches} sub-branches, ${fmt(d.outlets)} outlets), ` +
      `${fmt(d.managers)} account managers, ${fmt(d.customers)} customers (${fmt(d.newCustomers)} with an approval), ` +
      `${fmt(d.records)} applications (${fmt(d.approved)} approved), ${fmt(d.activations)} activations, ${fmt(d.targets)} targets; ` +
      `database ${d.databaseSize}. ${d.reused ? `Reused from the build of ${d.builtAt.slice(0, 16).replace("T", " ")} UTC.` : "Built in this run."}`,
  );
  out.push(
    `- **Load**: closed loop, one keep-alive connection per worker; warm-up ${r.settings.warmupSeconds} s, measured ${r.settings.durationSeconds} s per row. ` +
      `Server: \`node dist/src/main.js\` as a child process (NODE_ENV=production, LOG_LEVEL=error, Prisma pool ${r.settings.pool}); ` +
      `load generator, server and PostgreSQL share the machine. pg direct: the statements the server sent for the request ` +
      `(captured from node-postgres), replayed one after the other on one connection per worker.`,
  );
  out.push(`- **Period** ${r.settings.period}, **asOf** ${r.settings.asOf}.`);
  out.push("");
  out.push(resultsTable(r.rows));
  out.push("");
  out.push(...renderScenarios(r.scenarios));
  out.push("Build steps of this data (seconds):", ...buildStepsTable(d.buildSteps));
  return out.join("\n");
}


/** Per request: the GraphQL, each statement's time alone, the SQL as sent, the slowest statement's plan. */
export function renderScenarios(scenarios: readonly ScenarioInfo[], heading = "###"): string[] {
  const out: string[] = [];
  for (const s of scenarios) {
    const total = s.profile.reduce((a, p) => a + p.meanMs, 0);
    out.push(`${heading} ${s.name}: ${s.statements.length} statements per request`);
    out.push("");
    out.push("```graphql");
    out.push(s.graphql.trim());
    out.push("```");
    out.push("");
    out.push("Each statement alone, one connection, no concurrency:");
    out.push("");
    out.push("| # | statement | rows | mean ms | p50 ms | share |");
    out.push("|--:|---|--:|--:|--:|--:|");
    s.profile.forEach((p, i) => {
      out.push(`| ${i + 1} | ${p.label} | ${p.rows} | ${ms(p.meanMs)} | ${ms(p.p50Ms)} | ${total > 0 ? ((100 * p.meanMs) / total).toFixed(0) : "-"} % |`);
    });
    out.push(`| | total | | ${ms(total)} | | |`);
    out.push("");
    out.push("<details><summary>SQL as sent (with values)</summary>");
    out.push("");
    out.push("```sql");
    s.statements.forEach((t, i) => out.push(`-- ${i + 1}. ${s.profile[i]?.label ?? ""}\n${t}`));
    out.push("```");
    out.push("</details>");
    out.push("");
    if (s.slowestPlan) {
      out.push(`<details><summary>Plan of the slowest statement (${s.slowestPlan.label})</summary>`);
      out.push("");
      out.push("```");
      out.push(s.slowestPlan.plan);
      out.push("```");
      out.push("</details>");
      out.push("");
    }
  }
  return out;
}

const HEADER = `# Benchmark: dashboard reads and the import on a synthetic bank

Produced by \`npm run bench\` (bench/run.ts); every figure below is measured, none is typed in.
\`npm run bench -- --10m\` (or \`--records N\`) runs at another size, \`--rebuild\` regenerates the
data, \`--duration S\`, \`--warmup S\`, \`--concurrency 1,8\`, \`--pool N\` change the load,
\`--import-rows N\` the import's size (1 M by default, 10 M with \`--10m\`; 1 M is always measured
too), \`--skip-import\` leaves the import out, \`--import-profile-rows N\` sizes the in-process
import whose statements are timed (100,000: two batches of the default 50,000; 0 for none), \`--no-server-profile\` skips the server's CPU profile.

\`promotionsNear\` (the mobile query) is measured in the same run on 100,000 merchants and 10,000
promotions built beside the records (\`--no-promotions\` leaves it out, \`--rebuild-promotions\`
regenerates them); it has a section of its own, first below.

The dashboard page (issue 13) is measured in the same run (\`--no-dashboard\` leaves it out,
\`--dashboard-only\` measures nothing else, \`--dashboard-runs N\` sets the runs): its first render in
Chromium on localhost and the JavaScript it ships, on the demo bank; a section of its own, first below.

The live path (bench/live.ts) runs last in \`npm run bench\` (\`--no-live\` leaves it out), or
alone: \`npm run bench -- --live-only\` (builds or reuses the data, then only the live bench).
Two API instances share Redis (\`BENCH_REDIS_URL\`, default redis://127.0.0.1:6379) on a scratch copy
of the bench database; \`--live-subscriptions N\` (1,000), \`--live-per-socket N\` (4),
\`--live-writes N\` (150), \`--live-coalesce-ms MS\` (250; writes are max(4 ×, + 750 ms) apart),
\`--live-import-rows N\` (1 M; 0 for none), \`--no-live-import-compare\` (skip the second import
without subscriptions). Its section is first below.

\`npm run bench -- --peer postgraphile\` (bench/peer.ts, issue 16) measures only the two dashboard reads,
ours and PostGraphile 5's (with pg-aggregates, installed into the git-ignored bench/.peer/ with Node 22 from
npm) alternating on the same database, after checking that both give the same numbers; 10 s warm-up and
20 s measured unless told, \`--peer-rounds N\` to repeat. Its section, **Peer**, follows the rollups one.

An assessment plan's quarter (bench/incentives.ts, issue 14) is timed on its own:
\`node dist/bench/incentives.js --10m\` (after \`npx tsc -p tsconfig.bench.json\`), in
\`cardgrowth_bench_incentives\` (or BENCH_DATABASE_URL).

Kinds of section, one per data size each; a new run of a size replaces its own section:
- **Live path**: event latency from a write's commit to the subscriber, memory per
  subscription, events while the import runs. No numeric target was set for it.
- **promotionsNear**: the mobile query over HTTP and its SQL through \`pg\`, with the data's shape,
  the candidate rows the SQL returns and its plan. No numeric target was set for it.
- **Rollups** (current): dashboards read only the daily rollups (rollup_branch_day,
  rollup_manager_day), and the import maintains them. These sections hold the targets of the
  issue, whether each is met, the reads, and the import against a raw \`COPY\`.
- **Earlier run**: a rollups section a newer run replaced, kept once for comparison (one that
  measured the import is kept over one that did not).
- **Baseline (before rollups)**: the first measurements, when dashboards aggregated the raw
  records. Kept as they were for comparison; the current code no longer runs that way.

Columns: \`req/s\` completed requests per second over the measured window; \`p50\`/\`p99\` latency of
one request (for pg direct: all of the request's statements, one after the other); \`errors\` responses
with GraphQL \`errors\`, a non-200 status or a failed statement; \`HTTP ÷ pg\` the HTTP throughput as a
share of the pg-direct throughput at the same number of connections.
`;

/**
 * A section's key: `dashboard:runs=N` (the dashboard page), `promotions:merchants=N` (promotionsNear), `rollups:records=N` (current),
 * `peer:records=N` (ours beside PostGraphile, bench/peer.ts),
 * `earlier:rollups:records=N` (the rollups run a newer one replaced) or `records=N` (baseline,
 * before rollups).
 */
export type SectionKey = string;

const begin = (key: SectionKey) => `<!-- bench:${key} -->`;
const end = (key: SectionKey) => `<!-- /bench:${key} -->`;

function order(key: SectionKey): [number, number] {
  const size = Number(/(?:records|merchants|runs|subscriptions)=(\d+)/.exec(key)?.[1] ?? 0);
  // The dashboard page, the live path, then the card app's sections (the old query, then the live-offer index's), then the dashboards' reads, then ours beside the peer.
  const kind = key.startsWith("dashboard:") ? -1 : key.startsWith("live:") ? 0 : key.startsWith("promotions:") ? 1 : key.startsWith("offers:") ? 1.5 : key.startsWith("rollups:") ? 2 : key.startsWith("peer:") ? 2.5 : key.startsWith("earlier:") ? 3 : key.startsWith("ab:") ? 5 : 4;
  return [kind, kind === 2 || kind === 3 ? -size : size];
}

/**
 * Writes `section` under `key` into the results file, keeping every other section. A rollups
 * section it replaces is kept once, as the earlier run, for comparison.
 */
export function writeResults(file: string, key: SectionKey, section: string): void {
  const old = readFile(file) ?? "";
  const sections = new Map<SectionKey, string>();
  for (const m of old.matchAll(/<!-- bench:([a-z:]*(?:records|merchants|runs|subscriptions)=\d+) -->\n([\s\S]*?)\n<!-- \/bench:\1 -->/g)) {
    let body = m[2];
    // Baseline sections written before rollups existed: say so in their heading.
    if (/^records=/.test(m[1])) body = body.replace(/^## (?!Baseline)(.*applications)$/m, "## Baseline (before rollups): $1");
    sections.set(m[1], body);
  }
  const previous = sections.get(key);
  // One earlier run is kept: a replaced run that measured the import wins over one that did not.
  const keepPrevious = previous !== undefined && previous !== section && (!sections.has(`earlier:${key}`) || /^### Import$/m.test(previous));
  if (key.startsWith("rollups:") && keepPrevious) {
    sections.set(`earlier:${key}`, previous.replace(/^## (?!Earlier run)(.*)$/m, "## Earlier run (superseded by the section above): $1"));
  }
  sections.set(key, section);
  const body = [...sections.entries()]
    .sort((a, b) => {
      const [x, y] = [order(a[0]), order(b[0])];
      return x[0] - y[0] || x[1] - y[1];
    })
    .map(([k, s]) => `${begin(k)}\n${s}\n${end(k)}`)
    .join("\n\n");
  fs.writeFileSync(file, `${HEADER}\n${body}\n`);
}

// ---- The rollups section: the issue's targets ---------------------------------------------

export interface Target {
  name: string;
  measured: string;
  met: boolean | null;
}

export interface RollupRunReport extends RunReport {
  targets: Target[];
  profiles: ProfileSummary[];
  importReport: ImportReport | null;
  /** Why the import's larger size is not the asked one, or why there is no import. */
  importNote: string | null;
}

const verdict = (met: boolean | null) => (met === null ? "— (reported)" : met ? "**met**" : "**not met**");

export function renderRollupSection(r: RollupRunReport): string {
  const m = r.machine;
  const d = r.data;
  const out: string[] = [];
  out.push(`## Rollups: targets of the next issue, ${fmt(d.records)} applications`);
  out.push("");
  out.push(`Measured ${r.date.toISOString().replace("T", " ").slice(0, 16)} UTC (${r.date.toISOString().slice(0, 10)}).`);
  out.push("");
  out.push(`- **Machine**: ${m.cpu}, ${m.logicalCpus} logical CPUs${m.cpuQuota ? ` (${m.cpuQuota})` : ""}, ${m.memory} RAM, ${m.kernel}; shared with other work. Load average (1/5/15 min) when the run started: ${m.loadAverage}${r.importReport ? `; when each import started: ${r.importReport.runs.map((x) => `${fmt(x.rows)} rows: ${x.loadAtStart}`).join("; ")}` : ""}`);
  out.push(`- **Node** ${m.node}; **PostgreSQL**: ${m.postgres}`);
  out.push(`- **PostgreSQL settings** (server defaults, untuned): ${m.postgresSettings}`);
  out.push(
    `- **Data**: ${fmt(d.units)} units (${d.cities} cities, ${d.subBranches} sub-branches, ${fmt(d.outlets)} outlets), ` +
      `${fmt(d.managers)} account managers, ${fmt(d.customers)} customers (${fmt(d.newCustomers)} with an approval), ` +
      `${fmt(d.records)} applications (${fmt(d.approved)} approved), ${fmt(d.activations)} activations, ${fmt(d.targets)} targets; ` +
      `rollups: ${fmt(d.rollupBranchRows)} unit-day rows (rollup_branch_day), ${fmt(d.rollupManagerRows)} manager-day rows (rollup_manager_day); ` +
      `database ${d.databaseSize}. ${d.reused ? `Records reused from the build of ${d.builtAt.slice(0, 16).replace("T", " ")} UTC${d.stepsThisRun.length ? `; this run added: ${d.stepsThisRun.map((s) => `${s.step} (${s.seconds.toFixed(1)} s)`).join(", ")}` : ""}.` : "Built in this run."}`,
  );
  out.push(
    `- **Reads**: closed loop, one keep-alive connection per worker; warm-up ${r.settings.warmupSeconds} s, measured ${r.settings.durationSeconds} s per row. ` +
      `Server: \`node dist/src/main.js\` as a child process (NODE_ENV=production, LOG_LEVEL=error, Prisma pool ${r.settings.pool}); ` +
      `load generator, server and PostgreSQL share the machine. pg direct (the ceiling): the statements the server sent for the request ` +
      `(captured from node-postgres), replayed one after the other on one connection per worker. **Period** ${r.settings.period}, **asOf** ${r.settings.asOf}.`,
  );
  out.push("");
  out.push(...targetsTable(r.targets));
  if (r.importNote) {
    out.push(`> ${r.importNote}`);
    out.push("");
  }
  out.push("### Reads");
  out.push("");
  out.push(resultsTable(r.rows));
  out.push("");
  out.push(...renderCpu(r.rows, r.profiles));
  out.push(...renderScenarios(r.scenarios, "####"));
  if (r.importReport) out.push(...renderImport(r.importReport));
  out.push("### Build steps of this data (seconds)", ...buildStepsTable(d.buildSteps));
  return out.join("\n");
}

/** The "### Targets" table: each target, what was measured, and its verdict. */
function targetsTable(targets: readonly Target[]): string[] {
  return ["### Targets", "", "| target | measured | verdict |", "|---|---|---|", ...targets.map((t) => `| ${t.name} | ${t.measured} | ${verdict(t.met)} |`), ""];
}

export interface ImportRunReport {
  date: Date;
  machine: Machine;
  data: DataSummary;
  targets: Target[];
  importReport: ImportReport;
}

/**
 * The import alone (`--import-only`): the batch and bulk paths of the import command beside a
 * raw COPY, under a section of its own (`import:records=N`), so the reads' sections stay as measured.
 */
export function renderImportSection(r: ImportRunReport): string {
  const m = r.machine;
  const d = r.data;
  const out: string[] = [];
  out.push(`## Import: the batch and bulk paths, on ${fmt(d.records)} applications`);
  out.push("");
  out.push(`Measured ${r.date.toISOString().replace("T", " ").slice(0, 16)} UTC (\`npm run bench -- --records ${d.records} --import-only\`).`);
  out.push("");
  out.push(
    `- **Machine**: ${m.cpu}, ${m.logicalCpus} logical CPUs${m.cpuQuota ? ` (${m.cpuQuota})` : ""}, ${m.memory} RAM, ${m.kernel}; shared with other work. ` +
      `Load average (1/5/15 min) when the run started: ${m.loadAverage}; when each import started: ` +
      `${r.importReport.runs.map((x) => `${x.path} ${fmt(x.rows)} rows: ${x.loadAtStart}`).join("; ")}`,
  );
  out.push(`- **Node** ${m.node}; **PostgreSQL**: ${m.postgres}`);
  out.push(`- **PostgreSQL settings** (server defaults, untuned): ${m.postgresSettings}`);
  out.push(
    `- **Data**: ${fmt(d.units)} units, ${fmt(d.managers)} account managers, ${fmt(d.customers)} customers, ${fmt(d.records)} applications, ` +
      `${fmt(d.activations)} activations; rollups: ${fmt(d.rollupBranchRows)} unit-day rows, ${fmt(d.rollupManagerRows)} manager-day rows.`,
  );
  out.push("");
  out.push(...targetsTable(r.targets));
  out.push(...renderImport(r.importReport));
  return out.join("\n");
}

export function renderImport(x: ImportReport): string[] {
  const out: string[] = [];
  out.push("### Import");
  out.push("");
  out.push(
    `The real command, \`node dist/src/cli/import.js applications <file>\` (NODE_ENV=production), on a generated ` +
      `applications CSV, into \`${x.scratchDatabase}\`: a file-level copy of the bench database (\`CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY\`, ` +
      `${x.copySeconds.toFixed(1)} s), so it meets the indexes, customers and rollups of ${fmt(x.baseRecords)} applications, and the bench ` +
      `database keeps its nominal size; dropped afterwards. Rows: new external ids IMP…, received/keyed/decided within 2021-Q1, ~60 % approved, ` +
      `20 % by an existing customer, 10 % by a customer new earlier in the import, 70 % by a new customer; units and managers as in the synthetic bank. ` +
      `The sizes run one after the other (the 1 M rows first), so the larger one starts on ${fmt(x.baseRecords)} + the smaller. ` +
      `Raw COPY: the same rows with ids resolved, \`psql \\copy … FROM file WITH (FORMAT csv)\` into a fresh table ` +
      `created \`LIKE application INCLUDING ALL\` (primary key, unique external_id, customer_id index, defaults, checks; no foreign keys, no rollups). ` +
      `Peak RSS: VmHWM of the import process from /proc/<pid>/status, sampled every 100 ms. ` +
      `Paths: **batch** is the command as it was (batches of 50,000 rows held in memory and sent as arrays); **bulk** is \`--bulk\` ` +
      `(each chunk of 1,000,000 rows read, checked and encoded to a file while the one before is written, then streamed into one transaction with COPY). Each path imports rows of its own ` +
      `(new external ids), one after the other at each size; the raw COPY runs once per size.`,
  );
  out.push("");
  out.push("| path | rows | file MB | import s | import rows/s | peak RSS MB | raw COPY s | raw COPY rows/s | import ÷ COPY | load avg at start |");
  out.push("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
  for (const r of x.runs) {
    out.push(
      `| ${r.path ?? "batch"} | ${fmt(r.rows)} | ${r.fileMb} | ${r.seconds.toFixed(1)} | ${fmt(Math.round(r.rowsPerSecond))} | ${r.peakRssMb} | ${r.copySeconds.toFixed(1)} | ` +
        `${fmt(Math.round(r.copyRowsPerSecond))} | ${((100 * r.rowsPerSecond) / r.copyRowsPerSecond).toFixed(1)} % | ${r.loadAtStart} |`,
    );
  }
  out.push("");
  out.push(
    "CPU time over each run, per row (µs), from /proc: the import process (parsing, checks, Prisma; its last sample before it exited) and every " +
      "PostgreSQL process (the import's one writing session, plus the checkpointer and background writer, plus any other database's sessions " +
      "on the same server: the machine is shared). One batch is written at a time, by one session, so the database side runs on one core: " +
      "1,000,000 ÷ the PostgreSQL µs/row is about the most rows/s this design can reach here.",
  );
  out.push("");
  out.push("| path | rows | import process s | µs/row | PostgreSQL s | µs/row | wall µs/row |");
  out.push("|---|--:|--:|--:|--:|--:|--:|");
  for (const r of x.runs) {
    if (r.importCpuSeconds === undefined) continue;
    const per = (s: number) => ((s * 1e6) / r.rows).toFixed(1);
    out.push(`| ${r.path ?? "batch"} | ${fmt(r.rows)} | ${r.importCpuSeconds.toFixed(1)} | ${per(r.importCpuSeconds)} | ${r.postgresCpuSeconds.toFixed(1)} | ${per(r.postgresCpuSeconds)} | ${per(r.seconds)} |`);
  }
  out.push("");
  for (const r of x.runs) out.push(`- ${r.path ?? "batch"}, ${fmt(r.rows)} rows: the command said "${r.summaryLine}"; exit status ${r.exitCode}.`);
  if (x.refused?.length) {
    out.push("");
    out.push(
      "Refused rows (bulk path): the same sizes again, every row naming a unit that does not exist, so that every row comes back " +
        "from the database to be reported and nothing is written. Peak RSS as above.",
    );
    out.push("");
    out.push("| rows, all refused | import s | rows/s | peak RSS MB | load avg at start |");
    out.push("|--:|--:|--:|--:|---|");
    for (const r of x.refused) out.push(`| ${fmt(r.rows)} | ${r.seconds.toFixed(1)} | ${fmt(Math.round(r.rowsPerSecond))} | ${r.peakRssMb} | ${r.loadAtStart} |`);
  }
  out.push("");
  out.push("RSS of the import process along the way (MB, at the rows it had reported):");
  out.push("");
  out.push("| rows run | " + Array.from({ length: 10 }, (_, i) => `${(i + 1) * 10} %`).join(" | ") + " |");
  out.push("|--:|" + "--:|".repeat(10));
  for (const r of x.runs) {
    const cells = Array.from({ length: 10 }, (_, i) => {
      const at = ((i + 1) / 10) * r.rows;
      const s = r.samples.filter((p) => p.rows > 0 && p.rows <= at).pop();
      return s ? String(s.rssMb) : "-";
    });
    out.push(`| ${r.path ?? "batch"} ${fmt(r.rows)} | ${cells.join(" | ")} |`);
  }
  out.push("");
  out.push(
    `After the imports the scratch database held ${fmt(x.after.applications)} applications (${fmt(x.after.imported)} imported), ${fmt(x.after.customers)} customers, ` +
      `${fmt(x.after.rollupBranchRows)} unit-day rollup rows. **verifyRollups** (what \`npm run rollups:verify\` runs): ` +
      `**${x.verify.differences} differences** (${x.verify.seconds.toFixed(1)} s)${x.verify.sample.length ? `; first: ${x.verify.sample.join("; ")}` : ""}.`,
  );
  out.push("");
  for (const p of x.profiles) {
    const sum = p.statements.reduce((a, s) => a + s.totalMs, 0);
    out.push(
      `#### Where an import's time goes (${p.path} path): ${fmt(p.rows)} rows (${p.batches} ${p.path === "bulk" ? "chunk" : "batches"}) through \`runImport\` in the bench process, every statement timed`,
    );
    out.push("");
    out.push(
      `Wall ${p.wallSeconds.toFixed(1)} s (${fmt(Math.round(p.rows / p.wallSeconds))} rows/s); statements ${(sum / 1000).toFixed(1)} s in all ` +
        `(time from sending to the answer, as node-postgres sees it). The rest of the wall time is the process's own work ` +
        `(CSV parsing, zod checks, validation, Prisma) not overlapped with the database.`,
    );
    out.push("");
    out.push("| statement | calls | total s | per batch ms | share of wall |");
    out.push("|---|--:|--:|--:|--:|");
    for (const s of p.statements) {
      out.push(`| ${s.label} | ${fmt(s.calls)} | ${(s.totalMs / 1000).toFixed(2)} | ${(s.totalMs / p.batches).toFixed(1)} | ${((100 * s.totalMs) / 1000 / p.wallSeconds).toFixed(1)} % |`);
    }
    out.push("");
  }
  return out;
}

export function renderCpu(rows: readonly Row[], profiles: readonly ProfileSummary[]): string[] {
  const out: string[] = [];
  const f = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
  if (rows.some((r) => r.cpu)) {
    out.push("#### CPU per request");
    out.push("");
    out.push(
      "CPU time over each row's run (warm-up included) ÷ requests, from /proc: the server process, every PostgreSQL process " +
        "(other databases' sessions on the same server included, if any were busy), and the load generator. With 2 cores, " +
        "2,000 ms ÷ the total is the most requests per second the machine can serve.",
    );
    out.push("");
    out.push("| request | path | conns | server ms | PostgreSQL ms | load generator ms | total ms |");
    out.push("|---|---|--:|--:|--:|--:|--:|");
    for (const r of rows) {
      if (!r.cpu) continue;
      const c = r.cpu;
      out.push(`| ${r.request} | ${r.path} | ${r.result.concurrency} | ${r.path === "pg direct" ? "-" : f(c.serverMs)} | ${f(c.postgresMs)} | ${f(c.loadGeneratorMs)} | ${f(c.serverMs + c.postgresMs + c.loadGeneratorMs)} |`);
    }
    out.push("");
  }
  for (const p of profiles) {
    out.push(`#### Where the server's CPU goes: ${p.request}`);
    out.push("");
    out.push(`\`node --cpu-prof\` of a separate server run (not the measured one); self time, idle excluded, ${(p.totalMs / 1000).toFixed(1)} s sampled.`);
    out.push("");
    out.push("| package / area | self ms | share |");
    out.push("|---|--:|--:|");
    for (const k of p.byPackage.slice(0, 14)) out.push(`| ${k.name} | ${k.ms.toFixed(0)} | ${(100 * k.share).toFixed(1)} % |`);
    out.push("");
    out.push("<details><summary>Top functions by self time</summary>");
    out.push("");
    out.push("| function | where | self ms | share |");
    out.push("|---|---|--:|--:|");
    for (const k of p.byFunction) out.push(`| ${k.name.replace(/\|/g, "\\|")} | ${k.where.replace(/\|/g, "\\|")} | ${k.ms.toFixed(0)} | ${(100 * k.share).toFixed(1)} % |`);
    out.push("</details>");
    out.push("");
  }
  return out;
}

// ---- promotionsNear ---------------------------------------------------------------------

export interface PromotionsScenario {
  info: ScenarioInfo;
  /** From the answer of the captured run. */
  totalCount: number;
  pageSize: number;
  firstEdges: unknown[];
  centre: { name: string; code: string; lat: number; lng: number };
  radiusMeters: number;
  at: string;
  box: { inBox: number; inRadius: number };
}

export interface PromotionsRunReport {
  date: Date;
  machine: Machine;
  data: PromotionsData;
  records: number;
  settings: { warmupSeconds: number; durationSeconds: number; pool: number };
  rows: Row[];
  scenario: PromotionsScenario;
  profiles: ProfileSummary[];
}

/** What a plan says in a line: execution time, buffers, the scans on each table. */
export function planSummary(plan: string): { executionMs: number | null; planningMs: number | null; buffers: string | null; scans: string[] } {
  const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
  const planningMs = Number(/Planning Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
  // The first Buffers line belongs to the top node: the whole statement's.
  const buffers = /^\s*Buffers: (.*)$/m.exec(plan)?.[1] ?? null;
  const scans = new Map<string, number>();
  for (const m of plan.matchAll(/((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan|Bitmap Heap Scan|CTE Scan))(?: Backward)?(?: using (\S+))? on (\S+)(?: (\w+))?/g)) {
    const what = m[1] === "Bitmap Index Scan" ? `${m[1]} on ${m[3]}` : `${m[1]}${m[2] ? ` using ${m[2]}` : ""} on ${m[3]}${m[4] && m[4] !== "using" ? ` ${m[4]}` : ""}`;
    scans.set(what, (scans.get(what) ?? 0) + 1);
  }
  return {
    executionMs: Number.isFinite(executionMs) ? executionMs : null,
    planningMs: Number.isFinite(planningMs) ? planningMs : null,
    buffers,
    scans: [...scans.entries()].map(([k, n]) => (n > 1 ? `${k} (×${n})` : k)),
  };
}

export function renderPromotionsSection(r: PromotionsRunReport): string {
  const m = r.machine;
  const d = r.data;
  const s = r.scenario;
  const out: string[] = [];
  const candidates = s.info.profile[0]?.rows ?? 0;
  out.push(`## promotionsNear: ${fmt(d.merchants)} merchants, ${fmt(d.promotions)} promotions`);
  out.push("");
  out.push(`Measured ${r.date.toISOString().replace("T", " ").slice(0, 16)} UTC (${r.date.toISOString().slice(0, 10)}). No numeric target was set for this query: the figures are reported.`);
  out.push("");
  out.push(`- **Machine**: ${m.cpu}, ${m.logicalCpus} logical CPUs${m.cpuQuota ? ` (${m.cpuQuota})` : ""}, ${m.memory} RAM, ${m.kernel}; shared with other work. Load average (1/5/15 min) when the run started: ${m.loadAverage}`);
  out.push(`- **Node** ${m.node}; **PostgreSQL**: ${m.postgres}; settings (server defaults, untuned): ${m.postgresSettings}`);
  out.push(
    `- **Data** (bench/promotions.ts, pure SQL, deterministic hashes; in the same database as the ${fmt(r.records)} applications): ` +
      `${fmt(d.merchants)} merchants over the 13 city branches, each city a cluster of 5..10 km around a Shanxi city centre, denser towards the centre ` +
      `(${d.merchantsPerCity}); ${fmt(d.circles)} business circles of 5..50 neighbouring merchants (${fmt(d.circleMembers)} memberships); ` +
      `${fmt(d.campaigns)} ACTIVE campaigns, each in one city, with ${fmt(d.campaignCircles)} eligible circles and ${fmt(d.campaignMerchants)} eligible merchants in all; ` +
      `${fmt(d.promotions)} promotions valid within 2021-01-01..2021-03-31 (half the whole quarter, half 2..11 weeks of it): ${d.byKind}. ` +
      `${d.reused ? `Reused from the build of ${d.builtAt.slice(0, 16).replace("T", " ")} UTC.` : "Built in this run."}`,
  );
  out.push(`- **Schedules**: ${d.bySchedule.replace(/\|/g, "\\|")}.`);
  out.push(
    `- **Request**: ${s.radiusMeters} m around the centre of ${s.centre.name} (${s.centre.code}, ${s.centre.lat} N ${s.centre.lng} E), the densest cluster, ` +
      `at ${s.at} (Saturday 10:00 in Asia/Shanghai), first 20. ` +
      `Merchants in the bounding box: ${fmt(s.box.inBox)}, of which ${fmt(s.box.inRadius)} within ${s.radiusMeters} m. ` +
      `**The SQL returns ${fmt(candidates)} candidate rows** (merchant × promotion of an ACTIVE campaign the merchant is eligible for, valid on the local date, with budget and stock left); ` +
      `the server keeps **${fmt(s.totalCount)}** (within the radius and open at that time: \`totalCount\`), sorts them by distance and returns ${s.pageSize}.`,
  );
  out.push(
    `- **Load**: closed loop, one keep-alive connection per worker; warm-up ${r.settings.warmupSeconds} s, measured ${r.settings.durationSeconds} s per row. ` +
      `Server: \`node dist/src/main.js\` as a child process (NODE_ENV=production, LOG_LEVEL=error, Prisma pool ${r.settings.pool}); ` +
      `load generator, server and PostgreSQL share the machine. pg direct: the statement the server sent (captured from node-postgres), replayed with its values on one connection per worker.`,
  );
  out.push("");
  out.push("### Reads");
  out.push("");
  out.push(resultsTable(r.rows));
  out.push("");
  const plan = s.info.slowestPlan?.plan ?? "";
  const ps = planSummary(plan);
  out.push("### The candidate SQL: rows and plan");
  out.push("");
  out.push(`- rows returned: **${fmt(candidates)}** (mean ${s.info.profile[0] ? s.info.profile[0].meanMs.toFixed(1) : "-"} ms alone on one connection, through node-postgres, rows included)`);
  out.push(`- EXPLAIN (ANALYZE, BUFFERS): execution ${ps.executionMs?.toFixed(1) ?? "-"} ms, planning ${ps.planningMs?.toFixed(1) ?? "-"} ms; buffers ${ps.buffers ?? "-"}`);
  out.push(`- scans: ${ps.scans.length ? ps.scans.map((x) => `\`${x}\``).join(", ") : "-"}`);
  out.push(`- merchant (latitude, longitude) index used: **${/merchant_latitude_longitude_idx/.test(plan) ? "yes" : "no"}**`);
  out.push("");
  out.push("<details><summary>First edges of the answer</summary>");
  out.push("");
  out.push("```json");
  out.push(JSON.stringify(s.firstEdges, null, 1));
  out.push("```");
  out.push("</details>");
  out.push("");
  out.push(...renderCpu(r.rows, r.profiles));
  out.push(...renderScenarios([s.info], "####"));
  out.push("### Build steps of this data (seconds)");
  out.push("");
  out.push("| step | s |");
  out.push("|---|--:|");
  for (const st of d.buildSteps) out.push(`| ${st.step} | ${st.seconds.toFixed(1)} |`);
  out.push(`| total | ${d.buildSteps.reduce((a, x) => a + x.seconds, 0).toFixed(1)} |`);
  return out.join("\n");
}

/** The data build's steps and their total, as table lines (after a blank line). */
function buildStepsTable(steps: readonly { step: string; seconds: number }[]): string[] {
  return [
    "",
    "| step | s |",
    "|---|--:|",
    ...steps.map((st) => `| ${st.step} | ${st.seconds.toFixed(1)} |`),
    `| total | ${steps.reduce((a, s) => a + s.seconds, 0).toFixed(1)} |`,
  ];
}
