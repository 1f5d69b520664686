import { ArgsType, Field, Float, InputType, Int } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import type { BusinessDate } from "../../domain/dates.js";
import { DateScalar } from "../../graphql/scalars.js";
import { MerchantCategory } from "../merchants/merchants.enums.js";
import { CampaignStatus, DayOfWeek, PromotionKind } from "./campaigns.enums.js";

const KEY = { description: "Unique per intended change: a retry with the same key and input returns the first result." } as const;

@InputType()
export class CreateCampaignInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() code!: string;
  @Field() name!: string;
  @Field({ description: "The owning unit." }) branchCode!: string;
  @Field(() => DateScalar) startsOn!: BusinessDate;
  @Field(() => DateScalar) endsOn!: BusinessDate;
  @Field(() => Float, { description: "Yuan, at most two decimals." }) budget!: number;
  @Field(() => [String], { defaultValue: [] }) circleCodes!: string[];
  @Field(() => [String], { defaultValue: [] }) merchantCodes!: string[];
}

@InputType({ description: "Fields left out keep their value." })
export class UpdateCampaignInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() code!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => DateScalar, { nullable: true }) startsOn?: BusinessDate | null;
  @Field(() => DateScalar, { nullable: true }) endsOn?: BusinessDate | null;
  @Field(() => Float, { nullable: true }) budget?: number | null;
  @Field(() => [String], { nullable: true }) circleCodes?: string[] | null;
  @Field(() => [String], { nullable: true }) merchantCodes?: string[] | null;
}

@InputType()
export class TransitionCampaignInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() code!: string;
  @Field(() => CampaignStatus) to!: CampaignStatus;
}

@InputType()
export class ScheduleWindowInput {
  @Field(() => [DayOfWeek]) days!: DayOfWeek[];
  @Field({ description: '"HH:MM"' }) start!: string;
  @Field({ description: '"HH:MM"; "24:00" for midnight; before start: runs past midnight' }) end!: string;
}

@InputType({ description: "Give the fields of the chosen kind only." })
export class PromotionRuleInput {
  @Field(() => PromotionKind) kind!: PromotionKind;
  @Field(() => Int, { nullable: true, description: "PERCENT_OFF: 1..100." }) percentOff?: number | null;
  @Field(() => Float, { nullable: true, description: "PERCENT_OFF: largest discount, yuan." }) maxDiscount?: number | null;
  @Field(() => Float, { nullable: true, description: "FIXED_PRICE: what the cardholder pays, yuan." }) fixedPrice?: number | null;
  @Field(() => Float, { nullable: true, description: "FIXED_PRICE: the regular price, yuan; the bank pays at most the difference." })
  listPrice?: number | null;
  @Field(() => Float, { nullable: true, description: "CASHBACK: yuan back." }) cashback?: number | null;
  @Field(() => Float, { nullable: true, description: "CASHBACK or FIXED_PRICE: spend needed, yuan." }) minSpend?: number | null;
  @Field(() => Float, { nullable: true, description: "LUCKY_DRAW: chance of winning, above 0 and at most 1." }) drawOdds?: number | null;
  @Field(() => Int, { nullable: true, description: "LUCKY_DRAW: prizes in stock." }) prizeStock?: number | null;
  @Field(() => Float, { nullable: true, description: "LUCKY_DRAW: a prize's value, yuan." }) prizeValue?: number | null;
}

@InputType()
export class CardLimitsInput {
  @Field(() => Int, { nullable: true }) perDay?: number | null;
  @Field(() => Int, { nullable: true }) perWeek?: number | null;
  @Field(() => Int, { nullable: true }) perCampaign?: number | null;
}

@InputType()
export class CreatePromotionInput {
  @Field(KEY) idempotencyKey!: string;
  @Field() code!: string;
  @Field() campaignCode!: string;
  @Field() title!: string;
  @Field(() => PromotionRuleInput) rule!: PromotionRuleInput;
  @Field(() => DateScalar, { description: "Within the campaign's period." }) validFrom!: BusinessDate;
  @Field(() => DateScalar) validTo!: BusinessDate;
  @Field(() => [ScheduleWindowInput], { defaultValue: [], description: "Empty: all day, every day." }) schedule!: ScheduleWindowInput[];
  @Field(() => CardLimitsInput, { nullable: true }) limits?: CardLimitsInput | null;
  @Field(() => Float, { nullable: true, description: "Yuan." }) budgetCap?: number | null;
  @Field(() => PromotionScopeInput, { nullable: true, description: "Where the offer applies; left out: at every merchant of the campaign." })
  appliesTo?: PromotionScopeInput | null;
}

@InputType({ description: "Where a promotion applies, within its campaign's merchants: each list given narrows; an empty list does not." })
export class PromotionScopeInput {
  @Field(() => [String], { defaultValue: [], description: "Only these merchants (each one the campaign covers)." }) merchantCodes!: string[];
  @Field(() => [MerchantCategory], { defaultValue: [], description: "Only merchants of these categories." }) categories!: MerchantCategory[];
  @Field(() => [String], { defaultValue: [], description: "Only members of these business circles (each one of the campaign's)." }) circleCodes!: string[];
}

@InputType()
export class RedeemPromotionInput {
  @Field({ description: "The caller's transaction id; a retry returns the first result." }) transactionId!: string;
  @Field() promotionCode!: string;
  @Field() merchantCode!: string;
  @Field({ description: "The card's token, never a card number." }) cardToken!: string;
  @Field(() => DateTimeResolver, { nullable: true, description: "Defaults to now." }) at?: Date | null;
  @Field(() => Float, { description: "The purchase amount, yuan." }) spend!: number;
}

@ArgsType()
export class PromotionsNearArgs {
  @Field(() => Float) latitude!: number;
  @Field(() => Float) longitude!: number;
  @Field(() => Int, { defaultValue: 2000, description: "1..50,000." }) radiusMeters!: number;
  @Field(() => DateTimeResolver, { nullable: true, description: "Defaults to now." }) at?: Date | null;
  @Field(() => String, { nullable: true, description: "Adds what this card has left of each offer's limits." }) cardToken?: string | null;
  @Field(() => Int, { nullable: true, defaultValue: 20, description: "1..50." }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
}
