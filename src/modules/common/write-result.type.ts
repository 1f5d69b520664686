import { Field, Int, ObjectType } from "type-graphql";
import type { FieldIssue } from "../../errors.js";

/** What an idempotent batch write did: replaying the same batch yields only `unchanged`. */
@ObjectType({ description: "What an idempotent batch write did; replaying the same batch yields only `unchanged`." })
export class WriteResult {
  @Field(() => Int) created!: number;
  @Field(() => Int) updated!: number;
  @Field(() => Int) unchanged!: number;
}

export interface WriteCounts {
  created: number;
  updated: number;
  unchanged: number;
}

/** What a write did, and (when told to skip bad rows) which rows it refused and why. */
export interface WriteOutcome extends WriteCounts {
  rejected: FieldIssue[];
}

export function countWrites(total: number, returned: readonly { inserted: boolean }[]): WriteCounts {
  const created = returned.filter((r) => r.inserted).length;
  const updated = returned.length - created;
  return { created, updated, unchanged: total - created - updated };
}
