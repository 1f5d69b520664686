import { Arg, Args, Ctx, FieldResolver, Int, Query, Resolver, Root } from "type-graphql";
import { asOfWindow } from "../../domain/period.js";
import { canRankChildrenOf, canRankManagersOf } from "../../domain/access.js";
import { NotFoundError } from "../../errors.js";
import type { Context } from "../../graphql/context.js";
import { Allow, demand, Guard, staffFigures, unitFigures } from "../auth/auth.guard.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { AccountManager } from "../org/account-manager.type.js";
import { Branch, CHILDREN_ESTIMATE } from "../org/branch.type.js";
import { BranchRankingArgs, ManagerRankingArgs, MAX_RANKING_ROWS, PerformanceArgs } from "./performance.args.js";
import { ALL_METRICS, Granularity, Metric } from "./performance.enums.js";
import { buildPerformance, metricProgress, rankOf, series } from "./performance.service.js";
import { BranchStanding, ManagerStanding, MetricProgress, Performance, SeriesPoint } from "./performance.type.js";

@Resolver(() => Performance)
export class PerformanceResolver {
  @FieldResolver(() => [MetricProgress], { description: "Every metric, in a fixed order." })
  @Limits({ rows: Rows.upTo(ALL_METRICS.length) })
  metrics(@Root() p: Performance, @Ctx() ctx: Context): Promise<MetricProgress[]> {
    return Promise.all(ALL_METRICS.map((m) => metricProgress(ctx.loaders.performance, p, m)));
  }

  @FieldResolver(() => MetricProgress, { description: "One metric." })
  metric(@Root() p: Performance, @Arg("metric", () => Metric) metric: Metric, @Ctx() ctx: Context): Promise<MetricProgress> {
    return metricProgress(ctx.loaders.performance, p, metric);
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description: "Rank among the parent's direct children (for a manager: among the managers of their unit's subtree); null at the root.",
  })
  @Limits({ cost: 1 }) // reads the peers' ranking, shared by the peers on the same page
  rank(@Root() p: Performance, @Arg("metric", () => Metric) metric: Metric, @Ctx() ctx: Context): Promise<number | null> {
    return rankOf(ctx.loaders.performance, p, metric);
  }

  @FieldResolver(() => [SeriesPoint], { description: "Actuals per bucket from the period's first day to the as-of date." })
  // The longest period is a quarter: at most 92 days, 14 ISO weeks, 3 months.
  @Limits({ rows: Rows.byArgument("granularity", { [Granularity.DAY]: 92, [Granularity.WEEK]: 14, [Granularity.MONTH]: 3 }) })
  series(
    @Root() p: Performance,
    @Arg("metric", () => Metric) metric: Metric,
    @Arg("granularity", () => Granularity, { defaultValue: Granularity.WEEK }) granularity: Granularity,
    @Ctx() ctx: Context,
  ): Promise<SeriesPoint[]> {
    return series(ctx.loaders.performance, p, metric, granularity);
  }
}

/** The figures of a unit: a field of the org tree's Branch, declared here so that org needs nothing of performance. */
@Resolver(() => Branch)
export class BranchPerformanceResolver {
  @FieldResolver(() => Performance, { description: "Figures of the unit and everything below it." })
  @Guard(unitFigures)
  performance(@Root() b: Branch, @Args() { period, asOf }: PerformanceArgs, @Ctx() ctx: Context): Performance {
    return buildPerformance({ kind: "branch", id: b.dbId, rankAmong: b.parentId }, period, asOf ?? ctx.today);
  }
}

@Resolver(() => AccountManager)
export class ManagerPerformanceResolver {
  @FieldResolver(() => Performance, { description: "The manager's own figures; rank is among the managers of their unit's subtree." })
  @Guard(staffFigures)
  performance(@Root() m: AccountManager, @Args() { period, asOf }: PerformanceArgs, @Ctx() ctx: Context): Performance {
    return buildPerformance({ kind: "manager", id: m.dbId, rankAmong: m.branchId }, period, asOf ?? ctx.today);
  }
}

@Resolver()
export class RankingResolver {
  @Query(() => [BranchStanding], { description: "The direct children of a unit, ranked (shared/domain.md ranking rules)." })
  @Limits({ rows: Rows.upTo(CHILDREN_ESTIMATE) })
  @Allow("HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER")
  async branchRanking(@Args() { parentCode, period, metric, asOf }: BranchRankingArgs, @Ctx() ctx: Context): Promise<BranchStanding[]> {
    // The parent is found by the ranking's own statement; nothing of it is returned before the check.
    const window = asOfWindow(period, asOf ?? ctx.today);
    const [viewer, { parent, ranked }] = await Promise.all([ctx.viewer(), ctx.loaders.performance.branchRankingByCode.load({ parentCode, period, metric, window })]);
    if (viewer.role !== "HQ") demand(viewer, parent !== null && canRankChildrenOf(viewer, parent.dbId));
    if (!parent) throw new NotFoundError("unit", parentCode, "parentCode");
    return ranked;
  }

  @Query(() => [ManagerStanding], { description: "The account managers of a unit's subtree, ranked." })
  @Limits({ rows: Rows.page(MAX_RANKING_ROWS) })
  @Allow("HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER")
  async accountManagerRanking(@Args() { branchCode, period, metric, asOf, first }: ManagerRankingArgs, @Ctx() ctx: Context): Promise<ManagerStanding[]> {
    const [viewer, unit] = await Promise.all([ctx.viewer(), ctx.loaders.org.branchByCode.load(branchCode)]);
    if (viewer.role !== "HQ") demand(viewer, unit !== null && canRankManagersOf(viewer, unit.dbId));
    if (!unit) throw new NotFoundError("unit", branchCode, "branchCode");
    const ranked = await ctx.loaders.performance.managerRanking.load({ unitId: unit.dbId, period, metric, window: asOfWindow(period, asOf ?? ctx.today) });
    // Who is in it is then visible to the reader by the staff rule (domain/access.ts canSeeStaff).
    return ranked.slice(0, first);
  }
}
