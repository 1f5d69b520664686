/**
 * Where the CPU goes, on a machine where the load generator, the server and PostgreSQL share
 * two cores: CPU time of the server process, of all PostgreSQL processes (backends, and through
 * the postmaster's child times those that exited), and of this process, over a load run; and a
 * summary of a V8 CPU profile of the server (self time by package and by function).
 */
import fs from "node:fs";
import path from "node:path";

const TICK_MS = 10; // CLK_TCK = 100 on Linux

export interface CpuSnapshot {
  server: number;
  postgres: number;
  self: number;
}

/** utime + stime (+ the times of waited-for children when `children`) of a process, in ms. */
export function procCpuMs(pid: number | string, children: boolean): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14 → index 11.
    const [ut, st, cut, cst] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return (ut + st + (children ? cut + cst : 0)) * TICK_MS;
  } catch {
    return null;
  }
}

export function postgresCpuMs(): number {
  let total = 0;
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    let comm: string;
    try {
      comm = fs.readFileSync(`/proc/${e}/comm`, "utf8").trim();
    } catch {
      continue;
    }
    if (comm !== "postgres" && !comm.startsWith("postgres")) continue;
    total += procCpuMs(e, true) ?? 0;
  }
  return total;
}

export function cpuSnapshot(serverPid: number | undefined): CpuSnapshot {
  const u = process.cpuUsage();
  return {
    server: serverPid ? (procCpuMs(serverPid, false) ?? 0) : 0,
    postgres: postgresCpuMs(),
    self: (u.user + u.system) / 1000,
  };
}

export interface CpuPerRequest {
  serverMs: number;
  postgresMs: number;
  loadGeneratorMs: number;
}

export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): CpuPerRequest {
  const n = Math.max(requests, 1);
  return {
    serverMs: (after.server - before.server) / n,
    postgresMs: (after.postgres - before.postgres) / n,
    loadGeneratorMs: (after.self - before.self) / n,
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  request: string;
  totalMs: number;
  byPackage: { name: string; ms: number; share: number }[];
  byFunction: { name: string; where: string; ms: number; share: number }[];
}

function packageOf(url: string, functionName: string): string {
  if (!url) {
    if (/^\((garbage collector|idle|program|root)\)$/.test(functionName)) return functionName;
    return "(native)";
  }
  if (url.startsWith("node:")) return "node internals";
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) {
    const rest = url.slice(url.lastIndexOf("node_modules/") + 13 + m[1].length);
    return m[1] === "@prisma/client" && /runtime/.test(rest) ? "@prisma/client (runtime)" : m[1];
  }
  if (/\/dist\/src\/generated\//.test(url)) return "generated Prisma client";
  if (/\/dist\/src\//.test(url)) return `app: ${url.replace(/.*\/dist\/src\//, "").split("/").slice(0, 2).join("/")}`;
  return url.replace(/^file:\/\//, "").split("/").slice(-2).join("/");
}

/** Self time by package and by function, from a .cpuprofile written by node --cpu-prof, idle excluded. */
export function summarizeProfile(file: string, request: string): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const selfMs = new Map<number, number>();
  p.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, { where: string; ms: number }>();
  let total = 0;
  for (const n of p.nodes) {
    const ms = selfMs.get(n.id) ?? 0;
    if (ms === 0 || n.callFrame.functionName === "(idle)") continue;
    total += ms;
    const pkg = packageOf(n.callFrame.url, n.callFrame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const fname = n.callFrame.functionName || "(anonymous)";
    const key = `${fname}|${pkg}|${n.callFrame.url}:${n.callFrame.lineNumber}`;
    const f = byFunction.get(key) ?? { where: `${pkg}${n.callFrame.url ? ` (${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1})` : ""}`, ms: 0 };
    f.ms += ms;
    byFunction.set(key, f);
  }
  return {
    request,
    totalMs: total,
    byPackage: [...byPackage.entries()].map(([name, ms]) => ({ name, ms, share: ms / total })).sort((a, b) => b.ms - a.ms),
    byFunction: [...byFunction.entries()]
      .map(([key, f]) => ({ name: key.split("|")[0], where: f.where, ms: f.ms, share: f.ms / total }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 15),
  };
}
