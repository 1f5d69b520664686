/**
 * The statements about promotions that several use cases share: how often a card used them.
 * Which merchants a campaign covers is src/figures/coverage.ts (attribution asks it too).
 */
import type { Db } from "../../db/database.js";
import type { Tx } from "../../db/transaction.js";
import type { BusinessDate } from "../../domain/dates.js";
import { Prisma } from "../../generated/prisma/client.js";

/** How often a card used a promotion: on the day, in the ISO week, and in all. */
export interface CardUsage {
  day: number;
  week: number;
  total: number;
}

export const NO_USE: CardUsage = { day: 0, week: 0, total: 0 };

/**
 * How often a card used each of `promotionIds`: one row per promotion it used, (id, day, week,
 * total). The statement `cardUsage` runs, and a part of a redemption's own statement.
 */
export function cardUsageRows(promotionIds: readonly number[], cardToken: string, localDate: BusinessDate, localWeek: string): Prisma.Sql {
  return Prisma.sql`
    SELECT promotion_id AS id,
           count(*) FILTER (WHERE local_date = ${localDate}::date)::int AS day,
           count(*) FILTER (WHERE local_week = ${localWeek})::int AS week,
           count(*)::int AS total
    FROM redemption WHERE card_token = ${cardToken} AND promotion_id = ANY(${promotionIds}::int[])
    GROUP BY promotion_id`;
}

/** How often a card used each promotion, by promotion id (absent: never). */
export async function cardUsage(db: Db | Tx, promotionIds: number[], cardToken: string, localDate: BusinessDate, localWeek: string): Promise<Map<number, CardUsage>> {
  const rows = await db.$queryRaw<({ id: number } & CardUsage)[]>(cardUsageRows(promotionIds, cardToken, localDate, localWeek));
  return new Map(rows.map((r) => [r.id, r]));
}
