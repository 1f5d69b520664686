/**
 * A unit's or a manager's figures for a period as of a date, over the per-request loaders
 * (performance.loader.ts, which read src/figures): never the GraphQL context itself.
 */
import { completionRate } from "../../domain/completion.js";
import type { BusinessDate } from "../../domain/dates.js";
import { asOfWindow, progressOf, seriesBuckets, type Period } from "../../domain/period.js";
import type { PerformanceLoaders } from "./performance.loader.js";
import { Granularity, Metric } from "./performance.enums.js";
import { MetricProgress, Performance, SeriesPoint } from "./performance.type.js";

/** A subject's figures for a period as of a date; `rankAmong` is the unit its peers share. */
export function buildPerformance(
  subject: Performance["subject"],
  period: Period,
  asOf: BusinessDate,
): Performance {
  const window = asOfWindow(period, asOf);
  return Object.assign(new Performance(), { subject, period, asOf, window, timeProgress: progressOf(period, window) });
}

export async function metricProgress(loaders: PerformanceLoaders, p: Performance, metric: Metric): Promise<MetricProgress> {
  const { kind, id } = p.subject;
  const [actual, target] = await Promise.all([
    loaders.actual.load({ kind, id, metric, start: p.window.start, end: p.window.end }),
    loaders.target.load({ kind, id, period: p.period.code, metric }),
  ]);
  return { metric, actual, target, completionRate: completionRate(actual, target) };
}

/** The subject's rank among its peers: a unit among its parent's children, a manager among its unit's managers. */
export async function rankOf(loaders: PerformanceLoaders, p: Performance, metric: Metric): Promise<number | null> {
  const { kind, id, rankAmong } = p.subject;
  if (rankAmong === null) return null;
  const key = { unitId: rankAmong, period: p.period, window: p.window, metric };
  const rows =
    kind === "branch"
      ? (await loaders.branchRanking.load(key)).map((r) => ({ id: r.branch.dbId, rank: r.rank }))
      : (await loaders.managerRanking.load(key)).map((r) => ({ id: r.manager.dbId, rank: r.rank }));
  return rows.find((r) => r.id === id)?.rank ?? null;
}

export async function series(loaders: PerformanceLoaders, p: Performance, metric: Metric, granularity: Granularity): Promise<SeriesPoint[]> {
  const { kind, id } = p.subject;
  const daily = await loaders.daily.load({ kind, id, metric, start: p.window.start, end: p.window.end });
  let cumulative = 0;
  return seriesBuckets(p.window, granularity).map((bucket) => {
    let actual = 0;
    for (const [day, n] of daily) if (day >= bucket.start && day <= bucket.end) actual += n;
    cumulative += actual;
    return { start: bucket.start, end: bucket.end, actual, cumulative };
  });
}
