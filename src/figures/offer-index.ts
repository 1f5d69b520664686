/**
 * The live-offer index (`live_offer`): where each offer can be used now, one row per
 * (promotion, merchant) at the merchant's location, for the card app's nearest-first search.
 *
 * A row exists while its campaign is ACTIVE with budget left, its promotion has budget and
 * stock left (spending.ts, the rule a redemption spends by), and the merchant is covered by the
 * campaign and the promotion's appliesTo
 * (coverage.ts). Dates and the weekly schedule are kept as columns and judged by the query at
 * its own time: they change with the clock, not with a write.
 *
 * This file is the index's one home: every write that changes an input (a campaign's status,
 * dates, budget or eligibility, a self-pause, a promotion, a merchant's place or category, a
 * circle's members, a budget or stock running out) calls `refreshOffers` in its own
 * transaction with the ids it touched, and the index is exact when that transaction commits.
 * `offers:verify` rebuilds the rows from the sources and compares (src/cli/rollups.ts).
 */
import type { Db } from "../db/database.js";
import type { Tx } from "../db/transaction.js";
import { Prisma } from "../generated/prisma/client.js";
import { campaignMerchants, promotionMerchants, type IdSet } from "./coverage.js";
import { campaignCanSpend, promotionCanSpend } from "./spending.js";

/** Minutes in a week: `open_minutes` counts from Monday 00:00 local. */
export const MINUTES_PER_WEEK = 7 * 1440;

/** What a write touched; each set may be ids or a subquery of ids. */
export interface OfferScope {
  campaigns?: IdSet;
  promotions?: IdSet;
  merchants?: IdSet;
}

function ids(set: IdSet): Prisma.Sql {
  return Array.isArray(set) ? Prisma.sql`SELECT unnest(${[...set]}::int[])` : (set as Prisma.Sql);
}

/** The promotions a scope names, its campaigns' included; null when it names none. */
function promotionsOf(scope: OfferScope): Prisma.Sql | null {
  const parts: Prisma.Sql[] = [];
  if (scope.promotions !== undefined) parts.push(ids(scope.promotions));
  if (scope.campaigns !== undefined) parts.push(Prisma.sql`SELECT id FROM promotion WHERE campaign_id IN (${ids(scope.campaigns)})`);
  return parts.length ? Prisma.join(parts, " UNION ") : null;
}

const WEEK = Prisma.raw(String(MINUTES_PER_WEEK));

// A weekly schedule ([{ days, start, end }], domain/promotion.ts) as the minutes of the local
// week it is open: a window that runs past midnight goes on into the next day, and Sunday's
// into Monday. The same rule as isOpenAtLocal, so the database can judge it on every row.
const OPEN_MINUTES = Prisma.sql`CASE WHEN jsonb_array_length(p.schedule) = 0 THEN int4multirange(int4range(0, ${WEEK})) ELSE (
  SELECT range_agg(v.part)
  FROM jsonb_array_elements(p.schedule) w(win)
  CROSS JOIN LATERAL (SELECT split_part(w.win->>'start', ':', 1)::int * 60 + split_part(w.win->>'start', ':', 2)::int AS st,
                             split_part(w.win->>'end', ':', 1)::int * 60 + split_part(w.win->>'end', ':', 2)::int AS en) t
  CROSS JOIN LATERAL jsonb_array_elements_text(w.win->'days') d(day)
  CROSS JOIN LATERAL (SELECT (array_position(ARRAY['MONDAY','TUESDAY','WEDNESDAY','THURSDAY','FRIDAY','SATURDAY','SUNDAY']::text[], d.day) - 1) * 1440 + t.st AS s,
                             CASE WHEN t.en > t.st THEN t.en - t.st ELSE 1440 - t.st + t.en END AS len) x
  CROSS JOIN LATERAL (VALUES (int4range(x.s, least(x.s + x.len, ${WEEK}))),
                             (CASE WHEN x.s + x.len > ${WEEK} THEN int4range(0, x.s + x.len - ${WEEK}) END)) v(part)
  WHERE v.part IS NOT NULL) END`;

/** The rows the index should hold for the (promotion, merchant) pairs `pairs` yields. */
function liveRows(pairs: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT e.promotion_id, e.merchant_id, p.code AS promotion_code, m.code AS merchant_code,
           point(m.longitude, m.latitude) AS location,
           greatest(p.valid_from, c.starts_on) AS valid_from, least(p.valid_to, c.ends_on) AS valid_to,
           ${OPEN_MINUTES} AS open_minutes
    FROM (${pairs}) e
    JOIN promotion p ON p.id = e.promotion_id AND ${promotionCanSpend("p")}
    JOIN campaign c ON c.id = p.campaign_id AND ${campaignCanSpend("c")}
    JOIN merchant m ON m.id = e.merchant_id`;
}

/** The columns two versions of a row must agree on (`point` has no `=`, hence `~=`). */
function same(a: string, b: string): Prisma.Sql {
  const [x, y] = [Prisma.raw(a), Prisma.raw(b)];
  return Prisma.sql`${x}.promotion_id = ${y}.promotion_id AND ${x}.merchant_id = ${y}.merchant_id
    AND ${x}.promotion_code = ${y}.promotion_code AND ${x}.merchant_code = ${y}.merchant_code AND ${x}.location ~= ${y}.location
    AND ${x}.valid_from = ${y}.valid_from AND ${x}.valid_to = ${y}.valid_to AND ${x}.open_minutes = ${y}.open_minutes`;
}

/**
 * Brings the index up to date for what a write touched, in the write's transaction: rows of
 * the scope's promotions (its campaigns' included) and merchants that no longer qualify go,
 * those that do are written if new or changed. Two statements (the locks, the refresh), whatever
 * the scope's size.
 * Returns how many rows went and how many were written.
 */
export async function refreshOffers(tx: Tx | Db, scope: OfferScope): Promise<{ removed: number; written: number }> {
  const promotions = promotionsOf(scope);
  const merchants = scope.merchants === undefined ? null : ids(scope.merchants);
  if (!promotions && !merchants) return { removed: 0, written: 0 };
  const pairs = Prisma.join(
    [
      ...(promotions ? [promotionMerchants({ promotions: promotions })] : []),
      ...(merchants ? [promotionMerchants({ merchants: merchants })] : []),
    ],
    " UNION ",
  );
  const inScope = Prisma.join(
    [...(promotions ? [Prisma.sql`o.promotion_id IN (${promotions})`] : []), ...(merchants ? [Prisma.sql`o.merchant_id IN (${merchants})`] : [])],
    " OR ",
  );
  // The campaigns and merchants whose rows this computes, held (FOR SHARE) before it reads
  // them: a concurrent write to one of them (a pause, a spent budget, a move) either waits for
  // this transaction, and then sees its rows, or commits first, and then this statement's new
  // snapshot sees it. Without it, a row inserted here could miss a concurrent pause's delete.
  const campaigns = Prisma.join(
    [
      ...(promotions ? [Prisma.sql`SELECT campaign_id FROM promotion WHERE id IN (${promotions})`] : []),
      ...(merchants ? [Prisma.sql`SELECT campaign_id FROM (${campaignMerchants({ merchants })}) x`] : []),
    ],
    " UNION ",
  );
  await tx.$queryRaw`
    WITH c AS (SELECT id FROM campaign WHERE id IN (${campaigns}) ORDER BY id FOR SHARE),
    m AS (SELECT id FROM merchant WHERE ${merchants ? Prisma.sql`id IN (${merchants})` : Prisma.sql`false`} ORDER BY id FOR SHARE)
    SELECT (SELECT count(*) FROM c) + (SELECT count(*) FROM m) AS held`;
  const [r] = await tx.$queryRaw<{ removed: number; written: number }[]>`
    WITH want AS (${liveRows(pairs)}),
    gone AS (
      DELETE FROM live_offer o WHERE (${inScope})
        AND NOT EXISTS (SELECT 1 FROM want w WHERE w.promotion_id = o.promotion_id AND w.merchant_id = o.merchant_id)
      RETURNING 1
    ),
    put AS (
      INSERT INTO live_offer (promotion_id, merchant_id, promotion_code, merchant_code, location, valid_from, valid_to, open_minutes)
      SELECT * FROM want w WHERE NOT EXISTS (SELECT 1 FROM live_offer o WHERE ${same("o", "w")})
      ON CONFLICT (promotion_id, merchant_id) DO UPDATE SET
        promotion_code = EXCLUDED.promotion_code, merchant_code = EXCLUDED.merchant_code, location = EXCLUDED.location,
        valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to, open_minutes = EXCLUDED.open_minutes
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone)::int AS removed, (SELECT count(*) FROM put)::int AS written`;
  return r;
}

/**
 * Whether the index lists the offer of promotion `promotion` at merchant `merchant` (SQL ids):
 * for a promotion and campaign that can spend (spending.ts), exactly whether the promotion
 * applies there (coverage.ts), in one primary-key probe. A redemption's eligibility check.
 */
export function offerListed(promotion: Prisma.Sql, merchant: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`EXISTS (SELECT 1 FROM live_offer WHERE promotion_id = ${promotion} AND merchant_id = ${merchant})`;
}

/** A row the index holds and should not (`extra`), or should hold and does not (`missing`). */
export interface OfferDifference {
  kind: "missing" | "extra";
  promotionId: number;
  merchantId: number;
}

/** Compares the index with the rows rebuilt from the sources; empty when exact. */
export async function verifyOffers(db: Db | Tx, limit = 100): Promise<{ rows: number; differences: OfferDifference[]; total: number }> {
  const all = promotionMerchants({});
  const rows = await db.$queryRaw<{ kind: "missing" | "extra"; promotion_id: number; merchant_id: number; total: bigint; size: bigint }[]>`
    WITH want AS (${liveRows(all)}),
    diff AS (
      SELECT 'missing' AS kind, w.promotion_id, w.merchant_id FROM want w WHERE NOT EXISTS (SELECT 1 FROM live_offer o WHERE ${same("o", "w")})
      UNION ALL
      SELECT 'extra', o.promotion_id, o.merchant_id FROM live_offer o WHERE NOT EXISTS (SELECT 1 FROM want w WHERE ${same("o", "w")})
    )
    SELECT d.kind, d.promotion_id, d.merchant_id, count(*) OVER () AS total, (SELECT count(*) FROM live_offer) AS size
    FROM (SELECT 'none' AS kind, NULL::int AS promotion_id, NULL::int AS merchant_id UNION ALL SELECT * FROM diff) d
    ORDER BY d.kind = 'none' DESC, d.promotion_id, d.merchant_id LIMIT ${limit + 1}`;
  const size = rows.length ? Number(rows[0].size) : 0;
  const found = rows.filter((r) => r.kind !== ("none" as string));
  return {
    rows: size,
    total: rows.length ? Number(rows[0].total) - 1 : 0,
    differences: found.slice(0, limit).map((r) => ({ kind: r.kind, promotionId: r.promotion_id, merchantId: r.merchant_id })),
  };
}

/** Rebuilds the whole index from the sources (after a bulk load in SQL, or a repair). */
export async function rebuildOffers(tx: Tx | Db): Promise<number> {
  await tx.$executeRaw`DELETE FROM live_offer`;
  return tx.$executeRaw`
    INSERT INTO live_offer (promotion_id, merchant_id, promotion_code, merchant_code, location, valid_from, valid_to, open_minutes)
    ${liveRows(promotionMerchants({}))}`;
}

// ---- The nearby query (src/modules/campaigns/nearby.service.ts) -------------------------------

const EARTH_RADIUS_M = 6_371_000;
const RAD = Math.PI / 180;

/** The haversine distance in metres between the point `loc` (x longitude, y latitude) and ($1 latitude, $2 longitude). */
function distanceSql(loc: string): string {
  return `2 * ${EARTH_RADIUS_M}::float8 * asin(least(1, sqrt(
             power(sin((${loc}[1] - $1::float8) * ${RAD / 2}::float8), 2)
             + cos($1::float8 * ${RAD}::float8) * cos(${loc}[1] * ${RAD}::float8)
               * power(sin((${loc}[0] - $2::float8) * ${RAD / 2}::float8), 2))))`;
}

/**
 * A box (in degrees) holding every point within `meters` of ($1, $2) on the sphere the distance
 * uses: the latitude moves by at most the angle, the longitude by asin(sin angle / cos latitude)
 * (all of it when the circle reaches a pole), and a margin keeps rounding from cutting a point
 * off the edge. Longitudes are not wrapped at ±180° (the bank's merchants are far from it).
 */
function boxSql(meters: string): string {
  const angle = `(${meters}) / ${EARTH_RADIUS_M}::float8`;
  const dLat = `(degrees(${angle}) * 1.000001 + 1e-9)`;
  const dLng = `(CASE WHEN abs($1::float8) + degrees(${angle}) >= 89.999 THEN 360::float8
                     ELSE degrees(asin(least(1, sin(${angle}) / cos(radians($1::float8))))) * 1.000001 + 1e-9 END)`;
  return `box(point($2::float8 - ${dLng}, $1::float8 - ${dLat}), point($2::float8 + ${dLng}, $1::float8 + ${dLat}))`;
}

/**
 * The nearby count stops here (the schema's PromotionConnection.totalCount says so): an exact
 * count visits every offer within the radius, 12,600 index entries in Taiyuan's 2 km (4-9 ms,
 * more than the page itself), while the card app shows a number, not a census.
 */
export const NEARBY_COUNT_CAP = 500;

/** Usable on the local date $4 at the minute of the local week $5. */
const USABLE = `$4::date BETWEEN o.valid_from AND o.valid_to AND o.open_minutes @> $5::int`;

/**
 * How many nearest offers bound a page that ends `rows` offers in (offset + take): the first of
 * 21, 42, 84… that is at least as many. Any bound that large gives the same page (see
 * `offersNearCtes`); a few of them keep the statement's texts, each prepared per connection, few.
 */
export function nearestBound(rows: number): number {
  let bound = 21;
  while (bound < rows) bound *= 2;
  return bound;
}

/**
 * The index's part of the nearby statement, as `WITH` queries the caller completes with its own
 * SELECT (nearby.service.ts joins the page's promotions and merchants):
 * - `page` (promotion_id, merchant_id, promotion_code, merchant_code, distance): the live offers
 *   within $3 metres of ($1 latitude, $2 longitude), usable on $4 at minute $5, nearest first
 *   (ties by promotion, then merchant code, the order `OFFERS_NEAR_ORDER` names), $7 rows after
 *   the first $6;
 * - `counted` (total): when $8 is true, how many there are in all, counted up to
 *   NEARBY_COUNT_CAP; else null.
 *
 * Nearest-first without visiting every hit: `location <-> point` is distance in degrees, not
 * metres (a degree of longitude is shorter), so the GiST index's nearest-neighbour scan first
 * takes the `nearest` (at least $6 + $7: `nearestBound`) nearest usable offers in degrees and
 * stops; the farthest of them in metres (`reach`) bounds the page, since at least that many
 * offers lie within it. The page is then
 * ordered exactly, in metres, among the offers within `reach` only: a few dozen rows in the
 * densest centre instead of the thousands within the radius. Both scans and the count read
 * the index alone: it carries the dates and the schedule (migration
 * 20261206234500_live_offer_covering_location).
 *
 * The statement is prepared once per connection (src/db/direct.ts), and PostgreSQL's plan
 * cache keeps its generic plan only when that costs no more than a plan for the values; the
 * nearest scan therefore filters on a column its fenced subquery computes (`ok`), which the
 * planner estimates the same with or without the values, instead of on the filters themselves,
 * whose unknown values made the generic plan look as if it had to scan the whole box. Without
 * it every request was planned again: 3.7-6.3 ms a statement against 2.0-2.5 ms on the generic
 * plan (medians of 200 in Taiyuan, 100 k merchants, load 6). The count is fenced the same way,
 * and the nearest scan's row count is written into the text (`nearest`), not a parameter: the
 * planner takes an unknown LIMIT for a tenth of the scan, and at 1 M merchants those two made
 * the generic plan look dearer than planning each request (1.3-1.6 ms of planning a request).
 */
export function offersNearCtes(nearest: number): string {
  if (!Number.isSafeInteger(nearest) || nearest < 1) throw new Error(`nearest must be a positive integer, not ${nearest}`);
  return `
    WITH nearest AS (
      SELECT k.distance
      FROM (SELECT h.distance, ${USABLE} AND h.distance <= $3::float8 AS ok
            FROM live_offer o CROSS JOIN LATERAL (SELECT ${distanceSql("o.location")} AS distance) h
            WHERE o.location <@ ${boxSql("$3::float8")}
            ORDER BY o.location <-> point($2::float8, $1::float8) OFFSET 0) k
      WHERE k.ok
      LIMIT ${nearest}
    ),
    reach AS (SELECT max(distance) AS meters FROM nearest),
    page AS (
      SELECT o.promotion_id, o.merchant_id, o.promotion_code, o.merchant_code, h.distance
      FROM live_offer o CROSS JOIN LATERAL (SELECT ${distanceSql("o.location")} AS distance) h
      WHERE o.location <@ (SELECT ${boxSql("r.meters")} FROM reach r) AND ${USABLE} AND h.distance <= (SELECT meters FROM reach)
      ORDER BY h.distance, o.promotion_code, o.merchant_code
      LIMIT $7::int OFFSET $6::int
    ),
    counted AS (
      SELECT CASE WHEN $8::boolean THEN (
        SELECT count(*)::int FROM (
          SELECT FROM (SELECT ${USABLE} AND ${distanceSql("o.location")} <= $3::float8 AS ok
                       FROM live_offer o WHERE o.location <@ ${boxSql("$3::float8")} OFFSET 0) k
          WHERE k.ok
          LIMIT ${NEARBY_COUNT_CAP}) x
      ) END AS total
    )`;
}

/** The answer's order over `page`'s columns, for the caller's ORDER BY. */
export const OFFERS_NEAR_ORDER = "page.distance, page.promotion_code, page.merchant_code";

/** The values of OFFERS_NEAR_CTES's parameters, in order. */
export function offersNearValues(q: {
  latitude: number;
  longitude: number;
  radiusMeters: number;
  localDate: string;
  /** Whole minutes since Monday 00:00, local. */
  minuteOfWeek: number;
  offset: number;
  /** Rows of the page, from `offset`. */
  take: number;
  /** Whether to count every offer within the radius. */
  count: boolean;
}): unknown[] {
  return [q.latitude, q.longitude, q.radiusMeters, q.localDate, q.minuteOfWeek, q.offset, q.take, q.count];
}
