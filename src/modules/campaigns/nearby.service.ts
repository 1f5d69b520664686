/**
 * The card app's query: the promotions usable now at merchants near the cardholder, nearest
 * first, with what the card has left of each.
 */
import { DateTime } from "luxon";
import type { Db } from "../../db/database.js";
import { periodOf } from "../../domain/period.js";
import { cardTokenProblem, DAYS_OF_WEEK, isOpenAtLocal, openings, type ScheduleWindow as Window } from "../../domain/promotion.js";
import { IssueCollector } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import { decodeOffset, offsetPage, type Page } from "../common/relay.js";
import { toMerchant } from "../merchants/merchants.service.js";
import type { PromotionsNearArgs } from "./campaigns.input.js";
import { promotionMerchants } from "../../figures/coverage.js";
import { cardUsage, NO_USE } from "./campaigns.sql.js";
import { NearbyPromotion, type CardLimits } from "./campaigns.type.js";
import { toPromotion } from "./promotion.service.js";

const EARTH_RADIUS_M = 6_371_000;

/**
 * Promotions usable at `at` at merchants within the radius, nearest first. The merchants come
 * from a bounding box on the (latitude, longitude) index, the same plan on PostgreSQL and on
 * the embedded database (no PostGIS). Schedules are judged here, once per promotion; the exact
 * (haversine) distance, the order and the page are the database's.
 */
export async function promotionsNear(db: Db, args: PromotionsNearArgs, zone: string, now: Date = new Date()): Promise<Page<NearbyPromotion>> {
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
  const dLat = args.radiusMeters / 111_320;
  const dLng = args.radiusMeters / (111_320 * Math.max(Math.cos((args.latitude * Math.PI) / 180), 0.01));
  // Which offers are open now is a question about promotions, not merchants: ask it once per
  // promotion, then let the database rank and page the (promotion, merchant) pairs.
  const nearby = Prisma.sql`
    WITH nearby AS (
      SELECT id, code, latitude, longitude FROM merchant
      WHERE latitude BETWEEN ${args.latitude - dLat} AND ${args.latitude + dLat}
        AND longitude BETWEEN ${args.longitude - dLng} AND ${args.longitude + dLng}
    ), eligible AS (${promotionMerchants({ merchants: Prisma.sql`SELECT id FROM nearby` })})`;
  const offers = await db.$queryRaw<{ id: number; schedule: Window[] }[]>`
    ${nearby}
    SELECT DISTINCT p.id, p.schedule FROM eligible e
    JOIN promotion p ON p.id = e.promotion_id AND ${localDate}::date BETWEEN p.valid_from AND p.valid_to
      AND (p.budget_cap_fen IS NULL OR p.spent_fen < p.budget_cap_fen) AND (p.prize_stock IS NULL OR p.prize_stock > 0)
    JOIN campaign c ON c.id = p.campaign_id AND c.status = 'ACTIVE' AND ${localDate}::date BETWEEN c.starts_on AND c.ends_on AND c.spent_fen < c.budget_fen`;
  const day = DAYS_OF_WEEK[local.weekday - 1];
  const minute = local.hour * 60 + local.minute;
  const openIds = offers.filter((o) => isOpenAtLocal(o.schedule, day, minute)).map((o) => o.id);

  const rad = Math.PI / 180;
  const hits = Prisma.sql`
    ${nearby}, hits AS (
      SELECT p.id AS pid, p.code AS pcode, n.id AS mid, n.code AS mcode,
             2 * ${EARTH_RADIUS_M}::float8 * asin(least(1, sqrt(
               power(sin((n.latitude - ${args.latitude}::float8) * ${rad / 2}::float8), 2)
               + cos(${args.latitude * rad}::float8) * cos(n.latitude * ${rad}::float8)
                 * power(sin((n.longitude - ${args.longitude}::float8) * ${rad / 2}::float8), 2)))) AS distance
      FROM eligible e
      JOIN promotion p ON p.id = e.promotion_id AND p.id = ANY(${openIds}::int[])
      JOIN nearby n ON n.id = e.merchant_id
    )`;
  const rows = await db.$queryRaw<{ pid: number; pcode: string; mid: number; mcode: string; distance: number; total: bigint }[]>`
    ${hits}
    SELECT pid, pcode, mid, mcode, distance, count(*) OVER () AS total FROM hits
    WHERE distance <= ${args.radiusMeters}::float8
    ORDER BY distance, pcode, mcode
    LIMIT ${first} OFFSET ${offset}`;
  let total = rows.length ? Number(rows[0].total) : 0;
  if (rows.length === 0 && offset > 0) {
    const [{ n }] = await db.$queryRaw<{ n: bigint }[]>`${hits} SELECT count(*) AS n FROM hits WHERE distance <= ${args.radiusMeters}::float8`;
    total = Number(n);
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
  return offsetPage(nodes, offset, first, total);
}

