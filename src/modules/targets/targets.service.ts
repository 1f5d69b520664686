/** Plan figures: one per (unit or manager, period, metric); setting one again overwrites it. */
import type { Db } from "../../db/database.js";
import { inTransaction } from "../../db/transaction.js";
import { Prisma } from "../../generated/prisma/client.js";
import { CodeIds } from "../common/lookup.js";
import { checkBatchSize, checkUnique, screen, type WriteOptions } from "../common/validate.js";
import { countWrites, type WriteOutcome } from "../common/write-result.type.js";
import type { TargetInput } from "./targets.input.js";

const ownerOf = (r: TargetInput) =>
  r.branchCode != null && r.managerCode == null ? `unit ${r.branchCode}` : r.managerCode != null && r.branchCode == null ? `manager ${r.managerCode}` : null;

/** Whose targets a write changed: unit and account-manager codes, sorted (none when every row was unchanged). */
export interface TargetsChanged {
  units: string[];
  managers: string[];
}

export async function setTargets(
  db: Db,
  input: readonly TargetInput[],
  maxBatch: number,
  options: WriteOptions = {},
): Promise<WriteOutcome & { targetsChanged: TargetsChanged }> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx, changes) => {
    const [units, managers] = await Promise.all([
      CodeIds.load(tx, "branch", input.flatMap((r) => (r.branchCode ? [r.branchCode] : []))),
      CodeIds.load(tx, "account_manager", input.flatMap((r) => (r.managerCode ? [r.managerCode] : []))),
    ]);
    const { rows, rejected } = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        if ((row.branchCode == null) === (row.managerCode == null)) {
          issues.add(i, row.branchCode == null ? "branchCode" : "managerCode", "give exactly one of branchCode and managerCode");
        }
        if (row.value < 0) issues.add(i, "value", `${row.value} is negative; a target is zero or more`);
        if (row.branchCode != null) units.check(issues, i, "branchCode", row.branchCode);
        if (row.managerCode != null) managers.check(issues, i, "managerCode", row.managerCode);
      });
      checkUnique(issues, rows, "period", (r) => (ownerOf(r) === null ? null : `${ownerOf(r)}|${r.period.code}|${r.metric}`));
    });
    const unitRows = await upsertFor(tx, OWNERS.unit, rows.filter((r) => r.branchCode != null), (r) => r.branchCode!);
    const managerRows = await upsertFor(tx, OWNERS.manager, rows.filter((r) => r.managerCode != null), (r) => r.managerCode!);
    // Only the rows written come back: a target set again to its value changes nothing.
    const codes = (written: { code: string }[]) => [...new Set(written.map((r) => r.code))].sort();
    const targetsChanged = { units: codes(unitRows), managers: codes(managerRows) };
    changes.add({ targets: targetsChanged });
    return { ...countWrites(rows.length, [...unitRows, ...managerRows]), rejected, targetsChanged };
  });
}

/** Where each kind of owner lives; constants, so safe to splice into SQL. */
const OWNERS = {
  unit: { column: Prisma.raw("branch_id"), table: Prisma.raw("branch") },
  manager: { column: Prisma.raw("manager_id"), table: Prisma.raw("account_manager") },
};

async function upsertFor(
  tx: Prisma.TransactionClient,
  owner: (typeof OWNERS)[keyof typeof OWNERS],
  rows: readonly TargetInput[],
  codeOf: (r: TargetInput) => string,
): Promise<{ inserted: boolean; code: string }[]> {
  if (rows.length === 0) return [];
  return tx.$queryRaw<{ inserted: boolean; code: string }[]>`
    INSERT INTO target (${owner.column}, period, metric, value, updated_at)
    SELECT o.id, r.period, r.metric::"Metric", r.value, now()
    FROM unnest(${rows.map(codeOf)}::text[], ${rows.map((r) => r.period.code)}::text[],
                ${rows.map((r) => r.metric)}::text[], ${rows.map((r) => r.value)}::int[]) AS r(code, period, metric, value)
    JOIN ${owner.table} o ON o.code = r.code
    ON CONFLICT (${owner.column}, period, metric) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
      WHERE target.value IS DISTINCT FROM EXCLUDED.value
    RETURNING (xmax = 0) AS inserted, (SELECT o.code FROM ${owner.table} o WHERE o.id = target.${owner.column}) AS code`;
}
