/**
 * Every lock the application takes, by name. All are held until the transaction ends.
 *
 * The order: a transaction that takes more than one takes them in this order, never another,
 * so no two writers can wait on each other (deadlock).
 *
 *   1. `lockIdempotencyKey`: the call's own key, so a retry waits for the first attempt and
 *      then replays it. (A redemption takes none: its transaction id is a unique key, and a
 *      race between two uses of one id is settled by the insert; redemption.service.ts.)
 *   2. `lockOrgWrites`: the org tree; tree writes run one at a time.
 *   3. `lockRecordWrites`: records and the figures they feed (a re-org takes 2, then 3).
 *   4. `lockNewCode`: a campaign or promotion code being created, so two racing creates
 *      give one row and one clear error instead of a unique-key failure.
 *   5. `lockCampaign`: the campaign row (FOR UPDATE), then
 *   6. one of its promotion rows. A redemption takes both as row locks of its conditional
 *      updates, in this order, within one statement (redemption.service.ts); budgets and stock
 *      are spent under them.
 *   7. `lockPlan`: one assessment plan by code, created or not: its creation, changes, and the
 *      calculation and approval of its statements run one at a time. A calculation takes 3
 *      first, so the records it reads do not move under it.
 *   8. `lockMilestones`: one group webhook's milestone states: the instances that heard the
 *      same change judge it one after the other.
 *
 * Keyed locks are PostgreSQL advisory locks (the embedded database has them too): 2 and 3 have
 * fixed keys, the others hash "<scope>:<name>" (hashtext; a rare collision only makes two
 * unrelated writers wait for each other). The hashed texts are part of the contract between
 * running instances: during a rolling deploy old and new ones must take the same locks.
 */
import { Prisma } from "../generated/prisma/client.js";
import type { CampaignStatus } from "../generated/prisma/enums.js";
import type { Tx } from "./transaction.js";

const ORG_WRITES = 7_240_001;
const RECORD_WRITES = 7_240_002;

async function lockText(tx: Tx, text: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${text}))`;
}

/** Step 1: one idempotency key of one operation (e.g. "createCampaign"). */
export function lockIdempotencyKey(tx: Tx, operation: string, key: string): Promise<void> {
  return lockText(tx, `${operation}:${key}`);
}

/** Step 4: a code being created; kinds prefix it, so equal codes of different kinds never share a lock. */
export function lockNewCode(tx: Tx, kind: "campaign" | "promotion", code: string): Promise<void> {
  return lockText(tx, `${kind}:${code}`);
}

/** Step 2: serialises org tree writes. */
export async function lockOrgWrites(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ORG_WRITES})`;
}

/** Step 3: serialises record writes: the "before" snapshot must not race another writer of the same rows. */
export async function lockRecordWrites(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${RECORD_WRITES})`;
}

/** A campaign row as locked: what the checks under the lock read. */
export interface LockedCampaign {
  id: number;
  code: string;
  status: CampaignStatus;
  startsOn: Date;
  endsOn: Date;
  budgetFen: bigint;
  spentFen: bigint;
}

/**
 * Step 5: locks one campaign row and reads it in the same statement, so the checks see what
 * concurrent writers committed; null when there is none.
 */
export async function lockCampaign(tx: Tx, by: { id: number } | { code: string }): Promise<LockedCampaign | null> {
  const [row] = await tx.$queryRaw<LockedCampaign[]>`
    SELECT id, code, status, starts_on AS "startsOn", ends_on AS "endsOn", budget_fen AS "budgetFen", spent_fen AS "spentFen"
    FROM campaign WHERE ${"id" in by ? Prisma.sql`id = ${by.id}` : Prisma.sql`code = ${by.code}`} FOR UPDATE`;
  return row ?? null;
}

/** Step 7: one assessment plan, by code (held from its creation on, so it needs no row yet). */
export function lockPlan(tx: Tx, code: string): Promise<void> {
  return lockText(tx, `plan:${code}`);
}

/** Step 8: one group webhook's milestone states (src/modules/notify/milestones.service.ts). */
export function lockMilestones(tx: Tx, webhookId: number): Promise<void> {
  return lockText(tx, `milestones:${webhookId}`);
}
