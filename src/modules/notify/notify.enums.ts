import { registerEnumType } from "type-graphql";
import { DeliveryStatus } from "../../generated/prisma/enums.js";
import { Metric } from "../performance/performance.enums.js";

export { DeliveryStatus, Metric };

export enum MilestoneKind {
  TARGET_REACHED = "TARGET_REACHED",
  BEHIND_PACE = "BEHIND_PACE",
  RANK_CHANGED = "RANK_CHANGED",
}
registerEnumType(MilestoneKind, {
  name: "MilestoneKind",
  description: "A move of a unit's figures a group hears of once (src/domain/milestones.ts).",
  valuesConfig: {
    TARGET_REACHED: { description: "The unit reaches 100 % of its target." },
    BEHIND_PACE: { description: "Its completion falls behind time progress by more than the group's margin." },
    RANK_CHANGED: { description: "Its rank among its parent's children changes." },
  },
});

export enum ReportPeriod {
  QUARTER = "QUARTER",
  MONTH = "MONTH",
  WEEK = "WEEK",
}
registerEnumType(ReportPeriod, { name: "ReportPeriod", description: "The kind of period milestones and the daily report are judged in: the current one." });

export enum NotificationKind {
  MILESTONE = "MILESTONE",
  DAILY_REPORT = "DAILY_REPORT",
}
registerEnumType(NotificationKind, { name: "NotificationKind" });

registerEnumType(DeliveryStatus, {
  name: "DeliveryStatus",
  description: "PENDING (to be sent or retried), DELIVERED (a 2xx answer), FAILED (WEBHOOK_MAX_ATTEMPTS failures).",
});
