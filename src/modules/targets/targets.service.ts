/** Plan figures: one per (unit or manager, period, metric); setting one again overwrites it. */
import type { Db } from "../../db/database.js";
import { checkBatchSize, checkUnique, inTransaction, screen, type WriteOptions } from "../common/validate.js";
import { countWrites, type WriteOutcome } from "../common/write-result.type.js";
import type { TargetInput } from "./targets.input.js";

const ownerOf = (r: TargetInput) =>
  r.branchCode != null && r.managerCode == null ? `unit ${r.branchCode}` : r.managerCode != null && r.branchCode == null ? `manager ${r.managerCode}` : null;

export async function setTargets(db: Db, input: readonly TargetInput[], maxBatch: number, options: WriteOptions = {}): Promise<WriteOutcome> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx) => {
    const [units, managers] = await Promise.all([
      tx.branch.findMany({ where: { code: { in: input.flatMap((r) => (r.branchCode ? [r.branchCode] : [])) } }, select: { code: true } }),
      tx.accountManager.findMany({ where: { code: { in: input.flatMap((r) => (r.managerCode ? [r.managerCode] : [])) } }, select: { code: true } }),
    ]);
    const unitCodes = new Set(units.map((u) => u.code));
    const managerCodes = new Set(managers.map((m) => m.code));
    const { rows, rejected } = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        if ((row.branchCode == null) === (row.managerCode == null)) {
          issues.add(i, row.branchCode == null ? "branchCode" : "managerCode", "give exactly one of branchCode and managerCode");
        }
        if (row.value < 0) issues.add(i, "value", `${row.value} is negative; a target is zero or more`);
        if (row.branchCode != null && !unitCodes.has(row.branchCode)) issues.add(i, "branchCode", `unknown unit "${row.branchCode}"`);
        if (row.managerCode != null && !managerCodes.has(row.managerCode)) issues.add(i, "managerCode", `unknown account manager "${row.managerCode}"`);
      });
      checkUnique(issues, rows, "period", (r) => (ownerOf(r) === null ? null : `${ownerOf(r)}|${r.period.code}|${r.metric}`));
    });
    const forUnits = rows.filter((r) => r.branchCode != null);
    const forManagers = rows.filter((r) => r.managerCode != null);
    const returned: { inserted: boolean }[] = [];
    if (forUnits.length > 0) {
      returned.push(
        ...(await tx.$queryRaw<{ inserted: boolean }[]>`
          INSERT INTO target (branch_id, period, metric, value, updated_at)
          SELECT b.id, r.period, r.metric::"Metric", r.value, now()
          FROM unnest(${forUnits.map((r) => r.branchCode!)}::text[], ${forUnits.map((r) => r.period.code)}::text[],
                      ${forUnits.map((r) => r.metric)}::text[], ${forUnits.map((r) => r.value)}::int[]) AS r(code, period, metric, value)
          JOIN branch b ON b.code = r.code
          ON CONFLICT (branch_id, period, metric) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
            WHERE target.value IS DISTINCT FROM EXCLUDED.value
          RETURNING (xmax = 0) AS inserted`),
      );
    }
    if (forManagers.length > 0) {
      returned.push(
        ...(await tx.$queryRaw<{ inserted: boolean }[]>`
          INSERT INTO target (manager_id, period, metric, value, updated_at)
          SELECT m.id, r.period, r.metric::"Metric", r.value, now()
          FROM unnest(${forManagers.map((r) => r.managerCode!)}::text[], ${forManagers.map((r) => r.period.code)}::text[],
                      ${forManagers.map((r) => r.metric)}::text[], ${forManagers.map((r) => r.value)}::int[]) AS r(code, period, metric, value)
          JOIN account_manager m ON m.code = r.code
          ON CONFLICT (manager_id, period, metric) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
            WHERE target.value IS DISTINCT FROM EXCLUDED.value
          RETURNING (xmax = 0) AS inserted`),
      );
    }
    return { ...countWrites(rows.length, returned), rejected };
  });
}
