import { Field, Float, Int, ObjectType } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import type { AsOfWindow, Period } from "../../domain/period.js";
import { DateScalar, PeriodScalar } from "../../graphql/scalars.js";
import { AccountManager } from "../org/account-manager.type.js";
import { Branch } from "../org/branch.type.js";
import { Metric } from "./performance.enums.js";
import type { SubjectKind } from "../../figures/reads.js";

@ObjectType({ description: "One metric's actual against its target." })
export class MetricProgress {
  @Field(() => Metric) metric!: Metric;
  @Field(() => Int) actual!: number;
  @Field(() => Int, { nullable: true, description: "The plan for the period; null when none is set." })
  target!: number | null;
  @Field(() => Float, { nullable: true, description: "actual ÷ target; null without a (non-zero) target." })
  completionRate!: number | null;
}

@ObjectType({ description: "A bucket of a series; `cumulative` runs from the period's first day." })
export class SeriesPoint {
  @Field(() => DateScalar) start!: BusinessDate;
  @Field(() => DateScalar) end!: BusinessDate;
  @Field(() => Int) actual!: number;
  @Field(() => Int) cumulative!: number;
}

/** A unit's or an account manager's figures for a period as of a date. */
@ObjectType({ description: "A unit's or an account manager's figures for a period as of a date." })
export class Performance {
  subject!: { kind: SubjectKind; id: number; rankAmong: number | null };
  window!: AsOfWindow;

  @Field(() => PeriodScalar) period!: Period;
  @Field(() => DateScalar, { description: "Records dated up to min(asOf, the period's last day) count." })
  asOf!: BusinessDate;
  @Field(() => Float, { description: "Days elapsed in the window ÷ days in the period." })
  timeProgress!: number;
}

@ObjectType({ description: "A unit's place in a ranking of its peers." })
export class BranchStanding {
  @Field(() => Int) rank!: number;
  @Field(() => Branch) branch!: Branch;
  @Field(() => Int) actual!: number;
  @Field(() => Int, { nullable: true }) target!: number | null;
  @Field(() => Float, { nullable: true }) completionRate!: number | null;
}

@ObjectType({ description: "An account manager's place in a ranking of the managers of a subtree." })
export class ManagerStanding {
  @Field(() => Int) rank!: number;
  @Field(() => AccountManager) manager!: AccountManager;
  @Field(() => Int) actual!: number;
  @Field(() => Int, { nullable: true }) target!: number | null;
  @Field(() => Float, { nullable: true }) completionRate!: number | null;
}
