/**
 * What a unit's screen follows live, and how each event updates the answers the screen was
 * built from (src/dashboard/documents.ts DASHBOARD_SUBSCRIPTIONS). Each subscription selects
 * what part of DashboardUnit or DashboardDetails selects, for the same dates, so an event
 * replaces that part and the tables (tables.ts) are built again from the answers as they
 * stand. Pure: no I/O, runs in the page.
 */
import { LIVE_CAMPAIGNS, type DashboardSubscription } from "./documents.js";
import type { DetailsData, PerformanceData, Standing, UnitData } from "./tables.js";

/** The answers a unit's screen is built from. */
export interface UnitAnswers {
  readonly unit: UnitData;
  readonly details: DetailsData | null;
}

export interface ScreenQuery {
  readonly period: string;
  readonly asOf: string;
  readonly previous: string;
  readonly metric: string;
}

type Campaign = NonNullable<DetailsData["campaigns"]>["edges"][number]["node"];

/** One subscription of a screen: its document, its variables, and what its event replaces. */
export interface LiveFollow {
  /** Stable within a screen: which part of the answers it keeps current. */
  readonly key: string;
  readonly document: DashboardSubscription;
  readonly variables: Readonly<Record<string, string>>;
  readonly apply: (answers: UnitAnswers, data: Record<string, unknown>) => UnitAnswers;
}

const RUNNING = new Set(["ACTIVE", "PAUSED"]);

/**
 * The subscriptions of a unit's screen: its figures, the children's and the peers' standings on
 * the as-of date and the day before, and up to LIVE_CAMPAIGNS campaigns (running ones first). Only what the screen could read: a part the API refused is not followed.
 */
export function liveFollows(answers: UnitAnswers, q: ScreenQuery): LiveFollow[] {
  const branch = answers.unit.branch;
  if (!branch) return [];
  const { period, asOf, previous, metric } = q;
  const follows: LiveFollow[] = [
    {
      key: "figures",
      document: "DashboardFiguresLive",
      variables: { code: branch.code, period, asOf, metric },
      apply: (a, data) => (a.unit.branch ? { ...a, unit: { ...a.unit, branch: { ...a.unit.branch, performance: data.figuresChanged as PerformanceData } } } : a),
    },
  ];
  const ranking = (key: string, parent: string, day: string, apply: (a: UnitAnswers, standings: Standing[]) => UnitAnswers): LiveFollow => ({
    key,
    document: "DashboardRankingLive",
    variables: { parent, period, asOf: day, metric },
    apply: (a, data) => apply(a, data.rankingChanged as Standing[]),
  });
  if (answers.unit.children) {
    follows.push(ranking("children", branch.code, asOf, (a, children) => ({ ...a, unit: { ...a.unit, children } })));
    follows.push(ranking("childrenBefore", branch.code, previous, (a, childrenBefore) => ({ ...a, unit: { ...a.unit, childrenBefore } })));
  }
  const details = answers.details;
  if (branch.parent && details?.peers) {
    follows.push(ranking("peers", branch.parent.code, asOf, (a, peers) => (a.details ? { ...a, details: { ...a.details, peers } } : a)));
    follows.push(ranking("peersBefore", branch.parent.code, previous, (a, peersBefore) => (a.details ? { ...a, details: { ...a.details, peersBefore } } : a)));
  }
  // Running ones first: they spend; an ended one's results move only with late records.
  const campaigns = (details?.campaigns?.edges ?? []).map((e) => e.node).sort((a, b) => Number(RUNNING.has(b.status)) - Number(RUNNING.has(a.status)));
  for (const c of campaigns.slice(0, LIVE_CAMPAIGNS)) {
    follows.push({
      key: `campaign:${c.code}`,
      document: "DashboardCampaignLive",
      variables: { code: c.code, period, asOf },
      apply: (a, data) => {
        const next = data.campaignChanged as Campaign;
        const campaigns = a.details?.campaigns;
        if (!a.details || !campaigns) return a;
        return { ...a, details: { ...a.details, campaigns: { ...campaigns, edges: campaigns.edges.map((e) => (e.node.code === next.code ? { node: next } : e)) } } };
      },
    });
  }
  return follows;
}
