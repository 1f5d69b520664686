/**
 * The two dashboard reads the bench measures, as our API is asked them: one home for the
 * documents, so the main run (bench/run.ts) and the side-by-side with the peer (bench/peer.ts)
 * measure the very same requests.
 */
import { loadConfig } from "../src/config.js";
import { signToken } from "../src/modules/auth/auth.service.js";
import { BENCH_JWT_SECRET } from "./capture.js";
import { PERIOD, PROVINCE_CODE } from "./synthetic.js";

/** A token the bench's servers accept (they run with BENCH_JWT_SECRET), for a caller of `role`. */
export async function benchToken(role: "HQ" | "INGEST"): Promise<string> {
  const config = loadConfig({ NODE_ENV: "production", JWT_SECRET: BENCH_JWT_SECRET });
  return signToken(config, { sub: role === "HQ" ? "bench" : `bench-${role.toLowerCase()}`, role });
}

/** HQ reads every figure; its token costs the server no extra statement (the pg-direct replay has none either). */
export async function hqHeaders(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await benchToken("HQ")}` };
}

/** The as-of date of every figure the bench reads (the story's end of February). */
export const AS_OF = "2021-02-28";

/** The province's city branches ranked by NEW_CUSTOMERS. */
export const RANKING_NAME = `branchRanking(${PROVINCE_CODE})`;
export const RANKING_DOCUMENT = `query BranchRanking {
  branchRanking(parentCode: "${PROVINCE_CODE}", period: "${PERIOD}", metric: NEW_CUSTOMERS, asOf: "${AS_OF}") {
    rank actual target completionRate
    branch { code name }
  }
}`;

/** One unit's figures: every metric, its rank among its peers, the weekly series. */
export const performanceName = (branch: string) => `performance(${branch})`;
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
