import { Field, ID, ObjectType } from "type-graphql";
import { Guard, staffVisible } from "../auth/auth.guard.js";
import { Connection, Node } from "../common/relay.js";

/** A staff member who takes applications; belongs to one unit. */
@ObjectType({ implements: Node, description: "A staff member who takes applications; belongs to one unit." })
export class AccountManager extends Node {
  dbId!: number;
  branchId!: number;

  // Who a staff member is stays inside their line of command (and the rankings that publish them).
  @Field(() => ID) @Guard(staffVisible) declare id: string;
  @Field() @Guard(staffVisible) code!: string;
  @Field() @Guard(staffVisible) name!: string;
}

@ObjectType()
export class AccountManagerConnection extends Connection(AccountManager, "AccountManager") {}
