/** Builds each request's context (its type is context.ts). */
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Viewer } from "../domain/access.js";
import { todayIn, type BusinessDate } from "../domain/dates.js";
import { NO_FEED, type ChangeFeed } from "../live/change.js";
import { loadViewer, type Claims } from "../modules/auth/auth.service.js";
import { CachePolicy } from "./cache-control.js";
import type { Context } from "./context.js";
import { createLoaders } from "./loaders.js";

export function createContext(db: Db, config: Config, claims: Claims | null, feed: ChangeFeed = NO_FEED, now: Date = new Date()): Context {
  let today: BusinessDate | undefined;
  let viewer: Promise<Viewer> | undefined;
  const getViewer = () => (viewer ??= loadViewer(db, claims));
  return {
    db,
    config,
    claims,
    feed,
    viewer: getViewer,
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
