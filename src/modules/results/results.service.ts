/**
 * Campaign and business-circle results as GraphQL objects, over src/figures' attributed results
 * (computed for a whole list of campaigns or circles at once, so a page of campaigns with their
 * results costs the same as one).
 */
import type { Db } from "../../db/database.js";
import type { BusinessDate } from "../../domain/dates.js";
import { asOfWindow, progressOf, type Period } from "../../domain/period.js";
import { attributedResults, type ResultOwner } from "../../figures/reads.js";
import { AttributedResults, CampaignResults } from "./results.type.js";

/** The results of several campaigns or circles over one window, by owner id. */
export async function resultsOf(db: Db, owner: ResultOwner, list: number[], period: Period, asOf: BusinessDate): Promise<Map<number, AttributedResults>> {
  const window = asOfWindow(period, asOf);
  const figures = await attributedResults(db, owner, list, window);
  const timeProgress = progressOf(period, window);
  return new Map(list.map((id) => [id, Object.assign(new AttributedResults(), { period, asOf, timeProgress }, figures.get(id)!)]));
}

/** A campaign's results with its budget. */
export function withBudget(base: AttributedResults, campaign: { budget: number; spent: number }): CampaignResults {
  return Object.assign(new CampaignResults(), base, {
    budget: campaign.budget,
    spentSoFar: campaign.spent,
    budgetUsed: campaign.budget > 0 ? campaign.spent / campaign.budget : null,
  });
}
