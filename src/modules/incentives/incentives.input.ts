import { Field, Float, InputType, Int } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import type { Period } from "../../domain/period.js";
import { DateScalar, PeriodScalar } from "../../graphql/scalars.js";
import { Metric, OrgLevel, PlanRuleKind, PlanStatus, TeamSplit } from "./incentives.enums.js";

const KEY = { description: "Unique per intended change: a retry with the same key and input returns the first result." } as const;

@InputType({ description: "A TIERED band: completion rates from `from` (included) to `to` (excluded; null: no upper end)." })
export class PlanBandInput {
  @Field(() => Float) from!: number;
  @Field(() => Float, { nullable: true }) to?: number | null;
  @Field(() => Float, { description: "Yuan per unit of actual." }) amount!: number;
}

@InputType({ description: "One rule; give the fields its kind uses (shared/domain.md, 'Assessment plan and incentives')." })
export class PlanRuleInput {
  @Field(() => PlanRuleKind) kind!: PlanRuleKind;
  @Field(() => Metric, { nullable: true, description: "PER_UNIT, TIERED, TEAM, PENALTY." }) metric?: Metric | null;
  @Field(() => Float, { nullable: true, description: "Yuan: per customer (FIRST_ORDER), per unit (PER_UNIT), the pool (TEAM), the penalty (PENALTY)." })
  amount?: number | null;
  @Field(() => Int, { nullable: true, description: "FIRST_ORDER: the first spend counts 0..withinDays days after the approval." }) withinDays?: number | null;
  @Field(() => OrgLevel, { nullable: true, description: "TEAM, PENALTY: the units judged." }) level?: OrgLevel | null;
  @Field(() => Float, { nullable: true, description: "TEAM, PENALTY: the completion rate to reach, e.g. 1 for 100 %." }) threshold?: number | null;
  @Field(() => TeamSplit, { nullable: true, description: "TEAM." }) split?: TeamSplit | null;
  @Field(() => [PlanBandInput], { nullable: true, description: "TIERED: from 0 up, without gap or overlap, the last open." }) bands?: PlanBandInput[] | null;
}

@InputType()
export class CreatePlanInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() code!: string;
  @Field() name!: string;
  @Field({ description: "The issuing unit; the plan covers its subtree." }) branchCode!: string;
  @Field(() => PeriodScalar) period!: Period;
  @Field(() => [PlanRuleInput]) rules!: PlanRuleInput[];
}

@InputType({
  description: "A DRAFT plan changes in place; an ACTIVE one gets a new version (while none of its statements is approved). Fields left out keep their value.",
})
export class UpdatePlanInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() code!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => [PlanRuleInput], { nullable: true }) rules?: PlanRuleInput[] | null;
}

@InputType()
export class TransitionPlanInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() code!: string;
  @Field(() => PlanStatus) to!: PlanStatus;
}

@InputType()
export class CalculateStatementsInput {
  @Field() planCode!: string;
  @Field(() => DateScalar, { nullable: true, description: "Defaults to today in the bank's time zone; after the period's last day the statements are FINAL." })
  asOf?: BusinessDate | null;
}

@InputType()
export class StatementsTransitionInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() planCode!: string;
}
