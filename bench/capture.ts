/**
 * The SQL the server sends for one GraphQL request, captured rather than re-typed: the request
 * runs once in this process through the server's own schema, context and loaders, on a Prisma
 * client over PrismaPg, while node-postgres' Client.query is watched. What Prisma hands to
 * node-postgres (text and bound values) is exactly what the pg-direct runs replay.
 */
import { graphql, type GraphQLSchema } from "graphql";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { loadConfig } from "../src/config.js";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { createContext } from "../src/graphql/create-context.js";
import type { Statement } from "./load.js";

/** The key the bench's server and its requests share (the server runs with NODE_ENV=production, which needs one). */
export const BENCH_JWT_SECRET = "bench-only-secret-bench-only-secret!";

export interface Captured {
  data: unknown;
  statements: Statement[];
}

type QueryFn = (...args: unknown[]) => unknown;

export async function captureStatements(url: string, schema: GraphQLSchema, query: string): Promise<Captured> {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ ...parseIntoClientConfig(url), max: 10 }) });
  const statements: Statement[] = [];
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0] as { text?: unknown; values?: unknown[]; rowMode?: unknown } | undefined;
    if (first && typeof first === "object" && typeof first.text === "string" && first.rowMode === "array") {
      statements.push({ text: first.text, values: [...(first.values ?? [])] });
    }
    return original.apply(this, args);
  };
  try {
    await prisma.$connect();
    const config = loadConfig({ DATABASE_URL: url, NODE_ENV: "production", LOG_LEVEL: "silent", JWT_SECRET: BENCH_JWT_SECRET });
    // Warm the pool first so that connection set-up cannot show up as a statement.
    await prisma.$queryRawUnsafe("SELECT 1");
    statements.length = 0;
    const result = await graphql({ schema, source: query, contextValue: createContext(prisma, config, { sub: "bench", role: "HQ", unit: null }) });
    if (result.errors?.length) throw new Error(`capture run failed: ${result.errors.map((e) => e.message).join("; ")}`);
    return { data: result.data, statements: [...statements] };
  } finally {
    proto.query = original;
    await prisma.$disconnect();
  }
}

/** A short name for a captured statement, from what it reads. */
export function labelOf(s: Statement): string {
  const t = s.text.replace(/\s+/g, " ");
  const ids = s.values.find((v) => Array.isArray(v)) as unknown[] | undefined;
  const n = ids ? ` (${ids.length} id${ids.length === 1 ? "" : "s"})` : "";
  const metric = s.values.find((v) => typeof v === "string" && /^(APPLICATIONS|APPROVALS|NEW_CUSTOMERS|ACTIVATIONS)$/.test(v)) as string | undefined;
  // promotionsNear (src/modules/campaigns/nearby.service.ts).
  if (/FROM live_offer o/.test(t)) return "promotionsNear page (live-offer index: box, date, schedule, distance, order)";
  if (/WITH nearby AS/.test(t) && /FROM merchant/.test(t)) return "promotionsNear candidates (box, eligibility, promotions)";
  if (/FROM redemption WHERE card_token/.test(t)) return "promotionsNear card usage";
  // Reads of the daily rollups (src/modules/performance/performance.service.ts).
  if (/rollup_branch_day|rollup_manager_day/.test(t)) {
    const kind = /rollup_manager_day/.test(t) ? "manager" : "unit";
    if (/FROM branch b/.test(t)) return `ranking: children + rollup + target ${metric ?? ""}`.trim();
    if (/FROM branch_closure c/.test(t) && /account_manager/.test(t)) return `ranking: subtree managers + rollup + target ${metric ?? ""}`.trim();
    if (/to_char\(day/.test(t)) return `daily series ${metric ?? ""} (1 ${kind})`;
    return `rollup actuals ${metric ?? "?"}${n}`;
  }
  if (/branch_closure/.test(t) && /JOIN application/.test(t)) {
    const metric = /JOIN customer/.test(t)
      ? "NEW_CUSTOMERS"
      : /JOIN activation/.test(t)
        ? "ACTIVATIONS"
        : /decision = 'APPROVED'/.test(t)
          ? "APPROVALS"
          : /keyed_on/.test(t)
            ? "APPLICATIONS"
            : "?";
    return `actuals ${metric}${n}`;
  }
  if (/FROM "public"\."target"/.test(t)) {
    const k = ids ? ids.length : countPlaceholders(t, "branch_id");
    return `targets (${k} id${k === 1 ? "" : "s"})`;
  }
  if (/FROM "public"\."branch"/.test(t) && /"parent_id" IN/.test(t)) return "childrenOf";
  if (/FROM "public"\."branch"/.test(t) && /"code" IN/.test(t)) return "branchByCode";
  if (/FROM "public"\."branch"/.test(t) && /"id" IN/.test(t)) return "branchById";
  return t.slice(0, 60);
}

function countPlaceholders(text: string, column: string): number {
  const m = new RegExp(`"${column}" IN \\(([^)]*)\\)`).exec(text);
  return m ? m[1].split(",").length : 0;
}

export interface StatementProfile {
  label: string;
  runs: number;
  rows: number;
  meanMs: number;
  p50Ms: number;
}

/** Times each statement alone on one connection: a few warm-up runs, then up to 30 runs or 3 s. */
export async function profileStatements(url: string, statements: readonly Statement[]): Promise<StatementProfile[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: StatementProfile[] = [];
    for (const s of statements) {
      let rows = 0;
      for (let i = 0; i < 3; i++) rows = (await client.query({ text: s.text, values: s.values, rowMode: "array" })).rowCount ?? 0;
      const times: number[] = [];
      const deadline = performance.now() + 3000;
      while (times.length < 30 && performance.now() < deadline) {
        const t0 = performance.now();
        await client.query({ text: s.text, values: s.values, rowMode: "array" });
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      out.push({
        label: labelOf(s),
        runs: times.length,
        rows,
        meanMs: times.reduce((a, b) => a + b, 0) / times.length,
        p50Ms: times[Math.ceil(times.length / 2) - 1],
      });
    }
    return out;
  } finally {
    await client.end();
  }
}

/** EXPLAIN (ANALYZE, BUFFERS) of one statement with its bound values. */
export async function explain(url: string, s: Statement): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query({ text: `EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, values: s.values });
    return r.rows.map((row: Record<string, string>) => row["QUERY PLAN"]).join("\n");
  } finally {
    await client.end();
  }
}

/** The statement as one readable line, with its values, for the report. */
export function describe(s: Statement): string {
  const text = s.text.replace(/\s+/g, " ").trim();
  return `${text}  -- values: ${JSON.stringify(s.values)}`;
}
