/**
 * PostgreSQL streaming replicas that answer reads (DATABASE_REPLICA_URLS), and the two facts that
 * decide whether one may answer a given caller now:
 *
 * - its replay lag, measured every REPLICA_CHECK_INTERVAL_MS by comparing WAL positions: the
 *   primary's `pg_current_wal_lsn()` is noted with the time it was seen, the replica's
 *   `pg_last_wal_replay_lsn()` then says which of those moments it has caught up with. Comparing
 *   positions, not `now() - pg_last_xact_replay_timestamp()`, keeps an idle primary from looking
 *   like a lagging replica, and a replica whose WAL stream broke from looking current;
 * - the caller's own last write: after a mutation its WAL position (`pg_current_wal_lsn()` after
 *   the commit) is kept per caller, in Redis with REDIS_URL so every instance knows it, in this
 *   process otherwise; a replica serves that caller only once its replayed position has reached it.
 *
 * Everything unknown counts against the replica (no measure yet, a failed check, Redis not
 * answering): the primary answers instead. Which operations may go to a replica at all is the
 * GraphQL layer's decision (src/graphql/read-routing.ts); writes never ask.
 */
import { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { openPostgres, type Database, type Db } from "./database.js";

export type ServedBy = "primary" | "replica";

/** Why a request went where it went (a bounded metrics label). */
export type RouteReason = "replica" | "write" | "lag" | "own_write";

export interface Route {
  readonly db: Db;
  readonly servedBy: ServedBy;
  readonly reason: RouteReason;
}

export interface ReplicaStatus {
  /** host:port/database, no credentials: the metrics label. */
  readonly name: string;
  /** Seconds behind the primary as of the last check, plus the time since; Infinity when unknown. */
  readonly lagSeconds: number;
}

export interface ReadReplicas {
  /** Where a read by `caller` (role:subject, null when anonymous) runs now. */
  routeRead(caller: string | null): Promise<Route>;
  /** The primary's route, for writes (and whatever is not a plain read). */
  routeWrite(): Route;
  /** After `caller` wrote: keep the primary's WAL position, so that its next reads, on any instance, see the write. */
  wrote(caller: string): Promise<void>;
  status(): ReplicaStatus[];
  /** Routing decisions so far, by "servedBy reason". */
  readonly routed: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** A WAL position as a byte offset (pg_lsn − '0/0'): comparable as a number. */
type Lsn = bigint;

const LSN_OF = (fn: string) => `SELECT (${fn} - '0/0'::pg_lsn)::text AS lsn`;

async function lsnOf(db: Db, fn: string): Promise<Lsn | null> {
  const rows = await db.$queryRawUnsafe<{ lsn: string | null }[]>(LSN_OF(fn));
  return rows[0]?.lsn == null ? null : BigInt(rows[0].lsn);
}

interface Replica {
  readonly name: string;
  readonly database: Database;
  /** The replayed position and how stale that made it, at `checkedAt`; null before the first good check. */
  replayed: Lsn | null;
  lagMs: number;
  checkedAt: number;
  failing: boolean;
}

/** Where callers' last writes are kept. */
interface WritePositions {
  get(caller: string): Promise<Lsn | null>;
  raise(caller: string, lsn: Lsn): Promise<void>;
  close(): Promise<void>;
}

/** Keeps the larger position: two writes of one caller may finish in either order. */
const RAISE_SCRIPT = `local c = redis.call('GET', KEYS[1])
if (not c) or tonumber(c) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`;

function redisPositions(url: string, ttlMs: number): WritePositions {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => {}); // every failure is met where it happens: the read goes to the primary
  const connecting = redis.connect().catch(() => {});
  const key = (caller: string) => `cardgrowth:wal:${caller}`;
  return {
    async get(caller) {
      await connecting;
      const value = await redis.get(key(caller));
      return value === null ? null : BigInt(value);
    },
    async raise(caller, lsn) {
      await connecting;
      await redis.eval(RAISE_SCRIPT, 1, key(caller), lsn.toString(), String(ttlMs));
    },
    close: async () => {
      await connecting;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function memoryPositions(ttlMs: number): WritePositions {
  const kept = new Map<string, { lsn: Lsn; until: number }>();
  return {
    async get(caller) {
      const entry = kept.get(caller);
      return entry && entry.until > Date.now() ? entry.lsn : null;
    },
    async raise(caller, lsn) {
      const now = Date.now();
      const entry = kept.get(caller);
      kept.set(caller, { lsn: entry && entry.until > now && entry.lsn > lsn ? entry.lsn : lsn, until: now + ttlMs });
      // Expired entries go when the map grows, so it stays the size of the recent writers.
      if (kept.size > 10_000) for (const [k, e] of kept) if (e.until <= now) kept.delete(k);
    },
    close: async () => {},
  };
}

/** The URL's host, port and database: names a replica in metrics and logs without its password. */
function replicaName(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

/**
 * Opens the replicas of `config.DATABASE_REPLICA_URLS` (a pool each, DATABASE_POOL_SIZE) and
 * starts measuring their lag against `primary`. Statements on replicas count with the primary's
 * (`primary.statements`).
 */
export async function openReplicas(primary: Database, config: Config, logger: Logger): Promise<ReadReplicas> {
  const maxLag = config.REPLICA_MAX_LAG_MS;
  const interval = config.REPLICA_CHECK_INTERVAL_MS;
  const replicas: Replica[] = [];
  for (const url of config.DATABASE_REPLICA_URLS) {
    const database = await openPostgres(url, config.DATABASE_POOL_SIZE, { statements: primary.statements, prepareAfter: config.DATABASE_PREPARE_AFTER });
    replicas.push({ name: replicaName(url), database, replayed: null, lagMs: Infinity, checkedAt: 0, failing: false });
  }
  // Past this, a replica that lags within the bound has replayed any write: the caller's
  // position is no longer needed.
  const positionTtlMs = maxLag + 10 * interval + 60_000;
  const positions = config.REDIS_URL ? redisPositions(config.REDIS_URL, positionTtlMs) : memoryPositions(positionTtlMs);

  // The primary's positions as seen over the last while, oldest first, each with the last time
  // it was still the primary's current one.
  const seen: { lsn: Lsn; at: number }[] = [];
  const keepMs = maxLag + 10 * interval;
  const check = async () => {
    const now = Date.now();
    let current: Lsn | null;
    try {
      current = await lsnOf(primary.prisma, "pg_current_wal_lsn()");
    } catch (err) {
      logger.warn({ err }, "replica lag check: the primary did not answer");
      return; // the last measures age, so replicas soon count as lagging
    }
    if (current === null) return;
    const last = seen.at(-1);
    if (last && last.lsn === current) last.at = now;
    else seen.push({ lsn: current, at: now });
    while (seen.length > 1 && seen[0].at < now - keepMs) seen.shift();
    await Promise.all(
      replicas.map(async (replica) => {
        try {
          const replayed = await lsnOf(replica.database.prisma, "pg_last_wal_replay_lsn()");
          // Fresh as of the last moment the primary had nothing it has not replayed.
          const caughtUp = replayed === null ? undefined : [...seen].reverse().find((s) => s.lsn <= replayed);
          replica.replayed = replayed;
          replica.lagMs = replayed !== null && replayed >= current ? 0 : caughtUp ? now - caughtUp.at : Infinity;
          replica.checkedAt = now;
          if (replica.failing) logger.info({ replica: replica.name }, "replica answers again");
          replica.failing = false;
        } catch (err) {
          replica.lagMs = Infinity;
          if (!replica.failing) logger.warn({ err, replica: replica.name }, "replica did not answer: reads go to the primary");
          replica.failing = true;
        }
      }),
    );
  };
  let checking: Promise<void> | null = check();
  await checking;
  checking = null;
  const timer = setInterval(() => {
    // One check at a time: a slow database skips ticks rather than piling checks up.
    if (checking) return;
    checking = check().finally(() => (checking = null));
  }, interval);
  timer.unref();

  /** Its lag now: the last measure plus the time since (the primary may have written meanwhile). */
  const lagNow = (replica: Replica, now: number) => (replica.checkedAt === 0 ? Infinity : replica.lagMs + (now - replica.checkedAt));

  const routed = new Map<string, number>();
  const counted = (route: Route) => {
    const key = `${route.servedBy} ${route.reason}`;
    routed.set(key, (routed.get(key) ?? 0) + 1);
    return route;
  };
  const primaryRoute = (reason: RouteReason): Route => ({ db: primary.prisma, servedBy: "primary", reason });
  let next = 0;
  return {
    routeWrite: () => counted(primaryRoute("write")),
    routed,
    async routeRead(caller) {
      const now = Date.now();
      const fresh = replicas.filter((r) => lagNow(r, now) <= maxLag);
      if (fresh.length === 0) return counted(primaryRoute("lag"));
      let own: Lsn | null = null;
      if (caller !== null) {
        try {
          own = await positions.get(caller);
        } catch {
          return counted(primaryRoute("own_write")); // the caller's last write is unknown: only the primary surely has it
        }
      }
      const usable = own === null ? fresh : fresh.filter((r) => r.replayed !== null && r.replayed >= own);
      if (usable.length === 0) return counted(primaryRoute("own_write"));
      const replica = usable[next++ % usable.length];
      return counted({ db: replica.database.prisma, servedBy: "replica", reason: "replica" });
    },
    async wrote(caller) {
      try {
        const lsn = await lsnOf(primary.prisma, "pg_current_wal_lsn()");
        if (lsn !== null) await positions.raise(caller, lsn);
      } catch (err) {
        // Its next reads may then see a replica without this write, until the replica catches up.
        logger.warn({ err }, "could not keep the caller's write position: read-your-writes not assured for it");
      }
    },
    status: () => {
      const now = Date.now();
      return replicas.map((r) => ({ name: r.name, lagSeconds: lagNow(r, now) / 1000 }));
    },
    async close() {
      clearInterval(timer);
      await checking?.catch(() => {});
      await positions.close();
      for (const replica of replicas) await replica.database.close();
    },
  };
}
