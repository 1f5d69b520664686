/**
 * The org tree and its staff: validated, idempotent, atomic upserts, and paged listings.
 */
import type { Db } from "../../db/database.js";
import type { IssueCollector } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import { pageByCode, toGlobalId, type Page } from "../common/relay.js";
import { CodeIds, unknownCode } from "../common/lookup.js";
import { checkBatchSize, checkCode, checkName, checkUnique, likeLiteral, screen, type WriteOptions } from "../common/validate.js";
import { inTransaction } from "../../db/transaction.js";
import { lockOrgWrites } from "../../db/locks.js";
import { countWrites, type WriteOutcome } from "../common/write-result.type.js";
import { mergeChanged, type FiguresChanged } from "../../figures/changed.js";
import { moveFiguresWithUnits } from "../../figures/reorg.js";
import { AccountManager } from "./account-manager.type.js";
import { Branch } from "./branch.type.js";
import { LEVEL_DEPTH, type OrgLevel } from "./org.enums.js";
import type { AccountManagerInput, BranchInput } from "./org.input.js";


export function toBranch(row: { id: number; code: string; name: string; level: OrgLevel; parentId: number | null }): Branch {
  return Object.assign(new Branch(), {
    id: toGlobalId("Branch", row.code),
    dbId: row.id,
    code: row.code,
    name: row.name,
    level: row.level,
    parentId: row.parentId,
  });
}

export function toManager(row: { id: number; code: string; name: string; branchId: number }): AccountManager {
  return Object.assign(new AccountManager(), {
    id: toGlobalId("AccountManager", row.code),
    dbId: row.id,
    code: row.code,
    name: row.name,
    branchId: row.branchId,
  });
}

interface TreeNode {
  code: string;
  level: OrgLevel;
  parentCode: string | null;
}

export async function upsertBranches(db: Db, input: readonly BranchInput[], maxBatch: number, options: WriteOptions = {}): Promise<WriteOutcome & { figuresChanged: FiguresChanged }> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx, changes) => {
    await lockOrgWrites(tx);
    const existing = await tx.branch.findMany({ select: { id: true, code: true, level: true, parentId: true } });
    const codeById = new Map(existing.map((b) => [b.id, b.code]));
    const before = new Map<string, TreeNode>(
      existing.map((b) => [b.code, { code: b.code, level: b.level, parentCode: b.parentId === null ? null : codeById.get(b.parentId)! }]),
    );
    const { rows, rejected } = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        checkCode(issues, i, "code", row.code);
        checkName(issues, i, "name", row.name);
        if (row.parentCode != null && row.parentCode === row.code) issues.add(i, "parentCode", "a unit cannot be its own parent");
        // Only a province heads a tree; a unit sent without its parent would otherwise silently
        // leave its tree, and every figure above it with it.
        if (row.parentCode == null && row.level !== "PROVINCE") issues.add(i, "parentCode", `is required: a ${row.level} sits below another unit`);
      });
      checkUnique(issues, rows, "code", (r) => r.code);
      const tree = new Map(before);
      for (const row of rows) tree.set(row.code, { code: row.code, level: row.level, parentCode: row.parentCode ?? null });
      validateTree(issues, rows, tree);
    });
    const returned: { inserted: boolean }[] = [];
    for (const wave of parentFirstWaves(rows)) {
      const written = await tx.$queryRaw<{ inserted: boolean }[]>`
        INSERT INTO branch (code, name, level, parent_id, updated_at)
        SELECT r.code, r.name, r.level::"OrgLevel", p.id, now()
        FROM unnest(${wave.map((r) => r.code)}::text[], ${wave.map((r) => r.name)}::text[],
                    ${wave.map((r) => r.level)}::text[], ${wave.map((r) => r.parentCode ?? null)}::text[])
             AS r(code, name, level, parent_code)
        LEFT JOIN branch p ON p.code = r.parent_code
        ON CONFLICT (code) DO UPDATE
          SET name = EXCLUDED.name, level = EXCLUDED.level, parent_id = EXCLUDED.parent_id, updated_at = now()
          WHERE (branch.name, branch.level, branch.parent_id) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_id)
        RETURNING (xmax = 0) AS inserted`;
      returned.push(...written);
    }
    const idOf = new Map(existing.map((b) => [b.code, b.id]));
    const moved = rows.filter((r) => before.has(r.code) && before.get(r.code)!.parentCode !== (r.parentCode ?? null)).map((r) => idOf.get(r.code)!);
    const treeChanged = moved.length > 0 || rows.some((r) => !before.has(r.code));
    // The closure is rebuilt after the tree changed, and the moved subtrees' figures go with them.
    const figuresChanged = treeChanged ? await moveFiguresWithUnits(tx, moved, () => rebuildClosure(tx)) : mergeChanged();
    changes.add({ figures: figuresChanged, reorg: treeChanged });
    return { ...countWrites(rows.length, returned), rejected, figuresChanged };
  });
}

/** Checks every edge that a row of the batch takes part in, against the tree after the batch. */
function validateTree(issues: IssueCollector, input: readonly BranchInput[], tree: Map<string, TreeNode>): void {
  const indexOf = new Map(input.map((r, i) => [r.code, i]));
  input.forEach((row, i) => {
    const parentCode = row.parentCode ?? null;
    if (parentCode === null || parentCode === row.code) return; // no parent, or reported already
    const parent = tree.get(parentCode);
    if (!parent) return issues.add(i, "parentCode", unknownCode("branch", parentCode));
    // Walk up from the parent: meeting the row again means the batch closes a loop.
    const seen = new Set<string>();
    for (let at: TreeNode | undefined = parent; at; at = at.parentCode ? tree.get(at.parentCode) : undefined) {
      if (at.code === row.code) return issues.add(i, "parentCode", `"${parentCode}" is below "${row.code}": the tree would have a cycle`);
      if (seen.has(at.code)) break;
      seen.add(at.code);
    }
    if (LEVEL_DEPTH[row.level] <= LEVEL_DEPTH[parent.level]) {
      issues.add(i, "level", `${row.level} cannot sit below ${parent.level} "${parent.code}"`);
    }
  });
  // A level change must also leave the row above its existing children.
  for (const child of tree.values()) {
    if (child.parentCode === null || indexOf.has(child.code)) continue;
    const i = indexOf.get(child.parentCode);
    if (i === undefined) continue;
    const parent = tree.get(child.parentCode)!;
    if (LEVEL_DEPTH[child.level] <= LEVEL_DEPTH[parent.level]) {
      issues.add(i, "level", `${parent.level} would not sit above its child ${child.level} "${child.code}"`);
    }
  }
}

/** Rows grouped so that a parent created in this batch is written before its children. */
function parentFirstWaves(input: readonly BranchInput[]): BranchInput[][] {
  const byCode = new Map(input.map((r) => [r.code, r]));
  const depth = new Map<string, number>();
  const depthOf = (row: BranchInput): number => {
    const known = depth.get(row.code);
    if (known !== undefined) return known;
    const parent = row.parentCode ? byCode.get(row.parentCode) : undefined;
    const d = parent ? depthOf(parent) + 1 : 0;
    depth.set(row.code, d);
    return d;
  };
  const waves: BranchInput[][] = [];
  for (const row of input) (waves[depthOf(row)] ??= []).push(row);
  return waves.filter(Boolean);
}

/** Units in the subtree of the unit with this code (the unit itself included), as a Prisma filter. */
export function inSubtree(branchCode: string): Prisma.BranchWhereInput {
  return { ancestors: { some: { ancestor: { code: branchCode } } } };
}

/** Recomputes the closure table from parent links; a few thousand rows at a bank's size. */
export async function rebuildClosure(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`DELETE FROM branch_closure`;
  await tx.$executeRaw`
    INSERT INTO branch_closure (ancestor_id, descendant_id, depth)
    WITH RECURSIVE up(descendant_id, ancestor_id, depth) AS (
      SELECT id, id, 0 FROM branch
      UNION ALL
      SELECT up.descendant_id, b.parent_id, up.depth + 1
      FROM up JOIN branch b ON b.id = up.ancestor_id
      WHERE b.parent_id IS NOT NULL
    )
    SELECT ancestor_id, descendant_id, depth FROM up`;
}

export async function upsertAccountManagers(
  db: Db,
  input: readonly AccountManagerInput[],
  maxBatch: number,
  options: WriteOptions = {},
): Promise<WriteOutcome> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx) => {
    const units = await CodeIds.load(tx, "branch", input.map((r) => r.branchCode));
    const { rows, rejected } = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        checkCode(issues, i, "code", row.code);
        checkName(issues, i, "name", row.name);
        units.check(issues, i, "branchCode", row.branchCode);
      });
      checkUnique(issues, rows, "code", (r) => r.code);
    });
    if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0, rejected };
    const returned = await tx.$queryRaw<{ inserted: boolean }[]>`
      INSERT INTO account_manager (code, name, branch_id, updated_at)
      SELECT r.code, r.name, r.branch_id, now()
      FROM unnest(${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.name)}::text[], ${rows.map((r) => units.get(r.branchCode)!)}::int[])
           AS r(code, name, branch_id)
      ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, branch_id = EXCLUDED.branch_id, updated_at = now()
        WHERE (account_manager.name, account_manager.branch_id) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.branch_id)
      RETURNING (xmax = 0) AS inserted`;
    return { ...countWrites(rows.length, returned), rejected };
  });
}

export interface ListBranchesFilter {
  parentCode?: string | null;
  level?: OrgLevel | null;
  search?: string | null;
}

/** Units by code, keyset-paged. */
export async function listBranches(db: Db, filter: ListBranchesFilter, first: number, after: string | null | undefined): Promise<Page<Branch>> {
  const where: Prisma.BranchWhereInput = {
    ...(filter.parentCode ? { parent: { code: filter.parentCode } } : {}),
    ...(filter.level ? { level: filter.level } : {}),
    ...(filter.search ? { OR: [{ code: { contains: likeLiteral(filter.search), mode: "insensitive" } }, { name: { contains: likeLiteral(filter.search), mode: "insensitive" } }] } : {}),
  };
  return pageByCode(db.branch, where, first, after, toBranch);
}

/** Account managers of a unit, or of its whole subtree, keyset-paged by code. */
export async function listManagers(db: Db, branchId: number, subtree: boolean, first: number, after: string | null | undefined): Promise<Page<AccountManager>> {
  const where: Prisma.AccountManagerWhereInput = subtree
    ? { branch: { ancestors: { some: { ancestorId: branchId } } } }
    : { branchId };
  return pageByCode(db.accountManager, where, first, after, toManager);
}
