import { Field, ObjectType } from "type-graphql";
import { Connection, Node } from "../common/relay.js";

/** A staff member who takes applications; belongs to one unit. */
@ObjectType({ implements: Node, description: "A staff member who takes applications; belongs to one unit." })
export class AccountManager extends Node {
  dbId!: number;
  branchId!: number;

  @Field() code!: string;
  @Field() name!: string;
}

@ObjectType()
export class AccountManagerConnection extends Connection(AccountManager, "AccountManager") {}
