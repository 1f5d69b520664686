import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from "type-graphql";
import { canSeeStaff, STAFF } from "../../domain/access.js";
import type { Context } from "../../graphql/context.js";
import { writeOptions } from "../common/write-options.js";
import { Allow, demand, Guard, staffVisible } from "../auth/auth.guard.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { fromGlobalId, MAX_PAGE_SIZE, Node } from "../common/relay.js";
import { WriteResult } from "../common/write-result.type.js";
import { AccountManager } from "./account-manager.type.js";
import { Branch, BranchConnection, CHILDREN_ESTIMATE } from "./branch.type.js";
import { AccountManagerInput, BranchInput, BranchListArgs } from "./org.input.js";
import { listBranches, upsertAccountManagers, upsertBranches } from "./org.service.js";

/**
 * A manager the viewer may see. A viewer who cannot see every manager gets the same refusal
 * for one outside their line as for one that does not exist.
 */
async function visibleManager(ctx: Context, code: string): Promise<AccountManager | null> {
  const [viewer, manager] = await Promise.all([ctx.viewer(), ctx.loaders.org.managerByCode.load(code)]);
  if (viewer.role === "HQ") return manager;
  demand(viewer, manager !== null && canSeeStaff(viewer, { id: manager.dbId, branchId: manager.branchId }));
  return manager;
}

@Resolver(() => Branch)
export class BranchResolver {
  @Query(() => Branch, { nullable: true, description: "A unit by its code." })
  @Allow(...STAFF)
  branch(@Arg("code") code: string, @Ctx() ctx: Context): Promise<Branch | null> {
    return ctx.loaders.org.branchByCode.load(code);
  }

  @Query(() => BranchConnection, { description: "Units ordered by code, optionally under one parent, at one level or matching a search." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Allow(...STAFF)
  branches(@Args() { parentCode, level, search, first, after }: BranchListArgs, @Ctx() ctx: Context) {
    return listBranches(ctx.db, { parentCode, level, search }, first, after);
  }

  @Query(() => Node, { nullable: true, description: "Any object by its global id (Relay)." })
  @Allow(...STAFF)
  async node(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    const ref = fromGlobalId(id);
    if (ref?.type === "Branch") return ctx.loaders.org.branchByCode.load(ref.key);
    if (ref?.type === "AccountManager") return visibleManager(ctx, ref.key);
    if (ref?.type === "Merchant") return ctx.loaders.merchants.merchantByCode.load(ref.key);
    if (ref?.type === "BusinessCircle") return ctx.loaders.merchants.circleByCode.load(ref.key);
    return null;
  }

  @FieldResolver(() => Branch, { nullable: true })
  parent(@Root() b: Branch, @Ctx() ctx: Context): Promise<Branch | null> | null {
    return b.parentId === null ? null : ctx.loaders.org.branchById.load(b.parentId);
  }

  @FieldResolver(() => [Branch], { description: "Direct children, ordered by code." })
  @Limits({ rows: Rows.upTo(CHILDREN_ESTIMATE) })
  children(@Root() b: Branch, @Ctx() ctx: Context): Promise<Branch[]> {
    return ctx.loaders.org.childrenOf.load(b.dbId);
  }

  @Mutation(() => WriteResult, { description: "Creates or updates units by code; atomic, idempotent." })
  @Allow("INGEST")
  upsertBranches(@Arg("input", () => [BranchInput]) input: BranchInput[], @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<WriteResult> {
    return upsertBranches(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }
}

@Resolver(() => AccountManager)
export class AccountManagerResolver {
  @Query(() => AccountManager, { nullable: true, description: "An account manager by code." })
  @Allow("HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER")
  accountManager(@Arg("code") code: string, @Ctx() ctx: Context): Promise<AccountManager | null> {
    return visibleManager(ctx, code);
  }

  @FieldResolver(() => Branch, { description: "The unit the manager belongs to." })
  @Guard(staffVisible)
  async branch(@Root() m: AccountManager, @Ctx() ctx: Context): Promise<Branch> {
    return (await ctx.loaders.org.branchById.load(m.branchId))!;
  }

  @Mutation(() => WriteResult, { description: "Creates or updates account managers by code; atomic, idempotent." })
  @Allow("INGEST")
  upsertAccountManagers(
    @Arg("input", () => [AccountManagerInput]) input: AccountManagerInput[],
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<WriteResult> {
    return upsertAccountManagers(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }
}
