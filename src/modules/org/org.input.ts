import { Field, InputType } from "type-graphql";
import { OrgLevel } from "./org.enums.js";

@InputType({ description: "A unit to create or update, keyed by code." })
export class BranchInput {
  @Field() code!: string;
  @Field() name!: string;
  @Field(() => OrgLevel) level!: OrgLevel;
  @Field(() => String, { nullable: true, description: "Code of the unit above; omit for a root." })
  parentCode?: string | null;
}

@InputType({ description: "An account manager to create or update, keyed by code." })
export class AccountManagerInput {
  @Field() code!: string;
  @Field() name!: string;
  @Field({ description: "Code of the unit the manager belongs to." }) branchCode!: string;
}
