/**
 * The card app's query: the promotions usable now at merchants near the cardholder, nearest
 * first, with what the card has left of each.
 */
import { LRUCache } from "lru-cache";
import type { Db } from "../../db/database.js";
import { direct } from "../../db/direct.js";
import { localClock, minuteOfWeek } from "../../domain/dates.js";
import { periodOf } from "../../domain/period.js";
import { cardTokenProblem, openings } from "../../domain/promotion.js";
import { IssueCollector } from "../../errors.js";
import { nearestBound, offersNearCtes, OFFERS_NEAR_ORDER, offersNearValues } from "../../figures/offer-index.js";
import type { MerchantCategory } from "../../generated/prisma/client.js";
import { decodeOffset, offsetPage, type Page } from "../common/relay.js";
import { toMerchant } from "../merchants/merchants.service.js";
import type { PromotionsNearArgs } from "./campaigns.input.js";
import { cardUsage, NO_USE } from "./campaigns.sql.js";
import { NearbyPromotion, type CardLimits } from "./campaigns.type.js";
import { promotionOfRow, promotionSelect, toPromotion, type PromotionSelected } from "./promotion.service.js";

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
export type NearbyPage = Omit<Page<NearbyPromotion>, "totalCount"> & { totalCount: number | null; ageSeconds: number };

interface Cached {
  page: Omit<NearbyPage, "ageSeconds">;
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

/**
 * The page's promotion and merchant columns, fetched with the page in the same statement (cast
 * so that node-postgres and PGlite return the same values).
 */
const pageText = (nearest: number) => `${offersNearCtes(nearest)}
    SELECT c.total, page.distance::float8 AS distance, ${promotionSelect("p")},
           m.id::int AS mid, m.code::text AS mcode, m.name::text AS mname, m.category::text AS category, m.address::text AS address,
           m.latitude::float8 AS latitude, m.longitude::float8 AS longitude, m.branch_id::int AS branch_id
    FROM counted c
    LEFT JOIN (page JOIN promotion p ON p.id = page.promotion_id JOIN merchant m ON m.id = page.merchant_id) ON true
    ORDER BY ${OFFERS_NEAR_ORDER}`;

// One text per bound, built once: a request only looks its text up (nearestBound keeps them few).
const pageTexts = new Map<number, string>();

function pageSql(nearest: number): string {
  let text = pageTexts.get(nearest);
  if (text === undefined) {
    text = pageText(nearest);
    pageTexts.set(nearest, text);
  }
  return text;
}

/** One row of `pageText`; with an empty page, one row of nulls but the total. */
interface PageRow extends PromotionSelected {
  total: number | null;
  distance: number | null;
  mid: number;
  mcode: string;
  mname: string;
  category: MerchantCategory;
  address: string;
  latitude: number;
  longitude: number;
  branch_id: number;
}

/**
 * Promotions usable at `at` at merchants within the radius, nearest first, in one statement on
 * the live-offer index (src/figures/offer-index.ts: a nearest-neighbour scan on its GiST index
 * that stops after the page, the same SQL on PostgreSQL and on the embedded database) that also
 * returns the page's promotions and merchants; with a card, a second one reads its uses. When
 * each window closes and what the card has left are judged for the page only, so a request
 * costs the same statements however many offers are near. `count` (the resolver passes whether
 * totalCount is selected) asks the statement to count the offers within the radius as well, up
 * to NEARBY_COUNT_CAP; without it `totalCount` is null.
 */
export async function promotionsNear(
  db: Db,
  args: PromotionsNearArgs,
  zone: string,
  options: { now?: Date; cache?: NearbyCacheOptions; count?: boolean } = {},
): Promise<NearbyPage> {
  const now = options.now ?? new Date();
  const count = options.count ?? true;
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
  // The clock is read once: the index judges dates and schedules on its rows (offer-index.ts).
  const clock = localClock(zone, at);
  const localDate = clock.date;
  const minute = minuteOfWeek(clock);
  const wholeMinute = Math.floor(minute);
  // Only a public answer (no card) is shared between callers; the resolver says which are.
  const shared = options.cache && options.cache.seconds > 0 && !args.cardToken ? { ...cacheFor(db, options.cache), decimals: options.cache.decimals } : null;
  const round = (degrees: number) => (shared ? Number(degrees.toFixed(shared.decimals)) : degrees);
  const near = { latitude: round(args.latitude), longitude: round(args.longitude), radiusMeters: args.radiusMeters, localDate, minuteOfWeek: wholeMinute };
  // The answer depends on the rounded place, the page, the local date and minute, and whether it counts.
  const key = `${near.latitude},${near.longitude},${near.radiusMeters},${first},${offset},${localDate},${wholeMinute},${count}`;
  const hit = shared?.cache.get(key);
  if (hit) return { ...hit.page, ageSeconds: Math.floor((Date.now() - hit.storedAt) / 1000) };
  // One row more than the page tells whether another page follows.
  const nearest = nearestBound(offset + first + 1);
  const rows = await direct<PageRow>(db, `promotions_near_${nearest}`, pageSql(nearest), offersNearValues({ ...near, offset, take: first + 1, count }));
  const total = rows[0]?.total ?? null;
  const found = rows.filter((r) => r.distance !== null);
  const pageRows = found.slice(0, first);
  const pagePromotions = [...new Set(pageRows.map((r) => r.p_id!))];
  const used = args.cardToken && pageRows.length ? await cardUsage(db, pagePromotions, args.cardToken, localDate, periodOf("WEEK", localDate).code) : null;
  // A promotion appears on one edge per nearby merchant: build it and judge its schedule once.
  const promotions = new Map<number, { promotion: ReturnType<typeof toPromotion>; open: ReturnType<typeof openings> }>();
  const nodes = pageRows.map((r) => {
    let p = promotions.get(r.p_id!);
    if (!p) {
      const promotion = toPromotion(promotionOfRow(r)!);
      p = { promotion, open: openings(promotion.schedule, at, minute) };
      promotions.set(r.p_id!, p);
    }
    const { promotion, open } = p;
    const u = used?.get(r.p_id!) ?? NO_USE;
    const left = (limit: number | null, n: number) => (limit == null ? null : Math.max(limit - n, 0));
    const remainingForCard: CardLimits | null = args.cardToken
      ? { perDay: left(r.p_per_day, u.day), perWeek: left(r.p_per_week, u.week), perCampaign: left(r.p_per_campaign, u.total) }
      : null;
    return Object.assign(new NearbyPromotion(), {
      promotion,
      merchant: toMerchant({ id: r.mid, code: r.mcode, name: r.mname, category: r.category, address: r.address, latitude: r.latitude, longitude: r.longitude, branchId: r.branch_id }),
      distanceMeters: Math.round(r.distance!),
      availableUntil: open.closesAt,
      nextAvailableAt: open.nextOpensAt,
      remainingForCard,
    });
  });
  const page = offsetPage(nodes, offset, found.length > first, total);
  shared?.cache.set(key, { page, storedAt: Date.now() });
  return { ...page, ageSeconds: 0 };
}
