import { Field, Float, InputType } from "type-graphql";
import { Metric, MilestoneKind, ReportPeriod } from "./notify.enums.js";

@InputType({ description: "A work-chat group bot for a unit: its milestones and, if asked, its daily report go there." })
export class RegisterWebhookInput {
  @Field({ description: "The unit whose figures the group hears of." }) branchCode!: string;
  @Field({ description: "Your name for this webhook, unique; used to change or remove it." }) code!: string;
  @Field({ description: "The group's name, as people know it." }) name!: string;
  @Field({ description: "Where the bot takes a JSON POST: http or https, no user or password in it." }) url!: string;
  @Field(() => [MilestoneKind], { nullable: true, description: "Default: all of them." }) milestones?: MilestoneKind[] | null;
  @Field(() => [Metric], { nullable: true, description: "The metrics watched and reported. Default: NEW_CUSTOMERS." }) metrics?: Metric[] | null;
  @Field(() => ReportPeriod, { nullable: true, description: "Default: QUARTER." }) periodKind?: ReportPeriod | null;
  @Field(() => Float, { nullable: true, description: "BEHIND_PACE when completion is below time progress by more than this, 0..1 (default 0.05: five points)." })
  behindMargin?: number | null;
  @Field(() => Boolean, { nullable: true, description: "Send the daily report here at DAILY_REPORT_TIME (default true)." }) dailyReport?: boolean | null;
}

@InputType({ description: "Changes a webhook; fields left out keep their value. The signing secret stays." })
export class UpdateWebhookInput {
  @Field() code!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) url?: string | null;
  @Field(() => [MilestoneKind], { nullable: true }) milestones?: MilestoneKind[] | null;
  @Field(() => [Metric], { nullable: true }) metrics?: Metric[] | null;
  @Field(() => ReportPeriod, { nullable: true }) periodKind?: ReportPeriod | null;
  @Field(() => Float, { nullable: true }) behindMargin?: number | null;
  @Field(() => Boolean, { nullable: true }) dailyReport?: boolean | null;
}

@InputType()
export class RemoveWebhookInput {
  @Field() code!: string;
}
