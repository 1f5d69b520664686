/**
 * Campaigns, promotions and redemptions: what marketing tools create and run, what the card
 * app redeems and finds nearby. Money is handled in fen (integers); the API speaks yuan.
 */
import { randomInt } from "node:crypto";
import { DateTime } from "luxon";
import type { Db } from "../../db/database.js";
import { fromDbDate, toDbDate, type BusinessDate } from "../../domain/dates.js";
import { periodOf } from "../../domain/period.js";
import { canTransition, CAMPAIGN_TRANSITIONS, cardTokenProblem, DAYS_OF_WEEK, isOpenAt, isOpenAtLocal, openings, redemptionCost, scheduleProblems, type ScheduleWindow as Window } from "../../domain/promotion.js";
import { AppError, BadInputError, IssueCollector, NotFoundError, type ErrorCode } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import { idempotentWrite } from "../common/idempotency.js";
import { decodeCursor, encodeCursor, toGlobalId, toPage, type Page } from "../common/relay.js";
import { checkCode, checkName, checkOrder, inTransaction, type AuditOptions } from "../common/validate.js";
import { toMerchant } from "../merchants/merchants.service.js";
import { CampaignStatus, PromotionKind } from "./campaigns.enums.js";
import type { CreateCampaignInput, CreatePromotionInput, PromotionsNearArgs, RedeemPromotionInput, TransitionCampaignInput, UpdateCampaignInput } from "./campaigns.input.js";
import { Campaign, NearbyPromotion, Promotion, Redemption, type CardLimits } from "./campaigns.type.js";import { inSubtree } from "../org/org.service.js";


type Tx = Prisma.TransactionClient;
const MAX_YUAN = 1e10;

// ---- money -------------------------------------------------------------------------------

/** Yuan with at most two decimals → fen; reports the field otherwise. */
function toFen(issues: IssueCollector, field: string, yuan: number | null | undefined, allowZero = true): number | null {
  if (yuan == null) return null;
  const fen = Math.round(yuan * 100);
  if (!Number.isFinite(yuan)) issues.add(undefined, field, "must be a finite amount");
  else if (yuan < 0 || (!allowZero && yuan === 0)) issues.add(undefined, field, `${yuan} must be ${allowZero ? "zero or more" : "more than zero"}`);
  else if (yuan > MAX_YUAN) issues.add(undefined, field, `must be at most ${MAX_YUAN} yuan`);
  else if (Math.abs(fen - yuan * 100) > 1e-6) issues.add(undefined, field, `${yuan} has more than two decimals`);
  else return fen;
  return null;
}
const yuan = (fen: bigint | number | null): number | null => (fen == null ? null : Number(fen) / 100);

// ---- reading -----------------------------------------------------------------------------

// The eligibility lists (up to MAX_ELIGIBLE codes each) are loaded only when asked for
// (campaigns.loader.ts), not with every campaign a promotion or a page refers to.
type CampaignRow = Prisma.CampaignGetPayload<object>;

function toCampaign(row: CampaignRow): Campaign {
  return Object.assign(new Campaign(), {
    id: toGlobalId("Campaign", row.code),
    dbId: row.id,
    branchId: row.branchId,
    code: row.code,
    name: row.name,
    startsOn: fromDbDate(row.startsOn),
    endsOn: fromDbDate(row.endsOn),
    budget: yuan(row.budgetFen)!,
    spent: yuan(row.spentFen)!,
    remaining: yuan(row.budgetFen - row.spentFen)!,
    status: row.status,
  });
}

type PromotionRow = Prisma.PromotionGetPayload<object>;

function headline(p: PromotionRow): string {
  const y = (fen: bigint | null) => `¥${yuan(fen)}`;
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

export function toPromotion(p: PromotionRow): Promotion {
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
      maxDiscount: k === PromotionKind.PERCENT_OFF ? yuan(p.amountFen) : null,
      fixedPrice: k === PromotionKind.FIXED_PRICE ? yuan(p.amountFen) : null,
      listPrice: yuan(p.listPriceFen),
      cashback: k === PromotionKind.CASHBACK ? yuan(p.amountFen) : null,
      minSpend: yuan(p.minSpendFen),
      drawOdds: p.drawOdds,
      prizeStock: p.prizeStock,
      prizeValue: k === PromotionKind.LUCKY_DRAW ? yuan(p.amountFen) : null,
    },
    validFrom: fromDbDate(p.validFrom),
    validTo: fromDbDate(p.validTo),
    schedule: p.schedule as unknown as Window[],
    limits: { perDay: p.perCardPerDay, perWeek: p.perCardPerWeek, perCampaign: p.perCardPerCampaign },
    budgetCap: yuan(p.budgetCapFen),
    spent: yuan(p.spentFen)!,
  });
}

export async function findCampaign(db: Db | Tx, code: string): Promise<Campaign | null> {
  const row = await db.campaign.findUnique({ where: { code } });
  return row ? toCampaign(row) : null;
}

export async function findCampaignsById(db: Db, ids: readonly number[]): Promise<Map<number, Campaign>> {
  const rows = await db.campaign.findMany({ where: { id: { in: [...ids] } } });
  return new Map(rows.map((r) => [r.id, toCampaign(r)]));
}

export async function findPromotion(db: Db | Tx, code: string): Promise<Promotion | null> {
  const row = await db.promotion.findUnique({ where: { code } });
  return row ? toPromotion(row) : null;
}

// ---- campaigns ---------------------------------------------------------------------------

async function resolveCodes(tx: Tx, issues: IssueCollector, circleCodes: readonly string[], merchantCodes: readonly string[]) {
  if (circleCodes.length > MAX_ELIGIBLE) issues.add(undefined, "circleCodes", `holds ${circleCodes.length} codes; at most ${MAX_ELIGIBLE}`);
  if (merchantCodes.length > MAX_ELIGIBLE) issues.add(undefined, "merchantCodes", `holds ${merchantCodes.length} codes; at most ${MAX_ELIGIBLE}`);
  if (issues.issues.length) return { circleIds: [], merchantIds: [] };
  const [circles, merchants] = await Promise.all([
    tx.businessCircle.findMany({ where: { code: { in: [...circleCodes] } }, select: { id: true, code: true } }),
    tx.merchant.findMany({ where: { code: { in: [...merchantCodes] } }, select: { id: true, code: true } }),
  ]);
  const circleIds = new Map(circles.map((c) => [c.code, c.id]));
  const merchantIds = new Map(merchants.map((m) => [m.code, m.id]));
  circleCodes.forEach((c, i) => circleIds.has(c) || issues.add(undefined, `circleCodes[${i}]`, `unknown business circle "${c}"`));
  merchantCodes.forEach((m, i) => merchantIds.has(m) || issues.add(undefined, `merchantCodes[${i}]`, `unknown merchant "${m}"`));
  return { circleIds: [...new Set(circleIds.values())], merchantIds: [...new Set(merchantIds.values())] };
}

async function replaceEligibility(tx: Tx, campaignId: number, circleIds: number[] | null, merchantIds: number[] | null) {
  if (circleIds) {
    await tx.campaignCircle.deleteMany({ where: { campaignId } });
    await tx.campaignCircle.createMany({ data: circleIds.map((circleId) => ({ campaignId, circleId })) });
  }
  if (merchantIds) {
    await tx.campaignMerchant.deleteMany({ where: { campaignId } });
    await tx.campaignMerchant.createMany({ data: merchantIds.map((merchantId) => ({ campaignId, merchantId })) });
  }
}

/** Locks the campaign row first, then reads it, so checks see what concurrent writers committed; null when there is none. */
async function lockCampaignOrNull(tx: Tx, code: string) {
  const [row] = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM campaign WHERE code = ${code} FOR UPDATE`;
  return row ? tx.campaign.findUnique({ where: { id: row.id } }) : null;
}

async function lockCampaign(tx: Tx, code: string) {
  const campaign = await lockCampaignOrNull(tx, code);
  if (!campaign) throw new NotFoundError("campaign", code, "code");
  return campaign;
}

/** Serialises creates of one code, so two racing creates give one row and one clear error. */
async function lockCode(tx: Tx, kind: string, code: string) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`${kind}:${code}`}))`;
}

const MAX_ELIGIBLE = 10_000;

export async function createCampaign(db: Db, input: CreateCampaignInput, options: AuditOptions = {}): Promise<Campaign> {
  const code = await idempotentWrite(db, "createCampaign", input, options, async (tx) => {
    await lockCode(tx, "campaign", input.code);
    const issues = new IssueCollector();
    checkCode(issues, undefined, "code", input.code);
    checkName(issues, undefined, "name", input.name);
    checkOrder(issues, undefined, { field: "startsOn", value: input.startsOn }, { field: "endsOn", value: input.endsOn });
    const budgetFen = toFen(issues, "budget", input.budget);
    const unit = await tx.branch.findUnique({ where: { code: input.branchCode }, select: { id: true } });
    if (!unit) issues.add(undefined, "branchCode", `unknown unit "${input.branchCode}"`);
    if (await tx.campaign.findUnique({ where: { code: input.code }, select: { id: true } })) {
      issues.add(undefined, "code", `a campaign "${input.code}" already exists; change it with updateCampaign`);
    }
    const { circleIds, merchantIds } = await resolveCodes(tx, issues, input.circleCodes, input.merchantCodes);
    issues.throwIfAny();
    const created = await tx.campaign.create({
      data: {
        code: input.code,
        name: input.name,
        branchId: unit!.id,
        startsOn: toDbDate(input.startsOn),
        endsOn: toDbDate(input.endsOn),
        budgetFen: BigInt(budgetFen!),
      },
    });
    await replaceEligibility(tx, created.id, circleIds, merchantIds);
    return created.code;
  });
  return (await findCampaign(db, code))!;
}

export async function updateCampaign(db: Db, input: UpdateCampaignInput, options: AuditOptions = {}): Promise<Campaign> {
  const code = await idempotentWrite(db, "updateCampaign", input, options, async (tx) => {
    const current = await lockCampaign(tx, input.code);
    const issues = new IssueCollector();
    if (input.name != null) checkName(issues, undefined, "name", input.name);
    const startsOn = input.startsOn ?? fromDbDate(current.startsOn);
    const endsOn = input.endsOn ?? fromDbDate(current.endsOn);
    checkOrder(issues, undefined, { field: "startsOn", value: startsOn }, { field: "endsOn", value: endsOn });
    if (current.status === CampaignStatus.ENDED) issues.add(undefined, "code", "an ENDED campaign cannot change");
    const budgetFen = toFen(issues, "budget", input.budget);
    if (budgetFen != null && BigInt(budgetFen) < current.spentFen) {
      issues.add(undefined, "budget", `${input.budget} is below the ${yuan(current.spentFen)} yuan already spent`);
    }
    const outside = await tx.promotion.findFirst({
      where: { campaignId: current.id, OR: [{ validFrom: { lt: toDbDate(startsOn) } }, { validTo: { gt: toDbDate(endsOn) } }] },
      select: { code: true },
    });
    if (outside) issues.add(undefined, input.startsOn ? "startsOn" : "endsOn", `promotion "${outside.code}" would fall outside the campaign's period`);
    const { circleIds, merchantIds } = await resolveCodes(tx, issues, input.circleCodes ?? [], input.merchantCodes ?? []);
    issues.throwIfAny();
    await tx.campaign.update({
      where: { id: current.id },
      data: {
        ...(input.name != null ? { name: input.name } : {}),
        startsOn: toDbDate(startsOn),
        endsOn: toDbDate(endsOn),
        ...(budgetFen != null ? { budgetFen: BigInt(budgetFen) } : {}),
      },
    });
    await replaceEligibility(tx, current.id, input.circleCodes ? circleIds : null, input.merchantCodes ? merchantIds : null);
    return current.code;
  });
  return (await findCampaign(db, code))!;
}

export async function transitionCampaign(db: Db, input: TransitionCampaignInput, options: AuditOptions = {}): Promise<Campaign> {
  const code = await idempotentWrite(db, "transitionCampaign", input, options, async (tx) => {
    const current = await lockCampaign(tx, input.code);
    if (!canTransition(current.status, input.to)) {
      const allowed = CAMPAIGN_TRANSITIONS[current.status];
      throw new AppError("BAD_USER_INPUT", `to: a ${current.status} campaign cannot become ${input.to}; ${allowed.length ? `it may become ${allowed.join(" or ")}` : "ENDED is final"}`, [
        { field: "to", reason: `${current.status} → ${input.to} is not a legal move` },
      ]);
    }
    await tx.campaign.update({ where: { id: current.id }, data: { status: input.to } });
    return current.code;
  });
  return (await findCampaign(db, code))!;
}

export interface CampaignFilter {
  branchCode?: string | null;
  status?: CampaignStatus | null;
}

export async function listCampaigns(db: Db, filter: CampaignFilter, first: number, after: string | null | undefined): Promise<Page<Campaign>> {
  const afterCode = decodeCursor(after);
  const where: Prisma.CampaignWhereInput = {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.branchCode != null ? { branch: inSubtree(filter.branchCode) } : {}),
  };
  const [rows, totalCount] = await Promise.all([
    db.campaign.findMany({ where: { ...where, ...(afterCode ? { code: { gt: afterCode } } : {}) }, orderBy: { code: "asc" }, take: first + 1 }),
    db.campaign.count({ where }),
  ]);
  return toPage(rows.map(toCampaign), first, (c) => c.code, afterCode, totalCount);
}

// ---- promotions --------------------------------------------------------------------------

export async function createPromotion(db: Db, input: CreatePromotionInput, options: AuditOptions = {}): Promise<Promotion> {
  const code = await idempotentWrite(db, "createPromotion", input, options, async (tx) => {
    await lockCode(tx, "promotion", input.code);
    const issues = new IssueCollector();
    checkCode(issues, undefined, "code", input.code);
    checkName(issues, undefined, "title", input.title);
    checkOrder(issues, undefined, { field: "validFrom", value: input.validFrom }, { field: "validTo", value: input.validTo });
    // Locked, so a concurrent change of the campaign's period or status cannot slip past the checks.
    const campaign = await lockCampaignOrNull(tx, input.campaignCode);
    if (!campaign) issues.add(undefined, "campaignCode", `unknown campaign "${input.campaignCode}"`);
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
    const budgetCapFen = toFen(issues, "budgetCap", input.budgetCap);
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
      },
    });
    return created.code;
  });
  return (await findPromotion(db, code))!;
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
  out.minSpendFen = toFen(issues, "rule.minSpend", r.minSpend);
  switch (r.kind) {
    case PromotionKind.PERCENT_OFF:
      required("percentOff");
      if (r.percentOff != null && (r.percentOff < 1 || r.percentOff > 100)) issues.add(undefined, "rule.percentOff", `${r.percentOff} must be 1..100`);
      out.percentOff = r.percentOff ?? null;
      out.amountFen = toFen(issues, "rule.maxDiscount", r.maxDiscount, false);
      break;
    case PromotionKind.FIXED_PRICE:
      required("fixedPrice");
      required("listPrice");
      out.amountFen = toFen(issues, "rule.fixedPrice", r.fixedPrice);
      out.listPriceFen = toFen(issues, "rule.listPrice", r.listPrice, false);
      if (out.amountFen != null && out.listPriceFen != null && out.listPriceFen <= out.amountFen) {
        issues.add(undefined, "rule.listPrice", "must be above the fixed price");
      }
      break;
    case PromotionKind.CASHBACK:
      required("cashback");
      out.amountFen = toFen(issues, "rule.cashback", r.cashback, false);
      break;
    case PromotionKind.LUCKY_DRAW:
      required("drawOdds");
      required("prizeStock");
      required("prizeValue");
      if (r.drawOdds != null && !(r.drawOdds > 0 && r.drawOdds <= 1)) issues.add(undefined, "rule.drawOdds", `${r.drawOdds} must be above 0 and at most 1`);
      if (r.prizeStock != null && r.prizeStock < 0) issues.add(undefined, "rule.prizeStock", `${r.prizeStock} is negative`);
      out.drawOdds = r.drawOdds ?? null;
      out.prizeStock = r.prizeStock ?? null;
      out.amountFen = toFen(issues, "rule.prizeValue", r.prizeValue);
      break;
  }
  return out;
}

// ---- redemptions -------------------------------------------------------------------------

class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
  ) {}
}

/**
 * Records one use of a promotion. The campaign and promotion rows are locked for the
 * transaction, so limits and budgets are checked and spent one redemption at a time: 50
 * simultaneous redemptions against the last yuan never overspend. The use that spends the
 * last fen pauses the campaign.
 */
export interface Clock {
  zone: string;
  now?: Date;
  /** How far `at` may be from `now`, in seconds. */
  maxSkewSeconds: number;
}

export async function redeem(db: Db, input: RedeemPromotionInput, clock: Clock, options: AuditOptions = {}): Promise<Redemption> {
  const { zone } = clock;
  const now = clock.now ?? new Date();
  const issues = new IssueCollector();
  if (input.at && Math.abs(input.at.getTime() - now.getTime()) > clock.maxSkewSeconds * 1000) {
    issues.add(undefined, "at", `must be within ${clock.maxSkewSeconds} s of the server's clock (${now.toISOString()})`);
  }
  checkCode(issues, undefined, "transactionId", input.transactionId);
  const tokenProblem = cardTokenProblem(input.cardToken);
  if (tokenProblem) issues.add(undefined, "cardToken", tokenProblem);
  const spendFen = toFen(issues, "spend", input.spend);
  issues.throwIfAny();
  const at = input.at ?? now;
  const local = DateTime.fromJSDate(at, { zone });
  const localDate = local.toISODate()!;
  const localWeek = periodOf("WEEK", localDate).code;

  const attempt = async (tx: Tx): Promise<Redemption | Refusal> => {
    await lockCode(tx, "redeem", input.transactionId);
    const previous = await tx.redemption.findUnique({ where: { transactionId: input.transactionId }, include: { promotion: { select: { code: true } } } });
    if (previous) return replay(tx, previous, input, at, spendFen!);

    const promotion = await tx.promotion.findUnique({ where: { code: input.promotionCode } });
    if (!promotion) throw new NotFoundError("promotion", input.promotionCode, "promotionCode");
    const merchant = await tx.merchant.findUnique({ where: { code: input.merchantCode }, select: { id: true } });
    if (!merchant) throw new NotFoundError("merchant", input.merchantCode, "merchantCode");
    // Campaign first, then promotion: every redemption locks in this order, so none deadlock.
    const [campaign] = await tx.$queryRaw<{ id: number; status: CampaignStatus; starts_on: Date; ends_on: Date; budget_fen: bigint; spent_fen: bigint }[]>`
      SELECT id, status, starts_on, ends_on, budget_fen, spent_fen FROM campaign WHERE id = ${promotion.campaignId} FOR UPDATE`;
    const [locked] = await tx.$queryRaw<{ spent_fen: bigint; prize_stock: number | null }[]>`
      SELECT spent_fen, prize_stock FROM promotion WHERE id = ${promotion.id} FOR UPDATE`;

    if (campaign.status !== CampaignStatus.ACTIVE) {
      return campaign.spent_fen >= campaign.budget_fen
        ? new Refusal("BUDGET_EXHAUSTED", "the campaign's budget is spent")
        : new Refusal("PROMOTION_NOT_AVAILABLE", `the campaign is ${campaign.status}`);
    }
    if (localDate < fromDbDate(campaign.starts_on) || localDate > fromDbDate(campaign.ends_on) || localDate < fromDbDate(promotion.validFrom) || localDate > fromDbDate(promotion.validTo)) {
      return new Refusal("PROMOTION_NOT_AVAILABLE", `the promotion is valid ${fromDbDate(promotion.validFrom)}..${fromDbDate(promotion.validTo)}, not on ${localDate}`);
    }
    if (!isOpenAt(promotion.schedule as unknown as Window[], local)) {
      return new Refusal("OUTSIDE_SCHEDULE", `the promotion is not open at ${local.toFormat("ccc HH:mm")} (${zone})`);
    }
    const [eligible] = await tx.$queryRaw<{ ok: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM campaign_merchant WHERE campaign_id = ${campaign.id} AND merchant_id = ${merchant.id})
          OR EXISTS (SELECT 1 FROM campaign_circle cc JOIN circle_member m ON m.circle_id = cc.circle_id
                     WHERE cc.campaign_id = ${campaign.id} AND m.merchant_id = ${merchant.id}) AS ok`;
    if (!eligible.ok) return new Refusal("MERCHANT_NOT_ELIGIBLE", `merchant "${input.merchantCode}" is not in the campaign`);

    const used = await usage(tx, [promotion.id], input.cardToken, localDate, localWeek);
    const u = used.get(promotion.id) ?? { day: 0, week: 0, total: 0 };
    for (const [limit, count, what] of [
      [promotion.perCardPerDay, u.day, "day"],
      [promotion.perCardPerWeek, u.week, "week"],
      [promotion.perCardPerCampaign, u.total, "campaign"],
    ] as const) {
      if (limit != null && count >= limit) return new Refusal("LIMIT_EXCEEDED", `this card has used the promotion ${count} time(s) this ${what}; the limit is ${limit}`);
    }

    let won: boolean | null = null;
    if (promotion.kind === PromotionKind.LUCKY_DRAW) {
      if ((locked.prize_stock ?? 0) <= 0) return new Refusal("OUT_OF_STOCK", "no prizes are left");
      won = randomInt(1_000_000) < Math.round((promotion.drawOdds ?? 0) * 1_000_000);
    }
    const cost = redemptionCost(
      { kind: promotion.kind, percentOff: promotion.percentOff, amountFen: num(promotion.amountFen), minSpendFen: num(promotion.minSpendFen), listPriceFen: num(promotion.listPriceFen) },
      spendFen!,
      won === true,
    );
    if ("reason" in cost) return new Refusal("SPEND_NOT_ELIGIBLE", cost.reason);
    const costFen = BigInt(cost.costFen);
    if (promotion.budgetCapFen != null && locked.spent_fen + costFen > promotion.budgetCapFen) {
      return new Refusal("BUDGET_EXHAUSTED", "the promotion's budget cannot cover this use");
    }
    if (campaign.spent_fen + costFen > campaign.budget_fen) {
      return new Refusal("BUDGET_EXHAUSTED", `the campaign has ${yuan(campaign.budget_fen - campaign.spent_fen)} yuan left, not enough for this use`);
    }

    await tx.redemption.create({
      data: {
        transactionId: input.transactionId, promotionId: promotion.id, merchantId: merchant.id, cardToken: input.cardToken, at,
        localDate: toDbDate(localDate), localWeek, spendFen: BigInt(spendFen!), costFen, won,
      },
    });
    await tx.promotion.update({
      where: { id: promotion.id },
      data: { spentFen: { increment: costFen }, ...(won ? { prizeStock: { decrement: 1 } } : {}) },
    });
    const spent = campaign.spent_fen + costFen;
    await tx.campaign.update({
      where: { id: campaign.id },
      data: { spentFen: spent, ...(spent >= campaign.budget_fen ? { status: CampaignStatus.PAUSED } : {}) },
    });
    return Object.assign(new Redemption(), {
      transactionId: input.transactionId, promotionCode: promotion.code, merchantCode: input.merchantCode, at,
      spend: yuan(spendFen!)!, cost: yuan(costFen)!, won,
    });
  };
  return inTransaction(db, options, async (tx) => {
    const outcome = await attempt(tx);
    // Thrown inside: a refusal rolls back, so its audit entry never says it succeeded.
    if (outcome instanceof Refusal) throw new AppError(outcome.code, outcome.message);
    return outcome;
  });
}

const num = (v: bigint | null) => (v == null ? null : Number(v));

async function replay(
  tx: Tx,
  previous: Prisma.RedemptionGetPayload<{ include: { promotion: { select: { code: true } } } }>,
  input: RedeemPromotionInput,
  at: Date,
  spendFen: number,
): Promise<Redemption> {
  const merchant = await tx.merchant.findUnique({ where: { id: previous.merchantId }, select: { code: true } });
  const same =
    previous.promotion.code === input.promotionCode &&
    merchant?.code === input.merchantCode &&
    previous.cardToken === input.cardToken &&
    Number(previous.spendFen) === spendFen &&
    (input.at == null || previous.at.getTime() === at.getTime());
  if (!same) throw new AppError("CONFLICT", `transactionId: "${input.transactionId}" was already used for a different redemption`, [{ field: "transactionId", reason: "already used" }]);
  return Object.assign(new Redemption(), {
    transactionId: previous.transactionId, promotionCode: previous.promotion.code, merchantCode: merchant!.code, at: previous.at,
    spend: yuan(previous.spendFen)!, cost: yuan(previous.costFen)!, won: previous.won,
  });
}

/** How often a card used each promotion: on the day, in the ISO week, and in all. */
async function usage(db: Db | Tx, promotionIds: number[], cardToken: string, localDate: BusinessDate, localWeek: string) {
  const rows = await db.$queryRaw<{ id: number; day: number; week: number; total: number }[]>`
    SELECT promotion_id AS id,
           count(*) FILTER (WHERE local_date = ${localDate}::date)::int AS day,
           count(*) FILTER (WHERE local_week = ${localWeek})::int AS week,
           count(*)::int AS total
    FROM redemption WHERE card_token = ${cardToken} AND promotion_id = ANY(${promotionIds}::int[])
    GROUP BY promotion_id`;
  return new Map(rows.map((r) => [r.id, r]));
}

// ---- the mobile query --------------------------------------------------------------------

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
  const offset = args.after ? Number(decodeCursor(args.after)) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw BadInputError.single("after", "not a cursor this API issued");

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
    ), eligible AS (
      SELECT cm.campaign_id, cm.merchant_id FROM campaign_merchant cm JOIN nearby n ON n.id = cm.merchant_id
      UNION
      SELECT cc.campaign_id, m.merchant_id FROM campaign_circle cc JOIN circle_member m ON m.circle_id = cc.circle_id JOIN nearby n ON n.id = m.merchant_id
    )`;
  const offers = await db.$queryRaw<{ id: number; schedule: Window[] }[]>`
    ${nearby}
    SELECT DISTINCT p.id, p.schedule FROM eligible e
    JOIN campaign c ON c.id = e.campaign_id AND c.status = 'ACTIVE' AND ${localDate}::date BETWEEN c.starts_on AND c.ends_on AND c.spent_fen < c.budget_fen
    JOIN promotion p ON p.campaign_id = c.id AND ${localDate}::date BETWEEN p.valid_from AND p.valid_to
      AND (p.budget_cap_fen IS NULL OR p.spent_fen < p.budget_cap_fen) AND (p.prize_stock IS NULL OR p.prize_stock > 0)`;
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
      JOIN promotion p ON p.campaign_id = e.campaign_id AND p.id = ANY(${openIds}::int[])
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
    args.cardToken ? usage(db, pagePromotions, args.cardToken, localDate, periodOf("WEEK", localDate).code) : Promise.resolve(null),
  ]);
  // A promotion appears on one edge per nearby merchant: build it and judge its schedule once.
  const promotions = new Map(
    promotionRows.map((row) => {
      const promotion = toPromotion(row);
      return [row.id, { row, promotion, open: openings(promotion.schedule, local) }];
    }),
  );
  const merchants = new Map(merchantRows.map((m) => [m.id, toMerchant(m)]));

  const edges = rows.map((c, i) => {
    const { row, promotion, open } = promotions.get(c.pid)!;
    const u = used?.get(c.pid) ?? { day: 0, week: 0, total: 0 };
    const left = (limit: number | null, count: number) => (limit == null ? null : Math.max(limit - count, 0));
    const remainingForCard: CardLimits | null = used
      ? { perDay: left(row.perCardPerDay, u.day), perWeek: left(row.perCardPerWeek, u.week), perCampaign: left(row.perCardPerCampaign, u.total) }
      : null;
    const node = Object.assign(new NearbyPromotion(), {
      promotion,
      merchant: merchants.get(c.mid)!,
      distanceMeters: Math.round(c.distance),
      availableUntil: open.closesAt?.toJSDate() ?? null,
      nextAvailableAt: open.nextOpensAt?.toJSDate() ?? null,
      remainingForCard,
    });
    return { cursor: encodeCursor(String(offset + i + 1)), node };
  });
  return {
    edges,
    totalCount: total,
    pageInfo: { hasNextPage: offset + first < total, hasPreviousPage: offset > 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

