import { Field, InputType, Int } from "type-graphql";
import type { Period } from "../../domain/period.js";
import { PeriodScalar } from "../../graphql/scalars.js";
import { Metric } from "../performance/performance.enums.js";

@InputType({ description: "A plan figure for exactly one unit or one account manager." })
export class TargetInput {
  @Field(() => String, { nullable: true }) branchCode?: string | null;
  @Field(() => String, { nullable: true }) managerCode?: string | null;
  @Field(() => PeriodScalar) period!: Period;
  @Field(() => Metric) metric!: Metric;
  @Field(() => Int, { description: "Zero or more." }) value!: number;
}
