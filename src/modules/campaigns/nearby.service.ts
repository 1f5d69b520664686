/**
 * The card app's query: the promotions usable now at merchants near the cardholder, nearest
 * first, with what the card has left of each.
 */
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
  // The clock is read once: the index judges dates and schedules on its rows (offer-index.ts).
  const minuteOfWeek = (local.weekday - 1) * 1440 + local.hour * 60 + local.minute;
  const near = { latitude: args.latitude, longitude: args.longitude, radiusMeters: args.radiusMeters, localDate, minuteOfWeek };
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
  return offsetPage(nodes, offset, first, total);
}

