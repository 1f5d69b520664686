import { registerEnumType } from "type-graphql";
import { PlanRuleKind, PlanStatus, StatementBasis, StatementStatus } from "../../generated/prisma/enums.js";
import { OrgLevel } from "../org/org.enums.js";
import { Metric } from "../performance/performance.enums.js";

export { Metric, OrgLevel, PlanRuleKind, PlanStatus, StatementBasis, StatementStatus };

registerEnumType(PlanStatus, { name: "PlanStatus", description: "DRAFT (editable) → ACTIVE (rules frozen; a change is a new version) → CLOSED (after the period)." });
registerEnumType(PlanRuleKind, {
  name: "PlanRuleKind",
  description: "FIRST_ORDER 首单奖, PER_UNIT 计件, TIERED 阶梯, TEAM 团队奖, PENALTY 罚 (shared/domain.md).",
});
registerEnumType(StatementBasis, { name: "StatementBasis", description: "PROVISIONAL as of a date within the period; FINAL after it." });
registerEnumType(StatementStatus, { name: "StatementStatus", description: "CALCULATED → APPROVED → LOCKED (paid); never back." });

export enum TeamSplit {
  EQUAL = "EQUAL",
  BY_CONTRIBUTION = "BY_CONTRIBUTION",
}
registerEnumType(TeamSplit, { name: "TeamSplit", description: "EQUAL: one share per manager with an actual ≥ 1; BY_CONTRIBUTION: in proportion to actual." });

export enum RecipientKind {
  MANAGER = "MANAGER",
  UNIT = "UNIT",
}
registerEnumType(RecipientKind, { name: "RecipientKind", description: "An account manager's statement, or a unit's (TEAM pools and PENALTY lines)." });
