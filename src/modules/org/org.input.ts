import { ArgsType, Field, InputType } from "type-graphql";
import { PageArgs } from "../common/relay.js";
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

@ArgsType()
export class BranchListArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: "Only the direct children of this unit." }) parentCode?: string | null;
  @Field(() => OrgLevel, { nullable: true }) level?: OrgLevel | null;
  @Field(() => String, { nullable: true, description: "Part of a code or name, any case." }) search?: string | null;
}

@ArgsType()
export class ManagerListArgs extends PageArgs {
  @Field({ defaultValue: false, description: "Include the managers of every unit below." }) includeSubtree!: boolean;
}
