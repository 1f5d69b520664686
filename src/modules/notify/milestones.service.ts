/**
 * Milestone detection: what each group's unit shows now (through the API's own performance
 * services: the same Performance, completion, time progress and rank a query answers),
 * compared with what the group last saw (`milestone_state`), gives the milestones to send.
 *
 * Every API instance hears every committed write (src/live), so several instances may judge
 * the same move at once. The state row is replaced compare-and-set on its `version`, and the
 * deliveries are written in the same transaction under event ids made from that version: only
 * the instance whose replacement lands enqueues, and an event id is enqueued at most once.
 */
import type { Db } from "../../db/database.js";
import { lockMilestones } from "../../db/locks.js";
import { inTransaction, type Tx } from "../../db/transaction.js";
import type { BusinessDate } from "../../domain/dates.js";
import {
  groupBotMessage,
  milestonesBetween,
  milestoneText,
  stateChanged,
  stateOf,
  type MilestoneKind,
  type MilestoneState,
  type Observation,
} from "../../domain/milestones.js";
import { periodOf, type Period, type PeriodKind } from "../../domain/period.js";
import type { Prisma } from "../../generated/prisma/client.js";
import type { Branch } from "../org/branch.type.js";
import { createOrgLoaders, type OrgLoaders } from "../org/org.loader.js";
import { createPerformanceLoaders, type PerformanceLoaders } from "../performance/performance.loader.js";
import type { Metric } from "../performance/performance.enums.js";
import { buildPerformance, metricProgress, rankOf } from "../performance/performance.service.js";
import { NotificationKind } from "./notify.enums.js";

export type WebhookRow = Prisma.GroupWebhookGetPayload<object>;

/** The API's loaders over a connection (a transaction's client reads the same way). */
export function figureLoaders(db: Db | Tx): { org: OrgLoaders; performance: PerformanceLoaders } {
  // The loaders read through the client's query methods only, which a transaction's client has too.
  const client = db as Db;
  const org = createOrgLoaders(client);
  return { org, performance: createPerformanceLoaders(client, org) };
}

interface Seen {
  readonly unit: Branch;
  readonly period: Period;
  /** Per watched metric. */
  readonly observations: ReadonlyMap<string, Observation>;
}

/** What a webhook's unit shows now for each metric it watches, as the API would answer `branch { performance }`. */
async function observe(loaders: ReturnType<typeof figureLoaders>, w: WebhookRow, today: BusinessDate): Promise<Seen | null> {
  const unit = await loaders.org.branchById.load(w.branchId);
  if (!unit) return null;
  const period = periodOf(w.periodKind as PeriodKind, today);
  const p = buildPerformance({ kind: "branch", id: unit.dbId, rankAmong: unit.parentId }, period, today);
  const entries = await Promise.all(
    w.metrics.map(async (metric) => {
      const [progress, rank] = await Promise.all([metricProgress(loaders.performance, p, metric as Metric), rankOf(loaders.performance, p, metric as Metric)]);
      const o: Observation = { actual: progress.actual, target: progress.target, completionRate: progress.completionRate, timeProgress: p.timeProgress, rank };
      return [metric, o] as const;
    }),
  );
  return { unit, period, observations: new Map(entries) };
}

/**
 * Records what a webhook's group would see now as its starting point (at registration or a
 * change of its settings), so what was already true is not announced as news.
 */
export async function recordBaseline(tx: Tx, webhookId: number, today: BusinessDate): Promise<void> {
  const w = await tx.groupWebhook.findUniqueOrThrow({ where: { id: webhookId } });
  const seen = await observe(figureLoaders(tx), w, today);
  if (!seen) return;
  for (const [metric, o] of seen.observations) {
    const s = stateOf(o, w.behindMargin);
    await tx.$executeRaw`
      INSERT INTO milestone_state (webhook_id, period, metric, reached, behind, rank, version)
      VALUES (${w.id}, ${seen.period.code}, ${metric}, ${s.reached}, ${s.behind}, ${s.rank}, 1)
      ON CONFLICT (webhook_id, period, metric) DO UPDATE
        SET reached = EXCLUDED.reached, behind = EXCLUDED.behind, rank = EXCLUDED.rank,
            version = milestone_state.version + 1, updated_at = now()`;
  }
}

/**
 * Which webhooks a committed change may concern: those of a unit whose figures or targets
 * moved, or whose peers' did (a rank moves with them). `units` are the codes a change names
 * (figures: every ancestor of a moved record; targets: the units whose targets changed);
 * `all` after a re-org.
 */
export async function concernedWebhooks(db: Db, units: ReadonlySet<string> | "all"): Promise<WebhookRow[]> {
  const all = await db.groupWebhook.findMany({ where: { milestones: { isEmpty: false } }, orderBy: { id: "asc" } });
  if (units === "all" || all.length === 0) return all;
  const org = createOrgLoaders(db);
  const named = (await org.branchByCode.loadMany([...units])).filter((b): b is Branch => b !== null && !(b instanceof Error));
  const namedIds = new Set(named.map((b) => b.dbId));
  // A target set on a peer moves this unit's rank: the peers' parent stands for all of them.
  const parentsOfNamed = new Set(named.flatMap((b) => (b.parentId === null ? [] : [b.parentId])));
  const watched = await org.branchById.loadMany([...new Set(all.map((w) => w.branchId))]);
  const unitOf = new Map(watched.flatMap((u) => (u !== null && !(u instanceof Error) ? [[u.dbId, u] as const] : [])));
  return all.filter((w) => {
    const u = unitOf.get(w.branchId);
    if (!u) return false;
    return namedIds.has(u.dbId) || (u.parentId !== null && (namedIds.has(u.parentId) || parentsOfNamed.has(u.parentId)));
  });
}

/**
 * Judges the given webhooks' units now and enqueues their milestones; returns how many
 * deliveries this call enqueued (another instance may have enqueued the same moves: then 0).
 *
 * A first look, batched for every webhook, finds those whose state moved; each of them is then
 * judged again under its lock (judgeWebhook), which is what decides.
 */
export async function detectMilestones(db: Db, webhooks: readonly WebhookRow[], today: BusinessDate): Promise<number> {
  if (webhooks.length === 0) return 0;
  const loaders = figureLoaders(db);
  const seen = await Promise.all(webhooks.map((w) => observe(loaders, w, today)));
  const stored = await db.milestoneState.findMany({
    where: { OR: webhooks.flatMap((w, i) => (seen[i] ? [{ webhookId: w.id, period: seen[i]!.period.code }] : [])) },
  });
  const storedBy = new Map(stored.map((s) => [`${s.webhookId}|${s.period}|${s.metric}`, s]));
  let enqueued = 0;
  for (const [i, w] of webhooks.entries()) {
    const s = seen[i];
    if (!s) continue;
    const moved = [...s.observations].some(([metric, o]) => stateChanged(storedBy.get(`${w.id}|${s.period.code}|${metric}`) ?? null, stateOf(o, w.behindMargin)));
    if (moved) enqueued += await judgeWebhook(db, w, today);
  }
  return enqueued;
}

type Outgoing = { eventId: string; webhookId: number; kind: NotificationKind; payload: Prisma.InputJsonValue };

/**
 * One webhook's states moved to what its unit's figures show now, with the milestones each move
 * announces, in one transaction under the webhook's lock. The figures are read after the lock
 * is taken: every instance hears every change, and detectors take turns, each reading after the
 * one before it wrote, so a state never moves back to an older reading (which would announce
 * "rank 2 → 3" for a unit that went 3 → 2) and a move is announced once.
 */
async function judgeWebhook(db: Db, w: WebhookRow, today: BusinessDate): Promise<number> {
  return inTransaction(db, {}, async (tx) => {
    await lockMilestones(tx, w.id);
    const s = await observe(figureLoaders(tx), w, today);
    if (!s) return 0;
    const stored = new Map((await tx.milestoneState.findMany({ where: { webhookId: w.id, period: s.period.code } })).map((r) => [r.metric, r]));
    let enqueued = 0;
    for (const [metric, o] of s.observations) {
      const previous = stored.get(metric) ?? null;
      const current = stateOf(o, w.behindMargin);
      if (!stateChanged(previous, current)) continue;
      const version = previous === null ? 1 : previous.version + 1;
      await tx.$executeRaw`
        INSERT INTO milestone_state (webhook_id, period, metric, reached, behind, rank, version)
        VALUES (${w.id}, ${s.period.code}, ${metric}, ${current.reached}, ${current.behind}, ${current.rank}, ${version})
        ON CONFLICT (webhook_id, period, metric) DO UPDATE
          SET reached = EXCLUDED.reached, behind = EXCLUDED.behind, rank = EXCLUDED.rank, version = EXCLUDED.version, updated_at = now()`;
      const rows: Outgoing[] = milestonesBetween(previous, current, w.milestones as MilestoneKind[]).map((m) => ({
        eventId: `milestone-${w.id}-${s.period.code}-${metric}-v${version}-${m.kind}`,
        webhookId: w.id,
        kind: NotificationKind.MILESTONE,
        payload: groupBotMessage(milestoneText(s.unit, s.period.code, metric, m, o)),
      }));
      if (rows.length) enqueued += (await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true })).count;
    }
    return enqueued;
  });
}
