/**
 * Which moves of a unit's figures are milestones a chat group hears of, and the text the
 * group's bot shows (milestones and the daily report). Pure: the figures come in from the
 * performance services (the API's own), the state from the database.
 *
 * A milestone is a transition, judged against what the group last saw for that period and
 * metric: the unit reaches 100 % of its target; it falls behind time progress by more than the
 * group's margin; its rank among its peers changes. Each is announced once when it happens, and
 * again only after it was undone (a raised target, a recovered pace).
 */

export const MILESTONE_KINDS = ["TARGET_REACHED", "BEHIND_PACE", "RANK_CHANGED"] as const;
export type MilestoneKind = (typeof MILESTONE_KINDS)[number];

/** What a group last saw of one unit, period and metric. */
export interface MilestoneState {
  readonly reached: boolean;
  readonly behind: boolean;
  /** Rank among the parent's children; null at the root or before anything was seen. */
  readonly rank: number | null;
}

/** A period's first look: nothing reached, not behind, no rank to compare with. */
export const PERIOD_START: MilestoneState = { reached: false, behind: false, rank: null };

/** One metric's figures as the API shows them (Performance, MetricProgress, rank). */
export interface Observation {
  readonly actual: number;
  readonly target: number | null;
  readonly completionRate: number | null;
  readonly timeProgress: number;
  readonly rank: number | null;
}

export type Milestone =
  | { readonly kind: "TARGET_REACHED" }
  | { readonly kind: "BEHIND_PACE" }
  | { readonly kind: "RANK_CHANGED"; readonly from: number; readonly to: number };

/**
 * The state an observation puts a unit in. Without a target (or a zero one) there is no
 * completion, so nothing is reached and nobody is behind; behind means completion below time
 * progress by more than `behindMargin` (0.05: five points).
 */
export function stateOf(o: Observation, behindMargin: number): MilestoneState {
  const rate = o.completionRate;
  return {
    reached: rate !== null && rate >= 1,
    behind: rate !== null && o.timeProgress - rate > behindMargin,
    rank: o.rank,
  };
}

/**
 * The milestones between what a group last saw (`previous`, null for a period it has not seen:
 * PERIOD_START) and now, among the kinds it asked for. A rank change needs a rank seen before:
 * the first rank is a baseline, not news.
 */
export function milestonesBetween(previous: MilestoneState | null, current: MilestoneState, watched: readonly MilestoneKind[]): Milestone[] {
  const before = previous ?? PERIOD_START;
  const found: Milestone[] = [];
  if (!before.reached && current.reached) found.push({ kind: "TARGET_REACHED" });
  if (!before.behind && current.behind) found.push({ kind: "BEHIND_PACE" });
  if (before.rank !== null && current.rank !== null && before.rank !== current.rank) found.push({ kind: "RANK_CHANGED", from: before.rank, to: current.rank });
  return found.filter((m) => watched.includes(m.kind));
}

/** True when two states differ (the stored one must then be replaced). */
export function stateChanged(a: MilestoneState | null, b: MilestoneState): boolean {
  return a === null || a.reached !== b.reached || a.behind !== b.behind || a.rank !== b.rank;
}

// ---- Text ----------------------------------------------------------------------------------

/** How the groups read each metric: the bank's word, then the API's name. */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  APPLICATIONS: "进件 applications",
  APPROVALS: "核卡 approvals",
  NEW_CUSTOMERS: "新客户 new customers",
  ACTIVATIONS: "激活 activations",
};

const label = (metric: string) => METRIC_LABELS[metric] ?? metric;

/** A rate as managers read it: 1.3287 → "132.87 %"; no rate → "—". */
export function percent(rate: number | null): string {
  return rate === null ? "—" : `${(rate * 100).toFixed(2)} %`;
}

export interface UnitRef {
  readonly code: string;
  readonly name: string;
}

/** The markdown a group bot shows for one milestone. */
export function milestoneText(unit: UnitRef, period: string, metric: string, m: Milestone, o: Observation): string {
  const figures = `${o.actual} / ${o.target ?? "—"} (${percent(o.completionRate)}), time progress ${percent(o.timeProgress)}`;
  const head = `**${unit.name}** (${unit.code}) · ${period} · ${label(metric)}`;
  switch (m.kind) {
    case "TARGET_REACHED":
      return `${head}\n🎯 Reached 100 % of the target: ${figures}`;
    case "BEHIND_PACE":
      return `${head}\n⚠️ Behind time progress: ${figures}`;
    case "RANK_CHANGED":
      return `${head}\n${m.to < m.from ? "⬆️" : "⬇️"} Rank ${m.from} → ${m.to} among its peers: ${figures}`;
  }
}

/** One child unit's line of the daily report. */
export interface ReportRow extends UnitRef {
  readonly actual: number;
  readonly target: number | null;
  readonly completionRate: number | null;
  /** What the day itself added. */
  readonly gain: number;
  readonly rank: number | null;
}

export interface ReportSection {
  readonly metric: string;
  /** In rank order. */
  readonly rows: readonly ReportRow[];
}

/**
 * The daily report's markdown: for each metric, each child unit's actual, target, completion,
 * the day's gain and its rank, under the period's time progress.
 */
export function dailyReportText(unit: UnitRef, day: string, period: string, timeProgress: number, sections: readonly ReportSection[]): string {
  const lines = [`**${unit.name} daily report** ${day}`, `${period} · time progress ${percent(timeProgress)}`];
  for (const s of sections) {
    lines.push("", `**${label(s.metric)}**`);
    if (s.rows.length === 0) lines.push("> no units below");
    for (const r of s.rows) {
      const rank = r.rank === null ? "" : `#${r.rank} `;
      lines.push(`> ${rank}${r.name} (${r.code}): ${r.actual} / ${r.target ?? "—"} · ${percent(r.completionRate)} · +${r.gain} today`);
    }
  }
  return lines.join("\n");
}

/** The JSON body the bank's work-chat group bots take (WeCom's markdown message). */
export function groupBotMessage(content: string): { msgtype: "markdown"; markdown: { content: string } } {
  return { msgtype: "markdown", markdown: { content } };
}
