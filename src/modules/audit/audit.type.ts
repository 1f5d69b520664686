import { Field, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeResolver } from "graphql-scalars";
import { Connection } from "../common/relay.js";

export enum AuditOutcome {
  SUCCEEDED = "SUCCEEDED",
  REJECTED = "REJECTED",
  DENIED = "DENIED",
  FAILED = "FAILED",
}
registerEnumType(AuditOutcome, {
  name: "AuditOutcome",
  description: "How a write attempt ended.",
  valuesConfig: {
    REJECTED: { description: "Refused for bad input or a business rule; nothing was written." },
    DENIED: { description: "Refused for lack of permission; nothing was written." },
    FAILED: { description: "Failed inside the server; nothing was written." },
  },
});

@ObjectType({ description: "One write attempt: a mutation's root field or an import batch." })
export class AuditEntry {
  dbId!: bigint;

  @Field(() => DateTimeResolver) at!: Date;
  @Field({ description: 'The token\'s subject; "anonymous" without a token, "cli:<user>" for imports.' }) subject!: string;
  @Field({ description: "The caller's role, or ANONYMOUS." }) role!: string;
  @Field({ description: 'The mutation\'s field name, or "import:<kind>".' }) operation!: string;
  @Field(() => String, { nullable: true }) idempotencyKey!: string | null;
  @Field(() => AuditOutcome) outcome!: AuditOutcome;
  @Field(() => String, { nullable: true, description: "The refusal's extensions.code." }) errorCode!: string | null;
  @Field(() => String, { nullable: true, description: "What was written or attempted, in short." }) target!: string | null;
  @Field(() => String, { nullable: true, description: "Counts or the refusal's issues, as JSON." }) details!: string | null;
}

@ObjectType()
export class AuditEntryConnection extends Connection(AuditEntry, "AuditEntry") {}
