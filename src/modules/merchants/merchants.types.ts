/**
 * GraphQL object types of the merchant module. Relations (branch, circles, members, visits)
 * are field resolvers backed by per-request loaders, so these classes carry only the row's own
 * columns plus the internal ids the loaders key on.
 */
import { Field, Float, ObjectType } from "type-graphql";
import type { BusinessDate } from "../../domain/dates.js";
import { DateScalar } from "../../graphql/scalars.js";
import { Connection, Node } from "../common/relay.js";
import { CircleKind, MerchantCategory, VisitOutcome } from "./merchants.enums.js";

@ObjectType({ implements: Node, description: "A merchant where cards are taken and promotions run." })
export class Merchant extends Node {
  /** Database id; internal, never exposed. */
  dbId!: number;
  branchId!: number;

  @Field() code!: string;
  @Field() name!: string;
  @Field(() => MerchantCategory) category!: MerchantCategory;
  @Field() address!: string;
  @Field(() => Float, { description: "WGS-84 degrees, -90..90." }) latitude!: number;
  @Field(() => Float, { description: "WGS-84 degrees, -180..180." }) longitude!: number;
}

@ObjectType()
export class MerchantConnection extends Connection(Merchant, "Merchant") {}

@ObjectType({ implements: Node, description: "A cluster of merchants (商圈) run together by one unit." })
export class BusinessCircle extends Node {
  dbId!: number;
  branchId!: number;

  @Field() code!: string;
  @Field() name!: string;
  @Field(() => CircleKind) kind!: CircleKind;
}

@ObjectType()
export class BusinessCircleConnection extends Connection(BusinessCircle, "BusinessCircle") {}

@ObjectType({ description: "A staff visit (走访) to a merchant, one per manager, merchant and day." })
export class Visit {
  dbId!: number;
  managerId!: number;
  merchantId!: number;

  @Field(() => DateScalar) visitedOn!: BusinessDate;
  @Field(() => VisitOutcome) outcome!: VisitOutcome;
  @Field({ description: "Free text; empty when none was given." }) note!: string;
}

@ObjectType()
export class VisitConnection extends Connection(Visit, "Visit") {}
