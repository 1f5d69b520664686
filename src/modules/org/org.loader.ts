/**
 * Per-request loaders for the org tree. Created in the request context, never shared, so a
 * request sees one consistent snapshot and no data leaks between requests.
 */
import DataLoader from "dataloader";
import type { Db } from "../../db/database.js";
import { direct } from "../../db/direct.js";
import type { OrgLevel } from "./org.enums.js";
import { AccountManager } from "./account-manager.type.js";
import { Branch } from "./branch.type.js";
import { toManager, toBranch } from "./org.service.js";

/** Every request looks its units up by code or id (a ranking's parent, a unit's screen): prepared, on the direct path. */
const BRANCH_COLUMNS = `id, code, name, level::text AS level, parent_id AS "parentId"`;
type BranchRow = { id: number; code: string; name: string; level: OrgLevel; parentId: number | null };

export function createOrgLoaders(db: Db) {
  const branchById: DataLoader<number, Branch | null> = new DataLoader(async (ids) => {
    const rows = await direct<BranchRow>(db, "branch_by_id", `SELECT ${BRANCH_COLUMNS} FROM branch WHERE id = ANY($1::int[])`, [ids]);
    const byId = new Map(rows.map((r) => [r.id, toBranch(r)]));
    for (const b of byId.values()) branchByCode.prime(b.code, b);
    return ids.map((id) => byId.get(id) ?? null);
  });
  const branchByCode: DataLoader<string, Branch | null> = new DataLoader(async (codes) => {
    const rows = await direct<BranchRow>(db, "branch_by_code", `SELECT ${BRANCH_COLUMNS} FROM branch WHERE code = ANY($1::text[])`, [codes]);
    const byCode = new Map(rows.map((r) => [r.code, toBranch(r)]));
    for (const b of byCode.values()) branchById.prime(b.dbId, b);
    return codes.map((c) => byCode.get(c) ?? null);
  });
  const childrenOf = new DataLoader<number, Branch[]>(async (parentIds) => {
    const rows = await db.branch.findMany({ where: { parentId: { in: [...parentIds] } }, orderBy: { code: "asc" } });
    const groups = new Map<number, Branch[]>(parentIds.map((id) => [id, []]));
    for (const r of rows) {
      const b = toBranch(r);
      branchById.prime(b.dbId, b);
      branchByCode.prime(b.code, b);
      groups.get(r.parentId!)!.push(b);
    }
    return parentIds.map((id) => groups.get(id)!);
  });
  const managerById: DataLoader<number, AccountManager | null> = new DataLoader(async (ids) => {
    const rows = await db.accountManager.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, toManager(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  const managerByCode = new DataLoader<string, AccountManager | null>(async (codes) => {
    const rows = await db.accountManager.findMany({ where: { code: { in: [...codes] } } });
    const byCode = new Map(rows.map((r) => [r.code, toManager(r)]));
    for (const m of byCode.values()) managerById.prime(m.dbId, m);
    return codes.map((c) => byCode.get(c) ?? null);
  });
  return { branchById, branchByCode, childrenOf, managerById, managerByCode };
}

export type OrgLoaders = ReturnType<typeof createOrgLoaders>;
