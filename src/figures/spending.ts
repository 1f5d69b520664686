/**
 * When a campaign and a promotion can still pay for a use: the budget and stock rule in SQL, in
 * one place. The live-offer index lists an offer while its campaign and promotion can spend
 * (offer-index.ts, a cost of 0), and a redemption spends by the same rule in its conditional
 * updates (src/modules/campaigns/redemption.service.ts), so the use that spends the last fen
 * or prize is exactly the one that takes the offer out of the index.
 *
 * Each helper takes the alias of a `campaign` or `promotion` row and a cost in fen (SQL).
 */
import { Prisma } from "../generated/prisma/client.js";

const NOTHING = Prisma.sql`0`;

/** The promotion has budget left: no cap, or less than its cap spent. */
export function promotionBudgetLeft(p: string): Prisma.Sql {
  const r = Prisma.raw(p);
  return Prisma.sql`(${r}.budget_cap_fen IS NULL OR ${r}.spent_fen < ${r}.budget_cap_fen)`;
}

/** The promotion has prizes left (only a lucky draw has a stock). */
export function promotionStockLeft(p: string): Prisma.Sql {
  const r = Prisma.raw(p);
  return Prisma.sql`(${r}.prize_stock IS NULL OR ${r}.prize_stock > 0)`;
}

/** The promotion's cap covers a use costing `cost`. */
export function promotionCovers(p: string, cost: Prisma.Sql): Prisma.Sql {
  const r = Prisma.raw(p);
  return Prisma.sql`(${r}.budget_cap_fen IS NULL OR ${r}.spent_fen + ${cost} <= ${r}.budget_cap_fen)`;
}

/** The promotion can pay a use costing `cost` (0: it can still be used at all). */
export function promotionCanSpend(p: string, cost: Prisma.Sql = NOTHING): Prisma.Sql {
  return Prisma.sql`(${promotionBudgetLeft(p)} AND ${promotionStockLeft(p)} AND ${promotionCovers(p, cost)})`;
}

/** The campaign has budget left. */
export function campaignBudgetLeft(c: string): Prisma.Sql {
  const r = Prisma.raw(c);
  return Prisma.sql`${r}.spent_fen < ${r}.budget_fen`;
}

/** The campaign's budget covers a use costing `cost`. */
export function campaignCovers(c: string, cost: Prisma.Sql): Prisma.Sql {
  const r = Prisma.raw(c);
  return Prisma.sql`${r}.spent_fen + ${cost} <= ${r}.budget_fen`;
}

/** The campaign is ACTIVE and can pay a use costing `cost` (0: it can still be used at all). */
export function campaignCanSpend(c: string, cost: Prisma.Sql = NOTHING): Prisma.Sql {
  return Prisma.sql`(${Prisma.raw(c)}.status = 'ACTIVE' AND ${campaignBudgetLeft(c)} AND ${campaignCovers(c, cost)})`;
}

/** A use costing `cost` spends the campaign's last fen: the campaign pauses itself. */
export function campaignSpentBy(c: string, cost: Prisma.Sql): Prisma.Sql {
  const r = Prisma.raw(c);
  return Prisma.sql`${r}.spent_fen + ${cost} >= ${r}.budget_fen`;
}
