/**
 * The card app's query: the promotions usable now at merchants near the cardholder, nearest
 * first, with what the card has left of each.
 */
import { LRUCache } from "lru-cache";
import { DateTime } from "luxon";
import type { Db } from "../../db/database.js";
import { periodOf } from "../../domain/period.js";
import { cardTokenProblem, openings } from "../../domain/promotion.js";
import { IssueCollector } from "../../errors.js";
import { decodeOffset, offsetPage, type Page } from "../common/relay.js";
import { toMerchant } from "../merchants/merchants.service.js";
import type { PromotionsNearArgs } from "./campaigns.input.js";
import { offersNear } from "../../figures/offer-index.js";
import { cardUsage, NO_USE } from "./campaigns.sql.js";
import { NearbyPromotion, type CardLimits } from "./campaigns.type.js";
import { toPromotion } from "./promotion.service.js";

/**
 * Promotions usable at `at` at merchants within the radius, nearest first: one statement on
 * the live-offer index (src/figures/offer-index.ts, a GiST index on a `point`, the same SQL on
 * PostgreSQL and on the embedded database), then the page's promotions, merchants and (with a
 * card) its uses. When each window closes and what the card has left are judged for the page
 * only, so a request costs the same statements however many offers are near.
 */
/** How long a nearby answer may be kept by HTTP caches (Cache-Control max-age), in seconds. */
export const NEARBY_MAX_AGE_SECONDS = 30;

/** The in-process cache of public nearby answers (config NEARBY_CACHE_*); `seconds` 0 is off. */
export interface NearbyCacheOptions {
  seconds: number;
  /** The place is rounded to this many decimal degrees, and answered for the rounded place. */
  decimals: number;
  entries: number;
}

/** A nearby page, and for an answer from the in-process cache how old it is. */
export type NearbyPage = Page<NearbyPromotion> & { ageSeconds: number };

interface Cached {
  page: Page<NearbyPromotion>;
  storedAt: number;
}

// One cache per database handle (a process serves one; tests start several servers).
const caches = new WeakMap<Db, LRUCache<string, Cached>>();

function cacheFor(db: Db, options: NearbyCacheOptions): { cache: LRUCache<string, Cached>; ttlMs: number } {
  // The entry's life is bounded by the declared max-age: a cached answer shows an offer at most
  // NEARBY_MAX_AGE_SECONDS after it stopped being usable, as an HTTP cache honouring the
  // header would. The resolver also lowers the header's max-age by the entry's age, so an HTTP
  // cache after us cannot add its own 30 s on top.
  const ttlMs = Math.min(options.seconds, NEARBY_MAX_AGE_SECONDS) * 1000;
  let cache = caches.get(db);
  if (!cache) {
    cache = new LRUCache<string, Cached>({ max: options.entries, ttl: ttlMs, ttlAutopurge: false });
    caches.set(db, cache);
  }
  return { cache, ttlMs };
}

export async function promotionsNear(
  db: Db,
  args: PromotionsNearArgs,
  zone: string,
  options: { now?: Date; cache?: NearbyCacheOptions } = {},
): Promise<NearbyPage> {
  const now = options.now ?? new Date();
  const issues = new IssueCollector();
  if (!(args.latitude >= -90 && args.latitude <= 90)) issues.add(undefined, "latitude", `${args.latitude} must be -90..90`);
  if (!(args.longitude >= -180 && args.longitude <= 180)) issues.add(undefined, "longitude", `${args.longitude} must be -180..180`);
  if (!(args.radiusMeters >= 1 && args.radiusMeters <= 50_000)) issues.add(undefined, "radiusMeters", `${args.radiusMeters} must be 1..50000`);
  const first = args.first ?? 20;
  if (first < 1 || first > 50) issues.add(undefined, "first", `${first} must be 1..50`);
  const tokenProblem = args.cardToken ? cardTokenProblem(args.cardToken) : null;
  if (tokenProblem) issues.add(undefined, "cardToken", tokenProblem);
  issues.throwIfAny();
  const offset = decodeOffset(args.after);

  const at = args.at ?? now;
  const local = DateTime.fromJSDate(at, { zone });
  const localDate = local.toISODate()!;
  // The clock is read once: the index judges dates and schedules on its rows (offer-index.ts).
  const minuteOfWeek = (local.weekday - 1) * 1440 + local.hour * 60 + local.minute;
  // Only a public answer (no card) is shared between callers; the resolver says which are.
  const shared = options.cache && options.cache.seconds > 0 && !args.cardToken ? { ...cacheFor(db, options.cache), decimals: options.cache.decimals } : null;
  const round = (degrees: number) => (shared ? Number(degrees.toFixed(shared.decimals)) : degrees);
  const near = { latitude: round(args.latitude), longitude: round(args.longitude), radiusMeters: args.radiusMeters, localDate, minuteOfWeek };
  // The answer depends on the rounded place, the page, the local date and minute, nothing else.
  const key = `${near.latitude},${near.longitude},${near.radiusMeters},${first},${offset},${localDate},${minuteOfWeek}`;
  const hit = shared?.cache.get(key);
  if (hit) return { ...hit.page, ageSeconds: Math.floor((Date.now() - hit.storedAt) / 1000) };
  const rows = await db.$queryRaw<{ pid: number; pcode: string; mid: number; mcode: string; distance: number; total: bigint }[]>(offersNear({ ...near, first, offset }));
  let total = rows.length ? Number(rows[0].total) : 0;
  if (rows.length === 0 && offset > 0) {
    // Past the end: the total comes from the first row.
    const [head] = await db.$queryRaw<{ total: bigint }[]>(offersNear({ ...near, first: 1, offset: 0 }));
    total = head ? Number(head.total) : 0;
  }
  const pagePromotions = [...new Set(rows.map((r) => r.pid))];
  const [promotionRows, merchantRows, used] = await Promise.all([
    db.promotion.findMany({ where: { id: { in: pagePromotions } } }),
    db.merchant.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.mid))] } } }),
    args.cardToken ? cardUsage(db, pagePromotions, args.cardToken, localDate, periodOf("WEEK", localDate).code) : Promise.resolve(null),
  ]);
  // A promotion appears on one edge per nearby merchant: build it and judge its schedule once.
  const promotions = new Map(
    promotionRows.map((row) => {
      const promotion = toPromotion(row);
      return [row.id, { row, promotion, open: openings(promotion.schedule, local) }];
    }),
  );
  const merchants = new Map(merchantRows.map((m) => [m.id, toMerchant(m)]));

  const nodes = rows.map((c) => {
    const { row, promotion, open } = promotions.get(c.pid)!;
    const u = used?.get(c.pid) ?? NO_USE;
    const left = (limit: number | null, count: number) => (limit == null ? null : Math.max(limit - count, 0));
    const remainingForCard: CardLimits | null = used
      ? { perDay: left(row.perCardPerDay, u.day), perWeek: left(row.perCardPerWeek, u.week), perCampaign: left(row.perCardPerCampaign, u.total) }
      : null;
    return Object.assign(new NearbyPromotion(), {
      promotion,
      merchant: merchants.get(c.mid)!,
      distanceMeters: Math.round(c.distance),
      availableUntil: open.closesAt?.toJSDate() ?? null,
      nextAvailableAt: open.nextOpensAt?.toJSDate() ?? null,
      remainingForCard,
    });
  });
  const page = offsetPage(nodes, offset, first, total);
  shared?.cache.set(key, { page, storedAt: Date.now() });
  return { ...page, ageSeconds: 0 };
}

