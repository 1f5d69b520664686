/**
 * What the dashboard shows of the assessment plans (issue 14): an account manager's estimated
 * earnings so far, and a unit's team-bonus status, from the statements the API answers
 * (`AccountManager.incentives`, `Branch.incentives`). Pure, like tables.ts; the numbers are the
 * statements' own, never recomputed here.
 */
import type { Lang, UnitStatement } from "./tables.js";

/** A statement as DashboardManager asks it. */
export interface EarningStatement {
  planCode: string;
  basis: string;
  asOf: string;
  status: string;
  total: number;
}


/**
 * A manager's earnings so far: every statement of the period's plans summed (adjustments
 * included), as of the latest statement's date; null without any statement.
 */
export function estimatedEarnings(statements: readonly EarningStatement[] | null | undefined): { total: number; asOf: string; final: boolean; plans: string[] } | null {
  if (!statements || statements.length === 0) return null;
  const fen = statements.reduce((sum, s) => sum + Math.round(s.total * 100), 0);
  const asOf = statements.map((s) => s.asOf).sort().at(-1)!;
  return { total: fen / 100, asOf, final: statements.every((s) => s.basis === "FINAL"), plans: [...new Set(statements.map((s) => s.planCode))] };
}

export interface TeamStatus {
  planCode: string;
  /** TEAM: the unit reached its threshold and its pool is paid through its managers; PENALTY: it fell below. */
  kind: "TEAM" | "PENALTY";
  metric: string;
  /** Yuan: the pool earned (TEAM), or the penalty (negative). */
  amount: number;
  asOf: string;
}

/**
 * A unit's team-bonus status: per plan, its TEAM pool (earned by reaching the plan's threshold)
 * and its PENALTY (below the floor), each netted over its statements: an adjustment on a later
 * statement that takes a pool back cancels it, so a unit that no longer reaches its plan shows
 * no pool. A unit judged by neither (or whose lines net to zero) has no entry: the screen then
 * says it has no team bonus yet.
 */
export function teamStatus(statements: readonly UnitStatement[] | null | undefined): TeamStatus[] {
  const net = new Map<string, TeamStatus & { fen: number }>();
  for (const s of statements ?? []) {
    for (const l of s.lines) {
      if (l.ruleKind !== "TEAM" && l.ruleKind !== "PENALTY") continue;
      const key = `${s.planCode}|${l.ruleKind}|${l.metric}`;
      const entry = net.get(key) ?? { planCode: s.planCode, kind: l.ruleKind, metric: l.metric, amount: 0, asOf: s.asOf, fen: 0 };
      entry.fen += Math.round(l.amount * 100);
      if (s.asOf > entry.asOf) entry.asOf = s.asOf;
      net.set(key, entry);
    }
  }
  return [...net.values()].filter((e) => e.fen !== 0).map(({ fen, ...e }) => ({ ...e, amount: fen / 100 }));
}

export const EARNINGS_TEXT = {
  zh: { estimated: "预计奖励", final: "终算", provisional: "预估", team: "团队奖", reached: "已达标，团队奖池", penalty: "未达底线，扣罚", noTeam: "本期暂无团队奖或扣罚" },
  en: { estimated: "Estimated earnings", final: "final", provisional: "provisional", team: "Team bonus", reached: "threshold reached: team pool", penalty: "below the floor: penalty", noTeam: "no team bonus or penalty this period" },
} as const satisfies Record<Lang, Record<string, string>>;
