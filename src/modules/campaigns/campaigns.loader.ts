/** Per-request loaders for campaigns, so a list of promotions costs one campaign query. */
import DataLoader from "dataloader";
import type { Db } from "../../db/database.js";
import type { Campaign, Promotion } from "./campaigns.type.js";
import { findCampaignsById, toPromotion } from "./campaigns.service.js";

export function createCampaignLoaders(db: Db) {
  return {
    campaignById: new DataLoader<number, Campaign | null>(async (ids) => {
      const found = await findCampaignsById(db, ids);
      return ids.map((id) => found.get(id) ?? null);
    }),
    promotionsOf: new DataLoader<number, Promotion[]>(async (campaignIds) => {
      const rows = await db.promotion.findMany({ where: { campaignId: { in: [...campaignIds] } }, orderBy: { code: "asc" } });
      return campaignIds.map((id) => rows.filter((r) => r.campaignId === id).map(toPromotion));
    }),
  };
}
