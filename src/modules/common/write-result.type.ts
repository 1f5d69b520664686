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

/**
 * What a streamed write did (the bulk import's chunk): its rejected issues went to the caller a
 * page at a time as they were found (StreamedWriteOptions), so here only their rows are counted.
 */
export interface StreamedOutcome extends WriteCounts {
  rejectedRows: number;
}

export function countWrites(total: number, returned: readonly { inserted: boolean }[]): WriteCounts {
  const created = returned.filter((r) => r.inserted).length;
  const updated = returned.length - created;
  return { created, updated, unchanged: total - created - updated };
}
