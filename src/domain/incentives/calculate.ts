/**
 * The incentive calculation: from a plan version's rules, the credited figures and targets, the
 * period's new customers and an as-of date, the earning lines of every account manager and unit
 * of the plan's subtree, as ../shared/domain.md ("Assessment plan and incentives") defines them.
 *
 * Pure and deterministic: the same inputs give the same lines in the same order, whatever the
 * order of the input rows, so a recalculation can be compared line by line with what was locked
 * (./adjust.ts). The caller reads the inputs set-based (one query per kind of input, however
 * many units and managers), which is why they are plain rows keyed by id.
 */
import { completionRate } from "../completion.js";
import { addDays, compareDates, type BusinessDate } from "../dates.js";
import { asOfWindow, type AsOfWindow, type Period } from "../period.js";
import {
  reachesRate,
  validatePlanRules,
  type Band,
  type FirstOrderRule,
  type PenaltyRule,
  type PerUnitRule,
  type PlanLevel,
  type PlanMetric,
  type PlanVersion,
  type RuleKind,
  type TeamRule,
  type TieredRule,
} from "./plan.js";

/** Counts per metric; a metric left out counts 0. */
export type MetricCounts = Readonly<Partial<Record<PlanMetric, number>>>;
/** Targets per metric; a metric left out (or null, or 0) has no target, so no completion rate. */
export type MetricTargets = Readonly<Partial<Record<PlanMetric, number | null>>>;

/**
 * The figures of a unit or an account manager as of the calculation's date: the actual credited
 * in the window `asOfWindow(period, asOf)` (a unit's covering its whole subtree, as every
 * figure does) and the period's targets (whole numbers ≥ 0, as stored).
 */
export interface Figures {
  readonly actual: MetricCounts;
  readonly target: MetricTargets;
}

export interface UnitInput extends Figures {
  readonly id: number;
  readonly code: string;
  readonly level: PlanLevel;
  readonly parentId: number | null;
}

export interface ManagerInput extends Figures {
  readonly id: number;
  readonly code: string;
  /** The unit the manager belongs to. */
  readonly unitId: number;
}

/** A new customer (NEW_CUSTOMERS) with what FIRST_ORDER needs to know of them: one row per customer. */
export interface NewCustomerInput {
  /** The application number of the customer's first approved application. */
  readonly application: string;
  /** The account manager credited with it; null when the application names none. */
  readonly managerId: number | null;
  /** The decision date of the customer's first-ever approval. */
  readonly approvedOn: BusinessDate;
  /** The card's first spend (首刷, the activation's `firstSpendOn`); null when none yet. */
  readonly firstSpendOn: BusinessDate | null;
}

export interface EarningsInput {
  readonly plan: Pick<PlanVersion, "unitId" | "rules">;
  readonly period: Period;
  /** Figures are provisional as of this date during the period, final after it. */
  readonly asOf: BusinessDate;
  /**
   * The plan's unit and the units below it, each unit's parent among them (more may be given,
   * with their parents: units outside the plan's subtree are ignored, so a whole tree will do).
   */
  readonly units: readonly UnitInput[];
  /** The account managers of those units (those of units outside the subtree are ignored). */
  readonly managers: readonly ManagerInput[];
  /** The new customers whose first approval may fall in the period (others are ignored). */
  readonly newCustomers: readonly NewCustomerInput[];
}

export interface Recipient {
  readonly kind: "MANAGER" | "UNIT";
  readonly id: number;
  readonly code: string;
}

/** The unit whose TEAM pool a line is about, and how the pool was split. */
export interface PoolShare {
  readonly unit: { readonly id: number; readonly code: string };
  /** The whole pool. */
  readonly amountFen: number;
  /** How many account managers share it (0: not paid). */
  readonly sharedBy: number;
  /** The sum of the shares' quantities: the pool is split in proportion to quantity ÷ this. */
  readonly totalQuantity: number;
}

/** Who a line is for, under which rule (its index in the plan version), and its money. */
export interface RuleLine {
  readonly recipient: Recipient;
  readonly ruleIndex: number;
  readonly ruleKind: RuleKind;
  readonly metric: PlanMetric;
  readonly quantity: number;
  readonly rateFen: number;
  readonly amountFen: number;
}

/**
 * One earning line of one recipient under one rule; a calculation has at most one line per
 * recipient and rule. What quantity and rate mean by rule:
 * - FIRST_ORDER: the new customers whose first spend came in time × the rule's amount, naming
 *   their application numbers; PER_UNIT: the manager's actual × the amount; TIERED: the manager's
 *   actual × the amount of the band their completion falls in;
 * - PENALTY, on the unit: quantity 1, rate and amount minus the rule's amount;
 * - TEAM on the unit: quantity 1 pool paid (0 when nobody could share it: amount 0 and a note),
 *   rate and amount the pool; TEAM on a manager: their share of it, quantity their part of the
 *   split (their actual under BY_CONTRIBUTION, 1 under EQUAL), rate the whole pool, amount the
 *   share (largest remainder, so a unit's shares sum to its pool exactly).
 * Except for TEAM shares, amount = quantity × rate. A unit's TEAM line shows what its team
 * earned; the money itself is on the managers' lines (sum those for payroll).
 */
export interface EarningLine extends RuleLine {
  /** FIRST_ORDER: the application numbers counted, ascending; empty for other rules. */
  readonly applications: readonly string[];
  /** TIERED, TEAM (unit line) and PENALTY: the actual and target the rule judged. */
  readonly completion?: { readonly actual: number; readonly target: number };
  /** TIERED: the band the completion fell in. */
  readonly band?: Band;
  /** TEAM: the pool this line is about. */
  readonly pool?: PoolShare;
  readonly note?: string;
}

export interface Earnings {
  /** PROVISIONAL until the period has ended (as of a date within or before it), FINAL after. */
  readonly status: "PROVISIONAL" | "FINAL";
  readonly window: AsOfWindow;
  /** By recipient (managers, then units, each by code), then by rule index. */
  readonly lines: EarningLine[];
}

/**
 * Whether a first spend counts for FIRST_ORDER: 0 ≤ first spend − approval ≤ `withinDays` days,
 * so a spend on the day of approval or on day `withinDays` counts, the day after does not, and
 * neither does a spend dated before the approval.
 */
export function firstSpendInTime(approvedOn: BusinessDate, firstSpendOn: BusinessDate | null, withinDays: number): boolean {
  return firstSpendOn !== null && spendBetween(firstSpendOn, approvedOn, addDays(approvedOn, withinDays));
}

/** `firstSpendInTime` with the last counting day (approval + withinDays) already worked out. */
function spendBetween(firstSpendOn: BusinessDate, approvedOn: BusinessDate, lastDay: BusinessDate): boolean {
  return compareDates(firstSpendOn, approvedOn) >= 0 && compareDates(firstSpendOn, lastDay) <= 0;
}

const byCode = (a: { code: string }, b: { code: string }): number => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

function pushTo<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

/**
 * Splits `totalFen` in proportion to whole weights ≥ 0 (not all 0), by largest remainder: each
 * gets the floor of its exact share, and the fen left over go one each to the largest
 * remainders, equal remainders to the lower code. The parts sum to `totalFen` exactly; they are
 * returned in the order of `shares`. Exact in BigInt whatever the sizes.
 */
export function splitByLargestRemainder(totalFen: number, shares: readonly { readonly code: string; readonly weight: number }[]): number[] {
  if (!Number.isInteger(totalFen) || totalFen < 0) throw new RangeError(`${totalFen}: a pool is whole fen ≥ 0`);
  if (shares.some((s) => !Number.isInteger(s.weight) || s.weight < 0)) throw new RangeError("weights must be whole and ≥ 0");
  const sum = shares.reduce((acc, s) => acc + BigInt(s.weight), 0n);
  if (sum === 0n) throw new RangeError("nothing to split by: the weights sum to 0");
  const pool = BigInt(totalFen);
  const parts = shares.map((s) => ({ code: s.code, fen: (pool * BigInt(s.weight)) / sum, rest: (pool * BigInt(s.weight)) % sum }));
  let left = pool - parts.reduce((acc, p) => acc + p.fen, 0n);
  const order = [...parts].sort((a, b) => (a.rest === b.rest ? byCode(a, b) : a.rest > b.rest ? -1 : 1));
  for (const part of order) {
    if (left === 0n) break;
    part.fen += 1n;
    left -= 1n;
  }
  return parts.map((p) => Number(p.fen));
}

/** The plan's subtree: which units and managers it covers, and who is under which unit. */
class PlanTree {
  private readonly units = new Map<number, UnitInput>();
  private readonly covered = new Map<number, boolean>();
  readonly managers: ManagerInput[];
  private readonly byLevel = new Map<PlanLevel, Map<number, ManagerInput[]>>();

  constructor(private readonly planUnitId: number, units: readonly UnitInput[], managers: readonly ManagerInput[]) {
    for (const u of units) this.units.set(u.id, u);
    // A missing parent or unit would silently drop a subtree from the plan: refuse it instead.
    if (!this.units.has(planUnitId)) throw new RangeError(`the plan's unit (id ${planUnitId}) is not among the units`);
    for (const u of units) {
      if (u.parentId !== null && !this.units.has(u.parentId)) throw new RangeError(`the parent (id ${u.parentId}) of unit ${u.code} is not among the units`);
    }
    for (const m of managers) {
      if (!this.units.has(m.unitId)) throw new RangeError(`the unit (id ${m.unitId}) of account manager ${m.code} is not among the units`);
    }
    this.managers = managers.filter((m) => this.covers(m.unitId)).sort(byCode);
  }

  /** The unit and its ancestors up to the plan's unit, bottom first; empty when outside the subtree. */
  private chain(unitId: number): UnitInput[] {
    const chain: UnitInput[] = [];
    for (let id: number | null = unitId; id !== null; id = (this.units.get(id) as UnitInput).parentId) {
      const unit = this.units.get(id) as UnitInput;
      if (chain.length > this.units.size) throw new RangeError(`the units' parents form a cycle through ${unit.code}`);
      chain.push(unit);
      if (id === this.planUnitId) return chain;
    }
    return [];
  }

  covers(unitId: number): boolean {
    let known = this.covered.get(unitId);
    if (known === undefined) this.covered.set(unitId, (known = this.chain(unitId).length > 0));
    return known;
  }

  /** The units at `level` in the subtree, by code. */
  unitsAt(level: PlanLevel): UnitInput[] {
    return [...this.units.values()].filter((u) => u.level === level && this.covers(u.id)).sort(byCode);
  }

  /** The managers of a unit's subtree, by code. */
  managersUnder(unit: UnitInput): readonly ManagerInput[] {
    let groups = this.byLevel.get(unit.level);
    if (!groups) {
      // Grouped once per level, one walk up per manager: a manager's ancestor at the level is the
      // only unit of that level whose subtree holds them.
      groups = new Map();
      for (const m of this.managers) {
        const at = this.chain(m.unitId).find((u) => u.level === unit.level);
        if (at) pushTo(groups, at.id, m);
      }
      this.byLevel.set(unit.level, groups);
    }
    return groups.get(unit.id) ?? [];
  }
}

const actualOf = (f: Figures, metric: PlanMetric): number => f.actual[metric] ?? 0;

/** The target a rule judges against; null when there is no completion rate (no target, or 0). */
function judgedTarget(f: Figures, metric: PlanMetric): number | null {
  const target = f.target[metric] ?? null;
  return completionRate(actualOf(f, metric), target) === null ? null : target;
}

const managerOf = (m: ManagerInput): Recipient => ({ kind: "MANAGER", id: m.id, code: m.code });
const unitOf = (u: UnitInput): Recipient => ({ kind: "UNIT", id: u.id, code: u.code });

type RuleLines<R> = (rule: R, ruleIndex: number, tree: PlanTree, input: EarningsInput, window: AsOfWindow) => EarningLine[];

const firstOrderLines: RuleLines<FirstOrderRule> = (rule, ruleIndex, tree, input, window) => {
  if (window.empty) return [];
  const counted = new Map<number, string[]>();
  // A quarter has at most 92 approval days: each day's last counting day is worked out once,
  // not once per customer (calendar arithmetic is the costly part with 10^5 customers).
  const lastDays = new Map<BusinessDate, BusinessDate>();
  for (const c of input.newCustomers) {
    if (c.managerId === null || c.firstSpendOn === null) continue;
    if (compareDates(c.approvedOn, window.start) < 0 || compareDates(c.approvedOn, window.end) > 0) continue;
    // As of a date, a first spend after it is not known yet: the figure is reproducible.
    if (compareDates(c.firstSpendOn, input.asOf) > 0) continue;
    let lastDay = lastDays.get(c.approvedOn);
    if (lastDay === undefined) lastDays.set(c.approvedOn, (lastDay = addDays(c.approvedOn, rule.withinDays)));
    if (spendBetween(c.firstSpendOn, c.approvedOn, lastDay)) pushTo(counted, c.managerId, c.application);
  }
  return tree.managers
    .filter((m) => counted.has(m.id))
    .map((m) => {
      const applications = (counted.get(m.id) as string[]).sort();
      const quantity = applications.length;
      return {
        recipient: managerOf(m), ruleIndex, ruleKind: rule.kind, metric: "NEW_CUSTOMERS",
        quantity, rateFen: rule.amountFen, amountFen: quantity * rule.amountFen, applications,
      };
    });
};

const perUnitLines: RuleLines<PerUnitRule> = (rule, ruleIndex, tree) =>
  tree.managers.map((m) => {
    const quantity = actualOf(m, rule.metric);
    return {
      recipient: managerOf(m), ruleIndex, ruleKind: rule.kind, metric: rule.metric,
      quantity, rateFen: rule.amountFen, amountFen: quantity * rule.amountFen, applications: [],
    };
  });

/** The band a completion falls in: the last whose lower bound it reaches (bands ascend from 0). */
function bandOf(bands: readonly Band[], actual: number, target: number): Band {
  return [...bands].reverse().find((b) => reachesRate(actual, target, b.from)) as Band;
}

const tieredLines: RuleLines<TieredRule> = (rule, ruleIndex, tree) =>
  tree.managers.flatMap((m) => {
    const target = judgedTarget(m, rule.metric);
    if (target === null) return [];
    const actual = actualOf(m, rule.metric);
    const band = bandOf(rule.bands, actual, target);
    return [{
      recipient: managerOf(m), ruleIndex, ruleKind: rule.kind, metric: rule.metric,
      quantity: actual, rateFen: band.amountFen, amountFen: actual * band.amountFen, applications: [],
      completion: { actual, target }, band,
    }];
  });

const teamLines: RuleLines<TeamRule> = (rule, ruleIndex, tree) =>
  tree.unitsAt(rule.level).flatMap((unit) => {
    const target = judgedTarget(unit, rule.metric);
    const actual = actualOf(unit, rule.metric);
    if (target === null || !reachesRate(actual, target, rule.threshold)) return [];
    // EQUAL and BY_CONTRIBUTION alike share only among those who contributed (actual ≥ 1).
    const members = tree.managersUnder(unit).filter((m) => actualOf(m, rule.metric) >= 1);
    const weights = members.map((m) => (rule.split === "EQUAL" ? 1 : actualOf(m, rule.metric)));
    const totalQuantity = weights.reduce((a, b) => a + b, 0);
    const pool: PoolShare = { unit: { id: unit.id, code: unit.code }, amountFen: rule.amountFen, sharedBy: members.length, totalQuantity };
    const common = { ruleIndex, ruleKind: rule.kind, metric: rule.metric, rateFen: rule.amountFen, applications: [], pool } as const;
    const paid = members.length > 0 ? 1 : 0;
    const unitLine: EarningLine = {
      ...common, recipient: unitOf(unit), quantity: paid, amountFen: paid * rule.amountFen, completion: { actual, target },
      ...(paid ? {} : { note: `pool not paid: nobody to split among (no account manager of ${unit.code} has ${rule.metric} ≥ 1)` }),
    };
    if (!paid) return [unitLine];
    const shares = splitByLargestRemainder(rule.amountFen, members.map((m, i) => ({ code: m.code, weight: weights[i] })));
    const shareLines = members.map((m, i): EarningLine => ({ ...common, recipient: managerOf(m), quantity: weights[i], amountFen: shares[i] }));
    return [unitLine, ...shareLines];
  });

const penaltyLines: RuleLines<PenaltyRule> = (rule, ruleIndex, tree) =>
  tree.unitsAt(rule.level).flatMap((unit) => {
    const target = judgedTarget(unit, rule.metric);
    const actual = actualOf(unit, rule.metric);
    if (target === null || reachesRate(actual, target, rule.threshold)) return [];
    return [{
      recipient: unitOf(unit), ruleIndex, ruleKind: rule.kind, metric: rule.metric,
      quantity: 1, rateFen: -rule.amountFen, amountFen: -rule.amountFen, applications: [], completion: { actual, target },
    }];
  });

/** Managers first, then units; each by code; then by rule. */
export function compareLines(a: RuleLine, b: RuleLine): number {
  if (a.recipient.kind !== b.recipient.kind) return a.recipient.kind === "MANAGER" ? -1 : 1;
  return byCode(a.recipient, b.recipient) || a.ruleIndex - b.ruleIndex;
}

/**
 * The earning lines of a plan version as of a date. Completion is actual ÷ target as of that date
 * (src/domain/completion.ts), compared with thresholds and band bounds exactly (no float drift at
 * 0.8 or 1.0); managers and units without a target are not judged by TIERED, TEAM or PENALTY.
 * FIRST_ORDER counts the new customers first approved in the window whose first spend, known by
 * `asOf`, came 0..`withinDays` days after the approval (a spend after the period's end still
 * counts for the approval's period). Lines that move no money are left out, except a TEAM pool
 * with nobody to split among, which the unit's line reports as not paid.
 *
 * Throws RangeError when the rules are invalid (validate them with `validatePlanRules` first), or
 * the plan's unit, a unit's parent or a manager's unit is not among the units.
 */
export function calculateEarnings(input: EarningsInput): Earnings {
  const issues = validatePlanRules(input.plan.rules);
  if (issues.length > 0) throw new RangeError(`invalid plan rules: ${issues.map((i) => `rules[${i.index}].${i.field}: ${i.reason}`).join("; ")}`);
  const tree = new PlanTree(input.plan.unitId, input.units, input.managers);
  const window = asOfWindow(input.period, input.asOf);
  const lines = input.plan.rules.flatMap((rule, index) => {
    switch (rule.kind) {
      case "FIRST_ORDER":
        return firstOrderLines(rule, index, tree, input, window);
      case "PER_UNIT":
        return perUnitLines(rule, index, tree, input, window);
      case "TIERED":
        return tieredLines(rule, index, tree, input, window);
      case "TEAM":
        return teamLines(rule, index, tree, input, window);
      case "PENALTY":
        return penaltyLines(rule, index, tree, input, window);
    }
  });
  return {
    status: compareDates(input.asOf, input.period.end) > 0 ? "FINAL" : "PROVISIONAL",
    window,
    lines: lines.filter((l) => l.amountFen !== 0 || l.note !== undefined).sort(compareLines),
  };
}
