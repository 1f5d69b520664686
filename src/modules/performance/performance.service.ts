/**
 * The SQL behind every figure. Each query is set-based over a list of subjects, so callers
 * (the loaders) pay one statement per metric and window, whatever the number of units.
 *
 * Windows are inclusive business-date ranges (shared/domain.md); a unit's figure counts its
 * whole subtree through the closure table.
 */
import type { Db } from "../../db/database.js";
import { completionRate } from "../../domain/completion.js";
import type { BusinessDate } from "../../domain/dates.js";
import { asOfWindow, seriesBuckets, timeProgress, type Period } from "../../domain/period.js";
import { Prisma } from "../../generated/prisma/client.js";
import type { Context } from "../../graphql/context.js";
import { Granularity, Metric } from "./performance.enums.js";
import { MetricProgress, Performance, SeriesPoint } from "./performance.type.js";

export type SubjectKind = "branch" | "manager";

/** Join and date filter of each metric, over `application a`. */
function metricSource(metric: Metric, start: BusinessDate, end: BusinessDate): { joins: Prisma.Sql; dated: Prisma.Sql; day: Prisma.Sql } {
  const range = (col: Prisma.Sql) => Prisma.sql`${col} BETWEEN ${start}::date AND ${end}::date`;
  switch (metric) {
    case Metric.APPLICATIONS:
      return { joins: Prisma.empty, dated: range(Prisma.sql`a.keyed_on`), day: Prisma.sql`a.keyed_on` };
    case Metric.APPROVALS:
      return { joins: Prisma.empty, dated: Prisma.sql`a.decision = 'APPROVED' AND ${range(Prisma.sql`a.decided_on`)}`, day: Prisma.sql`a.decided_on` };
    case Metric.NEW_CUSTOMERS:
      // A customer is new exactly once: on the decision date of their first-ever approval.
      return {
        joins: Prisma.sql`JOIN customer cu ON cu.first_approved_application_id = a.id`,
        dated: range(Prisma.sql`a.decided_on`),
        day: Prisma.sql`a.decided_on`,
      };
    case Metric.ACTIVATIONS:
      return { joins: Prisma.sql`JOIN activation v ON v.application_id = a.id`, dated: range(Prisma.sql`v.activated_on`), day: Prisma.sql`v.activated_on` };
  }
}

/** Actual of `metric` in [start, end] for each subject id; subjects with nothing are absent. */
export async function actuals(
  db: Db,
  kind: SubjectKind,
  ids: readonly number[],
  metric: Metric,
  start: BusinessDate,
  end: BusinessDate,
): Promise<Map<number, number>> {
  if (ids.length === 0 || end < start) return new Map();
  const { joins, dated } = metricSource(metric, start, end);
  const rows =
    kind === "branch"
      ? await db.$queryRaw<{ id: number; n: number }[]>`
          SELECT c.ancestor_id AS id, count(*)::int AS n
          FROM branch_closure c
          JOIN application a ON a.branch_id = c.descendant_id
          ${joins}
          WHERE c.ancestor_id = ANY(${[...ids]}::int[]) AND ${dated}
          GROUP BY c.ancestor_id`
      : await db.$queryRaw<{ id: number; n: number }[]>`
          SELECT a.manager_id AS id, count(*)::int AS n
          FROM application a
          ${joins}
          WHERE a.manager_id = ANY(${[...ids]}::int[]) AND ${dated}
          GROUP BY a.manager_id`;
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
  const { joins, dated, day } = metricSource(metric, start, end);
  const subject =
    kind === "branch"
      ? Prisma.sql`a.branch_id IN (SELECT descendant_id FROM branch_closure WHERE ancestor_id = ${id})`
      : Prisma.sql`a.manager_id = ${id}`;
  const rows = await db.$queryRaw<{ day: string; n: number }[]>`
    SELECT to_char(${day}, 'YYYY-MM-DD') AS day, count(*)::int AS n
    FROM application a
    ${joins}
    WHERE ${subject} AND ${dated}
    GROUP BY ${day}`;
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
