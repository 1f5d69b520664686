import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Info, Mutation, Query, Resolver, Root } from "type-graphql";
import { canListPlansUnder, canManagePlan, canReadPlan } from "../../domain/access.js";
import type { Period } from "../../domain/period.js";
import { NotFoundError } from "../../errors.js";
import type { Context } from "../../graphql/context.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { PeriodScalar } from "../../graphql/scalars.js";
import { writeOptions } from "../common/write-options.js";
import { Allow, demand, Guard, planPayroll, staffFigures, unitFigures } from "../auth/auth.guard.js";
import { MAX_PAGE_SIZE, PageArgs } from "../common/relay.js";
import { AccountManager } from "../org/account-manager.type.js";
import { Branch } from "../org/branch.type.js";
import { calculateStatements } from "./calculation.service.js";
import { RecipientKind } from "./incentives.enums.js";
import { CalculateStatementsInput, CreatePlanInput, StatementsTransitionInput, TransitionPlanInput, UpdatePlanInput } from "./incentives.input.js";
import {
  IncentivePlan,
  IncentivePlanConnection,
  IncentiveStatement,
  IncentiveStatementConnection,
  StatementsCalculation,
  StatementsTransition,
} from "./incentives.type.js";
import { createPlan, findPlan, listPlans, transitionPlan, updatePlan } from "./plans.service.js";
import { approveStatements, lockStatements, planStatements } from "./statements.service.js";

/** Statements one recipient may have for one period: a few plans, each with its adjustments (an estimate). */
const STATEMENTS_ESTIMATE = 10;

@ArgsType()
class PlanListArgs extends PageArgs {
  @Field({ description: "Plans issued by this unit or any unit below it." }) branchCode!: string;
  @Field(() => PeriodScalar, { nullable: true }) period?: Period | null;
}

/** The caller must be a branch manager of the plan's unit or above; an unknown plan gets the same refusal. */
async function demandManages(ctx: Context, planCode: string): Promise<void> {
  const [viewer, plan] = await Promise.all([ctx.viewer(), findPlan(ctx.db, planCode)]);
  demand(viewer, plan !== null && canManagePlan(viewer, plan.branchId));
}

@Resolver(() => IncentivePlan)
export class IncentivePlansResolver {
  @Query(() => IncentivePlan, { nullable: true, description: "An assessment plan with the rules of its current version." })
  @Allow("HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER")
  async plan(@Arg("code") code: string, @Ctx() ctx: Context): Promise<IncentivePlan | null> {
    const [viewer, plan] = await Promise.all([ctx.viewer(), findPlan(ctx.db, code)]);
    if (viewer.role !== "HQ") demand(viewer, plan !== null && canReadPlan(viewer, plan.branchId));
    return plan;
  }

  @Query(() => IncentivePlanConnection)
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Allow("HQ", "BRANCH_MANAGER")
  async plans(@Args() { branchCode, period, first, after }: PlanListArgs, @Ctx() ctx: Context) {
    const [viewer, unit] = await Promise.all([ctx.viewer(), ctx.loaders.org.branchByCode.load(branchCode)]);
    if (viewer.role !== "HQ") demand(viewer, unit !== null && canListPlansUnder(viewer, unit.dbId));
    if (!unit) throw new NotFoundError("unit", branchCode, "branchCode");
    return listPlans(ctx.db, unit.dbId, period?.code ?? null, first, after);
  }

  @FieldResolver(() => Branch, { description: "The issuing unit; the plan covers its subtree." })
  async branch(@Root() p: IncentivePlan, @Ctx() ctx: Context): Promise<Branch> {
    return (await ctx.loaders.org.branchById.load(p.branchId))!;
  }

  @FieldResolver(() => IncentiveStatementConnection, {
    description: "Every recipient's statements under the plan, with their lines: what payroll pays (HQ and the branch managers who approve them).",
  })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Guard(planPayroll)
  statements(@Root() p: IncentivePlan, @Args() { first, after }: PageArgs, @Ctx() ctx: Context) {
    return planStatements(ctx.db, p.dbId, first, after);
  }

  @Mutation(() => IncentivePlan, { description: "Creates a DRAFT plan; its rules are checked (issues name `rules[i].field`). Idempotent by idempotencyKey." })
  @Allow("BRANCH_MANAGER")
  async createPlan(@Arg("input") input: CreatePlanInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<IncentivePlan> {
    const [viewer, unit] = await Promise.all([ctx.viewer(), ctx.loaders.org.branchByCode.load(input.branchCode)]);
    demand(viewer, unit !== null && canManagePlan(viewer, unit.dbId));
    return createPlan(ctx.db, input, writeOptions(ctx, info));
  }

  @Mutation(() => IncentivePlan, { description: "Changes a DRAFT plan, or makes a new version of an ACTIVE one. Idempotent by idempotencyKey." })
  @Allow("BRANCH_MANAGER")
  async updatePlan(@Arg("input") input: UpdatePlanInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<IncentivePlan> {
    await demandManages(ctx, input.code);
    return updatePlan(ctx.db, input, writeOptions(ctx, info));
  }

  @Mutation(() => IncentivePlan, { description: "DRAFT → ACTIVE → CLOSED (after the period ends). Idempotent by idempotencyKey." })
  @Allow("BRANCH_MANAGER")
  async transitionPlan(@Arg("input") input: TransitionPlanInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<IncentivePlan> {
    await demandManages(ctx, input.code);
    return transitionPlan(ctx.db, input, ctx.today, writeOptions(ctx, info));
  }

  @Mutation(() => StatementsCalculation, {
    description: "Calculates the plan's statements as of a date: open ones follow the figures; approved and locked ones never change, differences go on the recipient's next statement as adjustment lines. Idempotent.",
  })
  @Allow("BRANCH_MANAGER")
  async calculateStatements(@Arg("input") input: CalculateStatementsInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<StatementsCalculation> {
    await demandManages(ctx, input.planCode);
    return calculateStatements(ctx.db, { planCode: input.planCode, asOf: input.asOf ?? ctx.today }, writeOptions(ctx, info));
  }

  @Mutation(() => StatementsTransition, { description: "Approves the plan's CALCULATED statements. Idempotent by idempotencyKey." })
  @Allow("BRANCH_MANAGER")
  async approveStatements(@Arg("input") input: StatementsTransitionInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<StatementsTransition> {
    await demandManages(ctx, input.planCode);
    return approveStatements(ctx.db, input, writeOptions(ctx, info));
  }

  @Mutation(() => StatementsTransition, { description: "Locks the plan's APPROVED statements (paid): they never change again. Idempotent by idempotencyKey." })
  @Allow("BRANCH_MANAGER")
  async lockStatements(@Arg("input") input: StatementsTransitionInput, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<StatementsTransition> {
    await demandManages(ctx, input.planCode);
    return lockStatements(ctx.db, input, writeOptions(ctx, info));
  }
}

@Resolver(() => IncentiveStatement)
export class StatementRecipientResolver {
  @FieldResolver(() => String, { description: "The account manager's or the unit's name." })
  async recipientName(@Root() s: IncentiveStatement, @Ctx() ctx: Context): Promise<string> {
    const recipient = s.managerId !== null ? await ctx.loaders.org.managerById.load(s.managerId) : await ctx.loaders.org.branchById.load(s.branchId!);
    return recipient?.name ?? s.recipientCode;
  }

  @FieldResolver(() => Branch, { description: "The unit the statement is paid in: the account manager's unit, or the unit itself." })
  async unit(@Root() s: IncentiveStatement, @Ctx() ctx: Context): Promise<Branch> {
    const branchId = s.managerId !== null ? (await ctx.loaders.org.managerById.load(s.managerId))!.branchId : s.branchId!;
    return (await ctx.loaders.org.branchById.load(branchId))!;
  }
}

@Resolver(() => AccountManager)
export class ManagerIncentivesResolver {
  @FieldResolver(() => [IncentiveStatement], { description: "The manager's statements under the plans of a period, with their lines." })
  @Limits({ rows: Rows.upTo(STATEMENTS_ESTIMATE) })
  @Guard(staffFigures)
  incentives(@Root() m: AccountManager, @Arg("period", () => PeriodScalar) period: Period, @Ctx() ctx: Context): Promise<IncentiveStatement[]> {
    return ctx.loaders.incentives.statements.load({ kind: RecipientKind.MANAGER, id: m.dbId, code: m.code, period: period.code });
  }
}

@Resolver(() => Branch)
export class BranchIncentivesResolver {
  @FieldResolver(() => [IncentiveStatement], { description: "The unit's own statements (TEAM pools, PENALTY lines) under the plans of a period." })
  @Limits({ rows: Rows.upTo(STATEMENTS_ESTIMATE) })
  @Guard(unitFigures)
  incentives(@Root() b: Branch, @Arg("period", () => PeriodScalar) period: Period, @Ctx() ctx: Context): Promise<IncentiveStatement[]> {
    return ctx.loaders.incentives.statements.load({ kind: RecipientKind.UNIT, id: b.dbId, code: b.code, period: period.code });
  }
}
