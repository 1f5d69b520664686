/**
 * The SQL behind every figure. Each query is set-based over a list of subjects, so callers
 * (the loaders) pay one statement per metric and window, whatever the number of units.
 *
 * Windows are inclusive business-date ranges (shared/domain.md). Figures are read only from
 * the daily rollups (src/modules/rollups), never from the raw records.
 */
import type { Db } from "../../db/database.js";
import { completionRate } from "../../domain/completion.js";
import type { BusinessDate } from "../../domain/dates.js";
import { asOfWindow, progressOf, seriesBuckets, type Period } from "../../domain/period.js";
import type { Context } from "../../graphql/context.js";
import { Prisma } from "../../generated/prisma/client.js";
import type { OrgLevel } from "../org/org.enums.js";
import { Granularity, Metric } from "./performance.enums.js";
import { MetricProgress, Performance, SeriesPoint } from "./performance.type.js";

export type SubjectKind = "branch" | "manager";

/** The daily rollup each kind of subject is read from. */
const ROLLUP = {
  branch: { table: Prisma.raw("rollup_branch_day"), key: Prisma.raw("branch_id") },
  manager: { table: Prisma.raw("rollup_manager_day"), key: Prisma.raw("manager_id") },
} as const satisfies Record<SubjectKind, { table: Prisma.Sql; key: Prisma.Sql }>;

/**
 * Actuals of the metrics in [start, end] for each subject id, as `${id}:${metric}` → count,
 * summed from the daily rollups (a unit's rollup already covers its whole subtree). One
 * statement for every metric a dashboard shows; combinations with nothing are absent.
 */
export async function actuals(
  db: Db,
  kind: SubjectKind,
  ids: readonly number[],
  metrics: readonly Metric[],
  start: BusinessDate,
  end: BusinessDate,
): Promise<Map<string, number>> {
  if (ids.length === 0 || end < start) return new Map();
  const { table, key } = ROLLUP[kind];
  const rows = await db.$queryRaw<{ id: number; metric: Metric; n: number }[]>`
    SELECT ${key} AS id, metric, sum(count)::int AS n FROM ${table}
    WHERE ${key} = ANY(${[...ids]}::int[]) AND metric = ANY(${[...metrics]}::"Metric"[])
      AND day BETWEEN ${start}::date AND ${end}::date
    GROUP BY ${key}, metric`;
  return new Map(rows.map((r) => [`${r.id}:${r.metric}`, r.n]));
}

/**
 * Daily actuals of the subjects in [start, end] for one metric, as `${id}` → (date → count);
 * days with nothing are absent. One statement for a whole drill-down of series.
 */
export async function dailyActuals(
  db: Db,
  kind: SubjectKind,
  ids: readonly number[],
  metric: Metric,
  start: BusinessDate,
  end: BusinessDate,
): Promise<Map<number, Map<BusinessDate, number>>> {
  const byId = new Map<number, Map<BusinessDate, number>>(ids.map((id) => [id, new Map()]));
  if (ids.length === 0 || end < start) return byId;
  const { table, key } = ROLLUP[kind];
  const rows = await db.$queryRaw<{ id: number; day: string; n: number }[]>`
    SELECT ${key} AS id, to_char(day, 'YYYY-MM-DD') AS day, count AS n FROM ${table}
    WHERE ${key} = ANY(${[...ids]}::int[]) AND metric = ${metric}::"Metric" AND day BETWEEN ${start}::date AND ${end}::date`;
  for (const r of rows) byId.get(r.id)?.set(r.day, r.n);
  return byId;
}

/** Targets of the subjects for one period, as `${id}:${metric}` → value. */
export async function targets(db: Db, kind: SubjectKind, ids: readonly number[], period: string): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db.target.findMany({
    where: { period, ...(kind === "branch" ? { branchId: { in: [...ids] } } : { managerId: { in: [...ids] } }) },
    select: { branchId: true, managerId: true, metric: true, value: true },
  });
  return new Map(rows.map((t) => [`${kind === "branch" ? t.branchId : t.managerId}:${t.metric}`, t.value]));
}

/**
 * A ranking's whole input in one statement: the contestants with their actual (from the
 * rollups) and target. A dashboard's hottest query, so it avoids the three round trips that
 * the generic loaders would take.
 */
export async function childrenWithFigures(db: Db, parentId: number, metric: Metric, period: string, start: BusinessDate, end: BusinessDate) {
  const rows = await db.$queryRaw<{ id: number; code: string; name: string; level: OrgLevel; parentId: number; actual: number; target: number | null }[]>`
    SELECT b.id, b.code, b.name, b.level, b.parent_id AS "parentId", coalesce(r.n, 0)::int AS actual, t.value AS target
    FROM branch b
    LEFT JOIN (SELECT r.branch_id, sum(r.count) AS n FROM rollup_branch_day r JOIN branch c ON c.id = r.branch_id
               WHERE c.parent_id = ${parentId} AND r.metric = ${metric}::"Metric" AND r.day BETWEEN ${start}::date AND ${end}::date
               GROUP BY r.branch_id) r ON r.branch_id = b.id
    LEFT JOIN target t ON t.branch_id = b.id AND t.period = ${period} AND t.metric = ${metric}::"Metric"
    WHERE b.parent_id = ${parentId}
    ORDER BY b.code`;
  return rows.map(({ actual, target, ...row }) => ({ row, actual, target }));
}

/** The account managers of a unit's subtree with their actual and target, in one statement. */
export async function subtreeManagersWithFigures(db: Db, unitId: number, metric: Metric, period: string, start: BusinessDate, end: BusinessDate) {
  const rows = await db.$queryRaw<{ id: number; code: string; name: string; branchId: number; actual: number; target: number | null }[]>`
    SELECT m.id, m.code, m.name, m.branch_id AS "branchId", coalesce(r.n, 0)::int AS actual, t.value AS target
    FROM branch_closure c
    JOIN account_manager m ON m.branch_id = c.descendant_id
    LEFT JOIN (SELECT r.manager_id, sum(r.count) AS n FROM rollup_manager_day r
               JOIN account_manager am ON am.id = r.manager_id
               JOIN branch_closure sc ON sc.descendant_id = am.branch_id AND sc.ancestor_id = ${unitId}
               WHERE r.metric = ${metric}::"Metric" AND r.day BETWEEN ${start}::date AND ${end}::date
               GROUP BY r.manager_id) r ON r.manager_id = m.id
    LEFT JOIN target t ON t.manager_id = m.id AND t.period = ${period} AND t.metric = ${metric}::"Metric"
    WHERE c.ancestor_id = ${unitId}
    ORDER BY m.code`;
  return rows.map(({ actual, target, ...row }) => ({ row, actual, target }));
}

// ---- Orchestration used by the resolvers -------------------------------------------------

/** A subject's figures for a period as of a date; `rankAmong` is the unit its peers share. */
export function buildPerformance(
  subject: Performance["subject"],
  period: Period,
  asOf: BusinessDate,
): Performance {
  const window = asOfWindow(period, asOf);
  return Object.assign(new Performance(), { subject, period, asOf, window, timeProgress: progressOf(period, window) });
}

export async function metricProgress(ctx: Context, p: Performance, metric: Metric): Promise<MetricProgress> {
  const { kind, id } = p.subject;
  const [actual, target] = await Promise.all([
    ctx.loaders.performance.actual.load({ kind, id, metric, start: p.window.start, end: p.window.end }),
    ctx.loaders.performance.target.load({ kind, id, period: p.period.code, metric }),
  ]);
  return { metric, actual, target, completionRate: completionRate(actual, target) };
}

/** The subject's rank among its peers: a unit among its parent's children, a manager among its unit's managers. */
export async function rankOf(ctx: Context, p: Performance, metric: Metric): Promise<number | null> {
  const { kind, id, rankAmong } = p.subject;
  if (rankAmong === null) return null;
  const key = { unitId: rankAmong, period: p.period, window: p.window, metric };
  const rows =
    kind === "branch"
      ? (await ctx.loaders.performance.branchRanking.load(key)).map((r) => ({ id: r.branch.dbId, rank: r.rank }))
      : (await ctx.loaders.performance.managerRanking.load(key)).map((r) => ({ id: r.manager.dbId, rank: r.rank }));
  return rows.find((r) => r.id === id)?.rank ?? null;
}

export async function series(ctx: Context, p: Performance, metric: Metric, granularity: Granularity): Promise<SeriesPoint[]> {
  const { kind, id } = p.subject;
  const daily = await ctx.loaders.performance.daily.load({ kind, id, metric, start: p.window.start, end: p.window.end });
  let cumulative = 0;
  return seriesBuckets(p.window, granularity).map((bucket) => {
    let actual = 0;
    for (const [day, n] of daily) if (day >= bucket.start && day <= bucket.end) actual += n;
    cumulative += actual;
    return { start: bucket.start, end: bucket.end, actual, cumulative };
  });
}
