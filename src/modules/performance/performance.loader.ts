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

  /** The direct children of a unit, ranked. */
  const branchRanking = new DataLoader<RankingKey, BranchStandingRow[], string>(
    (keys) =>
      Promise.all(
        keys.map(async (k) => {
          const children = await childrenWithFigures(db, k.unitId, k.metric, k.period.code, k.window.start, k.window.end);
          const branches = children.map((c) => toBranch(c.row));
          org.childrenOf.prime(k.unitId, branches);
          return rankStandings(
            children.map((c, i) => {
              const branch = branches[i];
              org.branchById.prime(branch.dbId, branch);
              org.branchByCode.prime(branch.code, branch);
              prime("branch", k, branch.dbId, c.actual, c.target);
              return { code: branch.code, actual: c.actual, target: c.target, branch };
            }),
          );
        }),
      ),
    { cacheKeyFn: rankingKey },
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

  return { actual, daily, target, branchRanking, managerRanking };
}

export type PerformanceLoaders = ReturnType<typeof createPerformanceLoaders>;

function actualKey(k: ActualKey): string {
  return `${k.kind}|${k.id}|${k.metric}|${k.start}|${k.end}`;
}

