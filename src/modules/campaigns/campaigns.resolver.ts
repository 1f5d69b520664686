import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Info, Mutation, ObjectType, Query, Resolver, Root } from "type-graphql";
import { ROLES, STAFF } from "../../domain/access.js";
import type { Context } from "../../graphql/context.js";
import { writeOptions } from "../common/write-options.js";
import { Allow, Guard, ownedResults, staffOnly } from "../auth/auth.guard.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { Connection, MAX_PAGE_SIZE, PageArgs, selectsField } from "../common/relay.js";
import { Branch } from "../org/branch.type.js";
import { PerformanceArgs } from "../performance/performance.args.js";
import { withBudget } from "../results/results.service.js";
import { CampaignResults } from "../results/results.type.js";
import { CampaignStatus } from "./campaigns.enums.js";
import {
  CreateCampaignInput,
  CreatePromotionInput,
  PromotionsNearArgs,
  RedeemPromotionInput,
  TransitionCampaignInput,
  UpdateCampaignInput,
} from "./campaigns.input.js";
import { createCampaign, findCampaign, listCampaigns, transitionCampaign, updateCampaign } from "./campaign.service.js";
import { NEARBY_MAX_AGE_SECONDS, promotionsNear } from "./nearby.service.js";
import { createPromotion, findPromotion } from "./promotion.service.js";
import { redeem } from "./redemption.service.js";
import { Campaign, Promotion, PromotionConnection, PromotionScope, Redemption } from "./campaigns.type.js";

@ObjectType()
class CampaignConnection extends Connection(Campaign, "Campaign") {}

@ArgsType()
class CampaignListArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: "Campaigns owned by this unit or any unit below it." }) branchCode?: string | null;
  @Field(() => CampaignStatus, { nullable: true }) status?: CampaignStatus | null;
}

@Resolver(() => Campaign)
export class CampaignsResolver {
  @Query(() => Campaign, { nullable: true })
  @Allow(...STAFF)
  campaign(@Arg("code") code: string, @Ctx() ctx: Context): Promise<Campaign | null> {
    return findCampaign(ctx.db, code);
  }

  @Query(() => CampaignConnection)
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Allow(...STAFF)
  campaigns(@Args() { branchCode, status, first, after }: CampaignListArgs, @Ctx() ctx: Context) {
    return listCampaigns(ctx.db, { branchCode, status }, first, after);
  }

  @FieldResolver(() => Branch, { description: "The owning unit." })
  async branch(@Root() c: Campaign, @Ctx() ctx: Context): Promise<Branch> {
    return (await ctx.loaders.org.branchById.load(c.branchId))!;
  }

  @FieldResolver(() => [String], { description: "Codes of the eligible business circles." })
  async circleCodes(@Root() c: Campaign, @Ctx() ctx: Context): Promise<string[]> {
    return (await ctx.loaders.campaigns.eligibleCodes.load(c.dbId)).circles;
  }

  @FieldResolver(() => [String], { description: "Codes of the merchants eligible on their own (besides the circles' members)." })
  async merchantCodes(@Root() c: Campaign, @Ctx() ctx: Context): Promise<string[]> {
    return (await ctx.loaders.campaigns.eligibleCodes.load(c.dbId)).merchants;
  }

  @FieldResolver(() => [Promotion])
  // Not capped: an estimate (the story runs one a week, 13 a quarter; the bench 25 per campaign).
  @Limits({ rows: Rows.upTo(50) })
  promotions(@Root() c: Campaign, @Ctx() ctx: Context): Promise<Promotion[]> {
    return ctx.loaders.campaigns.promotionsOf.load(c.dbId);
  }

  @FieldResolver(() => CampaignResults, { description: "What the campaign brought in over a period, as of a date (default today)." })
  @Guard(ownedResults)
  async results(@Root() c: Campaign, @Args() { period, asOf }: PerformanceArgs, @Ctx() ctx: Context): Promise<CampaignResults> {
    return withBudget(await ctx.loaders.results.load({ owner: "campaign", id: c.dbId, period, asOf: asOf ?? ctx.today }), c);
  }

  @Mutation(() => Campaign, { description: "Creates a DRAFT campaign. Idempotent by idempotencyKey." })
  @Allow("MARKETING")
  createCampaign(@Arg("input") input: CreateCampaignInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Campaign> {
    return createCampaign(ctx.db, input, writeOptions(ctx, info));
  }

  @Mutation(() => Campaign, { description: "Changes a campaign's name, dates, budget or eligibility. Idempotent by idempotencyKey." })
  @Allow("MARKETING")
  updateCampaign(@Arg("input") input: UpdateCampaignInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Campaign> {
    return updateCampaign(ctx.db, input, writeOptions(ctx, info));
  }

  @Mutation(() => Campaign, { description: "Moves a campaign along its lifecycle; illegal moves are refused. Idempotent by idempotencyKey." })
  @Allow("MARKETING")
  transitionCampaign(@Arg("input") input: TransitionCampaignInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Campaign> {
    return transitionCampaign(ctx.db, input, writeOptions(ctx, info));
  }
}

@Resolver(() => Promotion)
export class PromotionsResolver {
  @Query(() => Promotion, { nullable: true })
  @Allow(...STAFF)
  promotion(@Arg("code") code: string, @Ctx() ctx: Context): Promise<Promotion | null> {
    return findPromotion(ctx.db, code);
  }

  @Query(() => PromotionConnection, {
    description: "Promotions usable at `at` (default now) at merchants within the radius, nearest first. Cacheable for 30 s (privately with cardToken).",
  })
  @Limits({ rows: Rows.page(50) }) // the service refuses more than 50
  @Allow("ANONYMOUS", ...ROLES)
  async promotionsNear(@Args() args: PromotionsNearArgs, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    // A signed-in caller may see staff-only fields, so only anonymous answers without a card are shared.
    const shared = !args.cardToken && !ctx.claims;
    const c = ctx.config;
    const page = await promotionsNear(ctx.db, args, c.BANK_TIME_ZONE, {
      cache: shared ? { seconds: c.NEARBY_CACHE_SECONDS, decimals: c.NEARBY_CACHE_DECIMALS, entries: c.NEARBY_CACHE_ENTRIES } : undefined,
      // Counting visits every offer within the radius: only when the answer shows the count.
      count: selectsField(info, "totalCount"),
    });
    // An answer from the in-process cache is already `ageSeconds` old: HTTP caches get the rest
    // of the max-age only, so no offer is shown longer than max-age after it stopped.
    ctx.cache.hint(Math.max(NEARBY_MAX_AGE_SECONDS - page.ageSeconds, 0), shared ? "PUBLIC" : "PRIVATE");
    return page;
  }

  @FieldResolver(() => Campaign)
  @Guard(staffOnly)
  async campaign(@Root() p: Promotion, @Ctx() ctx: Context): Promise<Campaign> {
    return (await ctx.loaders.campaigns.campaignById.load(p.campaignId))!;
  }

  @FieldResolver(() => PromotionScope, { description: "Where the offer applies within its campaign's merchants." })
  @Guard(staffOnly)
  appliesTo(@Root() p: Promotion, @Ctx() ctx: Context): Promise<PromotionScope> {
    return ctx.loaders.campaigns.promotionScope.load(p.dbId);
  }

  @Mutation(() => Promotion, { description: "Adds a promotion to a campaign. Idempotent by idempotencyKey." })
  @Allow("MARKETING")
  createPromotion(@Arg("input") input: CreatePromotionInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Promotion> {
    return createPromotion(ctx.db, input, writeOptions(ctx, info));
  }

  @Mutation(() => Redemption, {
    description:
      "Records a card's use of a promotion. Refusals carry a code: PROMOTION_NOT_AVAILABLE, OUTSIDE_SCHEDULE, MERCHANT_NOT_ELIGIBLE, SPEND_NOT_ELIGIBLE, LIMIT_EXCEEDED, BUDGET_EXHAUSTED, OUT_OF_STOCK. Idempotent by transactionId.",
  })
  // Only the acquiring platform that processed the payment reports a use (shared/domain.md).
  @Allow("ACQUIRER")
  redeemPromotion(@Arg("input") input: RedeemPromotionInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Redemption> {
    const clock = { zone: ctx.config.BANK_TIME_ZONE, maxSkewSeconds: ctx.config.REDEMPTION_MAX_CLOCK_SKEW_SECONDS };
    return redeem(ctx.db, input, clock, writeOptions(ctx, info));
  }
}
