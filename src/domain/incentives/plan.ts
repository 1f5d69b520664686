/**
 * Assessment plans (考核方案): the rules a plan version holds, their parameters, their validation
 * and the lifecycles of plans and statements, as ../shared/domain.md ("Assessment plan and
 * incentives") defines them. Pure: the plan service stores a version's rules and turns the
 * issues found here into a `BadInputError` (they are `FieldIssue`s, `index` being the rule's).
 *
 * Money is integer fen. Completion rates in a plan (thresholds, band bounds) are decimals with at
 * most four places (0.01 % steps), so each is an exact fraction n / 10,000 and every comparison
 * with actual ÷ target is done in integers (see {@link reachesRate}): 0.8 is 0.8, not
 * 0.8000000000000000444.
 */
import type { FieldIssue } from "../../errors.js";

/** The metrics of the figures contract (the same names as Prisma's `Metric`). */
export const PLAN_METRICS = ["APPLICATIONS", "APPROVALS", "NEW_CUSTOMERS", "ACTIVATIONS"] as const;
export type PlanMetric = (typeof PLAN_METRICS)[number];

/** The org tree's levels, top first (the same names as Prisma's `OrgLevel`). */
export const PLAN_LEVELS = ["PROVINCE", "CITY", "SUB_BRANCH", "OUTLET"] as const;
export type PlanLevel = (typeof PLAN_LEVELS)[number];

export const TEAM_SPLITS = ["EQUAL", "BY_CONTRIBUTION"] as const;
/** EQUAL: one share per account manager with an actual ≥ 1; BY_CONTRIBUTION: in proportion to actual. */
export type TeamSplit = (typeof TEAM_SPLITS)[number];

/** 首单奖: `amountFen` per new customer whose first spend comes 0..`withinDays` days after the first approval. */
export interface FirstOrderRule {
  readonly kind: "FIRST_ORDER";
  readonly amountFen: number;
  readonly withinDays: number;
}

/** 计件: `amountFen` per unit of the manager's credited actual. */
export interface PerUnitRule {
  readonly kind: "PER_UNIT";
  readonly metric: PlanMetric;
  readonly amountFen: number;
}

/**
 * One band of a TIERED rule: completion rates from `from` (included) to `to` (excluded; null:
 * no upper end) pay `amountFen` per unit of actual.
 */
export interface Band {
  readonly from: number;
  readonly to: number | null;
  readonly amountFen: number;
}

/** 阶梯: the band the manager's completion rate falls in sets the amount paid for every unit of actual. */
export interface TieredRule {
  readonly kind: "TIERED";
  readonly metric: PlanMetric;
  readonly bands: readonly Band[];
}

/** 团队奖: a pool of `amountFen` for each unit at `level` whose completion rate reaches `threshold`. */
export interface TeamRule {
  readonly kind: "TEAM";
  readonly metric: PlanMetric;
  readonly level: PlanLevel;
  readonly threshold: number;
  readonly amountFen: number;
  readonly split: TeamSplit;
}

/** 罚: minus `amountFen` for each unit at `level` whose completion rate is below `threshold`. */
export interface PenaltyRule {
  readonly kind: "PENALTY";
  readonly metric: PlanMetric;
  readonly level: PlanLevel;
  readonly threshold: number;
  readonly amountFen: number;
}

export type PlanRule = FirstOrderRule | PerUnitRule | TieredRule | TeamRule | PenaltyRule;
export const RULE_KINDS = ["FIRST_ORDER", "PER_UNIT", "TIERED", "TEAM", "PENALTY"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export type PlanStatus = "DRAFT" | "ACTIVE" | "CLOSED";

/**
 * A plan as the calculation reads it: issued by a unit (by id) for a period, covering that
 * unit's subtree. A changed plan is a new version; figures name the version they used.
 */
export interface PlanVersion {
  readonly unitId: number;
  /** Canonical period code, e.g. `2021-Q1`. */
  readonly period: string;
  readonly version: number;
  readonly status: PlanStatus;
  readonly rules: readonly PlanRule[];
}

/** Statements go CALCULATED → APPROVED (by a branch manager of the plan's unit) → LOCKED (paid). */
export type StatementStatus = "CALCULATED" | "APPROVED" | "LOCKED";

const PLAN_STEPS: Readonly<Record<PlanStatus, readonly PlanStatus[]>> = { DRAFT: ["ACTIVE"], ACTIVE: ["CLOSED"], CLOSED: [] };
const STATEMENT_STEPS: Readonly<Record<StatementStatus, readonly StatementStatus[]>> = {
  CALCULATED: ["APPROVED"],
  APPROVED: ["LOCKED"],
  LOCKED: [],
};

/** Whether a plan may move from one status to another: DRAFT → ACTIVE → CLOSED, never back. */
export function canTransitionPlan(from: PlanStatus, to: PlanStatus): boolean {
  return PLAN_STEPS[from].includes(to);
}

/**
 * Whether a statement may move from one status to another: CALCULATED → APPROVED → LOCKED, never
 * back. A locked statement never changes: what a later record would change in it becomes an
 * adjustment on the next open statement (./adjust.ts).
 */
export function canTransitionStatement(from: StatementStatus, to: StatementStatus): boolean {
  return STATEMENT_STEPS[from].includes(to);
}

/** Rates in a plan are decimals with at most this many places. */
export const RATE_DECIMALS = 4;
/** A rate r is held exactly as the integer r × RATE_SCALE. */
export const RATE_SCALE = 10 ** RATE_DECIMALS;
/** The highest threshold or band bound a plan may name: 10 = 1,000 % of plan. */
export const MAX_RATE = 10;
/** The highest amount one rule may name: ¥1,000,000, so quantity × amount stays far below 2^53 fen. */
export const MAX_RULE_AMOUNT_FEN = 100_000_000;
/** The longest first-order window: a year. */
export const MAX_WITHIN_DAYS = 366;
export const MAX_BANDS = 20;
export const MAX_RULES = 50;

/** A rate as its exact integer numerator over {@link RATE_SCALE}; null when it has more than four decimals. */
export function scaledRate(rate: number): number | null {
  if (!Number.isFinite(rate)) return null;
  const scaled = Math.round(rate * RATE_SCALE);
  // A float's binary error is far below a millionth of a step; a fifth decimal is not.
  return Math.abs(scaled - rate * RATE_SCALE) > 1e-6 ? null : scaled;
}

/**
 * Whether actual ÷ target ≥ rate, exactly: actual × 10,000 ≥ (rate × 10,000) × target in
 * integers (BigInt), so 8 of 10 reaches 0.8, 110 of 100 reaches 1.1 (although 1.1 × 100 is
 * 110.00000000000001 as a float) and 7,999,999 of 10,000,000 does not reach 0.8. The target
 * must be positive (a unit without one is not judged) and both counts whole; the rate must have
 * passed {@link validatePlanRules}.
 */
export function reachesRate(actual: number, target: number, rate: number): boolean {
  const scaled = scaledRate(rate);
  if (scaled === null) throw new RangeError(`rate ${rate} has more than ${RATE_DECIMALS} decimals`);
  if (!Number.isInteger(actual) || !Number.isInteger(target) || target <= 0) {
    throw new RangeError(`${actual} of ${target}: counts must be whole and the target positive`);
  }
  return BigInt(actual) * BigInt(RATE_SCALE) >= BigInt(scaled) * BigInt(target);
}

const oneOf = (values: readonly string[]) => `must be one of ${values.join(", ")}`;

/** Collects the issues of one rule; `field` paths are relative to the rule (`bands[1].from`). */
class RuleIssues {
  constructor(
    private readonly out: FieldIssue[],
    private readonly index: number,
  ) {}

  add(field: string, reason: string): void {
    this.out.push({ index: this.index, field, reason });
  }

  /** False, with an issue, when a field is left out (a rule read from a file or a JSON column may lack one). */
  present(field: string, value: unknown): boolean {
    if (value !== undefined && value !== null) return true;
    this.add(field, "is required");
    return false;
  }

  amount(field: string, value: unknown): void {
    if (!this.present(field, value)) return;
    if (typeof value !== "number" || !Number.isInteger(value)) this.add(field, `${String(value)} must be a whole number of fen`);
    else if (value < 0) this.add(field, `${value} must be zero or more`);
    else if (value > MAX_RULE_AMOUNT_FEN) this.add(field, `${value} must be at most ${MAX_RULE_AMOUNT_FEN} fen`);
  }

  member(field: string, value: unknown, values: readonly string[]): void {
    if (!this.present(field, value)) return;
    if (typeof value !== "string" || !values.includes(value)) this.add(field, `${String(value)} ${oneOf(values)}`);
  }

  /** A rate in [min, MAX_RATE] (above 0 when `positive`) with at most four decimals; its scaled value, or null. */
  rate(field: string, value: unknown, positive: boolean): number | null {
    if (!this.present(field, value)) return null;
    if (typeof value !== "number" || !Number.isFinite(value)) return this.add(field, `${String(value)} must be a number`), null;
    if (positive ? value <= 0 : value < 0) return this.add(field, `${value} must be ${positive ? "more than zero" : "zero or more"}`), null;
    if (value > MAX_RATE) return this.add(field, `${value} must be at most ${MAX_RATE} (${MAX_RATE * 100} % of plan)`), null;
    const scaled = scaledRate(value);
    if (scaled === null) this.add(field, `${value} has more than ${RATE_DECIMALS} decimals`);
    return scaled;
  }

  bands(bands: unknown): void {
    if (!Array.isArray(bands) || bands.length === 0) return this.add("bands", "must hold at least one band");
    if (bands.length > MAX_BANDS) return this.add("bands", `holds ${bands.length} bands; at most ${MAX_BANDS}`);
    // Each band must start exactly where the one before ends, the first at 0 and only the last
    // open, so every rate ≥ 0 falls in exactly one band.
    let previousEnd: number | null = 0;
    (bands as Band[]).forEach((band, k) => {
      const at = `bands[${k}]`;
      if (typeof band !== "object" || band === null) {
        previousEnd = null;
        return this.add(at, "must be a band { from, to, amountFen }");
      }
      const from = this.rate(`${at}.from`, band.from, false);
      const to = band.to === null ? null : this.rate(`${at}.to`, band.to, true);
      this.amount(`${at}.amountFen`, band.amountFen);
      if (from !== null && previousEnd !== null && from !== previousEnd) {
        if (k === 0) this.add(`${at}.from`, `${band.from}: the first band must start at 0`);
        else if (from > previousEnd) this.add(`${at}.from`, `${band.from} leaves a gap after the band before, which ends at ${bands[k - 1].to}`);
        else this.add(`${at}.from`, `${band.from} overlaps the band before, which ends at ${bands[k - 1].to}`);
      }
      if (from !== null && to !== null && to <= from) this.add(`${at}.to`, `${band.to} must be above from (${band.from})`);
      if (band.to === null && k < bands.length - 1) this.add(`${at}.to`, "only the last band may be open (to: null)");
      if (band.to !== null && k === bands.length - 1) this.add(`${at}.to`, `${band.to}: the last band must be open (to: null), so every higher rate is covered`);
      previousEnd = band.to === null ? null : to;
    });
  }
}

/**
 * Every problem with a plan version's rules, as issues naming the rule's index, the field
 * within it and why; empty when the rules are valid. Checks what the contract needs for the
 * calculation to be defined: known kinds, metrics, levels and splits; amounts in whole fen,
 * 0..{@link MAX_RULE_AMOUNT_FEN}; `withinDays` a whole number 0..{@link MAX_WITHIN_DAYS};
 * thresholds above 0 and at most {@link MAX_RATE}; TIERED bands ascending from 0 without gap
 * or overlap, only the last open. Values are checked at run time too, so rules read from a file
 * or a JSON column can be passed as they are.
 */
export function validatePlanRules(rules: readonly PlanRule[]): FieldIssue[] {
  const out: FieldIssue[] = [];
  if (rules.length > MAX_RULES) {
    out.push({ field: "rules", reason: `holds ${rules.length} rules; at most ${MAX_RULES}` });
    return out;
  }
  rules.forEach((rule, index) => {
    const issues = new RuleIssues(out, index);
    switch (rule.kind) {
      case "FIRST_ORDER":
        issues.amount("amountFen", rule.amountFen);
        if (!issues.present("withinDays", rule.withinDays)) return;
        if (!Number.isInteger(rule.withinDays) || rule.withinDays < 0 || rule.withinDays > MAX_WITHIN_DAYS) {
          issues.add("withinDays", `${String(rule.withinDays)} must be a whole number of days, 0..${MAX_WITHIN_DAYS}`);
        }
        return;
      case "PER_UNIT":
        issues.member("metric", rule.metric, PLAN_METRICS);
        issues.amount("amountFen", rule.amountFen);
        return;
      case "TIERED":
        issues.member("metric", rule.metric, PLAN_METRICS);
        issues.bands(rule.bands);
        return;
      case "TEAM":
      case "PENALTY":
        issues.member("metric", rule.metric, PLAN_METRICS);
        issues.member("level", rule.level, PLAN_LEVELS);
        issues.rate("threshold", rule.threshold, true);
        issues.amount("amountFen", rule.amountFen);
        if (rule.kind === "TEAM") issues.member("split", rule.split, TEAM_SPLITS);
        return;
      default:
        issues.add("kind", `${String((rule as { kind: unknown }).kind)} ${oneOf(RULE_KINDS)}`);
    }
  });
  return out;
}
