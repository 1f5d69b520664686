/**
 * The access rules as a table: each row is a viewer, an object's place in the tree and the
 * expected answer. The tree: P ⊃ C1 ⊃ {S1 ⊃ O1, S2}, P ⊃ C2 ⊃ T1.
 */
import { describe, expect, it } from "vitest";
import {
  canListPlansUnder,
  canManagePlan,
  canManageWebhooks,
  canReadOwnedResults,
  canReadPlan,
  canReadStaffFigures,
  canReadUnitFigures,
  canRankChildrenOf,
  canRankManagersOf,
  canRecordVisitOf,
  canSeeStaff,
  canSetStaffTarget,
  canSetUnitTarget,
  visitScopeOf,
  type Role,
  type Viewer,
} from "../../src/domain/access.js";

const [P, C1, S1, O1, S2, C2, T1] = [1, 2, 3, 4, 5, 6, 7];
const SUBTREES: Record<number, number[]> = { [P]: [P, C1, S1, O1, S2, C2, T1], [C1]: [C1, S1, O1, S2], [S1]: [S1, O1], [S2]: [S2], [C2]: [C2, T1] };
const ANCESTORS: Record<number, number[]> = { [P]: [], [C1]: [P], [S1]: [C1, P], [S2]: [C1, P], [C2]: [P], [T1]: [C2, P] };

function viewer(role: Role, unit?: number, managerId: number | null = null): Viewer {
  const scope = unit === undefined ? null : { unitId: unit, subtree: new Set(SUBTREES[unit] ?? [unit]), ancestors: new Set(ANCESTORS[unit]) };
  return { role, sub: "x", scope, managerId };
}
const hq = viewer("HQ");
const bmC1 = viewer("BRANCH_MANAGER", C1);
const bmS1 = viewer("BRANCH_MANAGER", S1);
const amS1 = viewer("ACCOUNT_MANAGER", S1, 11); // manager 11 works in S1
const marketing = viewer("MARKETING");
const ingest = viewer("INGEST");
const anonymous: Viewer = { role: "ANONYMOUS" };
const bmUnknownUnit: Viewer = { role: "BRANCH_MANAGER", sub: "x", scope: null, managerId: null };

const m11 = { id: 11, branchId: S1 };
const m12 = { id: 12, branchId: S1 };
const m13 = { id: 13, branchId: S2 };
const m21 = { id: 21, branchId: T1 };

describe("unit figures", () => {
  it.each([
    ["HQ, any unit", hq, T1, true],
    ["city manager, own city", bmC1, C1, true],
    ["city manager, an outlet below", bmC1, O1, true],
    ["city manager, the province above", bmC1, P, false],
    ["city manager, the other city", bmC1, C2, false],
    ["sub-branch manager, sibling sub-branch", bmS1, S2, false],
    ["account manager, own unit", amS1, S1, false],
    ["marketing", marketing, S1, false],
    ["ingest", ingest, S1, false],
    ["anonymous", anonymous, S1, false],
    ["manager whose unit claim names no unit", bmUnknownUnit, S1, false],
  ] as const)("%s", (_, v, unit, expected) => expect(canReadUnitFigures(v, unit)).toBe(expected));
});

describe("results of a campaign or circle owned by a unit", () => {
  const acquirer = viewer("ACQUIRER");
  it.each([
    ["HQ, any owner", hq, T1, true],
    ["marketing, any owner", marketing, T1, true],
    ["city manager, own city's", bmC1, C1, true],
    ["city manager, a sub-branch's", bmC1, S1, true],
    ["sub-branch manager, the city's above", bmS1, C1, false],
    ["city manager, the other city's", bmC1, C2, false],
    ["account manager, own unit's", amS1, S1, false],
    ["ingest", ingest, S1, false],
    ["acquirer", acquirer, S1, false],
    ["anonymous", anonymous, S1, false],
  ] as const)("%s", (_, v, owner, expected) => expect(canReadOwnedResults(v, owner)).toBe(expected));
});

describe("staff: who they are, and their figures", () => {
  const amC1 = viewer("ACCOUNT_MANAGER", C1, 31); // manager 31 works in the city itself
  it.each([
    ["HQ sees anyone", hq, m21, true, true],
    ["city manager sees staff of a sub-branch below", bmC1, m13, true, true],
    ["city manager does not see the other city's staff", bmC1, m21, false, false],
    ["sub-branch manager does not see the sibling's staff", bmS1, m13, false, false],
    ["account manager sees themself", amS1, m11, true, true],
    ["account manager sees a colleague of the same unit, not their figures", amS1, m12, true, false],
    ["account manager does not see another unit's staff", amS1, m13, false, false],
    // Their unit's manager ranking (canRankManagersOf C1) lists the staff below: names, not figures.
    ["city account manager sees the staff their ranking lists, not their figures", amC1, m13, true, false],
    ["city account manager does not see the other city's staff", amC1, m21, false, false],
    ["marketing sees no staff", marketing, m11, false, false],
  ] as const)("%s", (_, v, m, sees, figures) => {
    expect(canSeeStaff(v, m)).toBe(sees);
    expect(canReadStaffFigures(v, m)).toBe(figures);
  });

  it("whoever may read a manager ranking may see everyone it can list", () => {
    for (const v of [hq, bmC1, bmS1, amS1, amC1, marketing, ingest, anonymous]) {
      for (const unit of [P, C1, S1, O1, S2, C2, T1]) {
        if (!canRankManagersOf(v, unit)) continue;
        for (const below of SUBTREES[unit] ?? [unit]) expect(canSeeStaff(v, { id: 99, branchId: below })).toBe(true);
      }
    }
  });
});

describe("rankings", () => {
  it.each([
    ["HQ ranks anything", hq, "units", C2, true],
    ["city manager ranks the cities (its peers)", bmC1, "units", P, true],
    ["city manager ranks its sub-branches", bmC1, "units", C1, true],
    ["city manager does not rank the other city's sub-branches", bmC1, "units", C2, false],
    ["sub-branch manager ranks its city's sub-branches and the cities", bmS1, "units", C1, true],
    ["account manager ranks the units above", amS1, "units", P, true],
    ["account manager does not rank below their unit", amS1, "units", S1, false],
    ["account manager ranks their unit's managers", amS1, "managers", S1, true],
    ["account manager does not rank the city's managers", amS1, "managers", C1, false],
    ["city manager ranks managers below", bmC1, "managers", S2, true],
    ["sub-branch manager does not rank the sibling's managers", bmS1, "managers", S2, false],
    ["marketing ranks nothing", marketing, "units", P, false],
  ] as const)("%s", (_, v, kind, unit, expected) => expect(kind === "units" ? canRankChildrenOf(v, unit) : canRankManagersOf(v, unit)).toBe(expected));
});

describe("visits", () => {
  it.each([
    ["HQ reads all", hq, { all: true }],
    ["a branch manager reads their subtree's staff's", bmS1, { managerUnits: [S1, O1] }],
    ["an account manager reads their own", amS1, { managerId: 11 }],
    ["an account manager unknown to the bank reads none", viewer("ACCOUNT_MANAGER", S1, null), { managerUnits: [] }],
    ["marketing reads none", marketing, null],
    ["ingest reads none", ingest, null],
  ] as const)("%s", (_, v, expected) => expect(visitScopeOf(v)).toEqual(expected));
});

describe("writes", () => {
  it.each([
    ["ingest sets any unit's target", ingest, S1, true],
    ["city manager sets a sub-branch's target", bmC1, S1, true],
    ["city manager does not set its own target", bmC1, C1, false],
    ["city manager does not set the other city's", bmC1, T1, false],
    ["HQ reads, does not write", hq, S1, false],
  ] as const)("unit target: %s", (_, v, unit, expected) => expect(canSetUnitTarget(v, unit)).toBe(expected));

  it.each([
    ["city manager, staff of a sub-branch", bmC1, m11, true],
    ["sub-branch manager, staff of the sibling", bmS1, m13, false],
    ["account manager, themself", amS1, m11, false],
  ] as const)("staff target: %s", (_, v, m, expected) => expect(canSetStaffTarget(v, m)).toBe(expected));

  it.each([
    ["an account manager records their own visits", amS1, 11, true],
    ["not a colleague's", amS1, 12, false],
    ["ingest records anyone's", ingest, 21, true],
    ["a branch manager records none", bmC1, 11, false],
  ] as const)("visits: %s", (_, v, managerId, expected) => expect(canRecordVisitOf(v, managerId)).toBe(expected));
});

describe("assessment plans and statements", () => {
  // Statements are figures: a manager's are read by canReadStaffFigures, a unit's by
  // canReadUnitFigures (tables above); these are the plans' own rules.
  it.each([
    ["city manager, a plan of their city", bmC1, C1, true],
    ["city manager, a plan of a sub-branch below", bmC1, S1, true],
    ["sub-branch manager, their city's plan (issued above them)", bmS1, C1, false],
    ["sub-branch manager, a sibling's plan", bmS1, S2, false],
    ["HQ reads all and writes nothing", hq, C1, false],
    ["account manager", amS1, S1, false],
    ["marketing", marketing, C1, false],
    ["ingest feeds records, not plans", ingest, C1, false],
    ["anonymous", anonymous, C1, false],
    ["manager whose unit claim names no unit", bmUnknownUnit, C1, false],
  ] as const)("manage (issue, change, activate, close, calculate, approve, lock): %s", (_, v, unit, expected) =>
    expect(canManagePlan(v, unit)).toBe(expected),
  );

  it.each([
    ["HQ, any plan", hq, T1, true],
    ["city manager, their own plan", bmC1, C1, true],
    ["city manager, the province's plan above them", bmC1, P, true],
    ["city manager, the other city's plan", bmC1, C2, false],
    ["sub-branch manager, their city's plan, which pays their staff", bmS1, C1, true],
    ["sub-branch manager, a sibling's plan", bmS1, S2, false],
    ["account manager, their unit's plan", amS1, S1, true],
    ["account manager, their city's plan", amS1, C1, true],
    ["account manager, the other city's plan", amS1, C2, false],
    ["marketing", marketing, C1, false],
    ["ingest", ingest, C1, false],
    ["anonymous", anonymous, C1, false],
  ] as const)("read a plan: %s", (_, v, unit, expected) => expect(canReadPlan(v, unit)).toBe(expected));

  it.each([
    ["HQ, anywhere", hq, P, true],
    ["city manager, their subtree", bmC1, C1, true],
    ["city manager, the province (siblings' plans too)", bmC1, P, false],
    ["sub-branch manager, a sibling", bmS1, S2, false],
    ["account manager, own unit (reads plans one by one)", amS1, S1, false],
    ["marketing", marketing, C1, false],
  ] as const)("list the plans issued in a subtree: %s", (_, v, unit, expected) => expect(canListPlansUnder(v, unit)).toBe(expected));
});

describe("group webhooks", () => {
  it.each([
    ["HQ, any unit", hq, T1, true],
    ["city manager, their city", bmC1, C1, true],
    ["city manager, a sub-branch below", bmC1, S1, true],
    ["city manager, the other city", bmC1, C2, false],
    ["city manager, the province above", bmC1, P, false],
    ["sub-branch manager, their own unit", bmS1, S1, true],
    ["sub-branch manager, a sibling", bmS1, S2, false],
    ["sub-branch manager, their parent", bmS1, C1, false],
    ["account manager, their own unit", amS1, S1, false],
    ["marketing", marketing, C1, false],
    ["ingest", ingest, C1, false],
    ["anonymous", anonymous, C1, false],
    ["manager whose unit claim names no unit", bmUnknownUnit, C1, false],
  ] as const)("register, change, remove, list, read deliveries: %s", (_, v, unit, expected) => expect(canManageWebhooks(v, unit)).toBe(expected));
});
