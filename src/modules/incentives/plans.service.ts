/**
 * Assessment plans: created as DRAFT with their rules validated by the domain
 * (src/domain/incentives/plan.ts), changed, and moved DRAFT → ACTIVE → CLOSED. The API speaks
 * yuan; rules are stored as the domain holds them, in fen, in a plan version.
 *
 * A changed plan: a DRAFT plan's only version changes in place (no figure names a draft). An
 * ACTIVE plan's change is a new version, made current, while none of its statements is approved
 * or locked: frozen statements are compared with recalculations of the version they used
 * (domain adjustments() refuses lines of two versions), so once one is approved the rules stay.
 * A CLOSED plan never changes.
 */
import type { Db } from "../../db/database.js";
import { lockPlan } from "../../db/locks.js";
import { inTransaction, type AuditOptions, type Tx } from "../../db/transaction.js";
import { compareDates, type BusinessDate } from "../../domain/dates.js";
import { canTransitionPlan, validatePlanRules, type PlanRule as DomainRule } from "../../domain/incentives/plan.js";
import { fenToYuan, yuanToFen } from "../../domain/money.js";
import { parsePeriod, type Period } from "../../domain/period.js";
import { AppError, BadInputError, IssueCollector, NotFoundError, type FieldIssue } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { canonicalJson, idempotentWrite } from "../common/idempotency.js";
import { CodeIds } from "../common/lookup.js";
import { pageByCode, type Page } from "../common/relay.js";
import { checkBatchSize, checkCode, checkName, checkUnique, screen, type WriteOptions } from "../common/validate.js";
import type { WriteOutcome } from "../common/write-result.type.js";
import { PlanStatus, StatementStatus } from "./incentives.enums.js";
import type { CreatePlanInput, PlanRuleInput, TransitionPlanInput, UpdatePlanInput } from "./incentives.input.js";
import { IncentivePlan, type PlanRule } from "./incentives.type.js";

// ---- rules: API (yuan) ⇄ domain (fen) -----------------------------------------------------

/**
 * The domain's rules from the API's, amounts in fen; every refusal an issue on
 * `rules[i].<field>` (the domain's `amountFen` is the API's `amount`).
 */
export function toDomainRules(rules: readonly PlanRuleInput[]): DomainRule[] {
  const issues: FieldIssue[] = [];
  const fen = (at: string, yuan: number | null | undefined): number | undefined => {
    if (yuan == null) return undefined;
    const r = yuanToFen(yuan);
    if ("reason" in r) return issues.push({ field: at, reason: r.reason }), undefined;
    return r.fen;
  };
  const converted = rules.map((r, i) => {
    const at = `rules[${i}]`;
    const rule: Record<string, unknown> = { kind: r.kind };
    if (r.metric != null) rule.metric = r.metric;
    if (r.amount != null) rule.amountFen = fen(`${at}.amount`, r.amount) ?? null;
    if (r.withinDays != null) rule.withinDays = r.withinDays;
    if (r.level != null) rule.level = r.level;
    if (r.threshold != null) rule.threshold = r.threshold;
    if (r.split != null) rule.split = r.split;
    if (r.bands != null) {
      rule.bands = r.bands.map((b, k) => ({ from: b.from, to: b.to ?? null, amountFen: fen(`${at}.bands[${k}].amount`, b.amount) ?? null }));
    }
    return rule as unknown as DomainRule;
  });
  if (issues.length) throw new BadInputError(issues);
  const found = validatePlanRules(converted).map((i) => ({
    field: i.index === undefined ? i.field : `rules[${i.index}].${i.field.replace(/amountFen/g, "amount")}`,
    reason: i.reason,
  }));
  if (found.length) throw new BadInputError(found);
  return converted;
}

function toApiRule(r: DomainRule): PlanRule {
  const any = r as unknown as Partial<Record<string, unknown>>;
  return {
    kind: r.kind,
    metric: (any.metric as PlanRule["metric"]) ?? null,
    amount: "amountFen" in r ? fenToYuan(r.amountFen) : null,
    withinDays: r.kind === "FIRST_ORDER" ? r.withinDays : null,
    level: r.kind === "TEAM" || r.kind === "PENALTY" ? r.level : null,
    threshold: r.kind === "TEAM" || r.kind === "PENALTY" ? r.threshold : null,
    split: r.kind === "TEAM" ? (r.split as PlanRule["split"]) : null,
    bands: r.kind === "TIERED" ? r.bands.map((b) => ({ from: b.from, to: b.to, amount: fenToYuan(b.amountFen) })) : null,
  } as PlanRule;
}

// ---- reading -------------------------------------------------------------------------------

const WITH_VERSION = { versions: { orderBy: { number: "desc" }, take: 1 } } as const;
type PlanRow = Prisma.IncentivePlanGetPayload<{ include: typeof WITH_VERSION }>;

function toPlan(row: PlanRow): IncentivePlan {
  const version = row.versions[0];
  return Object.assign(new IncentivePlan(), {
    dbId: row.id,
    branchId: row.branchId,
    code: row.code,
    name: row.name,
    period: row.period,
    status: row.status,
    version: version?.number ?? 0,
    rules: ((version?.rules ?? []) as unknown as DomainRule[]).map(toApiRule),
  });
}

export async function findPlan(db: Db | Tx, code: string): Promise<IncentivePlan | null> {
  const row = await db.incentivePlan.findUnique({ where: { code }, include: WITH_VERSION });
  return row ? toPlan(row) : null;
}

/**
 * Plans issued by the unit `unitId` or any unit below it, for a period (all periods when null):
 * the subtree's ids come from the closure table first, then the plans page by code.
 */
export async function listPlans(db: Db, unitId: number, period: string | null, first: number, after: string | null | undefined): Promise<Page<IncentivePlan>> {
  const subtree = await db.branchClosure.findMany({ where: { ancestorId: unitId }, select: { descendantId: true } });
  const where: Prisma.IncentivePlanWhereInput = { branchId: { in: subtree.map((c) => c.descendantId) }, ...(period ? { period } : {}) };
  return pageByCode(
    { findMany: (args) => db.incentivePlan.findMany({ ...args, include: WITH_VERSION }), count: (args) => db.incentivePlan.count(args) },
    where,
    first,
    after,
    toPlan,
  );
}

// ---- writing -------------------------------------------------------------------------------

/** The plan `code` names, read after taking its lock; NOT_FOUND on `field` when there is none. */
export async function lockedPlan(tx: Tx, code: string, field = "code") {
  await lockPlan(tx, code);
  const plan = await tx.incentivePlan.findUnique({ where: { code }, include: WITH_VERSION });
  if (!plan) throw new NotFoundError("plan", code, field);
  return plan;
}

/** What a plan is made of, as the API and the import give it. */
export interface PlanDefinition {
  code: string;
  name: string;
  branchCode: string;
  period: Period;
  rules: PlanRuleInput[];
}

/** Issues with a plan's own fields (not its rules) on row `index` (undefined: a lone call). */
function checkPlanFields(issues: IssueCollector, index: number | undefined, plan: { code?: string; name?: string | null }): void {
  if (plan.code !== undefined) checkCode(issues, index, "code", plan.code);
  if (plan.name != null) checkName(issues, index, "name", plan.name);
}

/** The domain's rules, or undefined with each refusal added as an issue of row `index`. */
function rulesOrIssues(issues: IssueCollector, index: number | undefined, rules: readonly PlanRuleInput[]): DomainRule[] | undefined {
  try {
    return toDomainRules(rules);
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    for (const issue of err.issues) issues.add(index, issue.field, issue.reason);
    return undefined;
  }
}

/** Why `plan` may not take a change (of its rules when `rules`), as issues of row `index`. */
async function checkPlanChange(tx: Tx, issues: IssueCollector, index: number | undefined, plan: { id: number; status: string }, rules: boolean): Promise<void> {
  if (plan.status === PlanStatus.CLOSED) return issues.add(index, "code", "a CLOSED plan cannot change");
  if (plan.status === PlanStatus.ACTIVE && rules) {
    const frozen = await tx.incentiveStatement.count({ where: { planId: plan.id, status: { not: StatementStatus.CALCULATED } } });
    if (frozen > 0) issues.add(index, "rules", `${frozen} statement(s) of this plan are approved or locked: its rules can no longer change`);
  }
}

async function insertPlan(tx: Tx, plan: { code: string; name: string; branchId: number; period: string }, rules: DomainRule[]): Promise<void> {
  const row = await tx.incentivePlan.create({ data: plan });
  const version = await tx.incentivePlanVersion.create({ data: { planId: row.id, number: 1, rules: rules as unknown as Prisma.InputJsonValue } });
  await tx.incentivePlan.update({ where: { id: row.id }, data: { currentVersionId: version.id } });
}

/** A DRAFT plan's only version changes in place; an ACTIVE plan's new rules are a new version. */
async function changePlan(tx: Tx, plan: PlanRow, name: string | null, rules: DomainRule[] | null): Promise<void> {
  if (name != null) await tx.incentivePlan.update({ where: { id: plan.id }, data: { name } });
  if (!rules) return;
  const current = plan.versions[0];
  const json = rules as unknown as Prisma.InputJsonValue;
  if (plan.status === PlanStatus.DRAFT) {
    await tx.incentivePlanVersion.update({ where: { id: current.id }, data: { rules: json } });
  } else {
    const version = await tx.incentivePlanVersion.create({ data: { planId: plan.id, number: current.number + 1, rules: json } });
    await tx.incentivePlan.update({ where: { id: plan.id }, data: { currentVersionId: version.id } });
  }
}

export async function createPlan(db: Db, input: CreatePlanInput, options: AuditOptions = {}): Promise<IncentivePlan> {
  // The period is hashed by its code, not by the parsed object's days.
  const keyed = { ...input, period: input.period.code } as { idempotencyKey: string };
  const code = await idempotentWrite(db, "createPlan", keyed, options, async (tx) => {
    await lockPlan(tx, input.code);
    const issues = new IssueCollector();
    checkPlanFields(issues, undefined, input);
    const branchId = (await CodeIds.load(tx, "branch", [input.branchCode])).check(issues, undefined, "branchCode", input.branchCode);
    if (await tx.incentivePlan.findUnique({ where: { code: input.code }, select: { id: true } })) {
      issues.add(undefined, "code", `a plan "${input.code}" already exists; change it with updatePlan`);
    }
    issues.throwIfAny();
    await insertPlan(tx, { code: input.code, name: input.name, branchId: branchId!, period: input.period.code }, toDomainRules(input.rules));
    return input.code;
  });
  return (await findPlan(db, code))!;
}

export async function updatePlan(db: Db, input: UpdatePlanInput, options: AuditOptions = {}): Promise<IncentivePlan> {
  const code = await idempotentWrite(db, "updatePlan", input, options, async (tx) => {
    const plan = await lockedPlan(tx, input.code);
    const issues = new IssueCollector();
    checkPlanFields(issues, undefined, { name: input.name });
    await checkPlanChange(tx, issues, undefined, plan, input.rules != null);
    issues.throwIfAny();
    await changePlan(tx, plan, input.name ?? null, input.rules != null ? toDomainRules(input.rules) : null);
    return plan.code;
  });
  return (await findPlan(db, code))!;
}

/**
 * The import's plans (`npm run import -- plans`): each row creates its plan as DRAFT, or changes
 * the plan of that code to match it under updatePlan's rules; a row equal to its plan is
 * unchanged, so a file imported twice writes once. A plan's issuing unit and period are what
 * its figures are about: a row that would move them is refused, as is a change to a CLOSED plan.
 * Statuses move through the API (transitionPlan) only.
 */
export async function upsertPlans(db: Db, input: readonly PlanDefinition[], maxBatch: number, options: WriteOptions = {}): Promise<WriteOutcome> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx) => {
    const codes = [...new Set(input.map((r) => r.code))].sort();
    // In code order, as two imports of overlapping files would take them.
    for (const code of codes) await lockPlan(tx, code);
    const existing = new Map((await tx.incentivePlan.findMany({ where: { code: { in: codes } }, include: WITH_VERSION })).map((p) => [p.code, p]));
    const units = await CodeIds.load(tx, "branch", input.map((r) => r.branchCode));
    const rulesOf = new Map<PlanDefinition, DomainRule[]>();
    const { rows, rejected } = await screen(input, options, async (rows, issues) => {
      checkUnique(issues, rows, "code", (r) => r.code);
      for (const [i, row] of rows.entries()) {
        checkPlanFields(issues, i, row);
        const branchId = units.check(issues, i, "branchCode", row.branchCode);
        const rules = rulesOrIssues(issues, i, row.rules);
        if (rules) rulesOf.set(row, rules);
        const plan = existing.get(row.code);
        if (!plan || !rules) continue;
        if (branchId !== undefined && plan.branchId !== branchId) issues.add(i, "branchCode", `plan "${row.code}" is issued by another unit; a plan's unit cannot change`);
        if (plan.period !== row.period.code) issues.add(i, "period", `plan "${row.code}" is for ${plan.period}; a plan's period cannot change`);
        const change = planDiff(plan, row, rules);
        if (change.name !== null || change.rules !== null) await checkPlanChange(tx, issues, i, plan, change.rules !== null);
      }
    });
    let created = 0;
    let updated = 0;
    for (const row of rows) {
      const plan = existing.get(row.code);
      const rules = rulesOf.get(row)!;
      if (!plan) {
        await insertPlan(tx, { code: row.code, name: row.name, branchId: units.get(row.branchCode)!, period: row.period.code }, rules);
        created += 1;
        continue;
      }
      const change = planDiff(plan, row, rules);
      if (change.name === null && change.rules === null) continue;
      await changePlan(tx, plan, change.name, change.rules);
      updated += 1;
    }
    return { created, updated, unchanged: rows.length - created - updated, rejected };
  });
}

/** What of `row` differs from the stored plan: the new name and rules, or null for each that is the same. */
function planDiff(plan: PlanRow, row: PlanDefinition, rules: DomainRule[]): { name: string | null; rules: DomainRule[] | null } {
  const stored = plan.versions[0]?.rules ?? [];
  return { name: plan.name === row.name ? null : row.name, rules: canonicalJson(stored) === canonicalJson(rules) ? null : rules };
}

/** DRAFT → ACTIVE → CLOSED; CLOSED only after the period's last day (`today` in the bank's time zone). */
export async function transitionPlan(db: Db, input: TransitionPlanInput, today: BusinessDate, options: AuditOptions = {}): Promise<IncentivePlan> {
  const code = await idempotentWrite(db, "transitionPlan", input, options, async (tx) => {
    const plan = await lockedPlan(tx, input.code);
    if (!canTransitionPlan(plan.status, input.to)) {
      throw new AppError("BAD_USER_INPUT", `to: a ${plan.status} plan cannot become ${input.to}; plans go DRAFT → ACTIVE → CLOSED`, [
        { field: "to", reason: `${plan.status} → ${input.to} is not a legal move` },
      ]);
    }
    const end = parsePeriod(plan.period).end;
    if (input.to === PlanStatus.CLOSED && compareDates(today, end) <= 0) {
      throw BadInputError.single("to", `the plan's period ${plan.period} ends on ${end}: it closes only after that`);
    }
    await tx.incentivePlan.update({ where: { id: plan.id }, data: { status: input.to } });
    return plan.code;
  });
  return (await findPlan(db, code))!;
}
