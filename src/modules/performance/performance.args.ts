import { Max, Min } from "class-validator";
import { ArgsType, Field, Int } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import type { Period } from "../../domain/period.js";
import { DateScalar, PeriodScalar } from "../../graphql/scalars.js";
import { Metric } from "./performance.enums.js";

/** The most standings one manager ranking returns. */
export const MAX_RANKING_ROWS = 1_000;

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

  // A province has thousands of managers: the list is bounded like every other long list.
  @Field(() => Int, { defaultValue: 100, description: `The top of the ranking: 1..${MAX_RANKING_ROWS} standings.` })
  @Min(1)
  @Max(MAX_RANKING_ROWS)
  first!: number;
}
