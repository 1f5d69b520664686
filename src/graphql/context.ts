/**
 * The per-request context: the database, config, the caller, the request's "today" (so every
 * default asOf in one request agrees) and fresh DataLoaders.
 */
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Viewer } from "../domain/access.js";
import { todayIn, type BusinessDate } from "../domain/dates.js";
import type { AuditStamp } from "../modules/audit/audit.service.js";
import { loadViewer, type Claims } from "../modules/auth/auth.service.js";
import { CachePolicy } from "./cache-control.js";
import { createCampaignLoaders } from "../modules/campaigns/campaigns.loader.js";
import { createMerchantLoaders } from "../modules/merchants/merchants.loader.js";
import { createOrgLoaders } from "../modules/org/org.loader.js";
import { createPerformanceLoaders } from "../modules/performance/performance.loader.js";
import { createResultsLoader } from "../modules/results/results.loader.js";

export interface Context {
  readonly db: Db;
  readonly config: Config;
  readonly today: BusinessDate;
  readonly loaders: ReturnType<typeof createLoaders>;
  /** What the caller's verified token says (null: anonymous). */
  readonly claims: Claims | null;
  /** The caller placed in the org tree; loaded once, on first use. */
  viewer(): Promise<Viewer>;
  /** Staff objects a ranking the viewer may read has published to them (their names are then visible). */
  readonly published: WeakSet<object>;
  /** What HTTP caches may do with this response (see src/graphql/cache-control.ts). */
  readonly cache: CachePolicy;
  /** The audit stamp of each mutation root field that ran, by response key (the audit plugin's). */
  readonly auditStamps: Map<string, AuditStamp>;
}

function createLoaders(db: Db, viewer: () => Promise<Viewer>) {
  const org = createOrgLoaders(db);
  return {
    org,
    performance: createPerformanceLoaders(db, org),
    merchants: createMerchantLoaders(db, viewer),
    campaigns: createCampaignLoaders(db),
    results: createResultsLoader(db),
  };
}

export function createContext(db: Db, config: Config, claims: Claims | null, now: Date = new Date()): Context {
  let today: BusinessDate | undefined;
  let viewer: Promise<Viewer> | undefined;
  const getViewer = () => (viewer ??= loadViewer(db, claims));
  return {
    db,
    config,
    claims,
    viewer: getViewer,
    published: new WeakSet(),
    // Computed on first use: most dashboard requests name their asOf, and time-zone maths
    // showed up in the per-request CPU profile.
    get today() {
      return (today ??= todayIn(config.BANK_TIME_ZONE, now));
    },
    loaders: createLoaders(db, getViewer),
    cache: new CachePolicy(),
    auditStamps: new Map(),
  };
}
