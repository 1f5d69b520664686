/**
 * The payroll export of an assessment plan: one row per statement, the amount to pay, built
 * from the answers to DashboardPayroll (src/dashboard/documents.ts) page by page. Pure, like
 * tables.ts, whose formatting, CSV and XLSX it shares.
 */
import { col, type Lang, type Table } from "./tables.js";

/** One statement as DashboardPayroll asks it. */
export interface PayrollStatement {
  recipientKind: "MANAGER" | "UNIT";
  recipientCode: string;
  recipientName: string;
  unit: { code: string; name: string };
  planVersion: number;
  sequence: number;
  basis: string;
  asOf: string;
  status: string;
  total: number;
}

export interface PayrollPage {
  plan: {
    code: string;
    name: string;
    period: string;
    status: string;
    statements: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: PayrollStatement }[] } | null;
  } | null;
}

/**
 * The statements of a plan, by unit, then the unit's own statement before its managers', then
 * recipient and sequence: what a payroll clerk reads down. Each total is what the statement pays
 * (a unit's TEAM pool is paid through its managers' shares, so it is not in the unit's total).
 */
export function payrollTable(statements: readonly PayrollStatement[]): Table {
  const rows = [...statements].sort(
    (a, b) =>
      a.unit.code.localeCompare(b.unit.code) ||
      (a.recipientKind === b.recipientKind ? 0 : a.recipientKind === "UNIT" ? -1 : 1) ||
      a.recipientCode.localeCompare(b.recipientCode) ||
      a.sequence - b.sequence,
  );
  return {
    id: "payroll",
    columns: [
      col("unitCode", "机构代码", "Unit code", "text"),
      col("unitName", "机构", "Unit", "text"),
      col("recipientCode", "收款人代码", "Recipient code", "text"),
      col("recipientName", "收款人", "Recipient", "text"),
      col("sequence", "结算单序号", "Statement no.", "rank"),
      col("basis", "口径", "Basis", "text"),
      col("asOf", "截至", "As of", "text"),
      col("status", "状态", "Status", "text"),
      col("total", "金额(元)", "Amount (yuan)", "money"),
    ],
    rows: rows.map((s) => ({
      unitCode: s.unit.code,
      unitName: s.unit.name,
      recipientCode: s.recipientCode,
      recipientName: s.recipientName,
      sequence: s.sequence,
      basis: s.basis,
      asOf: s.asOf,
      status: s.status,
      total: s.total,
    })),
  };
}

/** The payroll file's title: the plan, its period and status. */
export function payrollTitle(plan: { code: string; name: string; period: string; status: string }, lang: Lang): string {
  return lang === "zh" ? `${plan.name} · 奖励发放明细 · ${plan.period} · 方案状态 ${plan.status}` : `${plan.name} · Payroll · ${plan.period} · plan ${plan.status}`;
}
