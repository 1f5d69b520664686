/**
 * Statements after their calculation: approved (CALCULATED → APPROVED) and locked when paid
 * (APPROVED → LOCKED), a plan's statements at a time, and read per recipient and period.
 */
import type { Db } from "../../db/database.js";
import type { AuditOptions } from "../../db/transaction.js";
import { fromDbDate } from "../../domain/dates.js";
import { canTransitionStatement } from "../../domain/incentives/plan.js";
import { fenToYuan } from "../../domain/money.js";
import { BadInputError } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { idempotentWrite } from "../common/idempotency.js";
import { keysetPage, type Page } from "../common/relay.js";
import { RecipientKind, StatementStatus } from "./incentives.enums.js";
import type { StatementsTransitionInput } from "./incentives.input.js";
import { IncentiveStatement, type StatementsTransition } from "./incentives.type.js";
import { lockedPlan } from "./plans.service.js";

/**
 * Moves every statement of the plan in `from` on to `to` (approve: CALCULATED → APPROVED; lock:
 * APPROVED → LOCKED). Idempotent by key: a replay reports the first call's count.
 */
async function moveStatements(
  db: Db,
  operation: string,
  input: StatementsTransitionInput,
  from: StatementStatus,
  to: StatementStatus,
  options: AuditOptions,
): Promise<StatementsTransition> {
  if (!canTransitionStatement(from, to)) throw new RangeError(`${from} → ${to} is not a statement's move`);
  const count = await idempotentWrite(db, operation, input, options, async (tx) => {
    const plan = await lockedPlan(tx, input.planCode, "planCode");
    const moved = await tx.incentiveStatement.updateMany({ where: { planId: plan.id, status: from }, data: { status: to } });
    return String(moved.count);
  });
  return { planCode: input.planCode, status: to, count: Number(count) };
}

/** Approves the plan's CALCULATED statements (a branch manager of the plan's unit or above). */
export function approveStatements(db: Db, input: StatementsTransitionInput, options: AuditOptions = {}): Promise<StatementsTransition> {
  return moveStatements(db, "approveStatements", input, StatementStatus.CALCULATED, StatementStatus.APPROVED, options);
}

/** Locks the plan's APPROVED statements: they are paid, and never change again. */
export function lockStatements(db: Db, input: StatementsTransitionInput, options: AuditOptions = {}): Promise<StatementsTransition> {
  return moveStatements(db, "lockStatements", input, StatementStatus.APPROVED, StatementStatus.LOCKED, options);
}

// ---- reading -------------------------------------------------------------------------------

/** Whose statements: an account manager's or a unit's, by id, with the code they are shown under. */
export interface RecipientKey {
  kind: RecipientKind;
  id: number;
  code: string;
  /** Canonical period code: the statements of the plans for this period. */
  period: string;
}

const WITH_LINES = {
  lines: { orderBy: { position: "asc" } },
  plan: { select: { code: true } },
  planVersion: { select: { number: true } },
} as const;
type StatementRow = Prisma.IncentiveStatementGetPayload<{ include: typeof WITH_LINES }>;

function toStatement(row: StatementRow, key: Pick<RecipientKey, "kind" | "code">): IncentiveStatement {
  return Object.assign(new IncentiveStatement(), {
    dbId: row.id,
    managerId: row.managerId,
    branchId: row.branchId,
    planCode: row.plan.code,
    planVersion: row.planVersion.number,
    sequence: row.sequence,
    recipientKind: key.kind,
    recipientCode: key.code,
    asOf: fromDbDate(row.asOf),
    basis: row.basis,
    status: row.status,
    total: fenToYuan(row.totalFen),
    lines: row.lines.map((l) => ({
      ruleIndex: l.ruleIndex,
      ruleKind: l.ruleKind,
      metric: l.metric,
      quantity: l.quantity,
      rate: fenToYuan(l.rateFen),
      amount: fenToYuan(l.amountFen),
      applications: l.applications,
      applicationsRemoved: l.applicationsRemoved,
      note: l.note,
      adjustment: l.adjustment,
    })),
  });
}

/**
 * The statements of many recipients for their periods, with their lines, by plan code then
 * sequence: one query for statements (and one per relation Prisma loads with them) whatever the
 * number of recipients and lines.
 */
export async function statementsOf(db: Db, keys: readonly RecipientKey[]): Promise<IncentiveStatement[][]> {
  const ids = (kind: RecipientKind) => [...new Set(keys.filter((k) => k.kind === kind).map((k) => k.id))];
  const rows = await db.incentiveStatement.findMany({
    where: {
      plan: { period: { in: [...new Set(keys.map((k) => k.period))] } },
      OR: [{ managerId: { in: ids(RecipientKind.MANAGER) } }, { branchId: { in: ids(RecipientKind.UNIT) } }],
    },
    include: { ...WITH_LINES, plan: { select: { code: true, period: true } } },
    orderBy: [{ plan: { code: "asc" } }, { sequence: "asc" }],
  });
  return keys.map((key) =>
    rows
      .filter((r) => r.plan.period === key.period && (key.kind === RecipientKind.MANAGER ? r.managerId === key.id : r.branchId === key.id))
      .map((r) => toStatement(r, key)),
  );
}

/**
 * A page of one plan's statements, every recipient's (what payroll pays out), in the order they
 * were made; a page costs the same statements whatever its size.
 */
export function planStatements(db: Db, planId: number, first: number, after: string | null | undefined): Promise<Page<IncentiveStatement>> {
  return keysetPage({
    first,
    after,
    position: (key) => {
      const id = Number(key);
      if (!Number.isSafeInteger(id) || id < 1) throw BadInputError.single("after", "not a cursor this API issued");
      return id;
    },
    rows: async (afterId, take) => {
      const rows = await db.incentiveStatement.findMany({
        where: { planId, ...(afterId === null ? {} : { id: { gt: afterId } }) },
        include: WITH_LINES,
        orderBy: { id: "asc" },
        take,
      });
      const ids = (pick: (r: StatementRow) => number | null) => rows.map(pick).filter((id): id is number => id !== null);
      const [managers, units] = await Promise.all([
        db.accountManager.findMany({ where: { id: { in: ids((r) => r.managerId) } }, select: { id: true, code: true } }),
        db.branch.findMany({ where: { id: { in: ids((r) => r.branchId) } }, select: { id: true, code: true } }),
      ]);
      const managerCode = new Map(managers.map((m) => [m.id, m.code]));
      const unitCode = new Map(units.map((u) => [u.id, u.code]));
      return rows.map((r) =>
        r.managerId !== null
          ? toStatement(r, { kind: RecipientKind.MANAGER, code: managerCode.get(r.managerId)! })
          : toStatement(r, { kind: RecipientKind.UNIT, code: unitCode.get(r.branchId!)! }),
      );
    },
    count: () => db.incentiveStatement.count({ where: { planId } }),
    node: (s) => s,
    key: (s) => String(s.dbId),
  });
}
