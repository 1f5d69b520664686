import { ArgsType, Field, Float, InputType } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import { DateScalar } from "../../graphql/scalars.js";
import { PageArgs } from "../common/relay.js";
import { CircleKind, MerchantCategory, VisitOutcome } from "./merchants.enums.js";

@InputType({ description: "A merchant to create or update, keyed by code." })
export class MerchantInput {
  @Field() code!: string;
  @Field() name!: string;
  @Field(() => MerchantCategory) category!: MerchantCategory;
  @Field() address!: string;
  @Field(() => Float, { description: "-90..90." }) latitude!: number;
  @Field(() => Float, { description: "-180..180." }) longitude!: number;
  @Field({ description: "Code of the unit that owns the merchant relationship." }) branchCode!: string;
}

@InputType({ description: "A business circle to create or update, keyed by code; its members are replaced by `merchantCodes`." })
export class BusinessCircleInput {
  @Field() code!: string;
  @Field() name!: string;
  @Field(() => CircleKind) kind!: CircleKind;
  @Field({ description: "Code of the unit that runs the circle." }) branchCode!: string;
  @Field(() => [String], { description: "The circle's complete membership; merchants not listed are removed from it." })
  merchantCodes!: string[];
}

@InputType({ description: "A staff visit to record, keyed by (managerCode, merchantCode, visitedOn)." })
export class VisitInput {
  @Field() managerCode!: string;
  @Field() merchantCode!: string;
  @Field(() => DateScalar) visitedOn!: BusinessDate;
  @Field(() => VisitOutcome) outcome!: VisitOutcome;
  @Field(() => String, { nullable: true, description: "At most 2000 characters; omitted means empty." }) note?: string | null;
}

@ArgsType()
export class MerchantListArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: "Only merchants owned by this unit or any unit below it." }) branchCode?: string | null;
  @Field(() => String, { nullable: true, description: "Only members of this business circle." }) circleCode?: string | null;
  @Field(() => String, { nullable: true, description: "Part of a code or name, any case." }) search?: string | null;
}

@ArgsType()
export class CircleListArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: "Only circles run by this unit or any unit below it." }) branchCode?: string | null;
  @Field(() => CircleKind, { nullable: true }) kind?: CircleKind | null;
}

@ArgsType()
export class VisitListArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: "Only visits by managers of this unit or any unit below it." }) branchCode?: string | null;
  @Field(() => String, { nullable: true }) merchantCode?: string | null;
  @Field(() => String, { nullable: true }) managerCode?: string | null;
  @Field(() => DateScalar, { nullable: true, description: "Earliest visit date, inclusive." }) from?: BusinessDate | null;
  @Field(() => DateScalar, { nullable: true, description: "Latest visit date, inclusive." }) to?: BusinessDate | null;
}
