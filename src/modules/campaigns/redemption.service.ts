/**
 * Redemptions: the acquiring platform reports a card's use of a promotion; the rules of the
 * promotion and its campaign decide, under row locks, whether it counts and what it costs.
 */
import { randomInt } from "node:crypto";
import { DateTime } from "luxon";
import type { Db } from "../../db/database.js";
import { lockCampaign, lockPromotion, lockTransactionId } from "../../db/locks.js";
import { inTransaction, type AuditOptions, type Tx } from "../../db/transaction.js";
import type { ChangeLog } from "../../live/change.js";
import { fromDbDate, toDbDate } from "../../domain/dates.js";
import { fenNumber, fenToYuan } from "../../domain/money.js";
import { periodOf } from "../../domain/period.js";
import { cardTokenProblem, isOpenAt, redemptionCost, type ScheduleWindow as Window } from "../../domain/promotion.js";
import { AppError, IssueCollector, NotFoundError, type ErrorCode } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { idOf } from "../common/lookup.js";
import { checkCode, checkYuan } from "../common/validate.js";
import { CampaignStatus, PromotionKind } from "./campaigns.enums.js";
import type { RedeemPromotionInput } from "./campaigns.input.js";
import { promotionMerchants } from "../../figures/coverage.js";
import { refreshOffers } from "../../figures/offer-index.js";
import { cardUsage, NO_USE } from "./campaigns.sql.js";
import { Redemption } from "./campaigns.type.js";

/** The bank's clock as a redemption sees it. */
export interface Clock {
  /** The bank's time zone: schedules, days and weeks are local to it. */
  zone: string;
  now?: Date;
  /** How far `at` may be from `now`, in seconds. */
  maxSkewSeconds: number;
}

/** A rule said no: rolled back and reported with the rule's code. */
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
  const spendFen = checkYuan(issues, "spend", input.spend);
  issues.throwIfAny();
  const at = input.at ?? now;
  const local = DateTime.fromJSDate(at, { zone });
  const localDate = local.toISODate()!;
  const localWeek = periodOf("WEEK", localDate).code;

  const attempt = async (tx: Tx, changes: ChangeLog): Promise<Redemption | Refusal> => {
    await lockTransactionId(tx, input.transactionId);
    const previous = await tx.redemption.findUnique({ where: { transactionId: input.transactionId }, include: { promotion: { select: { code: true } } } });
    if (previous) return replay(tx, previous, input, at, spendFen!);

    const promotion = await tx.promotion.findUnique({ where: { code: input.promotionCode } });
    if (!promotion) throw new NotFoundError("promotion", input.promotionCode, "promotionCode");
    // A promotion's spending and its prizes only ever go one way and its cap never changes, so
    // a spent cap or an empty stock seen before any lock is final: refused without queueing
    // behind the campaign's lock (a hot offer's last yuan draws a crowd of such attempts).
    if (promotion.budgetCapFen != null && promotion.spentFen >= promotion.budgetCapFen) return new Refusal("BUDGET_EXHAUSTED", "the promotion's budget is spent");
    if (promotion.kind === PromotionKind.LUCKY_DRAW && (promotion.prizeStock ?? 0) <= 0) return new Refusal("OUT_OF_STOCK", "no prizes are left");
    const merchantId = await idOf(tx, "merchant", input.merchantCode, "merchantCode");
    // Campaign first, then promotion: the order of db/locks.ts, so no two redemptions deadlock.
    const campaign = (await lockCampaign(tx, { id: promotion.campaignId }))!;
    const locked = await lockPromotion(tx, promotion.id);

    if (campaign.status !== CampaignStatus.ACTIVE) {
      return campaign.spentFen >= campaign.budgetFen
        ? new Refusal("BUDGET_EXHAUSTED", "the campaign's budget is spent")
        : new Refusal("PROMOTION_NOT_AVAILABLE", `the campaign is ${campaign.status}`);
    }
    if (localDate < fromDbDate(campaign.startsOn) || localDate > fromDbDate(campaign.endsOn) || localDate < fromDbDate(promotion.validFrom) || localDate > fromDbDate(promotion.validTo)) {
      return new Refusal("PROMOTION_NOT_AVAILABLE", `the promotion is valid ${fromDbDate(promotion.validFrom)}..${fromDbDate(promotion.validTo)}, not on ${localDate}`);
    }
    if (!isOpenAt(promotion.schedule as unknown as Window[], local)) {
      return new Refusal("OUTSIDE_SCHEDULE", `the promotion is not open at ${local.toFormat("ccc HH:mm")} (${zone})`);
    }
    const [eligible] = await tx.$queryRaw<{ ok: boolean }[]>`
      SELECT EXISTS (${promotionMerchants({ promotions: [promotion.id], merchants: [merchantId] })}) AS ok`;
    if (!eligible.ok) return new Refusal("MERCHANT_NOT_ELIGIBLE", `the promotion does not apply at merchant "${input.merchantCode}"`);

    const used = await cardUsage(tx, [promotion.id], input.cardToken, localDate, localWeek);
    const u = used.get(promotion.id) ?? NO_USE;
    for (const [limit, count, what] of [
      [promotion.perCardPerDay, u.day, "day"],
      [promotion.perCardPerWeek, u.week, "week"],
      [promotion.perCardPerCampaign, u.total, "campaign"],
    ] as const) {
      if (limit != null && count >= limit) return new Refusal("LIMIT_EXCEEDED", `this card has used the promotion ${count} time(s) this ${what}; the limit is ${limit}`);
    }

    let won: boolean | null = null;
    if (promotion.kind === PromotionKind.LUCKY_DRAW) {
      if ((locked.prizeStock ?? 0) <= 0) return new Refusal("OUT_OF_STOCK", "no prizes are left");
      won = randomInt(1_000_000) < Math.round((promotion.drawOdds ?? 0) * 1_000_000);
    }
    const cost = redemptionCost(
      { kind: promotion.kind, percentOff: promotion.percentOff, amountFen: fenNumber(promotion.amountFen), minSpendFen: fenNumber(promotion.minSpendFen), listPriceFen: fenNumber(promotion.listPriceFen) },
      spendFen!,
      won === true,
    );
    if ("reason" in cost) return new Refusal("SPEND_NOT_ELIGIBLE", cost.reason);
    const costFen = BigInt(cost.costFen);
    if (promotion.budgetCapFen != null && locked.spentFen + costFen > promotion.budgetCapFen) {
      return new Refusal("BUDGET_EXHAUSTED", "the promotion's budget cannot cover this use");
    }
    if (campaign.spentFen + costFen > campaign.budgetFen) {
      return new Refusal("BUDGET_EXHAUSTED", `the campaign has ${fenToYuan(campaign.budgetFen - campaign.spentFen)} yuan left, not enough for this use`);
    }

    await tx.redemption.create({
      data: {
        transactionId: input.transactionId, promotionId: promotion.id, merchantId: merchantId, cardToken: input.cardToken, at,
        localDate: toDbDate(localDate), localWeek, spendFen: BigInt(spendFen!), costFen, won,
      },
    });
    await tx.promotion.update({
      where: { id: promotion.id },
      data: { spentFen: { increment: costFen }, ...(won ? { prizeStock: { decrement: 1 } } : {}) },
    });
    const spent = campaign.spentFen + costFen;
    const paused = spent >= campaign.budgetFen;
    await tx.campaign.update({
      where: { id: campaign.id },
      data: { spentFen: spent, ...(paused ? { status: CampaignStatus.PAUSED } : {}) },
    });
    // The use that spends the last fen or prize takes the offer out of the index with it; the
    // others change nothing it holds, so they skip the refresh.
    const promotionSpent = promotion.budgetCapFen != null && locked.spentFen + costFen >= promotion.budgetCapFen;
    const outOfStock = won === true && (locked.prizeStock ?? 0) <= 1;
    if (paused) await refreshOffers(tx, { campaigns: [campaign.id] });
    else if (promotionSpent || outOfStock) await refreshOffers(tx, { promotions: [promotion.id] });
    // Spent, remaining, results and (when this use spent the last fen) the self-pause.
    changes.add({ campaigns: [campaign.code] });
    return Object.assign(new Redemption(), {
      transactionId: input.transactionId, promotionCode: promotion.code, merchantCode: input.merchantCode, at,
      spend: fenToYuan(spendFen!)!, cost: fenToYuan(costFen)!, won,
    });
  };
  return inTransaction(db, options, async (tx, changes) => {
    const outcome = await attempt(tx, changes);
    // Thrown inside: a refusal rolls back, so its audit entry never says it succeeded.
    if (outcome instanceof Refusal) throw new AppError(outcome.code, outcome.message);
    return outcome;
  });
}

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
    spend: fenToYuan(previous.spendFen)!, cost: fenToYuan(previous.costFen)!, won: previous.won,
  });
}
