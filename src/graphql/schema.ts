import "reflect-metadata";
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { buildSchema, type PubSub } from "type-graphql";
import { AuditResolver } from "../modules/audit/audit.resolver.js";
import { authChecker } from "../modules/auth/auth.guard.js";
import { CampaignsResolver, PromotionsResolver } from "../modules/campaigns/campaigns.resolver.js";
import { BusinessCircleResolver, MerchantsResolver, VisitResolver } from "../modules/merchants/merchants.resolver.js";
import { AccountManagerResolver, BranchResolver } from "../modules/org/org.resolver.js";
import { BranchPerformanceResolver, ManagerPerformanceResolver, PerformanceResolver, RankingResolver } from "../modules/performance/performance.resolver.js";
// After performance.resolver.js: a type's resolved fields are listed in the order their modules
// are evaluated, and Branch.accountManagers follows Branch.performance in schema.graphql.
import { BranchStaffResolver } from "../modules/org/branch-staff.resolver.js";
import { RecordsResolver } from "../modules/records/records.resolver.js";
import { TargetsResolver } from "../modules/targets/targets.resolver.js";
import { PerformanceSubscriptionResolver } from "../modules/performance/performance.subscription.js";
import { CampaignSubscriptionResolver } from "../modules/campaigns/campaigns.subscription.js";
import { BranchIncentivesResolver, IncentivePlansResolver, ManagerIncentivesResolver, StatementRecipientResolver } from "../modules/incentives/incentives.resolver.js";
import { BranchWebhooksResolver, GroupWebhooksResolver } from "../modules/notify/notify.resolver.js";

export const resolvers = [
  BranchResolver,
  AccountManagerResolver,
  BranchPerformanceResolver,
  ManagerPerformanceResolver,
  PerformanceResolver,
  RankingResolver,
  BranchStaffResolver,
  TargetsResolver,
  RecordsResolver,
  MerchantsResolver,
  BusinessCircleResolver,
  VisitResolver,
  CampaignsResolver,
  PromotionsResolver,
  AuditResolver,
  PerformanceSubscriptionResolver,
  CampaignSubscriptionResolver,
  IncentivePlansResolver,
  ManagerIncentivesResolver,
  StatementRecipientResolver,
  BranchIncentivesResolver,
  GroupWebhooksResolver,
  BranchWebhooksResolver,
] as const;

/**
 * type-graphql builds no subscription field without a PubSub, but ours are not topics: each
 * field's `subscribe` follows the change feed (src/live), which writes publish to after they
 * commit. This one only says so if anything ever uses it.
 */
const FEED_ONLY: PubSub = {
  publish() {
    throw new Error("publish to the change feed (src/live/change.ts), not to type-graphql's PubSub");
  },
  subscribe() {
    throw new Error("subscriptions follow the change feed through their own `subscribe` (src/live/ticks.ts)");
  },
};

export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    authChecker,
    pubSub: FEED_ONLY,
    validate: { forbidUnknownValues: false },
  });
}

/** The committed `schema.graphql`: printed SDL with a header, so drift shows as a diff. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `# Emitted from the code by \`npm run schema:emit\`; a test fails when this file drifts.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
