import { Field, Float, Int, ObjectType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import type { BusinessDate } from "../../domain/dates.js";
import { DateScalar } from "../../graphql/scalars.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { Connection, Node } from "../common/relay.js";
import { NEARBY_COUNT_CAP } from "../../figures/offer-index.js";
import { MerchantCategory } from "../merchants/merchants.enums.js";
import { Merchant } from "../merchants/merchants.types.js";
import { CampaignStatus, DayOfWeek, PromotionKind } from "./campaigns.enums.js";
import { Guard, ownedResults, promotionResults, staffOnly } from "../auth/auth.guard.js";

/** A marketing programme with a period, a budget and eligible circles and merchants. */
@ObjectType({ implements: Node, description: "A marketing programme with a period, a budget and eligible circles and merchants." })
export class Campaign extends Node {
  dbId!: number;
  branchId!: number;

  @Field() code!: string;
  @Field() name!: string;
  @Field(() => DateScalar) startsOn!: BusinessDate;
  @Field(() => DateScalar) endsOn!: BusinessDate;
  @Field(() => Float, { description: "Yuan." }) budget!: number;
  // What was spent sums the campaign's redemptions: the owning unit's figures.
  @Field(() => Float, { description: "Yuan spent on redemptions so far." }) @Guard(ownedResults) spent!: number;
  @Field(() => Float, { description: "Yuan left." }) @Guard(ownedResults) remaining!: number;
  @Field(() => CampaignStatus) status!: CampaignStatus;
}

@ObjectType({ description: "A weekly window in the bank's time zone; an end before the start runs past midnight." })
export class ScheduleWindow {
  @Field(() => [DayOfWeek]) days!: DayOfWeek[];
  @Field({ description: '"HH:MM"' }) start!: string;
  @Field({ description: '"HH:MM"; "24:00" for midnight' }) end!: string;
}

@ObjectType({ description: "The offer, ready to display." })
export class PromotionRule {
  @Field(() => PromotionKind) kind!: PromotionKind;
  @Field({ description: 'e.g. "20% off, up to ¥15", "Pay ¥1", "¥5 back on ¥50", "1 in 10 wins ¥88"' }) headline!: string;
  @Field(() => Int, { nullable: true }) percentOff!: number | null;
  @Field(() => Float, { nullable: true, description: "PERCENT_OFF: largest discount, yuan." }) maxDiscount!: number | null;
  @Field(() => Float, { nullable: true, description: "FIXED_PRICE: what the cardholder pays, yuan." }) fixedPrice!: number | null;
  @Field(() => Float, { nullable: true, description: "FIXED_PRICE: the regular price, yuan." }) listPrice!: number | null;
  @Field(() => Float, { nullable: true, description: "CASHBACK: yuan back." }) cashback!: number | null;
  @Field(() => Float, { nullable: true, description: "Spend needed to qualify, yuan." }) minSpend!: number | null;
  @Field(() => Float, { nullable: true, description: "LUCKY_DRAW: chance of winning, 0..1." }) drawOdds!: number | null;
  @Field(() => Int, { nullable: true, description: "LUCKY_DRAW: prizes left." }) prizeStock!: number | null;
  @Field(() => Float, { nullable: true, description: "LUCKY_DRAW: a prize's value, yuan." }) prizeValue!: number | null;
}

@ObjectType({ description: "Where a promotion applies, within its campaign's merchants: each non-empty list narrows." })
export class PromotionScope {
  @Field(() => [String]) merchantCodes!: string[];
  @Field(() => [MerchantCategory]) categories!: MerchantCategory[];
  @Field(() => [String]) circleCodes!: string[];
}

@ObjectType({ description: "Uses of this promotion allowed per card; null means no limit." })
export class CardLimits {
  @Field(() => Int, { nullable: true, description: "Per business day in the bank's time zone." }) perDay!: number | null;
  @Field(() => Int, { nullable: true, description: "Per ISO week (Monday to Sunday) in the bank's time zone." }) perWeek!: number | null;
  @Field(() => Int, { nullable: true, description: "Over the whole campaign period." }) perCampaign!: number | null;
}

@ObjectType({ implements: Node, description: "An offer a cardholder can use inside a campaign." })
export class Promotion extends Node {
  dbId!: number;
  campaignId!: number;

  @Field() code!: string;
  @Field() title!: string;
  @Field(() => PromotionRule) rule!: PromotionRule;
  @Field(() => DateScalar) validFrom!: BusinessDate;
  @Field(() => DateScalar) validTo!: BusinessDate;
  // Not capped: an estimate, a window a day.
  @Field(() => [ScheduleWindow], { description: "Empty: all day, every day." }) @Limits({ rows: Rows.upTo(7) }) schedule!: ScheduleWindow[];
  @Field(() => CardLimits) limits!: CardLimits;
  // Budgets are the bank's business, not the cardholder's.
  @Field(() => Float, { nullable: true, description: "Yuan; null: only the campaign's budget applies." }) @Guard(staffOnly) budgetCap!: number | null;
  @Field(() => Float, { description: "Yuan spent so far." }) @Guard(promotionResults) spent!: number;
}

@ObjectType({ description: "A promotion usable now at a merchant near the cardholder." })
export class NearbyPromotion {
  @Field(() => Promotion) promotion!: Promotion;
  @Field(() => Merchant) merchant!: Merchant;
  @Field(() => Int) distanceMeters!: number;
  @Field(() => DateTimeResolver, { nullable: true, description: "When the current window closes; null when valid all day." })
  availableUntil!: Date | null;
  @Field(() => DateTimeResolver, { nullable: true, description: "When the next window opens, for offers not valid all day." })
  nextAvailableAt!: Date | null;
  @Field(() => CardLimits, { nullable: true, description: "Uses the given card has left; null without cardToken." })
  remainingForCard!: CardLimits | null;
}

@ObjectType()
export class PromotionConnection extends Connection(
  NearbyPromotion,
  "Promotion",
  `Offers across all pages, counted up to ${NEARBY_COUNT_CAP}: ${NEARBY_COUNT_CAP} means ${NEARBY_COUNT_CAP} or more (in a dense city centre counting every offer would cost more than the page).`,
) {}

@ObjectType({ description: "A redemption that was accepted." })
export class Redemption {
  @Field() transactionId!: string;
  @Field() promotionCode!: string;
  @Field() merchantCode!: string;
  @Field(() => DateTimeResolver) at!: Date;
  @Field(() => Float, { description: "Yuan." }) spend!: number;
  @Field(() => Float, { description: "What the offer cost the bank, yuan." }) cost!: number;
  @Field(() => Boolean, { nullable: true, description: "LUCKY_DRAW: whether the card won." }) won!: boolean | null;
}
