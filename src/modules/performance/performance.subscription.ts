/**
 * Live figures (graphql-ws, src/live/subscriptions.ts): a unit's Performance and a unit's
 * children's standings, shown again after each committed write that may move them. Each
 * event runs the same resolver, with the same access rule, as the query that shows the same
 * thing (`branch { performance }`, `branchRanking`), on a fresh context, so an event is
 * exactly what the query would answer at that moment; the transport sends it only when it
 * differs from the last one sent to that subscription.
 */
import { Args, ArgsType, Ctx, Field, Resolver, Root, Subscription } from "type-graphql";
import { canReadUnitFigures } from "../../domain/access.js";
import type { BusinessDate } from "../../domain/dates.js";
import type { Period } from "../../domain/period.js";
import { NotFoundError } from "../../errors.js";
import type { Context } from "../../graphql/context.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { DateScalar, PeriodScalar } from "../../graphql/scalars.js";
import type { Change } from "../../live/change.js";
import { Ticks, type Concerns, type Tick } from "../../live/ticks.js";
import { Allow, demand } from "../auth/auth.guard.js";
import { Branch, CHILDREN_ESTIMATE } from "../org/branch.type.js";
import { createOrgLoaders } from "../org/org.loader.js";
import { BranchRankingArgs } from "./performance.args.js";
import { BranchPerformanceResolver, RankingResolver } from "./performance.resolver.js";
import { BranchStanding, Performance } from "./performance.type.js";

@ArgsType()
class FiguresChangedArgs {
  @Field({ description: "The unit whose figures are followed." }) branchCode!: string;
  @Field(() => PeriodScalar) period!: Period;
  // A page showing a past date follows it too: a record dated on or before it still moves its figures.
  @Field(() => DateScalar, { nullable: true, description: "Defaults to today in the bank's time zone (at each event)." })
  asOf?: BusinessDate | null;
}

/**
 * Which units' changes concern a subscription: `figures` (their daily counts moved; a
 * write names every ancestor of a moved record, so a unit's parent stands for all its
 * children) and `targets`. A re-org concerns every subscription and reloads the sets.
 */
interface Watched {
  figures: ReadonlySet<string>;
  targets: ReadonlySet<string>;
}

function watching(load: () => Promise<Watched>): Concerns {
  // A failed load is seen (and answered with a tick) by the next change that awaits it; until
  // then it must not count as an unhandled rejection.
  const loading = () => {
    const p = load();
    p.catch(() => {});
    return p;
  };
  let watched = loading();
  return async (change: Change) => {
    if (change.reorg || change.rederived) {
      watched = loading();
      return true;
    }
    const w = await watched;
    return change.figures.units.some((u) => w.figures.has(u)) || change.targets.units.some((u) => w.targets.has(u));
  };
}

/** A unit the viewer may read the figures of (NOT_FOUND, or FORBIDDEN alike for missing and out of reach). */
async function readableUnit(ctx: Context, code: string): Promise<Branch> {
  const [viewer, unit] = await Promise.all([ctx.viewer(), ctx.loaders.org.branchByCode.load(code)]);
  if (viewer.role !== "HQ") demand(viewer, unit !== null && canReadUnitFigures(viewer, unit.dbId));
  if (!unit) throw new NotFoundError("unit", code, "branchCode");
  return unit;
}

@Resolver()
export class PerformanceSubscriptionResolver {
  @Subscription(() => Performance, {
    description:
      "A unit's figures, as `branch(code) { performance(period) }` shows them: first the current state, then again after each committed write that changed what this selection shows (targets, actuals, the rank among its peers), at most once per LIVE_COALESCE_MS.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const unit = await readableUnit(ctx, (args as FiguresChangedArgs).branchCode);
      const concerns = watching(async () => {
        // Its rank moves with its peers' figures (their parent's) and targets. The unit is
        // looked up again: a re-org may have moved it, and a demo load renumbers every unit.
        const org = createOrgLoaders(ctx.db);
        const now = (await org.branchByCode.load(unit.code)) ?? unit;
        const parent = now.parentId === null ? null : await org.branchById.load(now.parentId);
        const peers = parent ? await org.childrenOf.load(parent.dbId) : [];
        return { figures: new Set([unit.code, ...(parent ? [parent.code] : [])]), targets: new Set([unit.code, ...peers.map((p) => p.code)]) };
      });
      return new Ticks(ctx.feed, concerns, ctx.config.LIVE_COALESCE_MS);
    },
  })
  @Allow("HQ", "BRANCH_MANAGER")
  async figuresChanged(@Root() _tick: Tick, @Args() { branchCode, period, asOf }: FiguresChangedArgs, @Ctx() ctx: Context): Promise<Performance> {
    // Checked again at each event: a re-org may have moved the unit out of the viewer's reach.
    const unit = await readableUnit(ctx, branchCode);
    return new BranchPerformanceResolver().performance(unit, { period, asOf: asOf ?? null }, ctx);
  }

  @Subscription(() => [BranchStanding], {
    description:
      "The standings of a unit's direct children, as `branchRanking` shows them: first the current ones, then again only when the order or a figure changed, at most once per LIVE_COALESCE_MS.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { parentCode } = args as BranchRankingArgs;
      await new RankingResolver().branchRanking(args as BranchRankingArgs, ctx); // the query's refusals, before anything is followed
      const concerns = watching(async () => {
        const org = createOrgLoaders(ctx.db);
        const parent = await org.branchByCode.load(parentCode);
        const children = parent ? await org.childrenOf.load(parent.dbId) : [];
        return { figures: new Set([parentCode]), targets: new Set(children.map((c) => c.code)) };
      });
      return new Ticks(ctx.feed, concerns, ctx.config.LIVE_COALESCE_MS);
    },
  })
  @Limits({ rows: Rows.upTo(CHILDREN_ESTIMATE) })
  @Allow("HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER")
  rankingChanged(@Root() _tick: Tick, @Args() args: BranchRankingArgs, @Ctx() ctx: Context): Promise<BranchStanding[]> {
    return new RankingResolver().branchRanking(args, ctx);
  }
}
