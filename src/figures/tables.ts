/** The daily rollups every figure is read from: (subject, metric, day) → count. */
import { Prisma } from "../generated/prisma/client.js";

/** A unit's rollup covers its whole subtree (kept through the closure table). */
export const BRANCH_ROLLUP = { name: "rollup_branch_day", table: Prisma.raw("rollup_branch_day"), key: Prisma.raw("branch_id") } as const;

/** The rollups keyed directly by a column of the record (no closure): manager, campaign, merchant. */
export const KEYED_ROLLUPS = [
  { name: "rollup_manager_day", table: Prisma.raw("rollup_manager_day"), key: Prisma.raw("manager_id") },
  { name: "rollup_campaign_day", table: Prisma.raw("rollup_campaign_day"), key: Prisma.raw("campaign_code") },
  { name: "rollup_merchant_day", table: Prisma.raw("rollup_merchant_day"), key: Prisma.raw("merchant_code") },
] as const;

export type RollupTable = typeof BRANCH_ROLLUP.name | (typeof KEYED_ROLLUPS)[number]["name"];

/** Every rollup table, for what empties the data tables (src/db/tables.ts). */
export const ROLLUP_TABLES: readonly RollupTable[] = ["rollup_campaign_day", "rollup_merchant_day", "rollup_branch_day", "rollup_manager_day"];

/** The live-offer index (offer-index.ts): derived from campaigns, promotions and merchants, emptied with them. */
export const OFFER_INDEX_TABLE = "live_offer";
