import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { Context } from "../../graphql/context.js";
import { WriteResult } from "../common/write-result.type.js";
import { TargetInput } from "./targets.input.js";
import { setTargets } from "./targets.service.js";

@Resolver()
export class TargetsResolver {
  @Mutation(() => WriteResult, { description: "Sets plan figures for units or account managers; atomic, idempotent." })
  setTargets(@Arg("input", () => [TargetInput]) input: TargetInput[], @Ctx() ctx: Context): Promise<WriteResult> {
    return setTargets(ctx.db, input, ctx.config.MAX_BATCH_SIZE);
  }
}
