/**
 * The org tree's rules at the service level, without HTTP: `upsertBranches` as the resolver,
 * the import and the demo all call it, on both engines. Each rule is a row: the batch, and the
 * exact issues it is refused with; a refused batch leaves the tree and its closure as they were.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/database.js";
import { TRUNCATE_ALL } from "../../src/db/tables.js";
import { AppError, type FieldIssue } from "../../src/errors.js";
import type { OrgLevel } from "../../src/modules/org/org.enums.js";
import type { BranchInput } from "../../src/modules/org/org.input.js";
import { upsertBranches } from "../../src/modules/org/org.service.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await openTestDatabase();
  db = database.prisma;
});
afterAll(() => database?.close());

const MAX_BATCH = 100;
const unit = (code: string, level: OrgLevel, parentCode?: string, name = `Unit ${code}`): BranchInput => ({ code, name, level, parentCode });

//   P ─ C1 ─ S1 ─ O1
//     └ C2
beforeEach(async () => {
  await db.$executeRawUnsafe(TRUNCATE_ALL);
  await upsertBranches(db, [unit("P", "PROVINCE"), unit("C1", "CITY", "P"), unit("S1", "SUB_BRANCH", "C1"), unit("O1", "OUTLET", "S1"), unit("C2", "CITY", "P")], MAX_BATCH);
});

/** Every unit as stored, and every closure edge by code: what a refused batch must leave alone. */
async function tree() {
  const units = await db.branch.findMany({ select: { code: true, name: true, level: true, parentId: true, updatedAt: true }, orderBy: { code: "asc" } });
  const edges = await db.branchClosure.findMany({ select: { ancestor: { select: { code: true } }, descendant: { select: { code: true } }, depth: true } });
  return { units, edges: edges.map((e) => `${e.ancestor.code}>${e.descendant.code}:${e.depth}`).sort() };
}

/** What the service throws, as the API would report it: code and issues. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; issues: readonly FieldIssue[] }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const { code, issues } = err as AppError;
  return { code, issues };
}

/** The ancestors of a unit, nearest first (from the closure table, which the reads use). */
async function ancestorsOf(code: string): Promise<string[]> {
  const rows = await db.branchClosure.findMany({ where: { descendant: { code }, depth: { gt: 0 } }, select: { ancestor: { select: { code: true } } }, orderBy: { depth: "asc" } });
  return rows.map((r) => r.ancestor.code);
}

describe("upsertBranches refuses a batch that breaks the tree, naming every bad row", () => {
  const cycle = (parent: string, unit: string) => `"${parent}" is below "${unit}": the tree would have a cycle`;
  it.each<[string, BranchInput[], FieldIssue[]]>([
    ["a unit as its own parent", [unit("C2", "CITY", "C2")], [{ index: 0, field: "parentCode", reason: "a unit cannot be its own parent" }]],
    ["a unit other than a province without a parent", [unit("C3", "CITY")], [{ index: 0, field: "parentCode", reason: "is required: a CITY sits below another unit" }]],
    ["an existing unit sent without its parent (it would leave its tree)", [unit("S1", "SUB_BRANCH")], [{ index: 0, field: "parentCode", reason: "is required: a SUB_BRANCH sits below another unit" }]],
    ["a parent that does not exist", [unit("C3", "CITY", "NOPE")], [{ index: 0, field: "parentCode", reason: 'unknown unit "NOPE"' }]],
    [
      "a cycle closed within the batch",
      [unit("X", "CITY", "Y"), unit("Y", "SUB_BRANCH", "X")],
      [
        { index: 0, field: "parentCode", reason: cycle("Y", "X") },
        { index: 1, field: "parentCode", reason: cycle("X", "Y") },
      ],
    ],
    ["a unit moved under its own child", [unit("C1", "CITY", "S1")], [{ index: 0, field: "parentCode", reason: cycle("S1", "C1") }]],
    ["a unit moved under a deeper descendant", [unit("C1", "CITY", "O1")], [{ index: 0, field: "parentCode", reason: cycle("O1", "C1") }]],
    ["the root moved under a descendant", [unit("P", "PROVINCE", "O1")], [{ index: 0, field: "parentCode", reason: cycle("O1", "P") }]],
    ["a level equal to its parent's", [unit("C3", "CITY", "C1")], [{ index: 0, field: "level", reason: 'CITY cannot sit below CITY "C1"' }]],
    ["a level above its parent's", [unit("C3", "PROVINCE", "C1")], [{ index: 0, field: "level", reason: 'PROVINCE cannot sit below CITY "C1"' }]],
    ["an existing unit moved under a sibling of its own level", [unit("C2", "CITY", "C1")], [{ index: 0, field: "level", reason: 'CITY cannot sit below CITY "C1"' }]],
    [
      "a level below a parent sent in the same batch",
      [unit("C3", "OUTLET", "P"), unit("S3", "SUB_BRANCH", "C3")],
      [{ index: 1, field: "level", reason: 'SUB_BRANCH cannot sit below OUTLET "C3"' }],
    ],
    ["a level change that would not sit above an existing child", [unit("S1", "OUTLET", "C1")], [{ index: 0, field: "level", reason: 'OUTLET would not sit above its child OUTLET "O1"' }]],
    ["a level change of a parent sent with its child", [unit("C1", "OUTLET", "P"), unit("S1", "SUB_BRANCH", "C1")], [{ index: 1, field: "level", reason: 'SUB_BRANCH cannot sit below OUTLET "C1"' }]],
    ["the same code twice", [unit("C3", "CITY", "P"), unit("C3", "CITY", "P", "Other name")], [{ index: 1, field: "code", reason: "repeats input[0] in the same call" }]],
    [
      "a malformed code and a blank name",
      [unit("C 3", "CITY", "P"), unit("C4", "CITY", "P", "  ")],
      [
        { index: 0, field: "code", reason: "may hold only letters, digits, '-', '_' and '.', starting with a letter or digit" },
        { index: 1, field: "name", reason: "must not be blank" },
      ],
    ],
    [
      "good rows beside bad ones: every bad row is named, and the good ones are not written either",
      [unit("C3", "CITY", "P"), unit("C4", "CITY", "C4"), unit("S3", "SUB_BRANCH", "C3"), unit("S4", "SUB_BRANCH", "NOPE"), unit("C3", "CITY", "P")],
      [
        { index: 1, field: "parentCode", reason: "a unit cannot be its own parent" },
        { index: 3, field: "parentCode", reason: 'unknown unit "NOPE"' },
        { index: 4, field: "code", reason: "repeats input[0] in the same call" },
      ],
    ],
  ])("%s", async (_, input, issues) => {
    const before = await tree();
    expect(await refusal(upsertBranches(db, input, MAX_BATCH))).toEqual({ code: "BAD_USER_INPUT", issues });
    expect(await tree()).toEqual(before);
  });

  it("names the batch, not a row, when it is empty or too large", async () => {
    const before = await tree();
    expect(await refusal(upsertBranches(db, [], MAX_BATCH))).toEqual({ code: "BAD_USER_INPUT", issues: [{ field: "input", reason: "must hold at least one row" }] });
    const four = ["C3", "C4", "C5", "C6"].map((c) => unit(c, "CITY", "P"));
    expect(await refusal(upsertBranches(db, four, 3))).toEqual({
      code: "BAD_USER_INPUT",
      issues: [{ field: "input", reason: "holds 4 rows; at most 3 per call (use the import for bulk loads)" }],
    });
    expect(await tree()).toEqual(before);
  });

  it("the message lists each issue with its row, as the API sends it", async () => {
    const err = await upsertBranches(db, [unit("C3", "CITY", "P"), unit("S3", "SUB_BRANCH", "NOPE")], MAX_BATCH).catch((e: unknown) => e);
    expect((err as AppError).message).toBe('Invalid input: input[1].parentCode: unknown unit "NOPE"');
  });
});

describe("upsertBranches accepts what the rules allow, and the closure follows", () => {
  it("a child sent before its new parent, in one batch", async () => {
    expect(await upsertBranches(db, [unit("S3", "SUB_BRANCH", "C3"), unit("C3", "CITY", "P")], MAX_BATCH)).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
    expect(await ancestorsOf("S3")).toEqual(["C3", "P"]);
  });

  it("a subtree moved under another unit, more than one level below it", async () => {
    expect(await upsertBranches(db, [unit("S1", "SUB_BRANCH", "C2")], MAX_BATCH)).toMatchObject({ created: 0, updated: 1, unchanged: 0 });
    expect(await ancestorsOf("O1")).toEqual(["S1", "C2", "P"]);
    expect(await upsertBranches(db, [unit("O1", "OUTLET", "C1")], MAX_BATCH)).toMatchObject({ updated: 1 });
    expect(await ancestorsOf("O1")).toEqual(["C1", "P"]);
  });

  it("a unit moved under a unit created in the same batch (the tree after the batch is what counts)", async () => {
    // S1 leaves C1 for C2; its outlet O1 stays in C1, under the new sub-branch S2.
    const result = await upsertBranches(db, [unit("S1", "SUB_BRANCH", "C2"), unit("O1", "OUTLET", "S2"), unit("S2", "SUB_BRANCH", "C1")], MAX_BATCH);
    expect(result).toMatchObject({ created: 1, updated: 2, unchanged: 0 });
    expect([await ancestorsOf("S1"), await ancestorsOf("O1")]).toEqual([["C2", "P"], ["S2", "C1", "P"]]);
  });

  it("the same batch again changes nothing", async () => {
    const before = await tree();
    const seed = [unit("P", "PROVINCE"), unit("C1", "CITY", "P"), unit("S1", "SUB_BRANCH", "C1"), unit("O1", "OUTLET", "S1"), unit("C2", "CITY", "P")];
    expect(await upsertBranches(db, seed, MAX_BATCH)).toMatchObject({ created: 0, updated: 0, unchanged: 5 });
    expect(await tree()).toEqual(before);
  });
});

describe("upsertBranches for the import (skipInvalid): bad rows dropped and reported, the rest written", () => {
  it("a child whose parent was dropped is dropped too, with its own issue", async () => {
    const result = await upsertBranches(db, [unit("C3", "CITY", "NOPE"), unit("S3", "SUB_BRANCH", "C3"), unit("C4", "CITY", "P")], MAX_BATCH, { skipInvalid: true });
    expect(result).toMatchObject({
      created: 1,
      rejected: [
        { index: 0, field: "parentCode", reason: 'unknown unit "NOPE"' },
        { index: 1, field: "parentCode", reason: 'unknown unit "C3"' },
      ],
    });
    expect((await tree()).units.map((u) => u.code)).toEqual(["C1", "C2", "C4", "O1", "P", "S1"]);
  });
});
