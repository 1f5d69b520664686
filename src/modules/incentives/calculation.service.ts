/**
 * Calculating a plan's statements as of a date: the inputs read set-based from the figures
 * (src/figures/incentive-inputs.ts), the earning lines from the domain (calculateEarnings), and
 * each recipient's open statement written to match them.
 *
 * Idempotent: the same records, plan version and as-of date give the same lines and totals, and
 * a statement that would not change is left as it is. Approved and locked statements are never
 * rewritten: what a recalculation finds different from them (a late record, a moved first
 * approval) becomes adjustment lines (domain adjustments(), positive or a clawback) on the same
 * recipient's next statement of the plan, opened for it. A recipient has at most one open
 * (CALCULATED) statement per plan; payroll pays each statement when it is locked.
 */
import type { Db } from "../../db/database.js";
import { lockRecordWrites } from "../../db/locks.js";
import { inTransaction, type AuditOptions, type Tx } from "../../db/transaction.js";
import { toDbDate, type BusinessDate } from "../../domain/dates.js";
import { adjustments, type AdjustmentLine } from "../../domain/incentives/adjust.js";
import { calculateEarnings, type EarningLine, type Recipient } from "../../domain/incentives/calculate.js";
import type { PlanRule } from "../../domain/incentives/plan.js";
import { fenToYuan } from "../../domain/money.js";
import { asOfWindow, parsePeriod } from "../../domain/period.js";
import { BadInputError } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { readIncentiveInputs } from "../../figures/incentive-inputs.js";
import { PlanStatus, StatementBasis, StatementStatus, type Metric, type PlanRuleKind } from "./incentives.enums.js";
import type { StatementsCalculation } from "./incentives.type.js";
import { lockedPlan } from "./plans.service.js";

/** A statement line as stored, money in fen. */
export interface LineRow {
  ruleIndex: number;
  ruleKind: PlanRuleKind;
  metric: Metric;
  quantity: number;
  rateFen: number;
  amountFen: number;
  applications: string[];
  applicationsRemoved: string[];
  note: string | null;
  adjustment: boolean;
}

const yuan = (fen: number) => `¥${fenToYuan(fen).toFixed(2)}`;

/** Why a line says what it says, where the numbers alone do not. */
function noteOf(l: EarningLine): string | null {
  if (l.note) return l.note;
  const c = l.completion;
  if (l.ruleKind === "TIERED" && c && l.band) return `${c.actual} of ${c.target}: band from ${l.band.from}${l.band.to === null ? " up" : ` to ${l.band.to}`}`;
  if (l.ruleKind === "TEAM" && l.pool) {
    return l.recipient.kind === "UNIT"
      ? `${c!.actual} of ${c!.target}: pool of ${yuan(l.pool.amountFen)} shared by ${l.pool.sharedBy}, paid on their statements`
      : `share of ${l.pool.unit.code}'s pool: ${l.quantity} of ${l.pool.totalQuantity}`;
  }
  if (l.ruleKind === "PENALTY" && c) return `${c.actual} of ${c.target}`;
  return null;
}

function earningRow(l: EarningLine): LineRow {
  return {
    ruleIndex: l.ruleIndex, ruleKind: l.ruleKind, metric: l.metric, quantity: l.quantity, rateFen: l.rateFen, amountFen: l.amountFen,
    applications: [...l.applications], applicationsRemoved: [], note: noteOf(l), adjustment: false,
  };
}

function adjustmentRow(a: AdjustmentLine): LineRow {
  return {
    ruleIndex: a.ruleIndex, ruleKind: a.ruleKind, metric: a.metric, quantity: a.quantity, rateFen: a.rateFen, amountFen: a.amountFen,
    applications: [...a.applicationsAdded], applicationsRemoved: [...a.applicationsRemoved],
    note: `approved ${yuan(a.lockedAmountFen)}, now ${yuan(a.recalculatedAmountFen)}`, adjustment: true,
  };
}

/**
 * A statement's total: its lines, but a unit's TEAM lines, which show the pool its team earned
 * while the money is on the managers' share lines (so payroll never pays a pool twice).
 */
export function totalFen(kind: Recipient["kind"], rows: readonly Pick<LineRow, "ruleKind" | "amountFen">[]): number {
  return rows.reduce((sum, r) => (kind === "UNIT" && r.ruleKind === "TEAM" ? sum : sum + r.amountFen), 0);
}

type StatementRow = Prisma.IncentiveStatementGetPayload<{ include: { lines: true } }>;

function storedRows(s: StatementRow): LineRow[] {
  return [...s.lines]
    .sort((a, b) => a.position - b.position)
    .map((l) => ({
      ruleIndex: l.ruleIndex, ruleKind: l.ruleKind, metric: l.metric, quantity: l.quantity, rateFen: Number(l.rateFen), amountFen: Number(l.amountFen),
      applications: l.applications, applicationsRemoved: l.applicationsRemoved, note: l.note, adjustment: l.adjustment,
    }));
}

/**
 * What a recipient's approved and locked statements settled, per rule, as one earning line
 * each: quantities and amounts summed over the earnings and the adjustments since, and the
 * application numbers counted (added by a line, taken out by an adjustment's removals), in
 * statement order. The recalculation is compared with this.
 */
function settled(recipient: Recipient, frozen: readonly StatementRow[]): EarningLine[] {
  const byRule = new Map<number, { ruleKind: PlanRuleKind; metric: Metric; quantity: number; rateFen: number; amountFen: number; apps: Set<string> }>();
  for (const s of frozen) {
    for (const l of storedRows(s)) {
      const acc = byRule.get(l.ruleIndex) ?? { ruleKind: l.ruleKind, metric: l.metric, quantity: 0, rateFen: l.rateFen, amountFen: 0, apps: new Set<string>() };
      acc.quantity += l.quantity;
      acc.amountFen += l.amountFen;
      acc.rateFen = l.rateFen;
      for (const a of l.applications) acc.apps.add(a);
      for (const a of l.applicationsRemoved) acc.apps.delete(a);
      byRule.set(l.ruleIndex, acc);
    }
  }
  return [...byRule].map(([ruleIndex, a]) => ({
    recipient, ruleIndex, ruleKind: a.ruleKind, metric: a.metric, quantity: a.quantity, rateFen: a.rateFen, amountFen: a.amountFen,
    applications: [...a.apps].sort(),
  }));
}

const keyOf = (kind: Recipient["kind"], id: number) => `${kind}:${id}`;
const recipientOfRow = (s: { managerId: number | null; branchId: number | null }) =>
  s.managerId !== null ? { kind: "MANAGER" as const, id: s.managerId } : { kind: "UNIT" as const, id: s.branchId! };

/**
 * Calculates the statements of the plan `planCode` (ACTIVE or CLOSED) as of `asOf`, with its
 * current version. Takes the record-write lock, so the figures read are those of one moment,
 * then the plan's.
 */
export async function calculateStatements(
  db: Db,
  input: { planCode: string; asOf: BusinessDate },
  options: AuditOptions = {},
): Promise<StatementsCalculation> {
  return inTransaction(db, options, async (tx) => {
    await lockRecordWrites(tx);
    const plan = await lockedPlan(tx, input.planCode, "planCode");
    if (plan.status === PlanStatus.DRAFT) throw BadInputError.single("planCode", `plan "${plan.code}" is a DRAFT: activate it before calculating its statements`);
    const version = plan.versions[0];
    const period = parsePeriod(plan.period);
    const inputs = await readIncentiveInputs(tx, plan.branchId, plan.period, asOfWindow(period, input.asOf));
    const earnings = calculateEarnings({ plan: { unitId: plan.branchId, rules: version.rules as unknown as PlanRule[] }, period, asOf: input.asOf, ...inputs });
    const basis = earnings.status === "FINAL" ? StatementBasis.FINAL : StatementBasis.PROVISIONAL;

    const codes = new Map<string, string>([
      ...inputs.units.map((u) => [keyOf("UNIT", u.id), u.code] as const),
      ...inputs.managers.map((m) => [keyOf("MANAGER", m.id), m.code] as const),
    ]);
    const earned = new Map<string, EarningLine[]>();
    for (const line of earnings.lines) {
      const key = keyOf(line.recipient.kind, line.recipient.id);
      earned.set(key, [...(earned.get(key) ?? []), line]);
    }
    const existing = await tx.incentiveStatement.findMany({ where: { planId: plan.id }, include: { lines: true }, orderBy: { sequence: "asc" } });
    const statementsOf = new Map<string, StatementRow[]>();
    for (const s of existing) {
      const r = recipientOfRow(s);
      const key = keyOf(r.kind, r.id);
      statementsOf.set(key, [...(statementsOf.get(key) ?? []), s]);
    }

    const result = { created: 0, updated: 0, unchanged: 0, removed: 0 };
    const removed: number[] = [];
    const updated: { id: number; totalFen: number; rows: LineRow[] }[] = [];
    const created: { recipient: { kind: Recipient["kind"]; id: number }; sequence: number; totalFen: number; rows: LineRow[] }[] = [];
    const asOfDate = toDbDate(input.asOf);
    const sameHeader = (s: StatementRow) => s.planVersionId === version.id && s.basis === basis && s.asOf.getTime() === asOfDate.getTime();

    for (const key of [...new Set([...earned.keys(), ...statementsOf.keys()])].sort()) {
      const statements = statementsOf.get(key) ?? [];
      const open = statements.find((s) => s.status === StatementStatus.CALCULATED);
      const frozen = statements.filter((s) => s.status !== StatementStatus.CALCULATED);
      const [kind, id] = key.split(":") as [Recipient["kind"], string];
      const recipient: Recipient = { kind, id: Number(id), code: codes.get(key) ?? `#${id}` };
      const now = earned.get(key) ?? [];
      const rows = frozen.length === 0 ? now.map(earningRow) : adjustments(settled(recipient, frozen), now).map(adjustmentRow);
      if (rows.length === 0) {
        if (open) removed.push(open.id);
        continue;
      }
      const total = totalFen(kind, rows);
      if (open) {
        if (sameHeader(open) && JSON.stringify(storedRows(open)) === JSON.stringify(rows)) result.unchanged++;
        else updated.push({ id: open.id, totalFen: total, rows });
      } else {
        created.push({ recipient: { kind, id: Number(id) }, sequence: (statements.at(-1)?.sequence ?? 0) + 1, totalFen: total, rows });
      }
    }

    await writeStatements(tx, { planId: plan.id, planVersionId: version.id, asOf: asOfDate, basis }, removed, updated, created);
    return {
      planCode: plan.code, planVersion: version.number, asOf: input.asOf, basis,
      created: created.length, updated: updated.length, unchanged: result.unchanged, removed: removed.length,
    };
  });
}

/** The open statements' changes in a handful of statements, whatever their number. */
async function writeStatements(
  tx: Tx,
  header: { planId: number; planVersionId: number; asOf: Date; basis: StatementBasis },
  removed: number[],
  updated: { id: number; totalFen: number; rows: LineRow[] }[],
  created: { recipient: { kind: Recipient["kind"]; id: number }; sequence: number; totalFen: number; rows: LineRow[] }[],
): Promise<void> {
  if (removed.length) await tx.incentiveStatement.deleteMany({ where: { id: { in: removed } } });
  if (updated.length) await tx.incentiveStatementLine.deleteMany({ where: { statementId: { in: updated.map((u) => u.id) } } });
  if (updated.length) {
    await tx.$executeRaw`
      UPDATE incentive_statement s
      SET plan_version_id = ${header.planVersionId}, as_of = ${header.asOf}::date, basis = ${header.basis}::"StatementBasis",
          total_fen = u.total, updated_at = now()
      FROM unnest(${updated.map((u) => u.id)}::int[], ${updated.map((u) => String(u.totalFen))}::text[]::bigint[]) AS u(id, total)
      WHERE s.id = u.id`;
  }
  const ids = created.length
    ? await tx.incentiveStatement.createManyAndReturn({
        data: created.map((c) => ({
          ...header,
          managerId: c.recipient.kind === "MANAGER" ? c.recipient.id : null,
          branchId: c.recipient.kind === "UNIT" ? c.recipient.id : null,
          sequence: c.sequence,
          totalFen: BigInt(c.totalFen),
        })),
        select: { id: true, managerId: true, branchId: true },
      })
    : [];
  const idOf = new Map(ids.map((s) => [keyOf(recipientOfRow(s).kind, recipientOfRow(s).id), s.id]));
  const lines = [
    ...updated.map((u) => ({ statementId: u.id, rows: u.rows })),
    ...created.map((c) => ({ statementId: idOf.get(keyOf(c.recipient.kind, c.recipient.id))!, rows: c.rows })),
  ].flatMap(({ statementId, rows }) => rows.map((r, position) => ({ ...r, statementId, position })));
  // One statement with the lines as JSON: a province's lines name millions of application
  // numbers, which Prisma's createMany spent most of a calculation encoding.
  if (lines.length) {
    await tx.$executeRaw`
      INSERT INTO incentive_statement_line
        (statement_id, position, rule_index, rule_kind, metric, quantity, rate_fen, amount_fen, applications, applications_removed, note, adjustment)
      SELECT l."statementId", l.position, l."ruleIndex", l."ruleKind"::"PlanRuleKind", l.metric::"Metric", l.quantity, l."rateFen", l."amountFen",
             ARRAY(SELECT jsonb_array_elements_text(l.applications)), ARRAY(SELECT jsonb_array_elements_text(l."applicationsRemoved")),
             l.note, l.adjustment
      FROM jsonb_to_recordset(${JSON.stringify(lines)}::jsonb) AS l(
        "statementId" int, position int, "ruleIndex" int, "ruleKind" text, metric text, quantity int, "rateFen" bigint, "amountFen" bigint,
        applications jsonb, "applicationsRemoved" jsonb, note text, adjustment boolean)`;
  }
}
