/**
 * Per-request loader of campaign and circle results: every results field of a request that
 * asks for the same kind of owner and the same window is answered by one resultsOf call.
 */
import DataLoader from "dataloader";
import type { Db } from "../../db/database.js";
import { groupBy } from "../common/group-by.js";
import type { BusinessDate } from "../../domain/dates.js";
import type { Period } from "../../domain/period.js";
import type { ResultOwner } from "../../figures/reads.js";
import { resultsOf } from "./results.service.js";
import type { AttributedResults } from "./results.type.js";

export interface ResultsKey {
  owner: ResultOwner;
  id: number;
  period: Period;
  asOf: BusinessDate;
}

export function createResultsLoader(db: Db) {
  return new DataLoader<ResultsKey, AttributedResults, string>(
    async (keys) => {
      const groups = groupBy(keys, (k) => `${k.owner}|${k.period}|${k.asOf}`);
      const answers = new Map<string, AttributedResults>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const { owner, period, asOf } = group[0];
          const found = await resultsOf(db, owner, [...new Set(group.map((k) => k.id))], period, asOf);
          for (const k of group) answers.set(keyOf(k), found.get(k.id)!);
        }),
      );
      return keys.map((k) => answers.get(keyOf(k))!);
    },
    { cacheKeyFn: keyOf },
  );
}

function keyOf(k: ResultsKey): string {
  return `${k.owner}|${k.id}|${k.period}|${k.asOf}`;
}
