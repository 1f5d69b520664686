/**
 * What a mutation hands its write service besides the input: who asked (the audit entry,
 * committed with the write) and the live feed the write's changes are published to once it
 * has committed (src/live/change.ts). One helper, so no mutation forgets either.
 */
import type { GraphQLResolveInfo } from "graphql";
import type { AuditOptions } from "../../db/transaction.js";
import type { Context } from "../../graphql/context.js";
import { auditStamp } from "../audit/audit.plugin.js";

export function writeOptions(ctx: Context, info: GraphQLResolveInfo): AuditOptions {
  return { audit: auditStamp(ctx, info), feed: ctx.feed };
}
