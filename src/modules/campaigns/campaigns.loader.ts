/** Per-request loaders for campaigns, so a list of promotions costs one campaign query. */
import DataLoader from "dataloader";
import type { Db } from "../../db/database.js";
import type { Campaign, Promotion, PromotionScope } from "./campaigns.type.js";
import { findCampaignsById } from "./campaign.service.js";
import { promotionScopes, toPromotion } from "./promotion.service.js";

export function createCampaignLoaders(db: Db) {
  return {
    campaignById: new DataLoader<number, Campaign | null>(async (ids) => {
      const found = await findCampaignsById(db, ids);
      return ids.map((id) => found.get(id) ?? null);
    }),
    /** A campaign's eligible circles and merchants, by code: two statements for a whole page. */
    eligibleCodes: new DataLoader<number, { circles: string[]; merchants: string[] }>(async (campaignIds) => {
      const ids = [...campaignIds];
      const [circles, merchants] = await Promise.all([
        db.campaignCircle.findMany({ where: { campaignId: { in: ids } }, select: { campaignId: true, circle: { select: { code: true } } }, orderBy: { circle: { code: "asc" } } }),
        db.campaignMerchant.findMany({ where: { campaignId: { in: ids } }, select: { campaignId: true, merchant: { select: { code: true } } }, orderBy: { merchant: { code: "asc" } } }),
      ]);
      const byId = new Map(ids.map((id) => [id, { circles: [] as string[], merchants: [] as string[] }]));
      for (const c of circles) byId.get(c.campaignId)!.circles.push(c.circle.code);
      for (const m of merchants) byId.get(m.campaignId)!.merchants.push(m.merchant.code);
      return ids.map((id) => byId.get(id)!);
    }),
    /** Where each promotion of a page applies: one statement for the page. */
    promotionScope: new DataLoader<number, PromotionScope>((ids) => promotionScopes(db, ids)),
    promotionsOf: new DataLoader<number, Promotion[]>(async (campaignIds) => {
      const rows = await db.promotion.findMany({ where: { campaignId: { in: [...campaignIds] } }, orderBy: { code: "asc" } });
      return campaignIds.map((id) => rows.filter((r) => r.campaignId === id).map(toPromotion));
    }),
  };
}
