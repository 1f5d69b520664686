import { Field, InputType } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import { DateScalar } from "../../graphql/scalars.js";
import { ApplicationChannel, Decision } from "./records.enums.js";

@InputType({ description: "A card application (进件), keyed by the bank's application number." })
export class ApplicationInput {
  @Field({ description: "The bank's application number." }) externalId!: string;
  @Field({ description: "The bank's stable customer id." }) customerId!: string;
  @Field({ description: "Unit where the application was taken." }) branchCode!: string;
  @Field(() => String, { nullable: true }) managerCode?: string | null;
  @Field(() => ApplicationChannel) channel!: ApplicationChannel;
  @Field(() => DateScalar) receivedOn!: BusinessDate;
  @Field(() => DateScalar, { nullable: true, description: "Date keyed into the bank's system (录入)." }) keyedOn?: BusinessDate | null;
  @Field(() => Decision, { nullable: true, defaultValue: Decision.PENDING }) decision?: Decision | null;
  @Field(() => DateScalar, { nullable: true, description: "Required once the decision is APPROVED or REJECTED." })
  decidedOn?: BusinessDate | null;
  @Field(() => String, { nullable: true, description: "Campaign the application is attributed to." }) campaignCode?: string | null;
  @Field(() => String, { nullable: true, description: "Merchant where it was taken or attributed." }) merchantCode?: string | null;
}

@InputType({ description: "The activation of an approved application's card." })
export class ActivationInput {
  @Field() applicationExternalId!: string;
  @Field(() => DateScalar) activatedOn!: BusinessDate;
  @Field(() => DateScalar, { nullable: true, description: "Date of the first spend (首刷)." }) firstSpendOn?: BusinessDate | null;
}
