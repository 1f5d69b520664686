/**
 * Promotions: the offers of a campaign, their rules (what each kind takes and what it costs
 * the bank, domain/promotion.ts) and their display.
 */
import type { Db } from "../../db/database.js";
import { lockCampaign, lockNewCode } from "../../db/locks.js";
import type { AuditOptions, Tx } from "../../db/transaction.js";
import { fromDbDate, toDbDate } from "../../domain/dates.js";
import { fenToYuan } from "../../domain/money.js";
import { scheduleProblems, type ScheduleWindow as Window } from "../../domain/promotion.js";
import { IssueCollector } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { idempotentWrite } from "../common/idempotency.js";
import { CodeIds, unknownCode } from "../common/lookup.js";
import { toGlobalId } from "../common/relay.js";
import { checkCode, checkName, checkOrder, checkYuan } from "../common/validate.js";
import { CampaignStatus, PromotionKind } from "./campaigns.enums.js";
import { campaignMerchants } from "../../figures/coverage.js";
import { refreshOffers } from "../../figures/offer-index.js";
import type { MerchantCategory } from "../merchants/merchants.enums.js";
import type { CreatePromotionInput, PromotionScopeInput } from "./campaigns.input.js";
import { Promotion, PromotionScope } from "./campaigns.type.js";

// ---- reading -----------------------------------------------------------------------------

type PromotionRow = Prisma.PromotionGetPayload<object>;

function headline(p: PromotionColumns): string {
  const y = (fen: bigint | null) => `¥${fenToYuan(fen)}`;
  switch (p.kind) {
    case PromotionKind.PERCENT_OFF:
      return `${p.percentOff}% off${p.amountFen != null ? `, up to ${y(p.amountFen)}` : ""}`;
    case PromotionKind.FIXED_PRICE:
      return `Pay ${y(p.amountFen)}${p.listPriceFen != null ? ` instead of ${y(p.listPriceFen)}` : ""}`;
    case PromotionKind.CASHBACK:
      return `${y(p.amountFen)} back${p.minSpendFen != null ? ` on ${y(p.minSpendFen)}` : ""}`;
    case PromotionKind.LUCKY_DRAW:
      return `Lucky draw: ${Math.round((p.drawOdds ?? 0) * 100)}% chance to win ${y(p.amountFen)}`;
  }
}

/** What toPromotion reads of a promotion's row (the nearby query selects these, not the timestamps). */
export type PromotionColumns = Omit<PromotionRow, "createdAt" | "updatedAt">;

/**
 * The promotion's columns for a raw statement (the card app's nearby page, a redemption's first
 * read), as `p_*` names, cast so that node-postgres, PGlite and Prisma's raw queries all return
 * the same JavaScript values: money as text, dates as text. `promotionOfRow` reads them back.
 */
export function promotionSelect(alias: string): string {
  return `${alias}.id::int AS p_id, ${alias}.code::text AS p_code, ${alias}.campaign_id::int AS p_campaign_id, ${alias}.title::text AS p_title,
    ${alias}.kind::text AS p_kind, ${alias}.percent_off::int AS p_percent_off, ${alias}.amount_fen::text AS p_amount_fen,
    ${alias}.min_spend_fen::text AS p_min_spend_fen, ${alias}.list_price_fen::text AS p_list_price_fen, ${alias}.draw_odds::float8 AS p_draw_odds,
    ${alias}.prize_stock::int AS p_prize_stock, ${alias}.valid_from::text AS p_valid_from, ${alias}.valid_to::text AS p_valid_to,
    ${alias}.schedule::jsonb AS p_schedule, ${alias}.per_card_per_day::int AS p_per_day, ${alias}.per_card_per_week::int AS p_per_week,
    ${alias}.per_card_per_campaign::int AS p_per_campaign, ${alias}.budget_cap_fen::text AS p_budget_cap_fen, ${alias}.spent_fen::text AS p_spent_fen`;
}

/** A row's `promotionSelect` columns; all null where an outer join found no promotion. */
export interface PromotionSelected {
  p_id: number | null;
  p_code: string;
  p_campaign_id: number;
  p_title: string;
  p_kind: PromotionKind;
  p_percent_off: number | null;
  p_amount_fen: string | null;
  p_min_spend_fen: string | null;
  p_list_price_fen: string | null;
  p_draw_odds: number | null;
  p_prize_stock: number | null;
  p_valid_from: string;
  p_valid_to: string;
  p_schedule: PromotionColumns["schedule"];
  p_per_day: number | null;
  p_per_week: number | null;
  p_per_campaign: number | null;
  p_budget_cap_fen: string | null;
  p_spent_fen: string;
}

const fen = (text: string | null) => (text == null ? null : BigInt(text));

/** The promotion a row's `promotionSelect` columns hold, or null when they are all null. */
export function promotionOfRow(r: PromotionSelected): PromotionColumns | null {
  if (r.p_id == null) return null;
  return {
    id: r.p_id, code: r.p_code, campaignId: r.p_campaign_id, title: r.p_title, kind: r.p_kind, percentOff: r.p_percent_off,
    amountFen: fen(r.p_amount_fen), minSpendFen: fen(r.p_min_spend_fen), listPriceFen: fen(r.p_list_price_fen),
    drawOdds: r.p_draw_odds, prizeStock: r.p_prize_stock, validFrom: toDbDate(r.p_valid_from), validTo: toDbDate(r.p_valid_to),
    schedule: r.p_schedule, perCardPerDay: r.p_per_day, perCardPerWeek: r.p_per_week, perCardPerCampaign: r.p_per_campaign,
    budgetCapFen: fen(r.p_budget_cap_fen), spentFen: BigInt(r.p_spent_fen),
  };
}

export function toPromotion(p: PromotionColumns): Promotion {
  const k = p.kind;
  return Object.assign(new Promotion(), {
    id: toGlobalId("Promotion", p.code),
    dbId: p.id,
    campaignId: p.campaignId,
    code: p.code,
    title: p.title,
    rule: {
      kind: k,
      headline: headline(p),
      percentOff: p.percentOff,
      maxDiscount: k === PromotionKind.PERCENT_OFF ? fenToYuan(p.amountFen) : null,
      fixedPrice: k === PromotionKind.FIXED_PRICE ? fenToYuan(p.amountFen) : null,
      listPrice: fenToYuan(p.listPriceFen),
      cashback: k === PromotionKind.CASHBACK ? fenToYuan(p.amountFen) : null,
      minSpend: fenToYuan(p.minSpendFen),
      drawOdds: p.drawOdds,
      prizeStock: p.prizeStock,
      prizeValue: k === PromotionKind.LUCKY_DRAW ? fenToYuan(p.amountFen) : null,
    },
    validFrom: fromDbDate(p.validFrom),
    validTo: fromDbDate(p.validTo),
    schedule: p.schedule as unknown as Window[],
    limits: { perDay: p.perCardPerDay, perWeek: p.perCardPerWeek, perCampaign: p.perCardPerCampaign },
    budgetCap: fenToYuan(p.budgetCapFen),
    spent: fenToYuan(p.spentFen)!,
  });
}

export async function findPromotion(db: Db | Tx, code: string): Promise<Promotion | null> {
  const row = await db.promotion.findUnique({ where: { code } });
  return row ? toPromotion(row) : null;
}

// ---- writing -----------------------------------------------------------------------------

export async function createPromotion(db: Db, input: CreatePromotionInput, options: AuditOptions = {}): Promise<Promotion> {
  const code = await idempotentWrite(db, "createPromotion", input, options, async (tx) => {
    await lockNewCode(tx, "promotion", input.code);
    const issues = new IssueCollector();
    checkCode(issues, undefined, "code", input.code);
    checkName(issues, undefined, "title", input.title);
    checkOrder(issues, undefined, { field: "validFrom", value: input.validFrom }, { field: "validTo", value: input.validTo });
    // Locked, so a concurrent change of the campaign's period or status cannot slip past the checks.
    const campaign = await lockCampaign(tx, { code: input.campaignCode });
    if (!campaign) issues.add(undefined, "campaignCode", unknownCode("campaign", input.campaignCode));
    else {
      if (input.validFrom < fromDbDate(campaign.startsOn)) issues.add(undefined, "validFrom", `${input.validFrom} is before the campaign starts on ${fromDbDate(campaign.startsOn)}`);
      if (input.validTo > fromDbDate(campaign.endsOn)) issues.add(undefined, "validTo", `${input.validTo} is after the campaign ends on ${fromDbDate(campaign.endsOn)}`);
      if (campaign.status === CampaignStatus.ENDED) issues.add(undefined, "campaignCode", "the campaign has ENDED");
    }
    if (await tx.promotion.findUnique({ where: { code: input.code }, select: { id: true } })) issues.add(undefined, "code", `a promotion "${input.code}" already exists`);
    const rule = checkRule(issues, input);
    for (const [field, reason] of scheduleProblems(input.schedule)) issues.add(undefined, field, reason);
    for (const key of ["perDay", "perWeek", "perCampaign"] as const) {
      const v = input.limits?.[key];
      if (v != null && v < 1) issues.add(undefined, `limits.${key}`, `${v} must be 1 or more (leave it out for no limit)`);
    }
    const budgetCapFen = checkYuan(issues, "budgetCap", input.budgetCap);
    const scope = campaign ? await checkScope(tx, issues, campaign.id, input.appliesTo) : null;
    issues.throwIfAny();
    const created = await tx.promotion.create({
      data: {
        code: input.code,
        campaignId: campaign!.id,
        title: input.title,
        kind: input.rule.kind,
        percentOff: rule.percentOff,
        amountFen: rule.amountFen == null ? null : BigInt(rule.amountFen),
        minSpendFen: rule.minSpendFen == null ? null : BigInt(rule.minSpendFen),
        listPriceFen: rule.listPriceFen == null ? null : BigInt(rule.listPriceFen),
        drawOdds: rule.drawOdds,
        prizeStock: rule.prizeStock,
        validFrom: toDbDate(input.validFrom),
        validTo: toDbDate(input.validTo),
        schedule: input.schedule.map((w) => ({ days: [...new Set(w.days)], start: w.start, end: w.end })),
        perCardPerDay: input.limits?.perDay ?? null,
        perCardPerWeek: input.limits?.perWeek ?? null,
        perCardPerCampaign: input.limits?.perCampaign ?? null,
        budgetCapFen: budgetCapFen == null ? null : BigInt(budgetCapFen),
        merchants: { create: scope!.merchantIds.map((merchantId) => ({ merchantId })) },
        circles: { create: scope!.circleIds.map((circleId) => ({ circleId })) },
        categories: { create: scope!.categories.map((category) => ({ category })) },
      },
    });
    await refreshOffers(tx, { promotions: [created.id] });
    return created.code;
  });
  return (await findPromotion(db, code))!;
}

/** A promotion names a few places at most; the cap only stops a runaway payload. */
export const MAX_SCOPE_CODES = 1_000;

/**
 * Where the offer applies, checked against its campaign: every merchant named is one the
 * campaign covers, every circle one of the campaign's (shared/domain.md). Issues name the
 * list and the position (`appliesTo.merchantCodes[2]`).
 */
async function checkScope(tx: Tx, issues: IssueCollector, campaignId: number, scope: PromotionScopeInput | null | undefined) {
  const merchantCodes = scope?.merchantCodes ?? [];
  const circleCodes = scope?.circleCodes ?? [];
  const categories = [...new Set(scope?.categories ?? [])];
  for (const [field, list] of [["merchantCodes", merchantCodes], ["circleCodes", circleCodes]] as const) {
    if (list.length > MAX_SCOPE_CODES) issues.add(undefined, `appliesTo.${field}`, `holds ${list.length} codes; at most ${MAX_SCOPE_CODES}`);
  }
  if (merchantCodes.length > MAX_SCOPE_CODES || circleCodes.length > MAX_SCOPE_CODES) return { merchantIds: [], circleIds: [], categories };
  const [merchants, circles] = await Promise.all([CodeIds.load(tx, "merchant", merchantCodes), CodeIds.load(tx, "business_circle", circleCodes)]);
  const [covered, campaignCircles] = await Promise.all([
    tx.$queryRaw<{ merchant_id: number }[]>`SELECT merchant_id FROM (${campaignMerchants({ campaigns: [campaignId], merchants: merchants.values() })}) covered`,
    tx.campaignCircle.findMany({ where: { campaignId, circleId: { in: circles.values() } }, select: { circleId: true } }),
  ]);
  const coveredIds = new Set(covered.map((r) => r.merchant_id));
  const ownCircles = new Set(campaignCircles.map((c) => c.circleId));
  merchantCodes.forEach((code, i) => {
    const id = merchants.check(issues, undefined, `appliesTo.merchantCodes[${i}]`, code);
    if (id !== undefined && !coveredIds.has(id)) issues.add(undefined, `appliesTo.merchantCodes[${i}]`, `merchant "${code}" is not in the campaign`);
  });
  circleCodes.forEach((code, i) => {
    const id = circles.check(issues, undefined, `appliesTo.circleCodes[${i}]`, code);
    if (id !== undefined && !ownCircles.has(id)) issues.add(undefined, `appliesTo.circleCodes[${i}]`, `business circle "${code}" is not one of the campaign's`);
  });
  return { merchantIds: merchants.values(), circleIds: circles.values(), categories };
}

/** Where each promotion applies, by promotion id (one statement for them all). */
export async function promotionScopes(db: Db, promotionIds: readonly number[]): Promise<PromotionScope[]> {
  const rows = await db.$queryRaw<{ id: number; kind: "merchant" | "circle" | "category"; value: string }[]>`
    SELECT x.promotion_id AS id, 'merchant' AS kind, m.code AS value FROM promotion_merchant x JOIN merchant m ON m.id = x.merchant_id
    WHERE x.promotion_id = ANY(${[...promotionIds]}::int[])
    UNION ALL
    SELECT x.promotion_id, 'circle', c.code FROM promotion_circle x JOIN business_circle c ON c.id = x.circle_id
    WHERE x.promotion_id = ANY(${[...promotionIds]}::int[])
    UNION ALL
    SELECT x.promotion_id, 'category', x.category::text FROM promotion_category x WHERE x.promotion_id = ANY(${[...promotionIds]}::int[])
    ORDER BY 1, 2, 3`;
  const byId = new Map(promotionIds.map((id) => [id, Object.assign(new PromotionScope(), { merchantCodes: [] as string[], circleCodes: [] as string[], categories: [] as MerchantCategory[] })]));
  for (const r of rows) {
    const scope = byId.get(r.id)!;
    if (r.kind === "merchant") scope.merchantCodes.push(r.value);
    else if (r.kind === "circle") scope.circleCodes.push(r.value);
    else scope.categories.push(r.value as MerchantCategory);
  }
  return promotionIds.map((id) => byId.get(id)!);
}

/** Each kind takes its own fields and refuses the others'. */
function checkRule(issues: IssueCollector, input: CreatePromotionInput) {
  const r = input.rule;
  const fields: Record<PromotionKind, (keyof typeof r)[]> = {
    PERCENT_OFF: ["percentOff", "maxDiscount"],
    FIXED_PRICE: ["fixedPrice", "listPrice", "minSpend"],
    CASHBACK: ["cashback", "minSpend"],
    LUCKY_DRAW: ["drawOdds", "prizeStock", "prizeValue"],
  };
  const own = fields[r.kind];
  for (const f of ["percentOff", "maxDiscount", "fixedPrice", "listPrice", "cashback", "minSpend", "drawOdds", "prizeStock", "prizeValue"] as const) {
    if (r[f] != null && !own.includes(f)) issues.add(undefined, `rule.${f}`, `does not apply to ${r.kind}`);
  }
  const required = (f: keyof typeof r) => r[f] == null && issues.add(undefined, `rule.${f}`, `is required for ${r.kind}`);
  const out = {
    percentOff: null as number | null, amountFen: null as number | null, minSpendFen: null as number | null,
    listPriceFen: null as number | null, drawOdds: null as number | null, prizeStock: null as number | null,
  };
  out.minSpendFen = checkYuan(issues, "rule.minSpend", r.minSpend);
  switch (r.kind) {
    case PromotionKind.PERCENT_OFF:
      required("percentOff");
      if (r.percentOff != null && (r.percentOff < 1 || r.percentOff > 100)) issues.add(undefined, "rule.percentOff", `${r.percentOff} must be 1..100`);
      out.percentOff = r.percentOff ?? null;
      out.amountFen = checkYuan(issues, "rule.maxDiscount", r.maxDiscount, false);
      break;
    case PromotionKind.FIXED_PRICE:
      required("fixedPrice");
      required("listPrice");
      out.amountFen = checkYuan(issues, "rule.fixedPrice", r.fixedPrice);
      out.listPriceFen = checkYuan(issues, "rule.listPrice", r.listPrice, false);
      if (out.amountFen != null && out.listPriceFen != null && out.listPriceFen <= out.amountFen) {
        issues.add(undefined, "rule.listPrice", "must be above the fixed price");
      }
      break;
    case PromotionKind.CASHBACK:
      required("cashback");
      out.amountFen = checkYuan(issues, "rule.cashback", r.cashback, false);
      break;
    case PromotionKind.LUCKY_DRAW:
      required("drawOdds");
      required("prizeStock");
      required("prizeValue");
      if (r.drawOdds != null && !(r.drawOdds > 0 && r.drawOdds <= 1)) issues.add(undefined, "rule.drawOdds", `${r.drawOdds} must be above 0 and at most 1`);
      if (r.prizeStock != null && r.prizeStock < 0) issues.add(undefined, "rule.prizeStock", `${r.prizeStock} is negative`);
      out.drawOdds = r.drawOdds ?? null;
      out.prizeStock = r.prizeStock ?? null;
      out.amountFen = checkYuan(issues, "rule.prizeValue", r.prizeValue);
      break;
  }
  return out;
}

