/**
 * Campaigns: what marketing tools create, change and move along their lifecycle, and the
 * listings. Money is handled in fen (integers); the API speaks yuan (domain/money.ts).
 */
import type { Db } from "../../db/database.js";
import { lockCampaign, lockNewCode, type LockedCampaign } from "../../db/locks.js";
import type { AuditOptions, Tx } from "../../db/transaction.js";
import { fromDbDate, toDbDate } from "../../domain/dates.js";
import { fenToYuan } from "../../domain/money.js";
import { canTransition, CAMPAIGN_TRANSITIONS } from "../../domain/promotion.js";
import { AppError, IssueCollector, NotFoundError } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { idempotentWrite } from "../common/idempotency.js";
import { CodeIds } from "../common/lookup.js";
import { pageByCode, toGlobalId, type Page } from "../common/relay.js";
import { checkCode, checkName, checkOrder, checkYuan } from "../common/validate.js";
import { inSubtree } from "../org/org.service.js";
import { CampaignStatus } from "./campaigns.enums.js";
import { refreshOffers } from "../../figures/offer-index.js";
import type { CreateCampaignInput, TransitionCampaignInput, UpdateCampaignInput } from "./campaigns.input.js";
import { Campaign } from "./campaigns.type.js";

/** Eligible circles, and merchants, a campaign may list: a runaway payload stops here. */
const MAX_ELIGIBLE = 10_000;

// ---- reading -----------------------------------------------------------------------------

// The eligibility lists (up to MAX_ELIGIBLE codes each) are loaded only when asked for
// (campaigns.loader.ts), not with every campaign a promotion or a page refers to.
type CampaignRow = Prisma.CampaignGetPayload<object>;

function toCampaign(row: CampaignRow): Campaign {
  return Object.assign(new Campaign(), {
    id: toGlobalId("Campaign", row.code),
    dbId: row.id,
    branchId: row.branchId,
    code: row.code,
    name: row.name,
    startsOn: fromDbDate(row.startsOn),
    endsOn: fromDbDate(row.endsOn),
    budget: fenToYuan(row.budgetFen),
    spent: fenToYuan(row.spentFen),
    remaining: fenToYuan(row.budgetFen - row.spentFen),
    status: row.status,
  });
}

export async function findCampaign(db: Db | Tx, code: string): Promise<Campaign | null> {
  const row = await db.campaign.findUnique({ where: { code } });
  return row ? toCampaign(row) : null;
}

export async function findCampaignsById(db: Db, ids: readonly number[]): Promise<Map<number, Campaign>> {
  const rows = await db.campaign.findMany({ where: { id: { in: [...ids] } } });
  return new Map(rows.map((r) => [r.id, toCampaign(r)]));
}

export interface CampaignFilter {
  branchCode?: string | null;
  status?: CampaignStatus | null;
}

export function listCampaigns(db: Db, filter: CampaignFilter, first: number, after: string | null | undefined): Promise<Page<Campaign>> {
  const where: Prisma.CampaignWhereInput = {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.branchCode != null ? { branch: inSubtree(filter.branchCode) } : {}),
  };
  return pageByCode(db.campaign, where, first, after, toCampaign);
}

// ---- writing -----------------------------------------------------------------------------

/** The ids of the eligible circles and merchants named; unknown codes are issues on their field. */
async function eligibleIds(tx: Tx, issues: IssueCollector, circleCodes: readonly string[], merchantCodes: readonly string[]) {
  if (circleCodes.length > MAX_ELIGIBLE) issues.add(undefined, "circleCodes", `holds ${circleCodes.length} codes; at most ${MAX_ELIGIBLE}`);
  if (merchantCodes.length > MAX_ELIGIBLE) issues.add(undefined, "merchantCodes", `holds ${merchantCodes.length} codes; at most ${MAX_ELIGIBLE}`);
  if (issues.issues.length) return { circleIds: [], merchantIds: [] };
  const [circles, merchants] = await Promise.all([CodeIds.load(tx, "business_circle", circleCodes), CodeIds.load(tx, "merchant", merchantCodes)]);
  circleCodes.forEach((c, i) => circles.check(issues, undefined, `circleCodes[${i}]`, c));
  merchantCodes.forEach((m, i) => merchants.check(issues, undefined, `merchantCodes[${i}]`, m));
  return { circleIds: circles.values(), merchantIds: merchants.values() };
}

/** Replaces the lists given (null: leaves that list as it is). */
async function replaceEligibility(tx: Tx, campaignId: number, circleIds: number[] | null, merchantIds: number[] | null) {
  if (circleIds) {
    await tx.campaignCircle.deleteMany({ where: { campaignId } });
    await tx.campaignCircle.createMany({ data: circleIds.map((circleId) => ({ campaignId, circleId })) });
  }
  if (merchantIds) {
    await tx.campaignMerchant.deleteMany({ where: { campaignId } });
    await tx.campaignMerchant.createMany({ data: merchantIds.map((merchantId) => ({ campaignId, merchantId })) });
  }
}

/** The campaign `code` names, locked for the transaction; NOT_FOUND on `code` when there is none. */
async function lockExisting(tx: Tx, code: string): Promise<LockedCampaign> {
  const campaign = await lockCampaign(tx, { code });
  if (!campaign) throw new NotFoundError("campaign", code, "code");
  return campaign;
}

export async function createCampaign(db: Db, input: CreateCampaignInput, options: AuditOptions = {}): Promise<Campaign> {
  const code = await idempotentWrite(db, "createCampaign", input, options, async (tx) => {
    await lockNewCode(tx, "campaign", input.code);
    const issues = new IssueCollector();
    checkCode(issues, undefined, "code", input.code);
    checkName(issues, undefined, "name", input.name);
    checkOrder(issues, undefined, { field: "startsOn", value: input.startsOn }, { field: "endsOn", value: input.endsOn });
    const budgetFen = checkYuan(issues, "budget", input.budget);
    const branchId = (await CodeIds.load(tx, "branch", [input.branchCode])).check(issues, undefined, "branchCode", input.branchCode);
    if (await tx.campaign.findUnique({ where: { code: input.code }, select: { id: true } })) {
      issues.add(undefined, "code", `a campaign "${input.code}" already exists; change it with updateCampaign`);
    }
    const { circleIds, merchantIds } = await eligibleIds(tx, issues, input.circleCodes, input.merchantCodes);
    issues.throwIfAny();
    const created = await tx.campaign.create({
      data: {
        code: input.code,
        name: input.name,
        branchId: branchId!,
        startsOn: toDbDate(input.startsOn),
        endsOn: toDbDate(input.endsOn),
        budgetFen: BigInt(budgetFen!),
      },
    });
    await replaceEligibility(tx, created.id, circleIds, merchantIds);
    await refreshOffers(tx, { campaigns: [created.id] });
    return created.code;
  });
  return (await findCampaign(db, code))!;
}

export async function updateCampaign(db: Db, input: UpdateCampaignInput, options: AuditOptions = {}): Promise<Campaign> {
  const code = await idempotentWrite(db, "updateCampaign", input, options, async (tx, changes) => {
    const current = await lockExisting(tx, input.code);
    const issues = new IssueCollector();
    if (input.name != null) checkName(issues, undefined, "name", input.name);
    const startsOn = input.startsOn ?? fromDbDate(current.startsOn);
    const endsOn = input.endsOn ?? fromDbDate(current.endsOn);
    checkOrder(issues, undefined, { field: "startsOn", value: startsOn }, { field: "endsOn", value: endsOn });
    if (current.status === CampaignStatus.ENDED) issues.add(undefined, "code", "an ENDED campaign cannot change");
    const budgetFen = checkYuan(issues, "budget", input.budget);
    if (budgetFen != null && BigInt(budgetFen) < current.spentFen) {
      issues.add(undefined, "budget", `${input.budget} is below the ${fenToYuan(current.spentFen)} yuan already spent`);
    }
    const outside = await tx.promotion.findFirst({
      where: { campaignId: current.id, OR: [{ validFrom: { lt: toDbDate(startsOn) } }, { validTo: { gt: toDbDate(endsOn) } }] },
      select: { code: true },
    });
    if (outside) issues.add(undefined, input.startsOn ? "startsOn" : "endsOn", `promotion "${outside.code}" would fall outside the campaign's period`);
    const { circleIds, merchantIds } = await eligibleIds(tx, issues, input.circleCodes ?? [], input.merchantCodes ?? []);
    issues.throwIfAny();
    await tx.campaign.update({
      where: { id: current.id },
      data: {
        ...(input.name != null ? { name: input.name } : {}),
        startsOn: toDbDate(startsOn),
        endsOn: toDbDate(endsOn),
        ...(budgetFen != null ? { budgetFen: BigInt(budgetFen) } : {}),
      },
    });
    await replaceEligibility(tx, current.id, input.circleCodes ? circleIds : null, input.merchantCodes ? merchantIds : null);
    await refreshOffers(tx, { campaigns: [current.id] });
    changes.add({ campaigns: [current.code] });
    return current.code;
  });
  return (await findCampaign(db, code))!;
}

export async function transitionCampaign(db: Db, input: TransitionCampaignInput, options: AuditOptions = {}): Promise<Campaign> {
  const code = await idempotentWrite(db, "transitionCampaign", input, options, async (tx, changes) => {
    const current = await lockExisting(tx, input.code);
    if (!canTransition(current.status, input.to)) {
      const allowed = CAMPAIGN_TRANSITIONS[current.status];
      throw new AppError("BAD_USER_INPUT", `to: a ${current.status} campaign cannot become ${input.to}; ${allowed.length ? `it may become ${allowed.join(" or ")}` : "ENDED is final"}`, [
        { field: "to", reason: `${current.status} → ${input.to} is not a legal move` },
      ]);
    }
    await tx.campaign.update({ where: { id: current.id }, data: { status: input.to } });
    await refreshOffers(tx, { campaigns: [current.id] });
    changes.add({ campaigns: [current.code] });
    return current.code;
  });
  return (await findCampaign(db, code))!;
}
