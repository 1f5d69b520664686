import { Field, ObjectType } from "type-graphql";
import { Connection, Node } from "../common/relay.js";
import { OrgLevel } from "./org.enums.js";

/** A unit of the org tree: province, city branch, sub-branch or outlet. */
@ObjectType({ implements: Node, description: "A unit of the org tree: province, city branch, sub-branch or outlet." })
export class Branch extends Node {
  /** Database id; internal, never exposed. */
  dbId!: number;
  parentId!: number | null;

  @Field() code!: string;
  @Field() name!: string;
  @Field(() => OrgLevel) level!: OrgLevel;
}

@ObjectType()
export class BranchConnection extends Connection(Branch, "Branch") {}
