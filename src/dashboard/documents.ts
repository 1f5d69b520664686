/**
 * The dashboard page's GraphQL documents (src/http/dashboard.ts serves the page, web/ holds its
 * sources). They are trusted documents (src/graphql/trusted-documents.ts): the page sends only
 * their hashes, so what it can ask is fixed here and reviewed with the code. A screen costs two
 * requests whatever the number of units: the unit (with its children ranked), then what needs
 * its parent's code (the peers ranked) and its staff, campaigns and circles. The day before
 * (`$previous`) is asked in the same request, for each unit's change of rank.
 */

/** A unit's or a manager's own figures: the tiles, the rank and the daily series. */
const PERFORMANCE = `performance(period: $period, asOf: $asOf) {
      period
      asOf
      timeProgress
      metrics { metric actual target completionRate }
      rank(metric: $metric)
      series(metric: $metric, granularity: DAY) { start cumulative }
    }`;

export const DASHBOARD_UNIT = `query DashboardUnit($code: String!, $period: Period!, $asOf: Date!, $previous: Date!, $metric: Metric!) {
  branch(code: $code) {
    code
    name
    level
    parent { code name parent { code name parent { code name } } }
    ${PERFORMANCE}
  }
  children: branchRanking(parentCode: $code, period: $period, metric: $metric, asOf: $asOf) {
    rank actual target completionRate
    branch { code name }
  }
  childrenBefore: branchRanking(parentCode: $code, period: $period, metric: $metric, asOf: $previous) {
    rank
    branch { code }
  }
}`;

export const DASHBOARD_DETAILS = `query DashboardDetails($code: String!, $parent: String!, $hasParent: Boolean!, $period: Period!, $asOf: Date!, $previous: Date!, $metric: Metric!) {
  peers: branchRanking(parentCode: $parent, period: $period, metric: $metric, asOf: $asOf) @include(if: $hasParent) {
    rank actual target completionRate
    branch { code name }
  }
  peersBefore: branchRanking(parentCode: $parent, period: $period, metric: $metric, asOf: $previous) @include(if: $hasParent) {
    rank
    branch { code }
  }
  managers: accountManagerRanking(branchCode: $code, period: $period, metric: $metric, asOf: $asOf, first: 50) {
    rank actual target completionRate
    manager { code name branch { code name } }
  }
  campaigns(branchCode: $code, first: 50) {
    totalCount
    edges { node {
      code name status budget spent startsOn endsOn
      results(period: $period, asOf: $asOf) { applications approvals newCustomers activations redemptions spentSoFar budgetUsed }
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
