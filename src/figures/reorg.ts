/**
 * A re-org moves figures with the units: each moved unit's own daily counts (its rollup less
 * its children's, read from the old tree) are subtracted from the ancestors it left and added
 * to those it joined. Only rollup rows are read, so a re-org costs the same at 10 M records as
 * at 10 k. Units new in the call have no records yet, so gaining them changes no figure.
 */
import type { BusinessDate } from "../domain/dates.js";
import type { Prisma } from "../generated/prisma/client.js";
import { mergeChanged, type FiguresChanged } from "./changed.js";
import { lockRecordWrites } from "./ledger.js";

/**
 * Runs `rebuildTree` (which rewrites the closure table from the new parent links) and moves the
 * figures of the subtrees under `movedIds` with it; returns the units (old and new ancestors)
 * and days whose figures moved. Managers, campaigns and merchants keep theirs: they are not
 * counted through the tree.
 */
export async function moveFiguresWithUnits(
  tx: Prisma.TransactionClient,
  movedIds: readonly number[],
  rebuildTree: () => Promise<void>,
): Promise<FiguresChanged> {
  await lockRecordWrites(tx);
  if (movedIds.length === 0) {
    await rebuildTree(); // only new units: no figure moves
    return mergeChanged();
  }
  await tx.$executeRaw`
    CREATE TEMP TABLE moved_own ON COMMIT DROP AS
    WITH units AS (SELECT DISTINCT descendant_id AS id FROM branch_closure WHERE ancestor_id = ANY(${[...movedIds]}::int[])),
    children AS (
      SELECT c.ancestor_id AS parent, r.metric, r.day, sum(r.count) AS n
      FROM branch_closure c JOIN rollup_branch_day r ON r.branch_id = c.descendant_id
      WHERE c.depth = 1 AND c.ancestor_id IN (SELECT id FROM units)
      GROUP BY c.ancestor_id, r.metric, r.day)
    SELECT r.branch_id, r.metric, r.day, (r.count - coalesce(ch.n, 0))::int AS n
    FROM rollup_branch_day r JOIN units u ON u.id = r.branch_id
    LEFT JOIN children ch ON ch.parent = r.branch_id AND ch.metric = r.metric AND ch.day = r.day`;
  // The moved units' ancestors before and after: an ancestor lost gives −1, one gained +1.
  await tx.$executeRaw`
    CREATE TEMP TABLE moved_ancestors_before ON COMMIT DROP AS
    SELECT ancestor_id AS a, descendant_id AS d FROM branch_closure WHERE descendant_id IN (SELECT branch_id FROM moved_own)`;
  await rebuildTree();
  const [moved] = await tx.$queryRaw<{ codes: string[] | null; days: BusinessDate[] | null }[]>`
    WITH moved AS (
      INSERT INTO rollup_branch_day AS r (branch_id, metric, day, count)
      SELECT x.a, o.metric, o.day, sum(x.sign * o.n)::int
      FROM (
        SELECT a, d, -1 AS sign FROM (
          SELECT a, d FROM moved_ancestors_before
          EXCEPT SELECT ancestor_id, descendant_id FROM branch_closure) lost
        UNION ALL
        SELECT a, d, 1 FROM (
          SELECT ancestor_id AS a, descendant_id AS d FROM branch_closure WHERE descendant_id IN (SELECT branch_id FROM moved_own)
          EXCEPT SELECT a, d FROM moved_ancestors_before) gained
      ) x
      JOIN moved_own o ON o.branch_id = x.d
      GROUP BY x.a, o.metric, o.day
      HAVING sum(x.sign * o.n) <> 0
      ORDER BY 1, 2, 3
      ON CONFLICT (branch_id, metric, day) DO UPDATE SET count = r.count + EXCLUDED.count
      RETURNING branch_id, day)
    SELECT (SELECT array_agg(DISTINCT b.code) FROM branch b WHERE b.id IN (SELECT branch_id FROM moved)) AS codes,
           (SELECT array_agg(DISTINCT to_char(day, 'YYYY-MM-DD')) FROM moved) AS days`;
  return mergeChanged({ units: moved.codes ?? [], managers: [], campaigns: [], merchants: [], days: moved.days ?? [] });
}
