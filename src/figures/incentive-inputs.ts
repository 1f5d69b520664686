/**
 * What an incentive calculation reads (src/domain/incentives/calculate.ts): the plan's subtree
 * with each unit's and account manager's credited actuals over the as-of window and the
 * period's targets, and the new customers first approved in the window with their first spend.
 * Six statements whatever the number of units, managers and records: each is one set-based
 * query over the subtree (through the closure table), never one per unit or manager.
 */
import type { Db } from "../db/database.js";
import type { Tx } from "../db/transaction.js";
import type { ManagerInput, MetricCounts, MetricTargets, NewCustomerInput, UnitInput } from "../domain/incentives/calculate.js";
import type { PlanLevel, PlanMetric } from "../domain/incentives/plan.js";
import type { AsOfWindow } from "../domain/period.js";
import { Prisma } from "../generated/prisma/client.js";
import { isFirstApproval } from "./metrics.js";
import { BRANCH_ROLLUP, KEYED_ROLLUPS } from "./tables.js";

export interface IncentiveInputs {
  readonly units: UnitInput[];
  readonly managers: ManagerInput[];
  readonly newCustomers: NewCustomerInput[];
}

type Counts = Map<number, Partial<Record<PlanMetric, number>>>;

function add(into: Counts, id: number, metric: PlanMetric, n: number): void {
  const counts = into.get(id) ?? {};
  counts[metric] = n;
  into.set(id, counts);
}

/**
 * The inputs of a plan issued by `planUnitId` for `period` (canonical code) as of a window
 * (`asOfWindow(period, asOf)`). The plan's unit is given without its parent, so the subtree is
 * complete on its own. New customers are those whose first-ever approval (NEW_CUSTOMERS, credited
 * to that application's unit and manager) falls in the window in the subtree; `firstSpendOn` is
 * the activation's, whenever it came (the calculation judges it against the as-of date).
 */
export async function readIncentiveInputs(db: Db | Tx, planUnitId: number, period: string, window: AsOfWindow): Promise<IncentiveInputs> {
  const subtree = Prisma.sql`SELECT descendant_id FROM branch_closure WHERE ancestor_id = ${planUnitId}`;
  const counted = !window.empty;
  // One after another: they run in the calculation's transaction, one connection.
  const units = await db.$queryRaw<{ id: number; code: string; level: PlanLevel; parentId: number | null }[]>`
    SELECT b.id, b.code, b.level::text AS level, CASE WHEN b.id = ${planUnitId} THEN NULL ELSE b.parent_id END AS "parentId"
    FROM branch b WHERE b.id IN (${subtree})`;
  const managers = await db.$queryRaw<{ id: number; code: string; unitId: number }[]>`
    SELECT m.id, m.code, m.branch_id AS "unitId" FROM account_manager m WHERE m.branch_id IN (${subtree})`;
  const unitActuals = counted
    ? await db.$queryRaw<{ id: number; metric: PlanMetric; n: number }[]>`
        SELECT r.${BRANCH_ROLLUP.key} AS id, r.metric::text AS metric, sum(r.count)::int AS n FROM ${BRANCH_ROLLUP.table} r
        WHERE r.${BRANCH_ROLLUP.key} IN (${subtree}) AND r.day BETWEEN ${window.start}::date AND ${window.end}::date
        GROUP BY 1, 2`
    : [];
  const managerActuals = counted
    ? await db.$queryRaw<{ id: number; metric: PlanMetric; n: number }[]>`
        SELECT r.${KEYED_ROLLUPS[0].key} AS id, r.metric::text AS metric, sum(r.count)::int AS n
        FROM ${KEYED_ROLLUPS[0].table} r JOIN account_manager m ON m.id = r.${KEYED_ROLLUPS[0].key}
        WHERE m.branch_id IN (${subtree}) AND r.day BETWEEN ${window.start}::date AND ${window.end}::date
        GROUP BY 1, 2`
    : [];
  const targets = await db.$queryRaw<{ branchId: number | null; managerId: number | null; metric: PlanMetric; value: number }[]>`
    SELECT t.branch_id AS "branchId", t.manager_id AS "managerId", t.metric::text AS metric, t.value FROM target t
    LEFT JOIN account_manager m ON m.id = t.manager_id
    WHERE t.period = ${period} AND (t.branch_id IN (${subtree}) OR m.branch_id IN (${subtree}))`;
  const customers = counted
    ? await db.$queryRaw<NewCustomerInput[]>`
        SELECT a.external_id AS application, a.manager_id AS "managerId", to_char(a.decided_on, 'YYYY-MM-DD') AS "approvedOn",
               to_char(v.first_spend_on, 'YYYY-MM-DD') AS "firstSpendOn"
        FROM application a LEFT JOIN activation v ON v.application_id = a.id
        WHERE a.decision = 'APPROVED' AND a.decided_on BETWEEN ${window.start}::date AND ${window.end}::date
          AND a.branch_id IN (${subtree}) AND ${isFirstApproval(Prisma.sql`a.id`)}`
    : [];
  const actual: { unit: Counts; manager: Counts } = { unit: new Map(), manager: new Map() };
  for (const r of unitActuals) add(actual.unit, r.id, r.metric, r.n);
  for (const r of managerActuals) add(actual.manager, r.id, r.metric, r.n);
  const target: { unit: Counts; manager: Counts } = { unit: new Map(), manager: new Map() };
  for (const t of targets) {
    if (t.branchId !== null) add(target.unit, t.branchId, t.metric, t.value);
    else if (t.managerId !== null) add(target.manager, t.managerId, t.metric, t.value);
  }
  const figures = (kind: "unit" | "manager", id: number): { actual: MetricCounts; target: MetricTargets } => ({
    actual: actual[kind].get(id) ?? {},
    target: target[kind].get(id) ?? {},
  });
  return {
    units: units.map((u) => ({ ...u, ...figures("unit", u.id) })),
    managers: managers.map((m) => ({ ...m, ...figures("manager", m.id) })),
    newCustomers: customers,
  };
}
