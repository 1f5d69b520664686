/**
 * Per-request loaders for merchants, circles and visits. Every relation a list can ask for
 * per row (a merchant's circles, a circle's members and count, a merchant's visits) is
 * fetched for the whole list in one statement, so a page costs the same however long it is.
 */
import DataLoader from "dataloader";
import type { Db } from "../../db/database.js";
import { visitScopeOf, type Viewer, type VisitScope } from "../../domain/access.js";
import { toPage, type Page } from "../common/relay.js";
import {
  circleMemberPages,
  merchantVisitPages,
  toCircle,
  toMerchant,
  visitCursorKey,
  visitCounts,
  type PageKey,
  type VisitCursor,
} from "./merchants.service.js";
import type { BusinessCircle, Merchant, Visit } from "./merchants.types.js";

const pageKeyOf = (k: PageKey<unknown>) => `${k.parentId}:${k.first}:${k.after ?? ""}`;

/** Parents without rows count 0. */
function countsFor(ids: readonly number[], rows: { id: number; n: number }[]): number[] {
  const byId = new Map(rows.map((r) => [r.id, r.n]));
  return ids.map((id) => byId.get(id) ?? 0);
}

export function createMerchantLoaders(db: Db, viewer: () => Promise<Viewer>) {
  // Visits are staff records: every visit loader reads only what the viewer may see (the
  // field guard has already refused viewers who may see none).
  const visitScope = async (): Promise<NonNullable<VisitScope>> => visitScopeOf(await viewer()) ?? { managerUnits: [] };
  const merchantById: DataLoader<number, Merchant | null> = new DataLoader(async (ids) => {
    const rows = await db.merchant.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, toMerchant(r)]));
    for (const m of byId.values()) merchantByCode.prime(m.code, m);
    return ids.map((id) => byId.get(id) ?? null);
  });
  const merchantByCode: DataLoader<string, Merchant | null> = new DataLoader(async (codes) => {
    const rows = await db.merchant.findMany({ where: { code: { in: [...codes] } } });
    const byCode = new Map(rows.map((r) => [r.code, toMerchant(r)]));
    for (const m of byCode.values()) merchantById.prime(m.dbId, m);
    return codes.map((c) => byCode.get(c) ?? null);
  });
  const circleByCode = new DataLoader<string, BusinessCircle | null>(async (codes) => {
    const rows = await db.businessCircle.findMany({ where: { code: { in: [...codes] } } });
    const byCode = new Map(rows.map((r) => [r.code, toCircle(r)]));
    return codes.map((c) => byCode.get(c) ?? null);
  });
  /** The circles a merchant belongs to, by code. */
  const circlesOfMerchant = new DataLoader<number, BusinessCircle[]>(async (merchantIds) => {
    const rows = await db.circleMember.findMany({
      where: { merchantId: { in: [...merchantIds] } },
      include: { circle: true },
      orderBy: { circle: { code: "asc" } },
    });
    const groups = new Map<number, BusinessCircle[]>(merchantIds.map((id) => [id, []]));
    for (const r of rows) groups.get(r.merchantId)!.push(toCircle(r.circle));
    return merchantIds.map((id) => groups.get(id)!);
  });
  const memberCount = new DataLoader<number, number>(async (circleIds) => {
    const groups = await db.circleMember.groupBy({ by: ["circleId"], where: { circleId: { in: [...circleIds] } }, _count: { _all: true } });
    return countsFor(circleIds, groups.map((g) => ({ id: g.circleId, n: g._count._all })));
  });
  const visitCount = new DataLoader<number, number>(async (merchantIds) => countsFor(merchantIds, await visitCounts(db, merchantIds, await visitScope())));

  /** A page of a circle's members, by merchant code. */
  const membersPage = new DataLoader<PageKey<string>, Page<Merchant>, string>(
    async (keys) => {
      const [pages, totals] = await Promise.all([circleMemberPages(db, keys), Promise.all(keys.map((k) => memberCount.load(k.parentId)))]);
      return pages.map((p, i) => {
        for (const m of p.rows) merchantById.prime(m.dbId, m);
        return toPage(p.rows, keys[i].first, (m) => m.code, p.after, totals[i]);
      });
    },
    { cacheKeyFn: pageKeyOf },
  );
  /** A page of a merchant's visits, newest first. */
  const visitsPage = new DataLoader<PageKey<VisitCursor>, Page<Visit>, string>(
    async (keys) => {
      const scope = await visitScope();
      const [pages, totals] = await Promise.all([merchantVisitPages(db, keys, scope), Promise.all(keys.map((k) => visitCount.load(k.parentId)))]);
      return pages.map((p, i) => toPage(p.rows, keys[i].first, visitCursorKey, p.after, totals[i]));
    },
    { cacheKeyFn: pageKeyOf },
  );
  return { merchantById, merchantByCode, circleByCode, circlesOfMerchant, memberCount, visitCount, membersPage, visitsPage };
}

export type MerchantLoaders = ReturnType<typeof createMerchantLoaders>;
