import { ArgsType, Field } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import type { Period } from "../../domain/period.js";
import { DateScalar, PeriodScalar } from "../../graphql/scalars.js";
import { Metric } from "./performance.enums.js";

@ArgsType()
export class PerformanceArgs {
  @Field(() => PeriodScalar) period!: Period;
  @Field(() => DateScalar, { nullable: true, description: "Defaults to today in the bank's time zone." })
  asOf?: BusinessDate | null;
}

@ArgsType()
export class BranchRankingArgs {
  @Field({ description: "The unit whose direct children are ranked." }) parentCode!: string;
  @Field(() => PeriodScalar) period!: Period;
  @Field(() => Metric) metric!: Metric;
  @Field(() => DateScalar, { nullable: true, description: "Defaults to today in the bank's time zone." })
  asOf?: BusinessDate | null;
}

@ArgsType()
export class ManagerRankingArgs {
  @Field({ description: "The unit whose subtree's account managers are ranked." }) branchCode!: string;
  @Field(() => PeriodScalar) period!: Period;
  @Field(() => Metric) metric!: Metric;
  @Field(() => DateScalar, { nullable: true, description: "Defaults to today in the bank's time zone." })
  asOf?: BusinessDate | null;
}
