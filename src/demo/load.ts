/**
 * Loads the demo story (./story.ts) through the same services the API writes with, so the demo
 * data passes every check real data does and its derived state (closure table, customers'
 * first approvals) is built the production way. Every write is an idempotent upsert: loading
 * the story again changes nothing.
 */
import type { Db } from "../db/database.js";
import type { WriteCounts } from "../modules/common/write-result.type.js";
import { upsertAccountManagers, upsertBranches } from "../modules/org/org.service.js";
import { recordActivations, recordApplications } from "../modules/records/records.service.js";
import { setTargets } from "../modules/targets/targets.service.js";
import { buildStory } from "./story.js";

/** Rows per service call: the API's default MAX_BATCH_SIZE, so the services see what a client would send. */
export const DEMO_BATCH = 5_000;

export interface DemoSummary {
  branches: WriteCounts;
  managers: WriteCounts;
  targets: WriteCounts;
  applications: WriteCounts;
  activations: WriteCounts;
}

/** True when the database holds no org tree yet: the signal to load the demo on first start. */
export async function isEmpty(db: Db): Promise<boolean> {
  return (await db.branch.count()) === 0;
}

/**
 * Writes the whole story, parents before children and applications before their activations,
 * and returns what each service reported (all `unchanged` when the story was already there).
 */
export async function loadDemo(db: Db): Promise<DemoSummary> {
  const story = buildStory();
  return {
    branches: await inChunks(story.branches, (rows) => upsertBranches(db, rows, DEMO_BATCH)),
    managers: await inChunks(story.managers, (rows) => upsertAccountManagers(db, rows, DEMO_BATCH)),
    targets: await inChunks(story.targets, (rows) => setTargets(db, rows, DEMO_BATCH)),
    applications: await inChunks(story.applications, (rows) => recordApplications(db, rows, DEMO_BATCH)),
    activations: await inChunks(story.activations, (rows) => recordActivations(db, rows, DEMO_BATCH)),
  };
}

/**
 * Sends the rows in consecutive chunks, one after another: the story lists parents before
 * children, so each chunk only refers to rows already written.
 */
async function inChunks<T>(rows: readonly T[], write: (chunk: readonly T[]) => Promise<WriteCounts>): Promise<WriteCounts> {
  const total: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
  for (let i = 0; i < rows.length; i += DEMO_BATCH) {
    const counts = await write(rows.slice(i, i + DEMO_BATCH));
    total.created += counts.created;
    total.updated += counts.updated;
    total.unchanged += counts.unchanged;
  }
  return total;
}
