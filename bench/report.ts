/**
 * What the run was measured on, and the Markdown it leaves in bench/results.md: one section per
 * data size, so a 10 M run sits beside the 1 M one and each re-run replaces its own section.
 */
import fs from "node:fs";
import os from "node:os";
import pg from "pg";
import type { StatementProfile } from "./capture.js";
import type { LoadResult } from "./load.js";
import { fmt, type DataSummary } from "./synthetic.js";

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
  for (const s of r.scenarios) {
    const total = s.profile.reduce((a, p) => a + p.meanMs, 0);
    out.push(`### ${s.name}: ${s.statements.length} statements per request`);
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
  out.push("Build steps of this data (seconds):");
  out.push("");
  out.push("| step | s |");
  out.push("|---|--:|");
  for (const st of d.buildSteps) out.push(`| ${st.step} | ${st.seconds.toFixed(1)} |`);
  out.push(`| total | ${d.buildSteps.reduce((a, s) => a + s.seconds, 0).toFixed(1)} |`);
  return out.join("\n");
}

const HEADER = `# Benchmark: dashboard reads on a synthetic bank

Produced by \`npm run bench\` (bench/run.ts); every figure below is measured, none is typed in.
\`npm run bench -- --10m\` (or \`--records N\`) runs at another size, \`--rebuild\` regenerates the
data, \`--duration S\`, \`--warmup S\`, \`--concurrency 1,8\`, \`--pool N\` change the load. Each size has
its own section; a new run of a size replaces its section. This is a baseline: no targets yet.

Columns: \`req/s\` completed requests per second over the measured window; \`p50\`/\`p99\` latency of
one request (for pg direct: all of the request's statements, one after the other); \`errors\` responses
with GraphQL \`errors\`, a non-200 status or a failed statement; \`HTTP ÷ pg\` the HTTP throughput as a
share of the pg-direct throughput at the same number of connections.
`;

const begin = (records: number) => `<!-- bench:records=${records} -->`;
const end = (records: number) => `<!-- /bench:records=${records} -->`;

/** Writes `section` for `records` into the results file, keeping the other sizes' sections. */
export function writeResults(file: string, records: number, section: string): void {
  const old = readFile(file) ?? "";
  const sections = new Map<number, string>();
  for (const m of old.matchAll(/<!-- bench:records=(\d+) -->\n([\s\S]*?)\n<!-- \/bench:records=\1 -->/g)) {
    sections.set(Number(m[1]), m[2]);
  }
  sections.set(records, section);
  const body = [...sections.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, s]) => `${begin(n)}\n${s}\n${end(n)}`)
    .join("\n\n");
  fs.writeFileSync(file, `${HEADER}\n${body}\n`);
}
