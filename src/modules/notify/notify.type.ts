import { DateTimeResolver } from "graphql-scalars";
import { Field, Float, Int, ObjectType } from "type-graphql";
import { MAX_WEBHOOK_ATTEMPTS } from "../../config.js";
import { maskedUrl } from "../../domain/webhook.js";
import { Limits, Rows } from "../../graphql/field-limits.js";
import { Connection } from "../common/relay.js";
import { DeliveryStatus, Metric, MilestoneKind, NotificationKind, ReportPeriod } from "./notify.enums.js";

@ObjectType({ description: "A work-chat group bot registered for a unit. Its signing secret is shown only when it is registered." })
export class GroupWebhook {
  dbId!: number;
  branchId!: number;
  /** The URL as stored; the API shows it masked (`url`). */
  rawUrl!: string;

  @Field() code!: string;
  @Field() name!: string;
  @Field({ description: "Where it is sent, query values masked (a bot's key usually rides there)." })
  get url(): string {
    return maskedUrl(this.rawUrl);
  }
  @Field(() => [MilestoneKind]) milestones!: MilestoneKind[];
  @Field(() => [Metric]) metrics!: Metric[];
  @Field(() => ReportPeriod) periodKind!: ReportPeriod;
  @Field(() => Float) behindMargin!: number;
  @Field() dailyReport!: boolean;
  @Field(() => DateTimeResolver) createdAt!: Date;
  @Field(() => DateTimeResolver) updatedAt!: Date;
}

@ObjectType({ description: "A registered webhook and its signing secret, shown this once: keep it where the receiver verifies signatures." })
export class WebhookRegistration {
  @Field(() => GroupWebhook) webhook!: GroupWebhook;
  @Field({ description: "Standard Webhooks secret (whsec_…): HMAC-SHA256 key of the webhook-signature header. Never shown again." })
  secret!: string;
}

@ObjectType({ description: "One POST of a delivery." })
export class DeliveryAttempt {
  @Field(() => DateTimeResolver) at!: Date;
  @Field(() => Int, { nullable: true, description: "The receiver's HTTP status; null when none came (timeout, connection refused)." })
  statusCode!: number | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => Int) durationMs!: number;
}

@ObjectType({ description: "A message to a group: a milestone or a daily report, with each attempt's outcome." })
export class WebhookDelivery {
  dbId!: bigint;

  @Field({ description: "Sent as the webhook-id header: the same on every retry, so a receiver can drop repeats." }) eventId!: string;
  @Field(() => NotificationKind) kind!: NotificationKind;
  @Field(() => DeliveryStatus) status!: DeliveryStatus;
  @Field(() => Int) attempts!: number;
  @Field({ description: "The markdown the group sees." }) content!: string;
  @Field(() => DateTimeResolver) createdAt!: Date;
  @Field(() => DateTimeResolver, { nullable: true }) deliveredAt!: Date | null;
  @Field(() => DateTimeResolver, { nullable: true, description: "When it is (re)tried, while PENDING." }) nextAttemptAt!: Date | null;
  @Field(() => [DeliveryAttempt], { description: "Oldest first; at most WEBHOOK_MAX_ATTEMPTS." })
  @Limits({ rows: Rows.upTo(MAX_WEBHOOK_ATTEMPTS) })
  attemptLog!: DeliveryAttempt[];
}

@ObjectType()
export class GroupWebhookConnection extends Connection(GroupWebhook, "GroupWebhook") {}

@ObjectType()
export class WebhookDeliveryConnection extends Connection(WebhookDelivery, "WebhookDelivery") {}
