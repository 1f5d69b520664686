/**
 * The per-request context's type, and nothing else: features import it (resolvers, guards, the
 * audit plugin) while it imports only types, so it ties no feature to another. It is built by
 * create-context.ts, with the loaders wired in loaders.ts.
 */
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Viewer } from "../domain/access.js";
import type { BusinessDate } from "../domain/dates.js";
import type { AuditStamp } from "../modules/audit/audit.service.js";
import type { Claims } from "../modules/auth/auth.service.js";
import type { ChangeFeed } from "../live/change.js";
import type { CachePolicy } from "./cache-control.js";

/**
 * Each feature's DataLoaders. Declared empty here and filled in by loaders.ts (interface
 * merging), so that this file names no feature and a feature importing it imports no other.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Loaders {}

/** The database, config, the caller, the request's "today" (so every default asOf in one request agrees) and fresh DataLoaders. */
export interface Context {
  readonly db: Db;
  readonly config: Config;
  readonly today: BusinessDate;
  readonly loaders: Loaders;
  /** What the caller's verified token says (null: anonymous). */
  readonly claims: Claims | null;
  /** The caller placed in the org tree; loaded once, on first use. */
  viewer(): Promise<Viewer>;
  /** What HTTP caches may do with this response (see src/graphql/cache-control.ts). */
  readonly cache: CachePolicy;
  /** Where writes publish what they changed, and where subscriptions hear it (src/live). */
  readonly feed: ChangeFeed;
  /** The audit stamp of each mutation root field that ran, by response key (the audit plugin's). */
  readonly auditStamps: Map<string, AuditStamp>;
}
