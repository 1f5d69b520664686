/**
 * The dashboard's two headline reads as the benches send them (bench/run.ts, bench/cache.ts):
 * the province's ranking and one unit's figures, over the synthetic bank's period.
 */
import { PERIOD, PROVINCE_CODE } from "./synthetic.js";

export const AS_OF = "2021-02-28";

/** The province's cities ranked by new customers. */
export const RANKING_DOCUMENT = `query BranchRanking {
  branchRanking(parentCode: "${PROVINCE_CODE}", period: "${PERIOD}", metric: NEW_CUSTOMERS, asOf: "${AS_OF}") {
    rank actual target completionRate
    branch { code name }
  }
}`;

/** One unit's screen: every metric, its rank among its siblings, a weekly series. */
export function performanceDocument(branch: string): string {
  return `query BranchPerformance {
  branch(code: "${branch}") {
    code
    performance(period: "${PERIOD}", asOf: "${AS_OF}") {
      timeProgress
      metrics { metric actual target completionRate }
      rank(metric: NEW_CUSTOMERS)
      series(metric: NEW_CUSTOMERS, granularity: WEEK) { start end actual cumulative }
    }
  }
}`;
}
