/**
 * Per-subject rate limits (rate-limiter-flexible): signed-in callers by role and subject (from
 * a verified token only, so nobody can spend another subject's budget), anonymous callers and
 * those whose token failed verification by client address (req.ip: the connection's, or the
 * X-Forwarded-For of a TRUSTED_PROXIES proxy). Every request is counted before its body is
 * read. Kept in memory, or in Redis when REDIS_URL is set so that several API instances share
 * one budget; if Redis stops answering, each instance falls back to its own memory rather than
 * refusing everyone or letting everyone through.
 */
import type { RequestHandler } from "express";
import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import type { Claims } from "../modules/auth/auth.service.js";
import { sendError } from "./errors.js";

export interface RateLimit {
  readonly middleware: RequestHandler;
  /** With REDIS_URL: resolves when Redis answers a PING (readiness, src/http/health.ts); null without Redis. */
  readonly redisCheck: (() => Promise<void>) | null;
  close(): Promise<void>;
}

/** How long a starting server waits for Redis before counting in memory until Redis answers. */
const REDIS_CONNECT_WAIT_MS = 2_000;

export async function rateLimit(config: Config, logger: Logger): Promise<RateLimit> {
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true }) : null;
  redis?.on("error", () => {}); // the insurance limiter covers an outage; ioredis keeps reconnecting
  if (redis) {
    // Without this, the first requests would find no connection yet and count in memory only.
    const ready = await Promise.race([
      redis.connect().then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, REDIS_CONNECT_WAIT_MS, false).unref()),
    ]);
    if (!ready) logger.warn("Redis (REDIS_URL) is not answering: rate limits are counted per instance until it does");
  }
  const limiter = (points: number, keyPrefix: string): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ points, duration: 60, keyPrefix });
    // Once a key has spent its budget, this instance refuses it from memory until the window ends:
    // a caller flooding past its limit costs no Redis round trip per refused request.
    const shared = { storeClient: redis, points, duration: 60, keyPrefix: `cardgrowth:${keyPrefix}`, insuranceLimiter: memory, inMemoryBlockOnConsumed: points };
    return redis ? new RateLimiterRedis(shared) : memory;
  };
  const signedIn = limiter(config.RATE_LIMIT_PER_MINUTE, "rl:subject");
  const anonymous = limiter(config.RATE_LIMIT_ANONYMOUS_PER_MINUTE, "rl:anonymous");

  const middleware: RequestHandler = (req, res, next) => {
    const claims = res.locals.claims as Claims | null;
    const [store, key] = claims ? [signedIn, `${claims.role}:${claims.sub}`] : [anonymous, req.ip ?? "unknown"];
    store.consume(key).then(
      () => next(),
      (rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) return next(rejection);
        res.set("Retry-After", String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
        sendError(res, 429, "RATE_LIMITED", "Too many requests: try again later");
      },
    );
  };
  return {
    middleware,
    redisCheck: redis
      ? async () => {
          await redis.ping();
        }
      : null,
    close: async () => {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
