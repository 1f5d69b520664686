/**
 * The statements about campaigns that several use cases share: which merchants a campaign
 * covers, and how often a card used its promotions.
 */
import type { Db } from "../../db/database.js";
import type { Tx } from "../../db/transaction.js";
import type { BusinessDate } from "../../domain/dates.js";
import { Prisma } from "../../generated/prisma/client.js";

/** Ids given as a list, or as a subquery yielding one id column (e.g. a CTE's ids). */
export type IdSet = readonly number[] | Prisma.Sql;

function within(column: string, set: IdSet | undefined): Prisma.Sql {
  if (set === undefined) return Prisma.empty;
  return Array.isArray(set) ? Prisma.sql`AND ${Prisma.raw(column)} = ANY(${set}::int[])` : Prisma.sql`AND ${Prisma.raw(column)} IN (${set})`;
}

/**
 * (campaign_id, merchant_id): the merchants each campaign covers, listed on their own or as
 * members of a listed business circle, each pair once. `campaigns` and `merchants` narrow it.
 */
export function campaignMerchants(scope: { campaigns?: IdSet; merchants?: IdSet }): Prisma.Sql {
  return Prisma.sql`
    SELECT cm.campaign_id, cm.merchant_id FROM campaign_merchant cm
    WHERE true ${within("cm.campaign_id", scope.campaigns)} ${within("cm.merchant_id", scope.merchants)}
    UNION
    SELECT cc.campaign_id, m.merchant_id FROM campaign_circle cc JOIN circle_member m ON m.circle_id = cc.circle_id
    WHERE true ${within("cc.campaign_id", scope.campaigns)} ${within("m.merchant_id", scope.merchants)}`;
}

/** How often a card used a promotion: on the day, in the ISO week, and in all. */
export interface CardUsage {
  day: number;
  week: number;
  total: number;
}

export const NO_USE: CardUsage = { day: 0, week: 0, total: 0 };

/** How often a card used each promotion, by promotion id (absent: never). */
export async function cardUsage(db: Db | Tx, promotionIds: number[], cardToken: string, localDate: BusinessDate, localWeek: string): Promise<Map<number, CardUsage>> {
  const rows = await db.$queryRaw<({ id: number } & CardUsage)[]>`
    SELECT promotion_id AS id,
           count(*) FILTER (WHERE local_date = ${localDate}::date)::int AS day,
           count(*) FILTER (WHERE local_week = ${localWeek})::int AS week,
           count(*)::int AS total
    FROM redemption WHERE card_token = ${cardToken} AND promotion_id = ANY(${promotionIds}::int[])
    GROUP BY promotion_id`;
  return new Map(rows.map((r) => [r.id, r]));
}
