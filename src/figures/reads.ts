/**
 * The reads behind every figure, returning plain rows. Each query is set-based over a list of
 * subjects, so callers (the loaders) pay one statement per metric and window, whatever the
 * number of units. Windows are inclusive business-date ranges (shared/domain.md). Figures are
 * read only from the daily rollups, never from the raw records.
 */
import type { Db } from "../db/database.js";
import { direct } from "../db/direct.js";
import type { BusinessDate } from "../domain/dates.js";
import { Prisma } from "../generated/prisma/client.js";
import type { Metric, OrgLevel } from "../generated/prisma/enums.js";
import { campaignMerchants } from "./coverage.js";
import { BRANCH_ROLLUP, KEYED_ROLLUPS } from "./tables.js";

/** Whose figures: a unit (its whole subtree) or an account manager. */
export type SubjectKind = "branch" | "manager";

/** The daily rollup each kind of subject is read from. */
const ROLLUP = { branch: BRANCH_ROLLUP, manager: KEYED_ROLLUPS[0] } as const satisfies Record<SubjectKind, { name: string; keyColumn: string }>;

/*
 * The figure reads every dashboard request makes, as fixed texts per kind of subject, so they
 * are prepared once per connection (src/db/direct.ts). Parameters: $1 the subject ids, then as named.
 */
const bothKinds = (sql: (r: { table: string; key: string }) => string) =>
  ({ branch: sql({ table: ROLLUP.branch.name, key: ROLLUP.branch.keyColumn }), manager: sql({ table: ROLLUP.manager.name, key: ROLLUP.manager.keyColumn }) }) as const;
/** $2 the metrics, $3..$4 the window. */
const ACTUALS_SQL = bothKinds(({ table, key }) => `
  SELECT ${key} AS id, metric::text AS metric, sum(count)::int AS n FROM ${table}
  WHERE ${key} = ANY($1::int[]) AND metric = ANY($2::"Metric"[]) AND day BETWEEN $3::date AND $4::date
  GROUP BY ${key}, metric`);
/** $2 the metric, $3..$4 the window. */
const DAILY_SQL = bothKinds(({ table, key }) => `
  SELECT ${key} AS id, to_char(day, 'YYYY-MM-DD') AS day, count AS n FROM ${table}
  WHERE ${key} = ANY($1::int[]) AND metric = $2::"Metric" AND day BETWEEN $3::date AND $4::date`);
/** $2 the period's code. */
const TARGETS_SQL = {
  branch: `SELECT branch_id AS id, metric::text AS metric, value FROM target WHERE branch_id = ANY($1::int[]) AND period = $2`,
  manager: `SELECT manager_id AS id, metric::text AS metric, value FROM target WHERE manager_id = ANY($1::int[]) AND period = $2`,
} as const;

/**
 * Actuals of the metrics in [start, end] for each subject id, as `${id}:${metric}` → count,
 * summed from the daily rollups (a unit's rollup already covers its whole subtree). One
 * statement for every metric a dashboard shows; combinations with nothing are absent.
 */
export async function actuals(
  db: Db,
  kind: SubjectKind,
  ids: readonly number[],
  metrics: readonly Metric[],
  start: BusinessDate,
  end: BusinessDate,
): Promise<Map<string, number>> {
  if (ids.length === 0 || end < start) return new Map();
  const rows = await direct<{ id: number; metric: Metric; n: number }>(db, `actuals_${kind}`, ACTUALS_SQL[kind], [ids, metrics, start, end]);
  return new Map(rows.map((r) => [`${r.id}:${r.metric}`, r.n]));
}

/**
 * Daily actuals of the subjects in [start, end] for one metric, as `${id}` → (date → count);
 * days with nothing are absent. One statement for a whole drill-down of series.
 */
export async function dailyActuals(
  db: Db,
  kind: SubjectKind,
  ids: readonly number[],
  metric: Metric,
  start: BusinessDate,
  end: BusinessDate,
): Promise<Map<number, Map<BusinessDate, number>>> {
  const byId = new Map<number, Map<BusinessDate, number>>(ids.map((id) => [id, new Map()]));
  if (ids.length === 0 || end < start) return byId;
  const rows = await direct<{ id: number; day: string; n: number }>(db, `daily_actuals_${kind}`, DAILY_SQL[kind], [ids, metric, start, end]);
  for (const r of rows) byId.get(r.id)?.set(r.day, r.n);
  return byId;
}

/** Targets of the subjects for one period, as `${id}:${metric}` → value. */
export async function targets(db: Db, kind: SubjectKind, ids: readonly number[], period: string): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await direct<{ id: number; metric: Metric; value: number }>(db, `targets_${kind}`, TARGETS_SQL[kind], [ids, period]);
  return new Map(rows.map((t) => [`${t.id}:${t.metric}`, t.value]));
}

/** A unit as the org tree's rows give it. */
export interface UnitRow {
  id: number;
  code: string;
  name: string;
  level: OrgLevel;
  parentId: number | null;
}

/** The ranking's statement, for a parent named by id ($1::int) or by code ($1::text). */
const childrenSql = (by: "id" | "code") => `
  WITH p AS (SELECT id, code, name, level::text AS level, parent_id FROM branch WHERE ${by} = $1::${by === "id" ? "int" : "text"})
  SELECT p.id AS "pId", p.code AS "pCode", p.name AS "pName", p.level AS "pLevel", p.parent_id AS "pParentId",
         b.id, b.code, b.name, b.level::text AS level, b.parent_id AS "parentId", coalesce(r.n, 0)::int AS actual, t.value AS target
  FROM p
  LEFT JOIN branch b ON b.parent_id = p.id
  LEFT JOIN (SELECT r.branch_id, sum(r.count) AS n FROM p JOIN branch c ON c.parent_id = p.id JOIN rollup_branch_day r ON r.branch_id = c.id
             WHERE r.metric = $2::"Metric" AND r.day BETWEEN $3::date AND $4::date
             GROUP BY r.branch_id) r ON r.branch_id = b.id
  LEFT JOIN target t ON t.branch_id = b.id AND t.period = $5 AND t.metric = $2::"Metric"
  ORDER BY b.code`;
const CHILDREN_SQL = { id: childrenSql("id"), code: childrenSql("code") };

/**
 * A ranking's whole input in one statement: the parent (named by id or, as the API names it,
 * by code; null when there is none) and its children with their actual (from the rollups) and
 * target. A dashboard's hottest query, so it costs one round trip, parent lookup included.
 */
export async function childrenWithFigures(
  db: Db,
  parent: { id: number } | { code: string },
  metric: Metric,
  period: string,
  start: BusinessDate,
  end: BusinessDate,
): Promise<{ parent: UnitRow | null; children: { row: UnitRow; actual: number; target: number | null }[] }> {
  const by = "id" in parent ? "id" : "code";
  const rows = await direct<UnitRow & { pId: number; pCode: string; pName: string; pLevel: OrgLevel; pParentId: number | null; actual: number; target: number | null }>(
    db,
    `children_with_figures_by_${by}`,
    CHILDREN_SQL[by],
    ["id" in parent ? parent.id : parent.code, metric, start, end, period],
  );
  if (rows.length === 0) return { parent: null, children: [] };
  const [head] = rows;
  return {
    parent: { id: head.pId, code: head.pCode, name: head.pName, level: head.pLevel, parentId: head.pParentId },
    // A parent with no children comes back as one row with no child.
    children: rows.filter((r) => r.id !== null).map(({ id, code, name, level, parentId, actual, target }) => ({ row: { id, code, name, level, parentId }, actual, target })),
  };
}

/** The account managers of a unit's subtree with their actual and target, in one statement. */
export async function subtreeManagersWithFigures(db: Db, unitId: number, metric: Metric, period: string, start: BusinessDate, end: BusinessDate) {
  const rows = await db.$queryRaw<{ id: number; code: string; name: string; branchId: number; actual: number; target: number | null }[]>`
    SELECT m.id, m.code, m.name, m.branch_id AS "branchId", coalesce(r.n, 0)::int AS actual, t.value AS target
    FROM branch_closure c
    JOIN account_manager m ON m.branch_id = c.descendant_id
    LEFT JOIN (SELECT r.manager_id, sum(r.count) AS n FROM rollup_manager_day r
               JOIN account_manager am ON am.id = r.manager_id
               JOIN branch_closure sc ON sc.descendant_id = am.branch_id AND sc.ancestor_id = ${unitId}
               WHERE r.metric = ${metric}::"Metric" AND r.day BETWEEN ${start}::date AND ${end}::date
               GROUP BY r.manager_id) r ON r.manager_id = m.id
    LEFT JOIN target t ON t.manager_id = m.id AND t.period = ${period} AND t.metric = ${metric}::"Metric"
    WHERE c.ancestor_id = ${unitId}
    ORDER BY m.code`;
  return rows.map(({ actual, target, ...row }) => ({ row, actual, target }));
}

// ---- Attributed results: campaigns and business circles ------------------------------------

/** Whose results: campaigns or circles, by database id. */
export type ResultOwner = "campaign" | "circle";

/** The SQL that differs between campaigns and circles; every part yields an owner_id column. */
interface OwnerSql {
  /** (owner_id, merchant_id): the merchants each owner covers. */
  merchants(ids: number[]): Prisma.Sql;
  /** (owner_id, metric, day, count): attributed daily counts. */
  attributed(ids: number[]): Prisma.Sql;
  /** (owner_id, local_date, cost_fen): redemptions. */
  redemptions(ids: number[]): Prisma.Sql;
}

const idList = (list: number[]) => Prisma.sql`${list}::int[]`;

const OWNERS: Record<ResultOwner, OwnerSql> = {
  campaign: {
    merchants: (list) => Prisma.sql`SELECT campaign_id AS owner_id, merchant_id FROM (${campaignMerchants({ campaigns: list })}) covered`,
    // Attributed by the campaign code an application carries (a feed may name a campaign before it exists here).
    attributed: (list) => Prisma.sql`
      SELECT c.id AS owner_id, r.metric, r.day, r.count FROM campaign c JOIN ${KEYED_ROLLUPS[1].table} r ON r.campaign_code = c.code
      WHERE c.id = ANY(${idList(list)})`,
    redemptions: (list) => Prisma.sql`
      SELECT p.campaign_id AS owner_id, r.local_date, r.cost_fen FROM redemption r JOIN promotion p ON p.id = r.promotion_id
      WHERE p.campaign_id = ANY(${idList(list)})`,
  },
  circle: {
    merchants: (list) => Prisma.sql`SELECT circle_id AS owner_id, merchant_id FROM circle_member WHERE circle_id = ANY(${idList(list)})`,
    attributed: (list) => Prisma.sql`
      SELECT s.circle_id AS owner_id, r.metric, r.day, r.count
      FROM circle_member s JOIN merchant m ON m.id = s.merchant_id JOIN ${KEYED_ROLLUPS[2].table} r ON r.merchant_code = m.code
      WHERE s.circle_id = ANY(${idList(list)})`,
    redemptions: (list) => Prisma.sql`
      SELECT s.circle_id AS owner_id, r.local_date, r.cost_fen FROM circle_member s JOIN redemption r ON r.merchant_id = s.merchant_id
      WHERE s.circle_id = ANY(${idList(list)})`,
  },
};

/** What a campaign or circle brought in over a window (money in yuan). */
export interface AttributedFigures {
  visits: number;
  merchantsVisited: number;
  merchantsSigned: number;
  applications: number;
  approvals: number;
  newCustomers: number;
  activations: number;
  redemptions: number;
  redemptionCost: number;
}

/**
 * What campaigns or circles brought in over a window [start, end], by owner id: visits (and the
 * merchants visited and signed), the attributed metrics from the rollups, and redemptions with
 * their cost. Three statements whatever the list's length; owners with nothing get zeros.
 */
export async function attributedResults(db: Db, owner: ResultOwner, list: number[], w: { start: BusinessDate; end: BusinessDate }): Promise<Map<number, AttributedFigures>> {
  const sql = OWNERS[owner];
  const [visits, metrics, used] = await Promise.all([
    db.$queryRaw<{ owner_id: number; visits: number; visited: number; signed: number }[]>`
      SELECT s.owner_id, count(*)::int AS visits, count(DISTINCT v.merchant_id)::int AS visited,
             count(DISTINCT v.merchant_id) FILTER (WHERE v.outcome = 'SIGNED_UP')::int AS signed
      FROM (${sql.merchants(list)}) s JOIN visit v ON v.merchant_id = s.merchant_id
      WHERE v.visited_on BETWEEN ${w.start}::date AND ${w.end}::date
      GROUP BY s.owner_id`,
    db.$queryRaw<{ owner_id: number; metric: string; n: number }[]>`
      SELECT owner_id, metric::text, sum(count)::int AS n FROM (${sql.attributed(list)}) r
      WHERE day BETWEEN ${w.start}::date AND ${w.end}::date GROUP BY owner_id, metric`,
    db.$queryRaw<{ owner_id: number; n: number; cost: bigint | null }[]>`
      SELECT owner_id, count(*)::int AS n, sum(cost_fen)::bigint AS cost FROM (${sql.redemptions(list)}) r
      WHERE local_date BETWEEN ${w.start}::date AND ${w.end}::date GROUP BY owner_id`,
  ]);
  const visitsOf = new Map(visits.map((r) => [r.owner_id, r]));
  const usedOf = new Map(used.map((r) => [r.owner_id, r]));
  const metricsOf = new Map<number, Record<string, number>>();
  for (const r of metrics) metricsOf.set(r.owner_id, { ...metricsOf.get(r.owner_id), [r.metric]: r.n });
  return new Map(
    list.map((id) => {
      const v = visitsOf.get(id);
      const m = metricsOf.get(id) ?? {};
      const u = usedOf.get(id);
      return [
        id,
        {
          visits: v?.visits ?? 0,
          merchantsVisited: v?.visited ?? 0,
          merchantsSigned: v?.signed ?? 0,
          applications: m.APPLICATIONS ?? 0,
          approvals: m.APPROVALS ?? 0,
          newCustomers: m.NEW_CUSTOMERS ?? 0,
          activations: m.ACTIVATIONS ?? 0,
          redemptions: u?.n ?? 0,
          redemptionCost: Number(u?.cost ?? 0n) / 100,
        },
      ];
    }),
  );
}
