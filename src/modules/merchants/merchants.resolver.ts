/**
 * Merchants, business circles and the visit log. Resolvers stay thin: queries and writes go
 * to the service, relations to the per-request loaders.
 */
import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, Ctx, FieldResolver, Info, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { canRecordVisitOf, STAFF, visitScopeOf } from "../../domain/access.js";
import { ForbiddenError } from "../../errors.js";
import type { Context } from "../../graphql/context.js";
import { writeOptions } from "../common/write-options.js";
import { Allow, Guard, ownedResults, staffOnly, visitReaders } from "../auth/auth.guard.js";
import { PerformanceArgs } from "../performance/performance.args.js";
import { AttributedResults } from "../results/results.type.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { decodeCursor, MAX_PAGE_SIZE, PageArgs, type Page } from "../common/relay.js";
import { WriteResult } from "../common/write-result.type.js";
import { AccountManager } from "../org/account-manager.type.js";
import { Branch } from "../org/branch.type.js";
import { BusinessCircleInput, CircleListArgs, MerchantInput, MerchantListArgs, VisitInput, VisitListArgs } from "./merchants.input.js";
import { listCircles, listMerchants, listVisits, parseVisitCursor, recordVisits, upsertBusinessCircles, upsertMerchants } from "./merchants.service.js";
import { BusinessCircle, BusinessCircleConnection, Merchant, MerchantConnection, Visit, VisitConnection } from "./merchants.types.js";

/** The unit a row points at; the foreign key guarantees it exists. */
async function branchOf(ctx: Context, branchId: number): Promise<Branch> {
  return (await ctx.loaders.org.branchById.load(branchId))!;
}

@Resolver(() => Merchant)
export class MerchantsResolver {
  @Query(() => Merchant, { nullable: true, description: "A merchant by its code." })
  @Allow(...STAFF)
  merchant(@Arg("code") code: string, @Ctx() ctx: Context): Promise<Merchant | null> {
    return ctx.loaders.merchants.merchantByCode.load(code);
  }

  @Query(() => MerchantConnection, { description: "Merchants ordered by code, optionally of a unit's subtree, of a circle or matching a search." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Allow(...STAFF)
  merchants(@Args() { branchCode, circleCode, search, first, after }: MerchantListArgs, @Ctx() ctx: Context): Promise<Page<Merchant>> {
    return listMerchants(ctx.db, { branchCode, circleCode, search }, first, after);
  }

  @FieldResolver(() => Branch, { description: "The unit that owns the merchant relationship." })
  @Guard(staffOnly)
  branch(@Root() m: Merchant, @Ctx() ctx: Context): Promise<Branch> {
    return branchOf(ctx, m.branchId);
  }

  @FieldResolver(() => [BusinessCircle], { description: "The business circles the merchant belongs to, by code." })
  // Not capped: an estimate (the bench's merchants belong to 0.8 circles on average).
  @Limits({ rows: Rows.upTo(10) })
  circles(@Root() m: Merchant, @Ctx() ctx: Context): Promise<BusinessCircle[]> {
    return ctx.loaders.merchants.circlesOfMerchant.load(m.dbId);
  }

  @FieldResolver(() => VisitConnection, { description: "Staff visits to the merchant, newest first (only those the caller may read)." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Guard(visitReaders)
  visits(@Root() m: Merchant, @Args() { first, after }: PageArgs, @Ctx() ctx: Context): Promise<Page<Visit>> {
    return ctx.loaders.merchants.visitsPage.load({ parentId: m.dbId, first, after, cursor: parseVisitCursor(after) });
  }

  @Mutation(() => WriteResult, { description: "Creates or updates merchants by code; atomic, idempotent." })
  @Allow("MARKETING")
  upsertMerchants(@Arg("input", () => [MerchantInput]) input: MerchantInput[], @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<WriteResult> {
    return upsertMerchants(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }
}

@Resolver(() => BusinessCircle)
export class BusinessCircleResolver {
  @Query(() => BusinessCircle, { nullable: true, description: "A business circle by its code." })
  @Allow(...STAFF)
  businessCircle(@Arg("code") code: string, @Ctx() ctx: Context): Promise<BusinessCircle | null> {
    return ctx.loaders.merchants.circleByCode.load(code);
  }

  @Query(() => BusinessCircleConnection, { description: "Business circles ordered by code, optionally of a unit's subtree or of one kind." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Allow(...STAFF)
  businessCircles(@Args() { branchCode, kind, first, after }: CircleListArgs, @Ctx() ctx: Context): Promise<Page<BusinessCircle>> {
    return listCircles(ctx.db, { branchCode, kind }, first, after);
  }

  @FieldResolver(() => AttributedResults, { description: "What the circle's merchants brought in over a period, as of a date (default today)." })
  @Guard(ownedResults)
  results(@Root() c: BusinessCircle, @Args() { period, asOf }: PerformanceArgs, @Ctx() ctx: Context): Promise<AttributedResults> {
    return ctx.loaders.results.load({ owner: "circle", id: c.dbId, period, asOf: asOf ?? ctx.today });
  }

  @FieldResolver(() => Branch, { description: "The unit that runs the circle." })
  @Guard(staffOnly)
  branch(@Root() c: BusinessCircle, @Ctx() ctx: Context): Promise<Branch> {
    return branchOf(ctx, c.branchId);
  }

  @FieldResolver(() => MerchantConnection, { description: "The circle's merchants, by code." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Guard(staffOnly)
  merchants(@Root() c: BusinessCircle, @Args() { first, after }: PageArgs, @Ctx() ctx: Context): Promise<Page<Merchant>> {
    return ctx.loaders.merchants.membersPage.load({ parentId: c.dbId, first, after, cursor: decodeCursor(after) });
  }

  @FieldResolver(() => Int, { description: "Number of merchants in the circle." })
  @Limits({ cost: 1 }) // a count of its own
  merchantCount(@Root() c: BusinessCircle, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.merchants.memberCount.load(c.dbId);
  }

  @Mutation(() => WriteResult, { description: "Creates or updates business circles by code, replacing each one's members; atomic, idempotent." })
  @Allow("MARKETING")
  upsertBusinessCircles(
    @Arg("input", () => [BusinessCircleInput]) input: BusinessCircleInput[],
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<WriteResult> {
    return upsertBusinessCircles(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }
}

@Resolver(() => Visit)
export class VisitResolver {
  @Query(() => VisitConnection, {
    description: "Staff visits, newest first, optionally by the managers of a unit's subtree, of one merchant or manager, or in a date range.",
  })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Allow("HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER")
  async visits(@Args() { branchCode, merchantCode, managerCode, from, to, first, after }: VisitListArgs, @Ctx() ctx: Context): Promise<Page<Visit>> {
    const scope = visitScopeOf(await ctx.viewer())!;
    return listVisits(ctx.db, { branchCode, merchantCode, managerCode, from, to }, scope, first, after);
  }

  @FieldResolver(() => AccountManager, { description: "The account manager who visited." })
  async manager(@Root() v: Visit, @Ctx() ctx: Context): Promise<AccountManager> {
    return (await ctx.loaders.org.managerById.load(v.managerId))!;
  }

  @FieldResolver(() => Merchant)
  async merchant(@Root() v: Visit, @Ctx() ctx: Context): Promise<Merchant> {
    return (await ctx.loaders.merchants.merchantById.load(v.merchantId))!;
  }

  @Mutation(() => WriteResult, {
    description: "Records visits keyed by (managerCode, merchantCode, visitedOn); atomic, idempotent. An account manager records only their own.",
  })
  @Allow("INGEST", "ACCOUNT_MANAGER")
  async recordVisits(@Arg("input", () => [VisitInput]) input: VisitInput[], @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<WriteResult> {
    const viewer = await ctx.viewer();
    if (viewer.role !== "INGEST") {
      const managers = await ctx.loaders.org.managerByCode.loadMany(input.map((v) => v.managerCode));
      const others = input.flatMap((_, index) => {
        const m = managers[index];
        return m && !(m instanceof Error) && canRecordVisitOf(viewer, m.dbId) ? [] : [{ index, field: "managerCode", reason: "an account manager records only their own visits" }];
      });
      if (others.length) throw new ForbiddenError(`Forbidden: ${others.length} visit(s) are not yours to record`, others);
    }
    return recordVisits(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }
}
