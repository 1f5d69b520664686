/**
 * Builders and one-line renderings for the incentive tables (test/unit/incentives-*.test.ts), so
 * a table row reads as the hand-worked arithmetic it checks: "M01 #0 FIRST_ORDER 3 × 2000 = 6000".
 */
import type { AdjustmentLine } from "../../src/domain/incentives/adjust.js";
import type { EarningLine, ManagerInput, NewCustomerInput, UnitInput } from "../../src/domain/incentives/calculate.js";
import type { PlanLevel, PlanMetric } from "../../src/domain/incentives/plan.js";

const figures = (actual: number | undefined, target: number | null | undefined, metric: PlanMetric) => ({
  actual: actual === undefined ? {} : { [metric]: actual },
  target: target === undefined ? {} : { [metric]: target },
});

/** A unit with its actual and target for one metric (NEW_CUSTOMERS unless named); left out: none. */
export const unit = (id: number, code: string, level: PlanLevel, parentId: number | null, actual?: number, target?: number | null, metric: PlanMetric = "NEW_CUSTOMERS"): UnitInput => ({
  id, code, level, parentId, ...figures(actual, target, metric),
});

/** An account manager with their actual and target for one metric (NEW_CUSTOMERS unless named). */
export const manager = (id: number, code: string, unitId: number, actual?: number, target?: number | null, metric: PlanMetric = "NEW_CUSTOMERS"): ManagerInput => ({
  id, code, unitId, ...figures(actual, target, metric),
});

export const customer = (application: string, managerId: number | null, approvedOn: string, firstSpendOn: string | null): NewCustomerInput => ({
  application, managerId, approvedOn, firstSpendOn,
});

/** Who, which rule, quantity × rate = amount, the applications counted and the note. */
export const showLine = (l: EarningLine): string =>
  `${l.recipient.code} #${l.ruleIndex} ${l.ruleKind} ${l.quantity} × ${l.rateFen} = ${l.amountFen}` +
  (l.applications.length > 0 ? ` [${l.applications.join(" ")}]` : "") +
  (l.note ? ` (${l.note})` : "");

/** Who, which rule, the change in quantity, locked → recalculated = difference, applications added and removed. */
export const showAdjustment = (a: AdjustmentLine): string =>
  `${a.recipient.code} #${a.ruleIndex} ${a.ruleKind} ${a.quantity >= 0 ? "+" : ""}${a.quantity} at ${a.rateFen}: ` +
  `${a.lockedAmountFen} → ${a.recalculatedAmountFen} = ${a.amountFen >= 0 ? "+" : ""}${a.amountFen}` +
  (a.applicationsAdded.length > 0 ? ` +[${a.applicationsAdded.join(" ")}]` : "") +
  (a.applicationsRemoved.length > 0 ? ` -[${a.applicationsRemoved.join(" ")}]` : "");

/** The sum of lines' amounts, in fen. */
export const totalFen = (lines: readonly { amountFen: number }[]): number => lines.reduce((sum, l) => sum + l.amountFen, 0);
