/**
 * The group notifications of one API instance, started and stopped with the server (never by
 * the command-line tools): it listens to the change feed for milestones, looks at the clock for
 * the daily report, and runs the outbox's worker.
 *
 * Nothing here is on a write's path: the feed hands a committed change over synchronously, and
 * the listener only notes which units it names; detection runs later (at most once per
 * NOTIFY_COALESCE_MS), one run at a time, and its failures are logged, never thrown back.
 */
import type { Config } from "../../config.js";
import type { Db } from "../../db/database.js";
import { todayIn } from "../../domain/dates.js";
import type { ChangeFeed } from "../../live/change.js";
import type { Logger } from "../../logger.js";
import { enqueueDailyReports, reportDay } from "./daily-report.service.js";
import { deliverDue } from "./delivery.worker.js";
import { concernedWebhooks, detectMilestones } from "./milestones.service.js";

/** How often an instance looks whether the daily report is due. */
const REPORT_CHECK_MS = 30_000;

export interface Notifier {
  /** Looks for milestones in what the changes heard so far name, now; resolves when done (tests, shutdown). */
  flush(): Promise<void>;
  /** Enqueues the daily report if it is due by the clock; returns how many this call enqueued. */
  checkDailyReport(): Promise<number>;
  /** Sends what is due in the outbox now; returns how many deliveries were attempted. */
  deliver(): Promise<number>;
  close(): Promise<void>;
}

/** An instance that sends no notifications (NOTIFICATIONS=off). */
export const NO_NOTIFIER: Notifier = { flush: async () => {}, checkDailyReport: async () => 0, deliver: async () => 0, close: async () => {} };

export interface NotifierDeps {
  db: Db;
  config: Config;
  logger: Logger;
  feed: ChangeFeed;
  /** The wall clock, for "today" and the report's time of day; tests pass their own. */
  clock?: () => Date;
}

/** One async job at a time; a request while it runs is served by one more run after it. */
class Serial {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly job: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.job();
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

export function startNotifier({ db, config, logger, feed, clock = () => new Date() }: NotifierDeps): Notifier {
  const today = () => todayIn(config.BANK_TIME_ZONE, clock());
  let closed = false;
  let named = new Set<string>();
  let reorg = false;
  let timer: NodeJS.Timeout | null = null;

  const deliveries = new Serial(async () => {
    await deliverDue(db, config).catch((err: unknown) => logger.error({ err }, "webhook deliveries failed"));
  });
  const detection = new Serial(async () => {
    if (!reorg && named.size === 0) return;
    const units = reorg ? ("all" as const) : named;
    named = new Set();
    reorg = false;
    try {
      const enqueued = await detectMilestones(db, await concernedWebhooks(db, units), today());
      if (enqueued > 0 && !closed) void deliveries.run();
    } catch (err) {
      logger.error({ err }, "milestone detection failed");
    }
  });
  const reports = async () => {
    const day = reportDay(config, clock());
    if (day === null) return 0;
    const enqueued = await enqueueDailyReports(db, day);
    if (enqueued > 0 && !closed) void deliveries.run();
    return enqueued;
  };

  const unsubscribe = feed.subscribe((change) => {
    for (const u of change.figures.units) named.add(u);
    for (const u of change.targets.units) named.add(u);
    if (change.reorg || change.rederived) reorg = true;
    if (named.size === 0 && !reorg) return;
    timer ??= setTimeout(() => {
      timer = null;
      if (!closed) void detection.run();
    }, config.NOTIFY_COALESCE_MS);
  });
  const polling = setInterval(() => void deliveries.run(), config.WEBHOOK_POLL_MS);
  const reporting = setInterval(() => void reports().catch((err: unknown) => logger.error({ err }, "daily report failed")), REPORT_CHECK_MS);
  polling.unref();
  reporting.unref();

  return {
    flush: async () => {
      if (timer) clearTimeout(timer), (timer = null);
      await detection.run();
    },
    checkDailyReport: reports,
    // The background worker may be claiming too: SKIP LOCKED keeps them off each other's rows.
    deliver: () => deliverDue(db, config),
    close: async () => {
      closed = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      clearInterval(polling);
      clearInterval(reporting);
      await Promise.all([detection.idle(), deliveries.idle()]);
    },
  };
}
