import { registerEnumType } from "type-graphql";
import { CampaignStatus, PromotionKind } from "../../generated/prisma/enums.js";

export { CampaignStatus, PromotionKind };

registerEnumType(CampaignStatus, {
  name: "CampaignStatus",
  description: "DRAFT → SCHEDULED → ACTIVE ⇄ PAUSED → ENDED; SCHEDULED may go back to DRAFT or straight to ENDED.",
});
registerEnumType(PromotionKind, { name: "PromotionKind", description: "The kind of offer." });

export enum DayOfWeek {
  MONDAY = "MONDAY",
  TUESDAY = "TUESDAY",
  WEDNESDAY = "WEDNESDAY",
  THURSDAY = "THURSDAY",
  FRIDAY = "FRIDAY",
  SATURDAY = "SATURDAY",
  SUNDAY = "SUNDAY",
}
registerEnumType(DayOfWeek, { name: "DayOfWeek" });
