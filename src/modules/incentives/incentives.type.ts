import { Field, Float, Int, ObjectType } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import { DateScalar } from "../../graphql/scalars.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { Connection } from "../common/relay.js";
import { Metric, OrgLevel, PlanRuleKind, PlanStatus, RecipientKind, StatementBasis, StatementStatus, TeamSplit } from "./incentives.enums.js";

/** The most rules a plan version holds (domain/incentives/plan.ts MAX_RULES) and bands a rule. */
const MAX_RULES = 50;
const MAX_BANDS = 20;

@ObjectType()
export class PlanBand {
  @Field(() => Float) from!: number;
  @Field(() => Float, { nullable: true }) to!: number | null;
  @Field(() => Float, { description: "Yuan per unit of actual." }) amount!: number;
}

@ObjectType({ description: "One rule of a plan version; the fields its kind does not use are null." })
export class PlanRule {
  @Field(() => PlanRuleKind) kind!: PlanRuleKind;
  @Field(() => Metric, { nullable: true }) metric!: Metric | null;
  @Field(() => Float, { nullable: true, description: "Yuan." }) amount!: number | null;
  @Field(() => Int, { nullable: true }) withinDays!: number | null;
  @Field(() => OrgLevel, { nullable: true }) level!: OrgLevel | null;
  @Field(() => Float, { nullable: true }) threshold!: number | null;
  @Field(() => TeamSplit, { nullable: true }) split!: TeamSplit | null;
  @Field(() => [PlanBand], { nullable: true }) @Limits({ rows: Rows.upTo(MAX_BANDS) }) bands!: PlanBand[] | null;
}

@ObjectType({ description: "An assessment plan (考核方案): issued by a unit for a period, covering its subtree." })
export class IncentivePlan {
  dbId!: number;
  branchId!: number;

  @Field() code!: string;
  @Field() name!: string;
  @Field() period!: string;
  @Field(() => PlanStatus) status!: PlanStatus;
  @Field(() => Int, { description: "The version in force; statements name the version they used." }) version!: number;
  @Field(() => [PlanRule]) @Limits({ rows: Rows.upTo(MAX_RULES) }) rules!: PlanRule[];
}

@ObjectType()
export class IncentivePlanConnection extends Connection(IncentivePlan, "IncentivePlan") {}

@ObjectType({ description: "One line of a statement: quantity × rate = amount (a TEAM share is the recipient's part of the pool)." })
export class StatementLine {
  @Field(() => Int, { description: "The rule's index in the plan version." }) ruleIndex!: number;
  @Field(() => PlanRuleKind) ruleKind!: PlanRuleKind;
  @Field(() => Metric) metric!: Metric;
  @Field(() => Int) quantity!: number;
  @Field(() => Float, { description: "Yuan." }) rate!: number;
  @Field(() => Float, { description: "Yuan; negative for a penalty or a clawback." }) amount!: number;
  @Field(() => [String], { description: "The application numbers counted (FIRST_ORDER); for an adjustment, those counted now and not before." })
  applications!: string[];
  @Field(() => [String], { description: "An adjustment's application numbers that no longer count." }) applicationsRemoved!: string[];
  @Field(() => String, { nullable: true }) note!: string | null;
  @Field({ description: "True when the line corrects an approved or locked statement of the same plan." }) adjustment!: boolean;
}

@ObjectType({ description: "What one account manager (or unit) earns under one plan, as of a date." })
export class IncentiveStatement {
  dbId!: number;
  /** The recipient's row: an account manager's id, or a unit's (the other is null). */
  managerId!: number | null;
  branchId!: number | null;

  @Field() planCode!: string;
  @Field(() => Int, { description: "The plan version it was calculated with." }) planVersion!: number;
  @Field(() => Int, { description: "1: the earnings; 2 and on: adjustments made after an earlier statement was approved." }) sequence!: number;
  @Field(() => RecipientKind) recipientKind!: RecipientKind;
  @Field() recipientCode!: string;
  @Field(() => DateScalar) asOf!: BusinessDate;
  @Field(() => StatementBasis) basis!: StatementBasis;
  @Field(() => StatementStatus) status!: StatementStatus;
  @Field(() => Float, { description: "Yuan: the sum of the lines, but a unit's TEAM lines (the pool is paid through the managers' shares)." })
  total!: number;
  // Lines per statement: at most one per rule, plus the adjustments.
  @Field(() => [StatementLine]) @Limits({ rows: Rows.upTo(MAX_RULES) }) lines!: StatementLine[];
}

@ObjectType()
export class IncentiveStatementConnection extends Connection(IncentiveStatement, "IncentiveStatement") {}

@ObjectType({ description: "What a calculation did to the plan's open statements." })
export class StatementsCalculation {
  @Field() planCode!: string;
  @Field(() => Int) planVersion!: number;
  @Field(() => DateScalar) asOf!: BusinessDate;
  @Field(() => StatementBasis) basis!: StatementBasis;
  @Field(() => Int) created!: number;
  @Field(() => Int) updated!: number;
  @Field(() => Int) unchanged!: number;
  @Field(() => Int, { description: "Open statements left with nothing to pay, removed." }) removed!: number;
}

@ObjectType({ description: "Statements moved along their lifecycle." })
export class StatementsTransition {
  @Field() planCode!: string;
  @Field(() => StatementStatus) status!: StatementStatus;
  @Field(() => Int) count!: number;
}
