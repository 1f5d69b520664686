/**
 * A campaign, live (graphql-ws, src/live/subscriptions.ts): shown again after each committed
 * write that changed it (money spent, status, a self-pause when the budget runs out, its
 * dates or eligibility) or the records it is credited with (its results). Each event runs on a
 * fresh context, so `spent`, `remaining` and `results` are exactly what the queries show.
 */
import { Arg, Ctx, Resolver, Root, Subscription } from "type-graphql";
import { canReadOwnedResults, STAFF } from "../../domain/access.js";
import { NotFoundError } from "../../errors.js";
import type { Context } from "../../graphql/context.js";
import { Ticks, type Tick } from "../../live/ticks.js";
import { Allow, demand } from "../auth/auth.guard.js";
import { findCampaign } from "./campaign.service.js";
import { Campaign } from "./campaigns.type.js";

/**
 * The campaign, for a viewer who may read what it brought in (the owned-results rule): what a
 * subscriber follows is its spending and results. Missing and out of reach answer alike.
 */
async function followedCampaign(ctx: Context, code: string): Promise<Campaign> {
  const [viewer, campaign] = await Promise.all([ctx.viewer(), findCampaign(ctx.db, code)]);
  if (viewer.role !== "HQ" && viewer.role !== "MARKETING") demand(viewer, campaign !== null && canReadOwnedResults(viewer, campaign.branchId));
  if (!campaign) throw new NotFoundError("campaign", code, "code");
  return campaign;
}

@Resolver()
export class CampaignSubscriptionResolver {
  @Subscription(() => Campaign, {
    description:
      "A campaign as `campaign(code)` shows it: first the current state, then again after each committed change to its spending, status (a self-pause included), terms or results, at most once per LIVE_COALESCE_MS.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { code } = args as { code: string };
      await followedCampaign(ctx, code);
      return new Ticks(ctx.feed, (change) => change.rederived || change.campaigns.includes(code) || change.figures.campaigns.includes(code), ctx.config.LIVE_COALESCE_MS);
    },
  })
  @Allow(...STAFF)
  campaignChanged(@Root() _tick: Tick, @Arg("code") code: string, @Ctx() ctx: Context): Promise<Campaign> {
    // Checked again at each event, like every query.
    return followedCampaign(ctx, code);
  }
}
