import type { Db } from "../db/database.js";
export async function isEmpty(db: Db): Promise<boolean> {
  return (await db.branch.count()) === 0;
}
export async function loadDemo(_db: Db): Promise<Record<string, number>> {
  return {};
}
