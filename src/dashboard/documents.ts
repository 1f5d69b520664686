/**
 * The dashboard page's GraphQL documents (src/http/dashboard.ts serves the page, web/ holds its
 * sources). They are trusted documents (src/graphql/trusted-documents.ts): the page sends only
 * their hashes, so what it can ask is fixed here and reviewed with the code. A screen costs two
 * requests whatever the number of units: the unit (with its children ranked), then what needs
 * its parent's code (the peers ranked) and its staff, campaigns and circles. The day before
 * (`$previous`) is asked in the same request, for each unit's change of rank.
 */

/** A unit's or a manager's own figures: the tiles, the rank and the daily series. */
const FIGURES = `{
      period
      asOf
      timeProgress
      metrics { metric actual target completionRate }
      rank(metric: $metric)
      series(metric: $metric, granularity: DAY) { start cumulative }
    }`;
const PERFORMANCE = `performance(period: $period, asOf: $asOf) ${FIGURES}`;

/** A unit's standing in a ranking, and the same on the day before (for the change of rank). */
const STANDING = `rank actual target completionRate
    branch { code name }`;
const STANDING_BEFORE = `rank
    branch { code }`;

/** A campaign's row: its budget and what it brought in. */
const CAMPAIGN = `code name status budget spent startsOn endsOn
      results(period: $period, asOf: $asOf) { applications approvals newCustomers activations redemptions spentSoFar budgetUsed }`;

export const DASHBOARD_UNIT = `query DashboardUnit($code: String!, $period: Period!, $asOf: Date!, $previous: Date!, $metric: Metric!) {
  branch(code: $code) {
    code
    name
    level
    parent { code name parent { code name parent { code name } } }
    ${PERFORMANCE}
    incentives(period: $period) { planCode basis asOf lines { ruleKind metric quantity amount } }
  }
  children: branchRanking(parentCode: $code, period: $period, metric: $metric, asOf: $asOf) {
    ${STANDING}
  }
  childrenBefore: branchRanking(parentCode: $code, period: $period, metric: $metric, asOf: $previous) {
    ${STANDING_BEFORE}
  }
}`;

export const DASHBOARD_DETAILS = `query DashboardDetails($code: String!, $parent: String!, $hasParent: Boolean!, $period: Period!, $asOf: Date!, $previous: Date!, $metric: Metric!) {
  peers: branchRanking(parentCode: $parent, period: $period, metric: $metric, asOf: $asOf) @include(if: $hasParent) {
    ${STANDING}
  }
  peersBefore: branchRanking(parentCode: $parent, period: $period, metric: $metric, asOf: $previous) @include(if: $hasParent) {
    ${STANDING_BEFORE}
  }
  managers: accountManagerRanking(branchCode: $code, period: $period, metric: $metric, asOf: $asOf, first: 50) {
    rank actual target completionRate
    manager { code name branch { code name } }
  }
  campaigns(branchCode: $code, first: 50) {
    totalCount
    edges { node {
      ${CAMPAIGN}
    } }
  }
  businessCircles(branchCode: $code, first: 50) {
    totalCount
    edges { node {
      code name kind merchantCount
      results(period: $period, asOf: $asOf) { visits merchantsSigned applications newCustomers activations redemptions }
    } }
  }
}`;

/** An account manager's own page: their figures and the manager ranking of their unit. */
export const DASHBOARD_MANAGER = `query DashboardManager($code: String!, $unit: String!, $period: Period!, $asOf: Date!, $metric: Metric!) {
  accountManager(code: $code) {
    code
    name
    branch { code name }
    ${PERFORMANCE}
    incentives(period: $period) { planCode basis asOf status total }
  }
  managers: accountManagerRanking(branchCode: $unit, period: $period, metric: $metric, asOf: $asOf, first: 50) {
    rank actual target completionRate
    manager { code name branch { code name } }
  }
}`;

/** HQ's starting point: the top of the org tree. */
export const DASHBOARD_ROOTS = `query DashboardRoots {
  branches(level: PROVINCE, first: 20) { edges { node { code name } } }
}`;

/** A page of an assessment plan's statements, for its payroll export (src/dashboard/payroll.ts). */
export const DASHBOARD_PAYROLL = `query DashboardPayroll($plan: String!, $after: String) {
  plan(code: $plan) {
    code name period status
    statements(first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { recipientKind recipientCode recipientName unit { code name } planVersion sequence basis asOf status total } }
    }
  }
}`;

export const DASHBOARD_DOCUMENTS = {
  DashboardUnit: DASHBOARD_UNIT,
  DashboardDetails: DASHBOARD_DETAILS,
  DashboardManager: DASHBOARD_MANAGER,
  DashboardRoots: DASHBOARD_ROOTS,
  DashboardPayroll: DASHBOARD_PAYROLL,
} as const;
export type DashboardOperation = keyof typeof DASHBOARD_DOCUMENTS;

/**
 * The page's live documents (graphql-ws on /graphql, sent by hash like the queries): each
 * selects what the query it keeps current selects, for the same as-of date, so an event
 * replaces that part of the answer as it stands. A unit's screen follows its figures, its
 * children's and its peers' standings (on the as-of date and the day before) and its running
 * campaigns, at most LIVE_CAMPAIGNS of them: a bounded number of subscriptions per screen.
 */
export const DASHBOARD_FIGURES_LIVE = `subscription DashboardFiguresLive($code: String!, $period: Period!, $asOf: Date!, $metric: Metric!) {
  figuresChanged(branchCode: $code, period: $period, asOf: $asOf) ${FIGURES}
}`;

export const DASHBOARD_RANKING_LIVE = `subscription DashboardRankingLive($parent: String!, $period: Period!, $asOf: Date!, $metric: Metric!) {
  rankingChanged(parentCode: $parent, period: $period, metric: $metric, asOf: $asOf) {
    ${STANDING}
  }
}`;

export const DASHBOARD_CAMPAIGN_LIVE = `subscription DashboardCampaignLive($code: String!, $period: Period!, $asOf: Date!) {
  campaignChanged(code: $code) {
    ${CAMPAIGN}
  }
}`;

/** The most campaigns a screen follows live (the running ones first): with the figures and four rankings, within a caller's LIVE_MAX_SUBSCRIPTIONS_PER_CALLER default of 20. */
export const LIVE_CAMPAIGNS = 8;

export const DASHBOARD_SUBSCRIPTIONS = {
  DashboardFiguresLive: DASHBOARD_FIGURES_LIVE,
  DashboardRankingLive: DASHBOARD_RANKING_LIVE,
  DashboardCampaignLive: DASHBOARD_CAMPAIGN_LIVE,
} as const;
export type DashboardSubscription = keyof typeof DASHBOARD_SUBSCRIPTIONS;
