import { Args, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../../graphql/context.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { Guard, unitStaff } from "../auth/auth.guard.js";
import { MAX_PAGE_SIZE } from "../common/relay.js";
import { AccountManagerConnection } from "./account-manager.type.js";
import { Branch } from "./branch.type.js";
import { ManagerListArgs } from "./org.input.js";
import { listManagers } from "./org.service.js";

/**
 * A unit's staff. Apart from BranchResolver only for the schema's field order: type-graphql lists
 * a type's resolved fields in the order their modules are evaluated, and `Branch.performance`
 * (declared by performance/, so that org imports nothing of it) comes before `accountManagers`.
 * src/graphql/schema.ts imports this module after performance.resolver.ts.
 */
@Resolver(() => Branch)
export class BranchStaffResolver {
  @FieldResolver(() => AccountManagerConnection, { description: "Account managers of this unit (or its whole subtree), by code." })
  @Limits({ rows: Rows.page(MAX_PAGE_SIZE) })
  @Guard(unitStaff)
  accountManagers(@Root() b: Branch, @Args() { includeSubtree, first, after }: ManagerListArgs, @Ctx() ctx: Context) {
    return listManagers(ctx.db, b.dbId, includeSubtree, first, after);
  }
}
