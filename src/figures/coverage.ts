/**
 * Which merchants a campaign covers (those listed on their own and the members of its listed
 * business circles), and where each of its promotions applies. Attributing visits to a campaign
 * (reads.ts) asks the first; the live-offer index (offer-index.ts), which the card app's search
 * and a redemption's merchant check read, is built from the second, itself built on the first.
 */
import { Prisma } from "../generated/prisma/client.js";

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

/**
 * (promotion_id, merchant_id): where each promotion applies (shared/domain.md): its campaign's
 * merchants, narrowed by each kind of place the promotion names (merchants, business circles,
 * categories); a kind it names none of does not narrow. `promotions` and `merchants` narrow it.
 */
export function promotionMerchants(scope: { promotions?: IdSet; merchants?: IdSet }): Prisma.Sql {
  const campaigns =
    scope.promotions === undefined ? undefined : Prisma.sql`SELECT campaign_id FROM promotion WHERE true ${within("id", scope.promotions)}`;
  return Prisma.sql`
    SELECT p.id AS promotion_id, e.merchant_id
    FROM (${campaignMerchants({ campaigns, merchants: scope.merchants })}) e
    JOIN promotion p ON p.campaign_id = e.campaign_id ${within("p.id", scope.promotions)}
    WHERE (NOT EXISTS (SELECT 1 FROM promotion_merchant x WHERE x.promotion_id = p.id)
           OR EXISTS (SELECT 1 FROM promotion_merchant x WHERE x.promotion_id = p.id AND x.merchant_id = e.merchant_id))
      AND (NOT EXISTS (SELECT 1 FROM promotion_circle x WHERE x.promotion_id = p.id)
           OR EXISTS (SELECT 1 FROM promotion_circle x JOIN circle_member cm ON cm.circle_id = x.circle_id
                      WHERE x.promotion_id = p.id AND cm.merchant_id = e.merchant_id))
      AND (NOT EXISTS (SELECT 1 FROM promotion_category x WHERE x.promotion_id = p.id)
           OR EXISTS (SELECT 1 FROM promotion_category x JOIN merchant m ON m.category = x.category
                      WHERE x.promotion_id = p.id AND m.id = e.merchant_id))`;
}
