import { Arg, Ctx, Mutation, Resolver } from "type-graphql";
import type { Context } from "../../graphql/context.js";
import { Allow } from "../auth/auth.guard.js";
import { WriteResult } from "../common/write-result.type.js";
import { ActivationInput, ApplicationInput } from "./records.input.js";
import { recordActivations, recordApplications } from "./records.service.js";

@Resolver()
export class RecordsResolver {
  @Mutation(() => WriteResult, { description: "Creates or updates applications by externalId; atomic, idempotent." })
  @Allow("INGEST")
  recordApplications(@Arg("input", () => [ApplicationInput]) input: ApplicationInput[], @Ctx() ctx: Context): Promise<WriteResult> {
    return recordApplications(ctx.db, input, ctx.config.MAX_BATCH_SIZE);
  }

  @Mutation(() => WriteResult, { description: "Creates or updates activations by application; atomic, idempotent." })
  @Allow("INGEST")
  recordActivations(@Arg("input", () => [ActivationInput]) input: ActivationInput[], @Ctx() ctx: Context): Promise<WriteResult> {
    return recordActivations(ctx.db, input, ctx.config.MAX_BATCH_SIZE);
  }
}
