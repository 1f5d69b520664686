/**
 * Which merchants a campaign covers: those listed on their own and the members of its listed
 * business circles. Attributing visits to a campaign (reads.ts), finding the offers near a place
 * and checking a redemption's merchant (src/modules/campaigns) all ask this one statement.
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
