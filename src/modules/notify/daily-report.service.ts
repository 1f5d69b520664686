/**
 * The daily report: at DAILY_REPORT_TIME in the bank's time zone, each group that takes it gets
 * its unit's children's figures for the current period (actual, target, completion, the day's
 * gain, rank), read through the API's performance services. It is enqueued under the event id
 * `daily-<webhook>-<day>`, unique in the outbox, so however many instances look at the clock, a
 * group gets one report a day.
 */
import { DateTime } from "luxon";
import type { Config } from "../../config.js";
import type { Db } from "../../db/database.js";
import type { BusinessDate } from "../../domain/dates.js";
import { dailyReportText, groupBotMessage, type ReportRow, type ReportSection } from "../../domain/milestones.js";
import { periodOf, type PeriodKind } from "../../domain/period.js";
import { Granularity, type Metric } from "../performance/performance.enums.js";
import { buildPerformance, metricProgress, rankOf, series } from "../performance/performance.service.js";
import { figureLoaders } from "./milestones.service.js";
import { NotificationKind } from "./notify.enums.js";

/** The business day whose report is due at `now`, or null (before the time of day, or reports off). */
export function reportDay(config: Pick<Config, "DAILY_REPORT_TIME" | "BANK_TIME_ZONE">, now: Date): BusinessDate | null {
  if (config.DAILY_REPORT_TIME === "off") return null;
  const local = DateTime.fromJSDate(now, { zone: config.BANK_TIME_ZONE });
  const [hour, minute] = config.DAILY_REPORT_TIME.split(":").map(Number);
  if (local.hour * 60 + local.minute < hour * 60 + minute) return null;
  return local.toISODate()!;
}

export const dailyEventId = (webhookId: number, day: BusinessDate) => `daily-${webhookId}-${day}`;

/** Enqueues `day`'s report for every group that takes it and has not got it yet; returns how many this call enqueued. */
export async function enqueueDailyReports(db: Db, day: BusinessDate): Promise<number> {
  const webhooks = await db.groupWebhook.findMany({ where: { dailyReport: true }, orderBy: { id: "asc" } });
  if (webhooks.length === 0) return 0;
  const sent = await db.webhookDelivery.findMany({ where: { eventId: { in: webhooks.map((w) => dailyEventId(w.id, day)) } }, select: { eventId: true } });
  const done = new Set(sent.map((s) => s.eventId));
  const due = webhooks.filter((w) => !done.has(dailyEventId(w.id, day)));
  if (due.length === 0) return 0;
  const loaders = figureLoaders(db);
  const messages = await Promise.all(
    due.map(async (w) => {
      const unit = await loaders.org.branchById.load(w.branchId);
      if (!unit) return null;
      const period = periodOf(w.periodKind as PeriodKind, day);
      const children = await loaders.org.childrenOf.load(unit.dbId);
      const sections: ReportSection[] = await Promise.all(
        w.metrics.map(async (m) => {
          const metric = m as Metric;
          const rows = await Promise.all(
            children.map(async (child): Promise<ReportRow> => {
              const p = buildPerformance({ kind: "branch", id: child.dbId, rankAmong: unit.dbId }, period, day);
              const [progress, rank, points] = await Promise.all([
                metricProgress(loaders.performance, p, metric),
                rankOf(loaders.performance, p, metric),
                series(loaders.performance, p, metric, Granularity.DAY),
              ]);
              const last = points.at(-1);
              const gain = last && last.start === day ? last.actual : 0;
              return { code: child.code, name: child.name, actual: progress.actual, target: progress.target, completionRate: progress.completionRate, gain, rank };
            }),
          );
          rows.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || (a.code < b.code ? -1 : 1));
          return { metric, rows };
        }),
      );
      const own = buildPerformance({ kind: "branch", id: unit.dbId, rankAmong: unit.parentId }, period, day);
      const content = dailyReportText(unit, day, period.code, own.timeProgress, sections);
      return { eventId: dailyEventId(w.id, day), webhookId: w.id, kind: NotificationKind.DAILY_REPORT, payload: groupBotMessage(content) };
    }),
  );
  const rows = messages.filter((m) => m !== null);
  return (await db.webhookDelivery.createMany({ data: rows, skipDuplicates: true })).count;
}
