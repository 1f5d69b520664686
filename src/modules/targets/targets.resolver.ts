import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, Info, Mutation, Resolver } from "type-graphql";
import { canSetStaffTarget, canSetUnitTarget } from "../../domain/access.js";
import { ForbiddenError, type FieldIssue } from "../../errors.js";
import type { Context } from "../../graphql/context.js";
import { writeOptions } from "../common/write-options.js";
import { Allow } from "../auth/auth.guard.js";
import { WriteResult } from "../common/write-result.type.js";
import { TargetInput } from "./targets.input.js";
import { setTargets } from "./targets.service.js";

@Resolver()
export class TargetsResolver {
  @Mutation(() => WriteResult, {
    description: "Sets plan figures for units or account managers; atomic, idempotent. A branch manager sets them below their own unit.",
  })
  @Allow("INGEST", "BRANCH_MANAGER")
  async setTargets(@Arg("input", () => [TargetInput]) input: TargetInput[], @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<WriteResult> {
    const viewer = await ctx.viewer();
    if (viewer.role !== "INGEST") {
      // Unknown codes get the same answer as codes outside the caller's unit.
      const { branchByCode, managerByCode } = ctx.loaders.org;
      const outside: FieldIssue[] = [];
      await Promise.all(
        input.map(async (row, index) => {
          if (row.branchCode != null) {
            const unit = await branchByCode.load(row.branchCode);
            if (!unit || !canSetUnitTarget(viewer, unit.dbId)) outside.push({ index, field: "branchCode", reason: "not a unit below yours" });
          }
          if (row.managerCode != null) {
            const m = await managerByCode.load(row.managerCode);
            if (!m || !canSetStaffTarget(viewer, { id: m.dbId, branchId: m.branchId })) {
              outside.push({ index, field: "managerCode", reason: "not an account manager of your unit's subtree" });
            }
          }
        }),
      );
      if (outside.length) {
        outside.sort((a, b) => a.index! - b.index!);
        throw new ForbiddenError(`Forbidden: ${outside.length} target(s) lie outside your unit`, outside);
      }
    }
    return setTargets(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }
}
