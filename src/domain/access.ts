/**
 * Who may see and do what: the bank's access rules as pure functions of the caller (a viewer)
 * and the object's place in the org tree. No I/O here: the caller's subtree and ancestors are
 * loaded once per request and handed in.
 *
 * The rules, in words (README "Access" repeats them for operators):
 * - HQ reads everything and writes nothing but group webhooks (below).
 * - BRANCH_MANAGER reads the figures, staff and visits of their unit's subtree, ranks the
 *   children of any unit above them or in their subtree, and sets targets strictly below
 *   their unit.
 * - ACCOUNT_MANAGER reads their own figures and visits, their unit's manager ranking, and the
 *   rankings of the units above them; they see who the managers of their unit's subtree are
 *   (that ranking lists them), not their figures.
 * - MARKETING reads and writes merchants, circles, campaigns and promotions, and reads their
 *   aggregate results; no figures of units or staff, no visits.
 * - INGEST writes records, org data and targets (the feeds and the import); it reads nothing.
 * - ACQUIRER (the acquiring platform that processed the payment) reports promotion uses; it
 *   reads nothing but the offers near a place.
 * - ANONYMOUS (the mobile app) finds promotions near a place; it never reports a use.
 * - The results of a campaign or business circle (visits, applications, redemptions, money
 *   spent) are figures of the unit that owns it: readable by those who may read that unit's
 *   figures, and by MARKETING, who runs campaigns and circles.
 * - Assessment plans: a branch manager of the plan's unit or above issues and changes them and
 *   calculates, approves and locks their statements; the staff at, above or under the plan's
 *   unit read its rules; a statement is the recipient's figures (their own, their line of
 *   command's, HQ's).
 * - Group webhooks (milestones and the daily report pushed to a unit's chat groups): HQ and the
 *   branch managers of the unit or above register, change, remove and list them, with their
 *   deliveries; nobody else sees where a unit's figures are sent.
 * Unit names and codes are not secret to staff: rankings publish them to peers.
 */

export const ROLES = ["HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER", "MARKETING", "INGEST", "ACQUIRER"] as const;
export type Role = (typeof ROLES)[number];

/** Roles whose token must name a unit (the `unit` claim). */
export const SCOPED_ROLES: readonly Role[] = ["BRANCH_MANAGER", "ACCOUNT_MANAGER"];

/** Roles that read the bank's shared reference data: units, merchants, circles, campaigns. */
export const STAFF: readonly Role[] = ["HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER", "MARKETING"];

/** The caller's unit in the org tree, by database id. */
export interface UnitScope {
  readonly unitId: number;
  /** The unit and every unit below it. */
  readonly subtree: ReadonlySet<number>;
  /** Every unit above it (not the unit itself). */
  readonly ancestors: ReadonlySet<number>;
}

export type Viewer =
  | { readonly role: "ANONYMOUS" }
  | {
      readonly role: Role;
      readonly sub: string;
      /** Present for scoped roles (a token whose `unit` names no unit is refused before it gets a viewer). */
      readonly scope: UnitScope | null;
      /** For ACCOUNT_MANAGER: the manager the token's `sub` names, if it exists. */
      readonly managerId: number | null;
    };

/** A staff member as the rules need them: who, and in which unit. */
export interface StaffRef {
  readonly id: number;
  readonly branchId: number;
}

function inSubtree(v: Viewer, unitId: number): boolean {
  return v.role !== "ANONYMOUS" && v.scope !== null && v.scope.subtree.has(unitId);
}

/** May the viewer read a unit's figures (performance, series)? */
export function canReadUnitFigures(v: Viewer, unitId: number): boolean {
  return v.role === "HQ" || (v.role === "BRANCH_MANAGER" && inSubtree(v, unitId));
}

/**
 * May the viewer read what a campaign or business circle owned by `ownerUnitId` brought in
 * (its results, its spending)? Those sums are the owning unit's figures; marketing, who runs
 * campaigns and circles everywhere, reads them too.
 */
export function canReadOwnedResults(v: Viewer, ownerUnitId: number): boolean {
  return v.role === "MARKETING" || canReadUnitFigures(v, ownerUnitId);
}

/** May the viewer list a unit's staff? */
export function canReadUnitStaff(v: Viewer, unitId: number): boolean {
  return canReadUnitFigures(v, unitId);
}

/**
 * May the viewer see who a staff member is (code, name, unit)? Exactly the staff of the manager
 * rankings the viewer may read (`canRankManagersOf`: a ranking publishes who is in it), so the
 * answer does not depend on how the member was reached in a query. Their figures are another
 * rule (`canReadStaffFigures`).
 */
export function canSeeStaff(v: Viewer, m: StaffRef): boolean {
  if (v.role === "HQ") return true;
  if (v.role === "BRANCH_MANAGER" || v.role === "ACCOUNT_MANAGER") return v.managerId === m.id || inSubtree(v, m.branchId);
  return false;
}

/** May the viewer read a staff member's own figures? */
export function canReadStaffFigures(v: Viewer, m: StaffRef): boolean {
  if (v.role === "HQ") return true;
  if (v.role === "BRANCH_MANAGER") return inSubtree(v, m.branchId);
  if (v.role === "ACCOUNT_MANAGER") return v.managerId === m.id;
  return false;
}

/** May the viewer read the ranking of the direct children of `parentId`? */
export function canRankChildrenOf(v: Viewer, parentId: number): boolean {
  if (v.role === "HQ") return true;
  if (v.role === "BRANCH_MANAGER") return inSubtree(v, parentId) || (v.scope !== null && v.scope.ancestors.has(parentId));
  if (v.role === "ACCOUNT_MANAGER") return v.scope !== null && v.scope.ancestors.has(parentId);
  return false;
}

/** May the viewer read the ranking of the managers of `unitId`'s subtree? */
export function canRankManagersOf(v: Viewer, unitId: number): boolean {
  if (v.role === "HQ") return true;
  if (v.role === "BRANCH_MANAGER") return inSubtree(v, unitId);
  if (v.role === "ACCOUNT_MANAGER") return v.scope !== null && v.scope.unitId === unitId;
  return false;
}

/**
 * Which visits the viewer may read: all, those by the managers of some units, those of one
 * manager, or none at all.
 */
export type VisitScope = { all: true } | { managerUnits: readonly number[] } | { managerId: number } | null;

export function visitScopeOf(v: Viewer): VisitScope {
  if (v.role === "HQ") return { all: true };
  if (v.role === "BRANCH_MANAGER") return v.scope ? { managerUnits: [...v.scope.subtree] } : { managerUnits: [] };
  if (v.role === "ACCOUNT_MANAGER") return v.managerId !== null ? { managerId: v.managerId } : { managerUnits: [] };
  return null;
}

/** May the viewer set a target for this unit? (INGEST anywhere; a branch manager strictly below their unit.) */
export function canSetUnitTarget(v: Viewer, unitId: number): boolean {
  if (v.role === "INGEST") return true;
  return v.role === "BRANCH_MANAGER" && inSubtree(v, unitId) && v.scope!.unitId !== unitId;
}

/** May the viewer set a target for this staff member? (INGEST anywhere; a branch manager for their subtree's staff.) */
export function canSetStaffTarget(v: Viewer, m: StaffRef): boolean {
  if (v.role === "INGEST") return true;
  return v.role === "BRANCH_MANAGER" && inSubtree(v, m.branchId);
}

/** May the viewer record a visit made by this staff member? (INGEST any; an account manager their own.) */
export function canRecordVisitOf(v: Viewer, managerId: number): boolean {
  if (v.role === "INGEST") return true;
  return v.role === "ACCOUNT_MANAGER" && v.managerId === managerId;
}

// ---- Assessment plans and incentive statements --------------------------------------------

/**
 * May the viewer issue, change, activate or close a plan issued by `planUnitId`, and calculate,
 * approve and lock its statements? A branch manager of that unit or of a unit above it. HQ
 * writes nothing, as elsewhere; INGEST feeds records, not plans.
 */
export function canManagePlan(v: Viewer, planUnitId: number): boolean {
  return v.role === "BRANCH_MANAGER" && inSubtree(v, planUnitId);
}

/**
 * May the viewer read a plan issued by `planUnitId` (its rules, not anyone's statement)? HQ, and
 * the staff of its subtree, who are paid by it, and of the units above it, who issued or oversee it.
 */
export function canReadPlan(v: Viewer, planUnitId: number): boolean {
  if (v.role === "HQ") return true;
  if (v.role !== "BRANCH_MANAGER" && v.role !== "ACCOUNT_MANAGER") return false;
  return inSubtree(v, planUnitId) || (v.scope !== null && v.scope.ancestors.has(planUnitId));
}

/**
 * May the viewer read every statement of a plan issued by `planUnitId` (its payroll)? HQ, and
 * the branch managers who approve them. Others read their own (and their subtree's) statements
 * through `AccountManager.incentives` and `Branch.incentives`.
 */
export function canReadPlanStatements(v: Viewer, planUnitId: number): boolean {
  return v.role === "HQ" || canManagePlan(v, planUnitId);
}

/** May the viewer list every plan issued in `unitId`'s subtree? HQ, and its branch managers. */
export function canListPlansUnder(v: Viewer, unitId: number): boolean {
  return canReadUnitFigures(v, unitId);
}

// ---- Group webhooks ---------------------------------------------------------------------------

/**
 * May the viewer register, change, remove and list the group webhooks of `unitId`, and read
 * their deliveries? HQ, and a branch manager of that unit or a unit above it: what a group is
 * sent are the unit's figures.
 */
export function canManageWebhooks(v: Viewer, unitId: number): boolean {
  return canReadUnitFigures(v, unitId);
}
