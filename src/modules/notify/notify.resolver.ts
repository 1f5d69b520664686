import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Info, Mutation, Resolver, Root } from "type-graphql";
import { canManageWebhooks } from "../../domain/access.js";
import type { Context } from "../../graphql/context.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { Allow, demand, Guard, type Rule } from "../auth/auth.guard.js";
import { MAX_PAGE_SIZE, PageArgs } from "../common/relay.js";
import { writeOptions } from "../common/write-options.js";
import { Branch } from "../org/branch.type.js";
import { DeliveryStatus } from "./notify.enums.js";
import { RegisterWebhookInput, RemoveWebhookInput, UpdateWebhookInput } from "./notify.input.js";
import { GroupWebhook, GroupWebhookConnection, WebhookDeliveryConnection, WebhookRegistration } from "./notify.type.js";
import { findWebhook, listDeliveries, listWebhooks, registerWebhook, removeWebhook, updateWebhook } from "./webhooks.service.js";

/** Where a unit's figures are sent, and what was sent: its webhooks' managers only. */
const webhookManagers: Rule<{ dbId: number }> = (v, b) => canManageWebhooks(v, b.dbId);
const ownWebhook: Rule<{ branchId: number }> = (v, w) => canManageWebhooks(v, w.branchId);

@ArgsType()
class DeliveryArgs extends PageArgs {
  @Field(() => DeliveryStatus, { nullable: true, description: "Only deliveries in this state." }) status?: DeliveryStatus | null;
}

/** The caller must manage the webhook's unit; an unknown webhook gets the same refusal (its code says nothing of who has one). */
async function demandManages(ctx: Context, code: string): Promise<void> {
  const [viewer, webhook] = await Promise.all([ctx.viewer(), findWebhook(ctx.db, code)]);
  demand(viewer, webhook !== null && canManageWebhooks(viewer, webhook.branchId));
}

@Resolver(() => GroupWebhook)
export class GroupWebhooksResolver {
  @Mutation(() => WebhookRegistration, {
    description: "Registers a work-chat group bot for a unit: its milestones and daily report are POSTed there, signed. The answer holds the signing secret, shown this once.",
  })
  @Allow("HQ", "BRANCH_MANAGER")
  async registerWebhook(@Arg("input") input: RegisterWebhookInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<WebhookRegistration> {
    const [viewer, unit] = await Promise.all([ctx.viewer(), ctx.loaders.org.branchByCode.load(input.branchCode)]);
    if (viewer.role !== "HQ") demand(viewer, unit !== null && canManageWebhooks(viewer, unit.dbId));
    return registerWebhook(ctx.db, input, ctx.today, writeOptions(ctx, info), ctx.config.WEBHOOK_PRIVATE_ADDRESSES);
  }

  @Mutation(() => GroupWebhook, { description: "Changes a webhook's settings; the signing secret stays." })
  @Allow("HQ", "BRANCH_MANAGER")
  async updateWebhook(@Arg("input") input: UpdateWebhookInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<GroupWebhook> {
    await demandManages(ctx, input.code);
    return updateWebhook(ctx.db, input, ctx.today, writeOptions(ctx, info), ctx.config.WEBHOOK_PRIVATE_ADDRESSES);
  }

  @Mutation(() => GroupWebhook, { description: "Removes a webhook; what it had not delivered yet is dropped." })
  @Allow("HQ", "BRANCH_MANAGER")
  async removeWebhook(@Arg("input") input: RemoveWebhookInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<GroupWebhook> {
    await demandManages(ctx, input.code);
    return removeWebhook(ctx.db, input.code, writeOptions(ctx, info));
  }

  @FieldResolver(() => Branch, { description: "The unit whose figures the group hears of." })
  async branch(@Root() w: GroupWebhook, @Ctx() ctx: Context): Promise<Branch> {
    return (await ctx.loaders.org.branchById.load(w.branchId))!;
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: "What was sent (or is being retried), newest first, with each attempt's outcome." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Guard(ownWebhook)
  deliveries(@Root() w: GroupWebhook, @Args() { first, after, status }: DeliveryArgs, @Ctx() ctx: Context) {
    return listDeliveries(ctx.db, w.dbId, status ?? null, first, after);
  }
}

/** A unit's webhooks: a field of the org tree's Branch, declared here so that org needs nothing of notify. */
@Resolver(() => Branch)
export class BranchWebhooksResolver {
  @FieldResolver(() => GroupWebhookConnection, { description: "The work-chat groups this unit's milestones and daily report go to." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Guard(webhookManagers)
  webhooks(@Root() b: Branch, @Args() { first, after }: PageArgs, @Ctx() ctx: Context) {
    return listWebhooks(ctx.db, b.dbId, first, after);
  }
}
