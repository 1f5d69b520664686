/**
 * Campaign and business-circle results: attributed figures from the daily rollups, visits and
 * redemptions counted over the window with their indexes. Computed for a whole list of
 * campaigns or circles at once (three statements per window, whatever the list's length), so
 * a page of campaigns with their results costs the same as one.
 */
import type { Db } from "../../db/database.js";
import type { BusinessDate } from "../../domain/dates.js";
import { asOfWindow, progressOf, type Period } from "../../domain/period.js";
import { Prisma } from "../../generated/prisma/client.js";
import { AttributedResults, CampaignResults } from "./results.type.js";

/** Whose results: campaigns or circles, by database id. */
export type ResultOwner = "campaign" | "circle";

/** The SQL that differs between campaigns and circles; every part yields an owner_id column. */
interface OwnerSql {
  /** (owner_id, merchant_id): the merchants each owner covers. */
  merchants(ids: number[]): Prisma.Sql;
  /** (owner_id, metric, day, count): attributed daily counts. */
  attributed(ids: number[]): Prisma.Sql;
  /** (owner_id, local_date, cost_fen): redemptions. */
  redemptions(ids: number[]): Prisma.Sql;
}

const ids = (list: number[]) => Prisma.sql`${list}::int[]`;

const OWNERS: Record<ResultOwner, OwnerSql> = {
  campaign: {
    merchants: (list) => Prisma.sql`
      SELECT campaign_id AS owner_id, merchant_id FROM campaign_merchant WHERE campaign_id = ANY(${ids(list)})
      UNION SELECT cc.campaign_id, m.merchant_id FROM campaign_circle cc JOIN circle_member m ON m.circle_id = cc.circle_id
      WHERE cc.campaign_id = ANY(${ids(list)})`,
    // Attributed by the campaign code an application carries (a feed may name a campaign before it exists here).
    attributed: (list) => Prisma.sql`
      SELECT c.id AS owner_id, r.metric, r.day, r.count FROM campaign c JOIN rollup_campaign_day r ON r.campaign_code = c.code
      WHERE c.id = ANY(${ids(list)})`,
    redemptions: (list) => Prisma.sql`
      SELECT p.campaign_id AS owner_id, r.local_date, r.cost_fen FROM redemption r JOIN promotion p ON p.id = r.promotion_id
      WHERE p.campaign_id = ANY(${ids(list)})`,
  },
  circle: {
    merchants: (list) => Prisma.sql`SELECT circle_id AS owner_id, merchant_id FROM circle_member WHERE circle_id = ANY(${ids(list)})`,
    attributed: (list) => Prisma.sql`
      SELECT s.circle_id AS owner_id, r.metric, r.day, r.count
      FROM circle_member s JOIN merchant m ON m.id = s.merchant_id JOIN rollup_merchant_day r ON r.merchant_code = m.code
      WHERE s.circle_id = ANY(${ids(list)})`,
    redemptions: (list) => Prisma.sql`
      SELECT s.circle_id AS owner_id, r.local_date, r.cost_fen FROM circle_member s JOIN redemption r ON r.merchant_id = s.merchant_id
      WHERE s.circle_id = ANY(${ids(list)})`,
  },
};

/** The results of several campaigns or circles over one window, by owner id. */
export async function resultsOf(db: Db, owner: ResultOwner, list: number[], period: Period, asOf: BusinessDate): Promise<Map<number, AttributedResults>> {
  const sql = OWNERS[owner];
  const w = asOfWindow(period, asOf);
  const [visits, metrics, used] = await Promise.all([
    db.$queryRaw<{ owner_id: number; visits: number; visited: number; signed: number }[]>`
      SELECT s.owner_id, count(*)::int AS visits, count(DISTINCT v.merchant_id)::int AS visited,
             count(DISTINCT v.merchant_id) FILTER (WHERE v.outcome = 'SIGNED_UP')::int AS signed
      FROM (${sql.merchants(list)}) s JOIN visit v ON v.merchant_id = s.merchant_id
      WHERE v.visited_on BETWEEN ${w.start}::date AND ${w.end}::date
      GROUP BY s.owner_id`,
    db.$queryRaw<{ owner_id: number; metric: string; n: number }[]>`
      SELECT owner_id, metric::text, sum(count)::int AS n FROM (${sql.attributed(list)}) r
      WHERE day BETWEEN ${w.start}::date AND ${w.end}::date GROUP BY owner_id, metric`,
    db.$queryRaw<{ owner_id: number; n: number; cost: bigint | null }[]>`
      SELECT owner_id, count(*)::int AS n, sum(cost_fen)::bigint AS cost FROM (${sql.redemptions(list)}) r
      WHERE local_date BETWEEN ${w.start}::date AND ${w.end}::date GROUP BY owner_id`,
  ]);
  const visitsOf = new Map(visits.map((r) => [r.owner_id, r]));
  const usedOf = new Map(used.map((r) => [r.owner_id, r]));
  const metricsOf = new Map<number, Record<string, number>>();
  for (const r of metrics) metricsOf.set(r.owner_id, { ...metricsOf.get(r.owner_id), [r.metric]: r.n });
  const progress = progressOf(period, w);
  const byOwner = new Map<number, AttributedResults>();
  for (const id of list) {
    const v = visitsOf.get(id);
    const m = metricsOf.get(id) ?? {};
    const u = usedOf.get(id);
    byOwner.set(
      id,
      Object.assign(new AttributedResults(), {
        period,
        asOf,
        timeProgress: progress,
        visits: v?.visits ?? 0,
        merchantsVisited: v?.visited ?? 0,
        merchantsSigned: v?.signed ?? 0,
        applications: m.APPLICATIONS ?? 0,
        approvals: m.APPROVALS ?? 0,
        newCustomers: m.NEW_CUSTOMERS ?? 0,
        activations: m.ACTIVATIONS ?? 0,
        redemptions: u?.n ?? 0,
        redemptionCost: Number(u?.cost ?? 0n) / 100,
      }),
    );
  }
  return byOwner;
}

/** A campaign's results with its budget. */
export function withBudget(base: AttributedResults, campaign: { budget: number; spent: number }): CampaignResults {
  return Object.assign(new CampaignResults(), base, {
    budget: campaign.budget,
    spentSoFar: campaign.spent,
    budgetUsed: campaign.budget > 0 ? campaign.spent / campaign.budget : null,
  });
}
