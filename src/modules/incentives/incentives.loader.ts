/** Per-request loaders for statements: a page of managers or units costs one statement query. */
import DataLoader from "dataloader";
import type { Db } from "../../db/database.js";
import type { IncentiveStatement } from "./incentives.type.js";
import { statementsOf, type RecipientKey } from "./statements.service.js";

export function createIncentiveLoaders(db: Db) {
  return {
    statements: new DataLoader<RecipientKey, IncentiveStatement[], string>((keys) => statementsOf(db, keys), {
      cacheKeyFn: (k) => `${k.kind}:${k.id}:${k.period}`,
    }),
  };
}
