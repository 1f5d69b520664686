/**
 * Per-request loaders for figures. Every key that resolvers ask for in one tick is grouped by
 * (metric, window) or (period), so a dashboard of N units costs a fixed number of statements.
 */
import DataLoader from "dataloader";
import type { Db } from "../../db/database.js";
import { groupBy } from "../common/group-by.js";
import type { BusinessDate } from "../../domain/dates.js";
import type { AsOfWindow, Period } from "../../domain/period.js";
import { rankStandings, type Standing } from "../../domain/ranking.js";
import type { AccountManager } from "../org/account-manager.type.js";
import type { Branch } from "../org/branch.type.js";
import type { OrgLoaders } from "../org/org.loader.js";
import { toBranch, toManager } from "../org/org.service.js";
import type { Metric } from "./performance.enums.js";
import { actuals, childrenWithFigures, dailyActuals, subtreeManagersWithFigures, targets, type SubjectKind } from "../../figures/reads.js";

interface ActualKey {
  kind: SubjectKind;
  id: number;
  metric: Metric;
  start: BusinessDate;
  end: BusinessDate;
}
interface TargetKey {
  kind: SubjectKind;
  id: number;
  period: string;
  metric: Metric;
}
export interface RankingKey {
  /** The parent unit (branch rankings) or the subtree's root (manager rankings). */
  unitId: number;
  period: Period;
  window: AsOfWindow;
  metric: Metric;
}

/** A ranking asked by the parent's code. */
export type RankingByCodeKey = Omit<RankingKey, "unitId"> & { parentCode: string };

export type BranchStandingRow = Standing<{ code: string; actual: number; target: number | null; branch: Branch }>;
export type ManagerStandingRow = Standing<{ code: string; actual: number; target: number | null; manager: AccountManager }>;

const rankingKey = (k: RankingKey) => `${k.unitId}|${k.period.code}|${k.window.end}|${k.metric}`;

export function createPerformanceLoaders(db: Db, org: OrgLoaders) {
  const actual = new DataLoader<ActualKey, number, string>(
    async (keys) => {
      const results = new Map<string, number>();
      // Every metric of a window in one statement: a dashboard asks for all four at once.
      const groups = groupBy(keys, (k) => `${k.kind}|${k.start}|${k.end}`);
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const { kind, start, end } = group[0];
          const ids = [...new Set(group.map((k) => k.id))];
          const metrics = [...new Set(group.map((k) => k.metric))];
          const counts = await actuals(db, kind, ids, metrics, start, end);
          for (const k of group) results.set(actualKey(k), counts.get(`${k.id}:${k.metric}`) ?? 0);
        }),
      );
      return keys.map((k) => results.get(actualKey(k)) ?? 0);
    },
    { cacheKeyFn: actualKey },
  );

  /** Daily actuals for series: every subject of one metric and window in one statement. */
  const daily = new DataLoader<ActualKey, Map<BusinessDate, number>, string>(
    async (keys) => {
      const results = new Map<string, Map<BusinessDate, number>>();
      const groups = groupBy(keys, (k) => `${k.kind}|${k.metric}|${k.start}|${k.end}`);
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const { kind, metric, start, end } = group[0];
          const found = await dailyActuals(db, kind, [...new Set(group.map((k) => k.id))], metric, start, end);
          for (const k of group) results.set(actualKey(k), found.get(k.id) ?? new Map());
        }),
      );
      return keys.map((k) => results.get(actualKey(k)) ?? new Map());
    },
    { cacheKeyFn: actualKey },
  );

  const target = new DataLoader<TargetKey, number | null, string>(
    async (keys) => {
      const results = new Map<string, number>();
      const groups = groupBy(keys, (k) => `${k.kind}|${k.period}`);
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const { kind, period } = group[0];
          const found = await targets(db, kind, [...new Set(group.map((k) => k.id))], period);
          for (const [key, value] of found) results.set(`${kind}|${period}|${key}`, value);
        }),
      );
      return keys.map((k) => results.get(`${k.kind}|${k.period}|${k.id}:${k.metric}`) ?? null);
    },
    { cacheKeyFn: (k) => `${k.kind}|${k.id}|${k.period}|${k.metric}` },
  );

  /** Keeps what a ranking learned, so nested fields (a child's parent, its figures) cost nothing more. */
  function prime(kind: SubjectKind, k: RankingKey, id: number, actualValue: number, targetValue: number | null) {
    actual.prime({ kind, id, metric: k.metric, start: k.window.start, end: k.window.end }, actualValue);
    target.prime({ kind, id, period: k.period.code, metric: k.metric }, targetValue);
  }

  /** Ranks a parent's children (named by id or by code) and keeps what the statement learned for nested fields. */
  async function rankChildren(k: Omit<RankingKey, "unitId">, parentOf: { id: number } | { code: string }): Promise<{ parent: Branch | null; ranked: BranchStandingRow[] }> {
    const found = await childrenWithFigures(db, parentOf, k.metric, k.period.code, k.window.start, k.window.end);
    if (!found.parent) return { parent: null, ranked: [] };
    const parent = toBranch(found.parent);
    org.branchById.prime(parent.dbId, parent);
    org.branchByCode.prime(parent.code, parent);
    const branches = found.children.map((c) => toBranch(c.row));
    org.childrenOf.prime(parent.dbId, branches);
    const ranked = rankStandings(
      found.children.map((c, i) => {
        const branch = branches[i];
        org.branchById.prime(branch.dbId, branch);
        org.branchByCode.prime(branch.code, branch);
        prime("branch", { ...k, unitId: parent.dbId }, branch.dbId, c.actual, c.target);
        return { code: branch.code, actual: c.actual, target: c.target, branch };
      }),
    );
    return { parent, ranked };
  }

  /** The direct children of a unit, ranked. */
  const branchRanking = new DataLoader<RankingKey, BranchStandingRow[], string>(
    (keys) => Promise.all(keys.map(async (k) => (await rankChildren(k, { id: k.unitId })).ranked)),
    { cacheKeyFn: rankingKey },
  );

  /**
   * The same, for a parent named by its code (the API's `branchRanking`): the parent is found by
   * the ranking's own statement, so a ranking is one round trip. Returns the parent too (null
   * when no unit has the code), for the caller's access check.
   */
  const branchRankingByCode = new DataLoader<RankingByCodeKey, { parent: Branch | null; ranked: BranchStandingRow[] }, string>(
    (keys) =>
      Promise.all(
        keys.map(async (k) => {
          const found = await rankChildren(k, { code: k.parentCode });
          if (found.parent) branchRanking.prime({ ...k, unitId: found.parent.dbId }, found.ranked);
          return found;
        }),
      ),
    { cacheKeyFn: (k) => `${k.parentCode}|${k.period.code}|${k.window.end}|${k.metric}` },
  );
  /** The account managers of a unit's subtree, ranked. */
  const managerRanking = new DataLoader<RankingKey, ManagerStandingRow[], string>(
    (keys) =>
      Promise.all(
        keys.map(async (k) => {
          const managers = await subtreeManagersWithFigures(db, k.unitId, k.metric, k.period.code, k.window.start, k.window.end);
          return rankStandings(
            managers.map((m) => {
              const manager = toManager(m.row);
              org.managerById.prime(manager.dbId, manager);
              org.managerByCode.prime(manager.code, manager);
              prime("manager", k, manager.dbId, m.actual, m.target);
              return { code: manager.code, actual: m.actual, target: m.target, manager };
            }),
          );
        }),
      ),
    { cacheKeyFn: rankingKey },
  );

  return { actual, daily, target, branchRanking, branchRankingByCode, managerRanking };
}

export type PerformanceLoaders = ReturnType<typeof createPerformanceLoaders>;

function actualKey(k: ActualKey): string {
  return `${k.kind}|${k.id}|${k.metric}|${k.start}|${k.end}`;
}

