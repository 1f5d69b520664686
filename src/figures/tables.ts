/** The daily rollups every figure is read from: (subject, metric, day) → count. */
import { Prisma } from "../generated/prisma/client.js";

/** A rollup's names, as text (`name`, `keyColumn`) for prepared statements and as SQL fragments (`table`, `key`) for Prisma's. */
function rollup<N extends string, K extends string>(name: N, keyColumn: K) {
  return { name, keyColumn, table: Prisma.raw(name), key: Prisma.raw(keyColumn) } as const;
}

/** A unit's rollup covers its whole subtree (kept through the closure table). */
export const BRANCH_ROLLUP = rollup("rollup_branch_day", "branch_id");

/** The rollups keyed directly by a column of the record (no closure): manager, campaign, merchant. */
export const KEYED_ROLLUPS = [
  rollup("rollup_manager_day", "manager_id"),
  rollup("rollup_campaign_day", "campaign_code"),
  rollup("rollup_merchant_day", "merchant_code"),
] as const;

export type RollupTable = typeof BRANCH_ROLLUP.name | (typeof KEYED_ROLLUPS)[number]["name"];

/** Every rollup table, for what empties the data tables (src/db/tables.ts). */
export const ROLLUP_TABLES: readonly RollupTable[] = ["rollup_campaign_day", "rollup_merchant_day", "rollup_branch_day", "rollup_manager_day"];

/** The live-offer index (offer-index.ts): derived from campaigns, promotions and merchants, emptied with them. */
export const OFFER_INDEX_TABLE = "live_offer";

/**
 * The live-offer index's GiST index carries the columns the nearby scan filters on (INCLUDE),
 * which schema.prisma cannot state: src/db/migrations.ts leaves it out of Prisma's diff.
 */
export const OFFER_LOCATION_INDEX = "live_offer_location_idx";
