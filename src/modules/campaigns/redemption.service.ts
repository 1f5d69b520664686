/**
 * Redemptions: the acquiring platform reports a card's use of a promotion; the rules of the
 * promotion and its campaign decide whether it counts and what it costs.
 *
 * A use is at checkout, so it costs few round trips. A promotion never changes once created,
 * but for what it has spent and its prize stock, so its rule is read once per process (`start`,
 * which also finds a previous use of the transaction id) and kept (`rulesOf`). The pure rules
 * (schedule, cost, draw) are judged here; then one statement judges the rest on fresh data and,
 * when every check passes, spends by conditional updates of the campaign and promotion rows and
 * inserts the use (`spendAndRecord`). With the audit entry, a use of a known promotion is two
 * statements between BEGIN and COMMIT, whatever the data's size (one more the first time the
 * process sees the promotion; two more for the use that spends the last fen or prize: the
 * live-offer index drops the offer in the same transaction; one more for a use that lost a race
 * for its campaign's row and is judged again).
 */
import { randomInt } from "node:crypto";
import { LRUCache } from "lru-cache";
import { DateTime } from "luxon";
import type { Db } from "../../db/database.js";
import { lockCampaign } from "../../db/locks.js";
import { inTransaction, type AuditOptions, type Tx } from "../../db/transaction.js";
import type { ChangeLog } from "../../live/change.js";
import { fromDbDate } from "../../domain/dates.js";
import { fenNumber, fenToYuan } from "../../domain/money.js";
import { periodOf } from "../../domain/period.js";
import { cardTokenProblem, isOpenAt, redemptionCost, type ScheduleWindow as Window } from "../../domain/promotion.js";
import { AppError, IssueCollector, NotFoundError, type ErrorCode } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import { checkCode, checkYuan } from "../common/validate.js";
import { CampaignStatus, PromotionKind } from "./campaigns.enums.js";
import type { RedeemPromotionInput } from "./campaigns.input.js";
import { offerListed, refreshOffers } from "../../figures/offer-index.js";
import { campaignBudgetLeft, campaignCanSpend, campaignCovers, campaignSpentBy, promotionBudgetLeft, promotionCanSpend, promotionCovers, promotionStockLeft } from "../../figures/spending.js";
import { cardUsageRows } from "./campaigns.sql.js";
import { Redemption } from "./campaigns.type.js";
import { promotionOfRow, promotionSelect, type PromotionColumns, type PromotionSelected } from "./promotion.service.js";

/** The bank's clock as a redemption sees it. */
export interface Clock {
  /** The bank's time zone: schedules, days and weeks are local to it. */
  zone: string;
  now?: Date;
  /** How far `at` may be from `now`, in seconds. */
  maxSkewSeconds: number;
}

/** A rule said no: rolled back and reported with the rule's code. */
class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
  ) {}
}

/** Run the whole transaction again: a concurrent use of the same transaction id won the race. */
class Again {}

/**
 * A promotion as a use needs it. Only `spentFen` and `prizeStock` ever change after it is
 * created, and a kept rule is never asked for them: `spendAndRecord` reads them fresh.
 * `createdAt` (epoch milliseconds, the column's precision) tells a kept rule from a promotion
 * that replaced it under the same id and code (a database loaded again under a running process).
 * A write that ever edits a promotion's other columns must give it a new `created_at` (or the
 * kept rules would judge uses by the old rule until the process restarts).
 */
interface Rule {
  promotion: PromotionColumns & { campaignCode: string };
  createdAt: string;
}

/** At most this many promotions' rules are kept per process (a few hundred bytes each). */
const KEPT_RULES = 10_000;

// One per database handle: tests start several servers in one process.
const keptRules = new WeakMap<Db, LRUCache<string, Rule>>();

/** The rules this process has read, by promotion code. */
function rulesOf(db: Db): LRUCache<string, Rule> {
  let rules = keptRules.get(db);
  if (!rules) {
    rules = new LRUCache<string, Rule>({ max: KEPT_RULES });
    keptRules.set(db, rules);
  }
  return rules;
}

/**
 * What the first statement reads: the promotion's rule (null when no promotion has the code),
 * with what it has spent so far, and a previous use of the transaction id.
 */
interface Start {
  rule: Rule | null;
  previous: Previous | null;
}

interface Previous {
  transactionId: string;
  promotionCode: string;
  merchantCode: string;
  cardToken: string;
  at: string;
  spendFen: string;
  costFen: string;
  won: boolean | null;
}

async function start(tx: Tx, input: RedeemPromotionInput): Promise<Start> {
  const [row] = await tx.$queryRaw<(PromotionSelected & { created_at: string; campaign_code: string; previous: Previous | null })[]>`
    SELECT ${Prisma.raw(promotionSelect("p"))}, (extract(epoch FROM p.created_at) * 1000)::bigint::text AS created_at, c.code AS campaign_code,
           (SELECT json_build_object('transactionId', r.transaction_id, 'promotionCode', rp.code, 'merchantCode', rm.code,
                     'cardToken', r.card_token, 'at', r.at, 'spendFen', r.spend_fen::text, 'costFen', r.cost_fen::text, 'won', r.won)
            FROM redemption r JOIN promotion rp ON rp.id = r.promotion_id JOIN merchant rm ON rm.id = r.merchant_id
            WHERE r.transaction_id = ${input.transactionId}) AS previous
    FROM (VALUES (1)) one (x)
    LEFT JOIN promotion p ON p.code = ${input.promotionCode}
    LEFT JOIN campaign c ON c.id = p.campaign_id`;
  const promotion = promotionOfRow(row);
  return { rule: promotion && { promotion: { ...promotion, campaignCode: row.campaign_code }, createdAt: row.created_at }, previous: row.previous };
}

/** The second statement's answer: its verdict, what the refusal messages name, and what it spent. */
interface Outcome {
  verdict: string;
  status: CampaignStatus;
  campaignSpentFen: bigint;
  budgetFen: bigint;
  day: number;
  week: number;
  total: number;
  /** The campaign's status once spent on; null when it was not (a refusal, or a lost race for its row). */
  campaignStatus: CampaignStatus | null;
  promotionSpentFen: bigint | null;
  prizeStock: number | null;
  inserted: number;
}

/**
 * The statement that decides and spends. Its checks, in the order their refusals are reported,
 * give a verdict on the statement's snapshot. Only with OK does it update the campaign row, and
 * only while that row is the version the verdict read (`xmin`) and can pay (spending.ts). A
 * concurrent use of the campaign that commits first changes the row: the update then finds no
 * row, PostgreSQL keeps the row locked for this transaction, and the caller runs the statement
 * again on a fresh snapshot. So the per-card counts, the eligibility and the budgets are judged on
 * the data the write lands on, as exactly as under a lock taken first, without the round trips.
 * The promotion row is updated only after the campaign's (campaign, then promotion: the order of
 * db/locks.ts), under the same rule, and the use is inserted only when both were.
 *
 * Whether the promotion applies at the merchant is asked of the live-offer index (`offerListed`,
 * one primary-key probe instead of planning the coverage rule's joins on every use): by the time
 * that check is reached the campaign is ACTIVE with budget left and the promotion has budget and
 * stock left, so the index, which every write to its inputs refreshes in its own transaction,
 * lists the pair exactly when the promotion applies there.
 */
function spendAndRecord(
  rule: Rule,
  input: RedeemPromotionInput,
  at: Date,
  day: { localDate: string; localWeek: string; validOn: boolean; open: boolean },
  spend: { spendFen: number; costFen: bigint | null; won: boolean | null },
): Prisma.Sql {
  const p = rule.promotion;
  const cost = Prisma.sql`${spend.costFen}::bigint`;
  const pid = Prisma.sql`${p.id}::int`;
  return Prisma.sql`
    WITH c0 AS (SELECT c.*, c.xmin AS version FROM campaign c WHERE c.id = ${p.campaignId}::int),
    p0 AS (SELECT * FROM promotion WHERE id = ${pid}),
    m AS (SELECT id FROM merchant WHERE code = ${input.merchantCode}),
    u AS (${cardUsageRows([p.id], input.cardToken, day.localDate, day.localWeek)}),
    v AS (
      SELECT CASE
        WHEN EXISTS (SELECT 1 FROM redemption WHERE transaction_id = ${input.transactionId}) THEN 'AGAIN'
        WHEN p.id IS NULL OR p.code <> ${p.code} OR (extract(epoch FROM p.created_at) * 1000)::bigint <> ${rule.createdAt}::bigint THEN 'STALE'
        WHEN NOT ${promotionBudgetLeft("p")} THEN 'PROMOTION_SPENT'
        WHEN NOT ${promotionStockLeft("p")} THEN 'NO_PRIZES'
        WHEN m.id IS NULL THEN 'NO_MERCHANT'
        WHEN c.status <> 'ACTIVE' THEN CASE WHEN ${campaignBudgetLeft("c")} THEN 'NOT_ACTIVE' ELSE 'CAMPAIGN_SPENT' END
        WHEN NOT ${day.validOn}::boolean OR ${day.localDate}::date NOT BETWEEN c.starts_on AND c.ends_on THEN 'NOT_VALID'
        WHEN NOT ${day.open}::boolean THEN 'OUTSIDE_SCHEDULE'
        WHEN NOT ${offerListed(pid, Prisma.sql`m.id`)} THEN 'NOT_ELIGIBLE'
        WHEN p.per_card_per_day <= coalesce(u.day, 0) THEN 'LIMIT_DAY'
        WHEN p.per_card_per_week <= coalesce(u.week, 0) THEN 'LIMIT_WEEK'
        WHEN p.per_card_per_campaign <= coalesce(u.total, 0) THEN 'LIMIT_CAMPAIGN'
        WHEN ${cost} IS NULL THEN 'SPEND'
        WHEN NOT ${promotionCovers("p", cost)} THEN 'PROMOTION_SHORT'
        WHEN NOT ${campaignCovers("c", cost)} THEN 'CAMPAIGN_SHORT'
        ELSE 'OK' END AS verdict,
        c.version, c.status, c.spent_fen, c.budget_fen, coalesce(u.day, 0) AS day, coalesce(u.week, 0) AS week, coalesce(u.total, 0) AS total,
        m.id AS merchant_id
      -- Outer joins: a kept rule whose promotion is gone still gets its verdict (STALE).
      FROM (VALUES (1)) one (x) LEFT JOIN c0 c ON true LEFT JOIN p0 p ON true LEFT JOIN m ON true LEFT JOIN u ON true
    ),
    cu AS (
      UPDATE campaign c
      SET spent_fen = c.spent_fen + ${cost}, status = CASE WHEN ${campaignSpentBy("c", cost)} THEN 'PAUSED' ELSE c.status END, updated_at = now()
      FROM v WHERE c.id = ${p.campaignId}::int AND v.verdict = 'OK' AND c.xmin = v.version AND ${campaignCanSpend("c", cost)}
      RETURNING c.status
    ),
    pu AS (
      UPDATE promotion p
      SET spent_fen = p.spent_fen + ${cost}, prize_stock = CASE WHEN ${spend.won}::boolean THEN p.prize_stock - 1 ELSE p.prize_stock END, updated_at = now()
      WHERE p.id = ${pid} AND EXISTS (SELECT 1 FROM cu) AND ${promotionCanSpend("p", cost)}
      RETURNING p.spent_fen, p.prize_stock
    ),
    ins AS (
      INSERT INTO redemption (transaction_id, promotion_id, merchant_id, card_token, at, local_date, local_week, spend_fen, cost_fen, won)
      SELECT ${input.transactionId}, ${pid}, (SELECT merchant_id FROM v), ${input.cardToken}, ${at}::timestamptz, ${day.localDate}::date, ${day.localWeek},
             ${spend.spendFen}::bigint, ${cost}, ${spend.won}::boolean
      FROM pu
      ON CONFLICT (transaction_id) DO NOTHING
      RETURNING 1
    )
    SELECT v.verdict, v.status, v.spent_fen AS "campaignSpentFen", v.budget_fen AS "budgetFen", v.day, v.week, v.total,
           cu.status AS "campaignStatus", pu.spent_fen AS "promotionSpentFen", pu.prize_stock AS "prizeStock",
           (SELECT count(*) FROM ins)::int AS inserted
    FROM v LEFT JOIN cu ON true LEFT JOIN pu ON true`;
}

/**
 * Records one use of a promotion. Limits and budgets are judged and spent by one conditional
 * statement on the data it writes (`spendAndRecord`): 50 simultaneous redemptions against the
 * last yuan never overspend. The use that spends the last fen pauses the campaign.
 */
export async function redeem(db: Db, input: RedeemPromotionInput, clock: Clock, options: AuditOptions = {}): Promise<Redemption> {
  const { zone } = clock;
  const now = clock.now ?? new Date();
  const issues = new IssueCollector();
  if (input.at && Math.abs(input.at.getTime() - now.getTime()) > clock.maxSkewSeconds * 1000) {
    issues.add(undefined, "at", `must be within ${clock.maxSkewSeconds} s of the server's clock (${now.toISOString()})`);
  }
  checkCode(issues, undefined, "transactionId", input.transactionId);
  const tokenProblem = cardTokenProblem(input.cardToken);
  if (tokenProblem) issues.add(undefined, "cardToken", tokenProblem);
  const spendFen = checkYuan(issues, "spend", input.spend);
  issues.throwIfAny();
  const at = input.at ?? now;
  const local = DateTime.fromJSDate(at, { zone });
  const localDate = local.toISODate()!;
  const localWeek = periodOf("WEEK", localDate).code;

  const rules = rulesOf(db);
  const attempt = async (tx: Tx, changes: ChangeLog, keptRule: Rule | undefined): Promise<Redemption | Refusal> => {
    let rule = keptRule;
    if (!rule) {
      const first = await start(tx, input);
      // A committed use never changes: seen once, it is the answer.
      if (first.previous) return replay(first.previous, input, at, spendFen!);
      if (first.rule == null) throw new NotFoundError("promotion", input.promotionCode, "promotionCode");
      rule = first.rule;
      rules.set(input.promotionCode, rule);
      // A promotion's spending and its prizes only ever go one way and its cap never changes, so
      // a spent cap or an empty stock seen on any snapshot is final: refused without going near
      // the campaign's row (a hot offer's last yuan draws a crowd of such attempts). A kept rule
      // leaves these to the statement, which reads them fresh and refuses before any update.
      const p = rule.promotion;
      if (p.budgetCapFen != null && p.spentFen >= p.budgetCapFen) return new Refusal("BUDGET_EXHAUSTED", "the promotion's budget is spent");
      if (p.kind === PromotionKind.LUCKY_DRAW && (p.prizeStock ?? 0) <= 0) return new Refusal("OUT_OF_STOCK", "no prizes are left");
    }
    const promotion = rule.promotion;

    // The promotion's own rules, which no concurrent write can change: judged here, reported
    // by the statement in their place among the others.
    const validOn = localDate >= fromDbDate(promotion.validFrom) && localDate <= fromDbDate(promotion.validTo);
    const open = isOpenAt(promotion.schedule as unknown as Window[], local);
    const won = promotion.kind === PromotionKind.LUCKY_DRAW ? randomInt(1_000_000) < Math.round((promotion.drawOdds ?? 0) * 1_000_000) : null;
    const cost = redemptionCost(
      { kind: promotion.kind, percentOff: promotion.percentOff, amountFen: fenNumber(promotion.amountFen), minSpendFen: fenNumber(promotion.minSpendFen), listPriceFen: fenNumber(promotion.listPriceFen) },
      spendFen!,
      won === true,
    );
    const costFen = "reason" in cost ? null : BigInt(cost.costFen);
    const statement = spendAndRecord(rule, input, at, { localDate, localWeek, validOn, open }, { spendFen: spendFen!, costFen, won });

    let outcome = (await tx.$queryRaw<Outcome[]>(statement))[0];
    if (outcome.verdict === "OK" && outcome.campaignStatus == null) {
      // The campaign row moved since the statement's snapshot; the update left it locked for
      // this transaction, so the statement runs again on data nobody else can change now. The
      // explicit lock is for a second miss only, which PostgreSQL's recheck does not give.
      outcome = (await tx.$queryRaw<Outcome[]>(statement))[0];
      if (outcome.verdict === "OK" && outcome.campaignStatus == null) {
        await lockCampaign(tx, { id: promotion.campaignId });
        outcome = (await tx.$queryRaw<Outcome[]>(statement))[0];
      }
    }
    if (outcome.verdict === "STALE") {
      // The kept rule's promotion was replaced: forget it, and read the new one next round.
      rules.delete(input.promotionCode);
      throw new Again();
    }
    const refusal = refusalOf(outcome, promotion, input, local, zone, costFen, "reason" in cost ? cost.reason : "");
    if (refusal) return refusal;
    if (outcome.promotionSpentFen == null || outcome.inserted !== 1) {
      // Spent on the campaign but not the promotion, which no order of writers allows, or the
      // transaction id taken by a concurrent use of another promotion: all again, from the top.
      throw new Again();
    }

    // The use that spends the last fen or prize takes the offer out of the index with it; the
    // others change nothing it holds, so they skip the refresh.
    const paused = outcome.campaignStatus === CampaignStatus.PAUSED;
    const promotionSpent = promotion.budgetCapFen != null && outcome.promotionSpentFen >= promotion.budgetCapFen;
    const outOfStock = won === true && (outcome.prizeStock ?? 0) <= 0;
    if (paused) await refreshOffers(tx, { campaigns: [promotion.campaignId] });
    else if (promotionSpent || outOfStock) await refreshOffers(tx, { promotions: [promotion.id] });
    // Spent, remaining, results and (when this use spent the last fen) the self-pause.
    changes.add({ campaigns: [promotion.campaignCode] });
    return Object.assign(new Redemption(), {
      transactionId: input.transactionId, promotionCode: promotion.code, merchantCode: input.merchantCode, at,
      spend: fenToYuan(spendFen!)!, cost: fenToYuan(costFen!)!, won,
    });
  };
  for (let round = 0; ; round++) {
    try {
      // Raw SQL only: on PostgreSQL the use goes without Prisma's runtime (db/raw-transaction.ts).
      return await inTransaction(db, { ...options, rawOnly: true }, async (tx, changes) => {
        // The first round may use a kept rule; a round after a retry reads it again, and with
        // it a use of the transaction id that won the race.
        const outcome = await attempt(tx, changes, round === 0 ? rules.get(input.promotionCode) : undefined);
        // Thrown inside: a refusal rolls back, so its audit entry never says it succeeded.
        if (outcome instanceof Refusal) throw new AppError(outcome.code, outcome.message);
        return outcome;
      });
    } catch (err) {
      // The second round sees the use that won (and replays it, or names the conflict).
      if (!(err instanceof Again) || round >= 2) throw err;
    }
  }
}

/** The refusal a verdict stands for, worded with what the statement read; null for OK. */
function refusalOf(o: Outcome, p: PromotionColumns, input: RedeemPromotionInput, local: DateTime, zone: string, costFen: bigint | null, spendReason: string): Refusal | null {
  switch (o.verdict) {
    case "OK":
      return null;
    case "AGAIN":
      throw new Again();
    case "NO_MERCHANT":
      throw new NotFoundError("merchant", input.merchantCode, "merchantCode");
    case "PROMOTION_SPENT":
      return new Refusal("BUDGET_EXHAUSTED", "the promotion's budget is spent");
    case "NO_PRIZES":
      return new Refusal("OUT_OF_STOCK", "no prizes are left");
    case "CAMPAIGN_SPENT":
      return new Refusal("BUDGET_EXHAUSTED", "the campaign's budget is spent");
    case "NOT_ACTIVE":
      return new Refusal("PROMOTION_NOT_AVAILABLE", `the campaign is ${o.status}`);
    case "NOT_VALID":
      return new Refusal("PROMOTION_NOT_AVAILABLE", `the promotion is valid ${fromDbDate(p.validFrom)}..${fromDbDate(p.validTo)}, not on ${local.toISODate()}`);
    case "OUTSIDE_SCHEDULE":
      return new Refusal("OUTSIDE_SCHEDULE", `the promotion is not open at ${local.toFormat("ccc HH:mm")} (${zone})`);
    case "NOT_ELIGIBLE":
      return new Refusal("MERCHANT_NOT_ELIGIBLE", `the promotion does not apply at merchant "${input.merchantCode}"`);
    case "LIMIT_DAY":
      return limitRefusal(o.day, p.perCardPerDay!, "day");
    case "LIMIT_WEEK":
      return limitRefusal(o.week, p.perCardPerWeek!, "week");
    case "LIMIT_CAMPAIGN":
      return limitRefusal(o.total, p.perCardPerCampaign!, "campaign");
    case "SPEND":
      return new Refusal("SPEND_NOT_ELIGIBLE", spendReason);
    case "PROMOTION_SHORT":
      return new Refusal("BUDGET_EXHAUSTED", "the promotion's budget cannot cover this use");
    case "CAMPAIGN_SHORT":
      return new Refusal("BUDGET_EXHAUSTED", `the campaign has ${fenToYuan(o.budgetFen - o.campaignSpentFen)} yuan left, not enough for this use`);
    default:
      throw new Error(`redemption verdict ${o.verdict} (cost ${costFen})`);
  }
}

function limitRefusal(count: number, limit: number, what: string): Refusal {
  return new Refusal("LIMIT_EXCEEDED", `this card has used the promotion ${count} time(s) this ${what}; the limit is ${limit}`);
}

/** A retry of a committed use: the same call gets the same answer, another call a conflict. */
function replay(previous: Previous, input: RedeemPromotionInput, at: Date, spendFen: number): Redemption {
  const previousAt = new Date(previous.at);
  const same =
    previous.promotionCode === input.promotionCode &&
    previous.merchantCode === input.merchantCode &&
    previous.cardToken === input.cardToken &&
    Number(previous.spendFen) === spendFen &&
    (input.at == null || previousAt.getTime() === at.getTime());
  if (!same) throw new AppError("CONFLICT", `transactionId: "${input.transactionId}" was already used for a different redemption`, [{ field: "transactionId", reason: "already used" }]);
  return Object.assign(new Redemption(), {
    transactionId: previous.transactionId, promotionCode: previous.promotionCode, merchantCode: previous.merchantCode, at: previousAt,
    spend: fenToYuan(BigInt(previous.spendFen))!, cost: fenToYuan(BigInt(previous.costFen))!, won: previous.won,
  });
}
