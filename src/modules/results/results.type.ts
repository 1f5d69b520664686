import { Field, Float, Int, ObjectType } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import type { Period } from "../../domain/period.js";
import { DateScalar, PeriodScalar } from "../../graphql/scalars.js";

/**
 * What a campaign or a business circle brought in over a period as of a date (the windowing
 * rules of shared/domain.md). Applications, new customers and activations are attributed by
 * the campaign and merchant codes the application carries.
 */
@ObjectType({ description: "What a campaign or business circle brought in over a period, as of a date." })
export class AttributedResults {
  @Field(() => PeriodScalar) period!: Period;
  @Field(() => DateScalar) asOf!: BusinessDate;
  @Field(() => Float) timeProgress!: number;
  @Field(() => Int, { description: "Staff visits to the merchants concerned." }) visits!: number;
  @Field(() => Int, { description: "Distinct merchants visited." }) merchantsVisited!: number;
  @Field(() => Int, { description: "Distinct merchants with a SIGNED_UP visit." }) merchantsSigned!: number;
  @Field(() => Int) applications!: number;
  @Field(() => Int) approvals!: number;
  @Field(() => Int) newCustomers!: number;
  @Field(() => Int) activations!: number;
  @Field(() => Int, { description: "Promotion uses at the merchants concerned." }) redemptions!: number;
  @Field(() => Float, { description: "What those uses cost the bank, yuan." }) redemptionCost!: number;
}

@ObjectType({ description: "A campaign's results, with its budget." })
export class CampaignResults extends AttributedResults {
  @Field(() => Float, { description: "Yuan." }) budget!: number;
  @Field(() => Float, { description: "Yuan spent so far, whatever the period." }) spentSoFar!: number;
  @Field(() => Float, { nullable: true, description: "spentSoFar ÷ budget; null for a zero budget." }) budgetUsed!: number | null;
}
