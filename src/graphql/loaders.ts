/** Each request's DataLoaders, one set per feature; the only place that knows every feature's loaders. */
import type { Db } from "../db/database.js";
import type { Viewer } from "../domain/access.js";
import { createCampaignLoaders } from "../modules/campaigns/campaigns.loader.js";
import { createIncentiveLoaders } from "../modules/incentives/incentives.loader.js";
import { createMerchantLoaders } from "../modules/merchants/merchants.loader.js";
import { createOrgLoaders } from "../modules/org/org.loader.js";
import { createPerformanceLoaders } from "../modules/performance/performance.loader.js";
import { createResultsLoader } from "../modules/results/results.loader.js";

export function createLoaders(db: Db, viewer: () => Promise<Viewer>) {
  const org = createOrgLoaders(db);
  return {
    org,
    performance: createPerformanceLoaders(db, org),
    merchants: createMerchantLoaders(db, viewer),
    campaigns: createCampaignLoaders(db),
    results: createResultsLoader(db),
    incentives: createIncentiveLoaders(db),
  };
}

type FeatureLoaders = ReturnType<typeof createLoaders>;

declare module "./context.js" {
  // The context's `loaders` are exactly what createLoaders builds.
  interface Loaders extends FeatureLoaders {}
}
