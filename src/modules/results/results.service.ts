/**
 * Campaign and business-circle results: attributed figures from the daily rollups, visits and
 * redemptions counted over the window with their indexes. A handful of statements per call,
 * whatever the volume of records.
 */
import type { Db } from "../../db/database.js";
import type { BusinessDate } from "../../domain/dates.js";
import { asOfWindow, timeProgress, type Period } from "../../domain/period.js";
import { Prisma } from "../../generated/prisma/client.js";
import { AttributedResults, CampaignResults } from "./results.type.js";

/** The merchants a result covers, as SQL returning merchant ids. */
type MerchantSet = Prisma.Sql;

export function campaignMerchants(campaignId: number): MerchantSet {
  return Prisma.sql`
    SELECT merchant_id FROM campaign_merchant WHERE campaign_id = ${campaignId}
    UNION SELECT m.merchant_id FROM campaign_circle cc JOIN circle_member m ON m.circle_id = cc.circle_id WHERE cc.campaign_id = ${campaignId}`;
}

export function circleMerchants(circleId: number): MerchantSet {
  return Prisma.sql`SELECT merchant_id FROM circle_member WHERE circle_id = ${circleId}`;
}

async function results(
  db: Db,
  merchants: MerchantSet,
  attributed: Prisma.Sql,
  redemptions: Prisma.Sql,
  period: Period,
  asOf: BusinessDate,
): Promise<AttributedResults> {
  const w = asOfWindow(period, asOf);
  const [visits] = await db.$queryRaw<{ visits: number; visited: number; signed: number }[]>`
    SELECT count(*)::int AS visits, count(DISTINCT merchant_id)::int AS visited,
           count(DISTINCT merchant_id) FILTER (WHERE outcome = 'SIGNED_UP')::int AS signed
    FROM visit WHERE merchant_id IN (${merchants}) AND visited_on BETWEEN ${w.start}::date AND ${w.end}::date`;
  const metrics = await db.$queryRaw<{ metric: string; n: number }[]>`
    SELECT metric::text, sum(count)::int AS n FROM (${attributed}) r
    WHERE day BETWEEN ${w.start}::date AND ${w.end}::date GROUP BY metric`;
  const [used] = await db.$queryRaw<{ n: number; cost: bigint | null }[]>`
    SELECT count(*)::int AS n, sum(cost_fen)::bigint AS cost FROM (${redemptions}) r
    WHERE local_date BETWEEN ${w.start}::date AND ${w.end}::date`;
  const m = Object.fromEntries(metrics.map((r) => [r.metric, r.n]));
  return {
    period,
    asOf,
    timeProgress: timeProgress(period, asOf),
    visits: visits.visits,
    merchantsVisited: visits.visited,
    merchantsSigned: visits.signed,
    applications: m.APPLICATIONS ?? 0,
    approvals: m.APPROVALS ?? 0,
    newCustomers: m.NEW_CUSTOMERS ?? 0,
    activations: m.ACTIVATIONS ?? 0,
    redemptions: used.n,
    redemptionCost: Number(used.cost ?? 0n) / 100,
  };
}

export async function campaignResults(
  db: Db,
  campaign: { dbId: number; code: string; budget: number; spent: number },
  period: Period,
  asOf: BusinessDate,
): Promise<CampaignResults> {
  const base = await results(
    db,
    campaignMerchants(campaign.dbId),
    Prisma.sql`SELECT metric, day, count FROM rollup_campaign_day WHERE campaign_code = ${campaign.code}`,
    Prisma.sql`SELECT r.local_date, r.cost_fen FROM redemption r JOIN promotion p ON p.id = r.promotion_id WHERE p.campaign_id = ${campaign.dbId}`,
    period,
    asOf,
  );
  return Object.assign(new CampaignResults(), base, {
    budget: campaign.budget,
    spentSoFar: campaign.spent,
    budgetUsed: campaign.budget > 0 ? campaign.spent / campaign.budget : null,
  });
}

export async function circleResults(db: Db, circleId: number, period: Period, asOf: BusinessDate): Promise<AttributedResults> {
  return Object.assign(
    new AttributedResults(),
    await results(
      db,
      circleMerchants(circleId),
      Prisma.sql`SELECT r.metric, r.day, r.count FROM rollup_merchant_day r JOIN merchant m ON m.code = r.merchant_code
                 WHERE m.id IN (${circleMerchants(circleId)})`,
      Prisma.sql`SELECT local_date, cost_fen FROM redemption WHERE merchant_id IN (${circleMerchants(circleId)})`,
      period,
      asOf,
    ),
  );
}
