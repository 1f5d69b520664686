/**
 * Authorization on every field that needs it, wherever in a query it is reached: root fields
 * declare the roles that may call them (`@Allow`), and object fields that hold figures, staff or
 * records declare a rule about the object they sit on (`@Guard`). type-graphql runs the checker
 * before the field resolves, so a sibling unit reached through `parent { children { … } }`
 * meets the same rule as one asked for by code.
 */
import { Authorized, type AuthChecker } from "type-graphql";
import {
  canReadOwnedResults,
  canReadPlanStatements,
  canReadStaffFigures,
  canReadUnitFigures,
  canReadUnitStaff,
  canSeeStaff,
  STAFF,
  visitScopeOf,
  type Role,
  type Viewer,
} from "../../domain/access.js";
import { ForbiddenError, UnauthenticatedError, type AppError } from "../../errors.js";
import type { Context } from "../../graphql/context.js";

export type Caller = Role | "ANONYMOUS";
/** A rule about the object a field sits on; async when it needs a loaded row (through the request's loaders). */
export type Rule<T = any> = (viewer: Viewer, root: T, ctx: Context) => boolean | Promise<boolean>;
type Check = { roles: readonly Caller[] } | { rule: Rule };

/** Refusal for the viewer: anonymous callers are told to sign in, signed-in ones that they may not. */
export function refusal(viewer: Viewer): AppError {
  return viewer.role === "ANONYMOUS" ? new UnauthenticatedError("sign in to use this") : new ForbiddenError();
}

/** The roles that may call a root field. */
export const Allow = (...roles: Caller[]) => Authorized<Check>({ roles });

/** A rule the object under this field must pass for the viewer. */
export const Guard = <T>(rule: Rule<T>) => Authorized<Check>({ rule });

export const authChecker: AuthChecker<Context, Check> = async ({ root, context }, checks) => {
  const viewer = await context.viewer();
  for (const c of checks) {
    const ok = "roles" in c ? c.roles.includes(viewer.role) : await c.rule(viewer, root, context);
    if (!ok) throw refusal(viewer);
  }
  return true;
};

/** Throws the viewer's refusal unless `ok`. For checks that depend on arguments or loaded rows. */
export function demand(viewer: Viewer, ok: boolean): void {
  if (!ok) throw refusal(viewer);
}

// ---- Field rules, named once so types and resolvers read as policy --------------------------

/** Shared reference data (units, merchants, circles, campaigns): any staff role. */
export const staffOnly: Rule = (v) => STAFF.includes(v.role as Role);

/** A unit's figures. */
export const unitFigures: Rule<{ dbId: number }> = (v, b) => canReadUnitFigures(v, b.dbId);

/** What a campaign or business circle brought in (results, spending): the owning unit's figures. */
export const ownedResults: Rule<{ branchId: number }> = (v, owned) => canReadOwnedResults(v, owned.branchId);

/** What a promotion has spent: a figure of the unit that owns its campaign. */
export const promotionResults: Rule<{ campaignId: number }> = async (v, p, ctx) => {
  const campaign = await ctx.loaders.campaigns.campaignById.load(p.campaignId);
  return campaign !== null && canReadOwnedResults(v, campaign.branchId);
};

/** Every statement of an assessment plan: its payroll. */
export const planPayroll: Rule<{ branchId: number }> = (v, plan) => canReadPlanStatements(v, plan.branchId);
/** A unit's list of staff. */
export const unitStaff: Rule<{ dbId: number }> = (v, b) => canReadUnitStaff(v, b.dbId);

/** Who a staff member is: code, name, unit. */
export const staffVisible: Rule<{ dbId: number; branchId: number }> = (v, m) => canSeeStaff(v, { id: m.dbId, branchId: m.branchId });

/** A staff member's own figures. */
export const staffFigures: Rule<{ dbId: number; branchId: number }> = (v, m) => canReadStaffFigures(v, { id: m.dbId, branchId: m.branchId });

/** Visit records: viewers who may read at least some (loaders then narrow to what they may). */
export const visitReaders: Rule = (v) => visitScopeOf(v) !== null;
