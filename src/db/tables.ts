import { OFFER_INDEX_TABLE, ROLLUP_TABLES } from "../figures/tables.js";

/** Every table that holds data (not `_prisma_migrations`), children first: what a reset empties. */
export const DATA_TABLES = [
  "audit_entry", "idempotency_key", OFFER_INDEX_TABLE,
  "delivery_attempt", "webhook_delivery", "milestone_state", "group_webhook",
  "incentive_statement_line", "incentive_statement", "incentive_plan_version", "incentive_plan", "redemption", "promotion", "campaign_merchant", "campaign_circle", "campaign",
  "visit", "circle_member", "business_circle", "merchant",
  ...ROLLUP_TABLES,
  "activation", "application", "customer", "target", "account_manager", "branch_closure", "branch",
] as const;

/** The statement that empties them all. */
export const TRUNCATE_ALL = `TRUNCATE ${DATA_TABLES.join(", ")} RESTART IDENTITY CASCADE`;
