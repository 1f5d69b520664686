import { Field, ObjectType } from "type-graphql";
import { Connection, Node } from "../common/relay.js";
import { OrgLevel } from "./org.enums.js";

/**
 * How many direct children a unit has, at most, as far as a document's cost is concerned. The
 * org tree has no cap; the bench's bank has 13 cities in a province and about 12 outlets per
 * sub-branch, the story's province 11 cities.
 */
export const CHILDREN_ESTIMATE = 50;

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
