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
import { asOfWindow, seriesBuckets, timeProgress, type Period } from "../../domain/period.js";
import type { Context } from "../../graphql/context.js";
import { Granularity, Metric } from "./performance.enums.js";
import { MetricProgress, Performance, SeriesPoint } from "./performance.type.js";

export type SubjectKind = "branch" | "manager";

/**
 * Actual of `metric` in [start, end] for each subject id, summed from the daily rollups (a
 * unit's rollup already covers its whole subtree). Subjects with nothing are absent.
 */
export async function actuals(
  db: Db,
  kind: SubjectKind,
  ids: readonly number[],
  metric: Metric,
  start: BusinessDate,
  end: BusinessDate,
): Promise<Map<number, number>> {
  if (ids.length === 0 || end < start) return new Map();
  const rows =
    kind === "branch"
      ? await db.$queryRaw<{ id: number; n: number }[]>`
          SELECT branch_id AS id, sum(count)::int AS n FROM rollup_branch_day
          WHERE branch_id = ANY(${[...ids]}::int[]) AND metric = ${metric}::"Metric" AND day BETWEEN ${start}::date AND ${end}::date
          GROUP BY branch_id`
      : await db.$queryRaw<{ id: number; n: number }[]>`
          SELECT manager_id AS id, sum(count)::int AS n FROM rollup_manager_day
          WHERE manager_id = ANY(${[...ids]}::int[]) AND metric = ${metric}::"Metric" AND day BETWEEN ${start}::date AND ${end}::date
          GROUP BY manager_id`;
  return new Map(rows.map((r) => [r.id, r.n]));
}

/** Daily actuals of one subject in [start, end], as date → count (days with nothing absent). */
export async function dailyActuals(
  db: Db,
  kind: SubjectKind,
  id: number,
  metric: Metric,
  start: BusinessDate,
  end: BusinessDate,
): Promise<Map<BusinessDate, number>> {
  if (end < start) return new Map();
  const rows =
    kind === "branch"
      ? await db.$queryRaw<{ day: string; n: number }[]>`
          SELECT to_char(day, 'YYYY-MM-DD') AS day, count AS n FROM rollup_branch_day
          WHERE branch_id = ${id} AND metric = ${metric}::"Metric" AND day BETWEEN ${start}::date AND ${end}::date`
      : await db.$queryRaw<{ day: string; n: number }[]>`
          SELECT to_char(day, 'YYYY-MM-DD') AS day, count AS n FROM rollup_manager_day
          WHERE manager_id = ${id} AND metric = ${metric}::"Metric" AND day BETWEEN ${start}::date AND ${end}::date`;
  return new Map(rows.map((r) => [r.day, r.n]));
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

/** Ids of the account managers who belong to the unit or any unit below it. */
export async function managersInSubtree(db: Db, branchId: number) {
  return db.accountManager.findMany({
    where: { branch: { ancestors: { some: { ancestorId: branchId } } } },
    orderBy: { code: "asc" },
  });
}

// ---- Orchestration used by the resolvers -------------------------------------------------

/** A subject's figures for a period as of a date; `rankAmong` is the unit its peers share. */
export function buildPerformance(
  subject: Performance["subject"],
  period: Period,
  asOf: BusinessDate,
): Performance {
  return Object.assign(new Performance(), {
    subject,
    period,
    asOf,
    window: asOfWindow(period, asOf),
    timeProgress: timeProgress(period, asOf),
  });
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
  const daily = await dailyActuals(ctx.db, p.subject.kind, p.subject.id, metric, p.window.start, p.window.end);
  let cumulative = 0;
  return seriesBuckets(p.window, granularity).map((bucket) => {
    let actual = 0;
    for (const [day, n] of daily) if (day >= bucket.start && day <= bucket.end) actual += n;
    cumulative += actual;
    return { start: bucket.start, end: bucket.end, actual, cumulative };
  });
}
