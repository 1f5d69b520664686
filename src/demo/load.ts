/**
 * Loads the demo story (./story.ts) through the same services the API writes with, so the demo
 * data passes every check real data does and its derived state (closure table, customers'
 * first approvals) is built the production way. Every batch write is an idempotent upsert and
 * the campaign's one-off calls are skipped when their result is there: loading the story again
 * changes nothing.
 */
import type { Db } from "../db/database.js";
import { CampaignStatus } from "../generated/prisma/enums.js";
import { createCampaign, findCampaign, transitionCampaign } from "../modules/campaigns/campaign.service.js";
import { createPromotion } from "../modules/campaigns/promotion.service.js";
import { redeem } from "../modules/campaigns/redemption.service.js";
import type { WriteCounts } from "../modules/common/write-result.type.js";
import { recordVisits, upsertBusinessCircles, upsertMerchants } from "../modules/merchants/merchants.service.js";
import { upsertAccountManagers, upsertBranches } from "../modules/org/org.service.js";
import { recordActivations, recordApplications } from "../modules/records/records.service.js";
import { setTargets } from "../modules/targets/targets.service.js";
import { CIRCLES } from "./circles.js";
import { loadDemoPlan } from "./plan.js";
import { buildStory, type DemoStory } from "./story.js";

/** Rows per service call: the API's default MAX_BATCH_SIZE, so the services see what a client would send. */
export const DEMO_BATCH = 5_000;

export interface DemoSummary {
  branches: WriteCounts;
  managers: WriteCounts;
  targets: WriteCounts;
  applications: WriteCounts;
  activations: WriteCounts;
  merchants: WriteCounts;
  circles: WriteCounts;
  visits: WriteCounts;
  campaigns: WriteCounts;
  promotions: WriteCounts;
  redemptions: WriteCounts;
  plans: WriteCounts;
  statements: WriteCounts;
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
    merchants: await inChunks(story.merchants, (rows) => upsertMerchants(db, rows, DEMO_BATCH)),
    circles: await inChunks(story.circles, (rows) => upsertBusinessCircles(db, rows, DEMO_BATCH)),
    visits: await inChunks(story.visits, (rows) => recordVisits(db, rows, DEMO_BATCH)),
    ...(await loadCampaign(db, story)),
    // After the records: the plan's statements are calculated from them.
    ...(await loadDemoPlan(db)),
  };
}

/**
 * The campaign through the marketing tools' calls: created (DRAFT) with its promotions, then
 * SCHEDULED and ACTIVE, then used by cardholders. Unlike the batch upserts, createCampaign
 * refuses a code that exists and a redemption is one call each, so what is already there is
 * skipped: a second load makes no call that would write.
 */
async function loadCampaign(db: Db, story: DemoStory): Promise<Pick<DemoSummary, "campaigns" | "promotions" | "redemptions">> {
  const code = story.campaign.code;
  const transitionKey = (to: CampaignStatus) => `demo-${code}-${to}`;
  const campaigns = counts();
  let campaign = await findCampaign(db, code);
  if (campaign) campaigns.unchanged++;
  else {
    campaign = await createCampaign(db, story.campaign);
    campaigns.created++;
  }

  const promotions = counts();
  const existing = new Set((await db.promotion.findMany({ where: { campaign: { code } }, select: { code: true } })).map((p) => p.code));
  for (const promotion of story.promotions) {
    if (existing.has(promotion.code)) promotions.unchanged++;
    else {
      await createPromotion(db, promotion);
      promotions.created++;
    }
  }

  // DRAFT → SCHEDULED → ACTIVE; a campaign someone has since paused or ended stays as it is.
  const route: CampaignStatus[] = [CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE];
  const reached = route.indexOf(campaign.status);
  if (reached >= 0) {
    for (const to of route.slice(reached + 1)) campaign = await transitionCampaign(db, { idempotencyKey: transitionKey(to), code, to });
  }

  const redemptions = counts();
  const done = new Set(
    (await db.redemption.findMany({ where: { transactionId: { in: story.redemptions.map((r) => r.transactionId) } }, select: { transactionId: true } })).map((r) => r.transactionId),
  );
  for (const redemption of story.redemptions) {
    if (done.has(redemption.transactionId)) redemptions.unchanged++;
    else {
      // The acquirer's reports, played back at their own time: the service judges `at` against
      // its clock, so the clock is set to the moment the card was used in 2021.
      await redeem(db, redemption, { zone: CIRCLES.zone, now: redemption.at!, maxSkewSeconds: 0 });
      redemptions.created++;
    }
  }
  return { campaigns, promotions, redemptions };
}

const counts = (): WriteCounts => ({ created: 0, updated: 0, unchanged: 0 });

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
