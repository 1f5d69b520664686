import { Args, ArgsType, Ctx, Field, Query, Resolver } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import type { Context } from "../../graphql/context.js";
import { Allow } from "../auth/auth.guard.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { MAX_PAGE_SIZE, PageArgs, type Page } from "../common/relay.js";
import { listAudit } from "./audit.service.js";
import { AuditEntry, AuditEntryConnection, AuditOutcome } from "./audit.type.js";

@ArgsType()
class AuditListArgs extends PageArgs {
  @Field(() => String, { nullable: true }) subject?: string | null;
  @Field(() => String, { nullable: true, description: 'A mutation\'s name, or "import:<kind>".' }) operation?: string | null;
  @Field(() => AuditOutcome, { nullable: true }) outcome?: AuditOutcome | null;
  @Field(() => DateTimeResolver, { nullable: true, description: "From this instant, inclusive." }) from?: Date | null;
  @Field(() => DateTimeResolver, { nullable: true, description: "Up to this instant, exclusive." }) to?: Date | null;
}

@Resolver()
export class AuditResolver {
  @Query(() => AuditEntryConnection, { description: "The audit trail of write attempts, newest first. HQ only." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Allow("HQ")
  auditTrail(@Args() { subject, operation, outcome, from, to, first, after }: AuditListArgs, @Ctx() ctx: Context): Promise<Page<AuditEntry>> {
    return listAudit(ctx.db, { subject, operation, outcome, from, to }, first, after);
  }
}
