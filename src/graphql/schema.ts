import "reflect-metadata";
import { printSchema, type GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
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
import { BranchIncentivesResolver, IncentivePlansResolver, ManagerIncentivesResolver } from "../modules/incentives/incentives.resolver.js";

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
  IncentivePlansResolver,
  ManagerIncentivesResolver,
  BranchIncentivesResolver,
] as const;

export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    authChecker,
    validate: { forbidUnknownValues: false },
  });
}

/** The committed `schema.graphql`: printed SDL with a header, so drift shows as a diff. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `# Emitted from the code by \`npm run schema:emit\`; a test fails when this file drifts.\n\n${printSchema(schema)}\n`;
}
