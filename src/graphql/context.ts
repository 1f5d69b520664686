/**
 * The per-request context: the database, config, the request's "today" (so every default asOf
 * in one request agrees) and fresh DataLoaders.
 */
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import { todayIn, type BusinessDate } from "../domain/dates.js";
import { CachePolicy } from "./cache-control.js";
import { createCampaignLoaders } from "../modules/campaigns/campaigns.loader.js";
import { createMerchantLoaders } from "../modules/merchants/merchants.loader.js";
import { createOrgLoaders } from "../modules/org/org.loader.js";
import { createPerformanceLoaders } from "../modules/performance/performance.loader.js";

export interface Context {
  readonly db: Db;
  readonly config: Config;
  readonly today: BusinessDate;
  readonly loaders: ReturnType<typeof createLoaders>;
  /** What HTTP caches may do with this response (see src/graphql/cache-control.ts). */
  readonly cache: CachePolicy;
}

function createLoaders(db: Db) {
  const org = createOrgLoaders(db);
  return { org, performance: createPerformanceLoaders(db, org), merchants: createMerchantLoaders(db), campaigns: createCampaignLoaders(db) };
}

export function createContext(db: Db, config: Config, now: Date = new Date()): Context {
  let today: BusinessDate | undefined;
  return {
    db,
    config,
    // Computed on first use: most dashboard requests name their asOf, and time-zone maths
    // showed up in the per-request CPU profile.
    get today() {
      return (today ??= todayIn(config.BANK_TIME_ZONE, now));
    },
    loaders: createLoaders(db),
    cache: new CachePolicy(),
  };
}
