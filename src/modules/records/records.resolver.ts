import type { GraphQLResolveInfo } from "graphql";
import { Arg, Ctx, Info, Mutation, Resolver } from "type-graphql";
import type { Context } from "../../graphql/context.js";
import { writeOptions } from "../common/write-options.js";
import { Allow } from "../auth/auth.guard.js";
import { WriteResult } from "../common/write-result.type.js";
import { ActivationInput, ApplicationInput } from "./records.input.js";
import { recordActivations, recordApplications } from "./records.service.js";

@Resolver()
export class RecordsResolver {
  @Mutation(() => WriteResult, { description: "Creates or updates applications by externalId; atomic, idempotent." })
  @Allow("INGEST")
  recordApplications(@Arg("input", () => [ApplicationInput]) input: ApplicationInput[], @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<WriteResult> {
    return recordApplications(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }

  @Mutation(() => WriteResult, { description: "Creates or updates activations by application; atomic, idempotent." })
  @Allow("INGEST")
  recordActivations(@Arg("input", () => [ActivationInput]) input: ActivationInput[], @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<WriteResult> {
    return recordActivations(ctx.db, input, ctx.config.MAX_BATCH_SIZE, writeOptions(ctx, info));
  }
}
