/**
 * The story's assessment plan: Lüliang's (SX-LL) Q1 2021 plan with the two bonuses it paid
 * (shared/domain.md), created, activated and calculated through the plan services:
 *
 *   rule 0  FIRST_ORDER 首单奖: ¥20 for each new customer whose first spend comes within 30 days
 *           of the first approval;
 *   rule 1  TEAM 团队奖: ¥3,000 for each sub-branch reaching its NEW_CUSTOMERS plan (≥ 1.0),
 *           split among its account managers by contribution.
 *
 * Calculated as of 2021-04-01, the day after the quarter, so the statements are FINAL; they are
 * left CALCULATED for the SX-LL branch manager to approve. test/integration/demo-story.test.ts
 * reproduces them from the records.
 */
import type { Db } from "../db/database.js";
import { parsePeriod } from "../domain/period.js";
import { calculateStatements } from "../modules/incentives/calculation.service.js";
import { Metric, OrgLevel, PlanRuleKind, PlanStatus, TeamSplit } from "../modules/incentives/incentives.enums.js";
import type { CreatePlanInput } from "../modules/incentives/incentives.input.js";
import { createPlan, findPlan, transitionPlan } from "../modules/incentives/plans.service.js";
import type { WriteCounts } from "../modules/common/write-result.type.js";
import { DEMO } from "./story.js";

export const DEMO_PLAN = {
  code: "SX-LL-2021Q1",
  asOf: "2021-04-01",
  firstOrder: { amount: 20, withinDays: 30 },
  team: { amount: 3_000, threshold: 1 },
} as const;

function planInput(): CreatePlanInput {
  return {
    idempotencyKey: `demo-${DEMO_PLAN.code}-create`,
    code: DEMO_PLAN.code,
    name: "吕梁分行2021年一季度考核方案 (Lüliang Q1 2021 assessment plan)",
    branchCode: DEMO.storyBranch,
    period: parsePeriod(DEMO.period),
    rules: [
      { kind: PlanRuleKind.FIRST_ORDER, amount: DEMO_PLAN.firstOrder.amount, withinDays: DEMO_PLAN.firstOrder.withinDays },
      {
        kind: PlanRuleKind.TEAM, metric: Metric.NEW_CUSTOMERS, level: OrgLevel.SUB_BRANCH,
        threshold: DEMO_PLAN.team.threshold, amount: DEMO_PLAN.team.amount, split: TeamSplit.BY_CONTRIBUTION,
      },
    ],
  };
}

/**
 * Creates (or finds) the plan, activates it and calculates its statements. Loading again
 * changes nothing: the create is idempotent by key, an active plan stays as it is, and the
 * calculation leaves statements that would not change untouched.
 */
export async function loadDemoPlan(db: Db): Promise<{ plans: WriteCounts; statements: WriteCounts }> {
  const existing = await findPlan(db, DEMO_PLAN.code);
  const plan = existing ?? (await createPlan(db, planInput()));
  if (plan.status === PlanStatus.DRAFT) {
    await transitionPlan(db, { idempotencyKey: `demo-${DEMO_PLAN.code}-active`, code: plan.code, to: PlanStatus.ACTIVE }, DEMO_PLAN.asOf);
  }
  const run = await calculateStatements(db, { planCode: plan.code, asOf: DEMO_PLAN.asOf });
  return {
    plans: { created: existing ? 0 : 1, updated: 0, unchanged: existing ? 1 : 0 },
    statements: { created: run.created, updated: run.updated, unchanged: run.unchanged },
  };
}
