/**
 * The redemption and promotion rules at the service level, without HTTP: the services the
 * resolvers, the import and the demo all call, on both engines (the harness's database).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/database.js";
import { AppError } from "../../src/errors.js";
import { createCampaign, findCampaign, transitionCampaign } from "../../src/modules/campaigns/campaign.service.js";
import type { CreatePromotionInput, RedeemPromotionInput } from "../../src/modules/campaigns/campaigns.input.js";
import { createPromotion } from "../../src/modules/campaigns/promotion.service.js";
import { redeem, type Clock } from "../../src/modules/campaigns/redemption.service.js";
import { upsertMerchants } from "../../src/modules/merchants/merchants.service.js";
import { upsertBranches } from "../../src/modules/org/org.service.js";
import { startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
let db: Db;
beforeAll(async () => {
  api = await startTestApi();
  db = api.database.prisma;
});
afterAll(() => api?.close());

let keys = 0;
const key = () => `svc-key-${++keys}`;
// Saturday 2021-01-09, 10:00 in Asia/Shanghai.
const SATURDAY_10 = new Date("2021-01-09T02:00:00Z");
const clock = (now: Date = SATURDAY_10): Clock => ({ zone: "Asia/Shanghai", now, maxSkewSeconds: 300 });

/** What a service throws, as the API would report it: code, message and issues. */
async function refusal(p: Promise<unknown>) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const { code, message, issues } = err as AppError;
  return { code, message, issues };
}

function promotion(over: Partial<CreatePromotionInput> = {}): CreatePromotionInput {
  return {
    idempotencyKey: key(), code: "WASH", campaignCode: "C1", title: "1-yuan car wash",
    rule: { kind: "FIXED_PRICE", fixedPrice: 1, listPrice: 30 } as CreatePromotionInput["rule"],
    validFrom: "2021-01-01", validTo: "2021-03-31",
    schedule: [{ days: ["SATURDAY"], start: "09:00", end: "21:00" }] as CreatePromotionInput["schedule"],
    limits: { perDay: 1 },
    ...over,
  };
}

let tx = 0;
function use(over: Partial<RedeemPromotionInput> = {}): RedeemPromotionInput {
  return { transactionId: `TX-${++tx}`, promotionCode: "WASH", merchantCode: "M1", cardToken: "tok_card_00000001", at: SATURDAY_10, spend: 30, ...over };
}

beforeEach(async () => {
  await api.reset();
  await upsertBranches(db, [{ code: "P", name: "Province", level: "PROVINCE" }, { code: "C", name: "City", level: "CITY", parentCode: "P" }] as never, 100);
  const merchant = (code: string) => ({ code, name: code, category: "CAR_WASH" as const, address: `${code} street`, latitude: 37.52, longitude: 111.14, branchCode: "C" });
  await upsertMerchants(db, [merchant("M1"), merchant("M9")], 100);
  await createCampaign(db, { idempotencyKey: key(), code: "C1", name: "Weekly", branchCode: "C", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 58, circleCodes: [], merchantCodes: ["M1"] });
  for (const to of ["SCHEDULED", "ACTIVE"] as const) await transitionCampaign(db, { idempotencyKey: key(), code: "C1", to: to as never });
});

describe("redemption", () => {
  it("records a use at its cost, and a retry of the same transaction returns it without spending again", async () => {
    await createPromotion(db, promotion());
    const input = use();
    const first = await redeem(db, input, clock());
    expect([first.cost, first.spend, first.won]).toEqual([29, 30, null]);
    expect(await redeem(db, input, clock())).toEqual(first);
    expect((await findCampaign(db, "C1"))!.spent).toBe(29);
    expect(await refusal(redeem(db, { ...input, spend: 31 }, clock()))).toEqual({
      code: "CONFLICT",
      message: `transactionId: "${input.transactionId}" was already used for a different redemption`,
      issues: [{ field: "transactionId", reason: "already used" }],
    });
  });

  it("refuses by rule, each with its code, and a refusal spends nothing", async () => {
    await createPromotion(db, promotion());
    await redeem(db, use(), clock());
    const sunday = new Date("2021-01-10T02:00:00Z");
    const cases = [
      [use(), "LIMIT_EXCEEDED", "this card has used the promotion 1 time(s) this day; the limit is 1"],
      [use({ cardToken: "tok_card_00000002", at: sunday }), "OUTSIDE_SCHEDULE", "the promotion is not open at Sun 10:00 (Asia/Shanghai)"],
      [use({ cardToken: "tok_card_00000002", merchantCode: "M9" }), "MERCHANT_NOT_ELIGIBLE", 'the promotion does not apply at merchant "M9"'],
      [use({ cardToken: "tok_card_00000002", spend: 1 }), "SPEND_NOT_ELIGIBLE", "the spend is not above the fixed price"],
      [use({ cardToken: "tok_card_00000002", at: new Date("2021-04-03T02:00:00Z") }), "PROMOTION_NOT_AVAILABLE", "the promotion is valid 2021-01-01..2021-03-31, not on 2021-04-03"],
    ] as const;
    for (const [input, code, message] of cases) {
      const now = input.at!;
      expect(await refusal(redeem(db, input, clock(now)))).toEqual({ code, message, issues: [] });
    }
    expect([await db.redemption.count(), (await findCampaign(db, "C1"))!.spent]).toEqual([1, 29]);
  });

  it("the use that spends the last fen pauses the campaign; the next is BUDGET_EXHAUSTED", async () => {
    await createPromotion(db, promotion({ limits: null }));
    await redeem(db, use(), clock());
    await redeem(db, use({ cardToken: "tok_card_00000002" }), clock());
    const campaign = (await findCampaign(db, "C1"))!;
    expect([campaign.spent, campaign.remaining, campaign.status]).toEqual([58, 0, "PAUSED"]);
    expect(await refusal(redeem(db, use({ cardToken: "tok_card_00000003" }), clock()))).toEqual({ code: "BUDGET_EXHAUSTED", message: "the campaign's budget is spent", issues: [] });
  });

  it("checks its input before any lookup, and names the field of an unknown code", async () => {
    await createPromotion(db, promotion());
    expect(await refusal(redeem(db, use({ cardToken: "4111111111111111", spend: 1.005 }), clock()))).toMatchObject({
      code: "BAD_USER_INPUT",
      issues: [
        { field: "cardToken", reason: "must be a card token with at least one letter, never a card number" },
        { field: "spend", reason: "1.005 has more than two decimals" },
      ],
    });
    expect(await refusal(redeem(db, use({ merchantCode: "NOPE" }), clock()))).toEqual({
      code: "NOT_FOUND",
      message: 'merchantCode: no merchant with code "NOPE"',
      issues: [{ field: "merchantCode", reason: "unknown merchant" }],
    });
  });
});

describe("promotion rules", () => {
  it("each kind takes its own fields, requires them and refuses the others', all in one answer", async () => {
    const rule = { kind: "PERCENT_OFF", fixedPrice: 1, maxDiscount: 0 } as CreatePromotionInput["rule"];
    expect((await refusal(createPromotion(db, promotion({ rule })))).issues).toEqual([
      { field: "rule.fixedPrice", reason: "does not apply to PERCENT_OFF" },
      { field: "rule.percentOff", reason: "is required for PERCENT_OFF" },
      { field: "rule.maxDiscount", reason: "0 must be more than zero" },
    ]);
  });

  it("amounts, limits and the campaign's period and code are checked against the campaign", async () => {
    const input = promotion({
      campaignCode: "C1",
      validFrom: "2020-12-31",
      rule: { kind: "FIXED_PRICE", fixedPrice: 30, listPrice: 30 } as CreatePromotionInput["rule"],
      limits: { perWeek: 0 },
      budgetCap: 1.234,
    });
    expect((await refusal(createPromotion(db, input))).issues).toEqual([
      { field: "validFrom", reason: "2020-12-31 is before the campaign starts on 2021-01-01" },
      { field: "rule.listPrice", reason: "must be above the fixed price" },
      { field: "limits.perWeek", reason: "0 must be 1 or more (leave it out for no limit)" },
      { field: "budgetCap", reason: "1.234 has more than two decimals" },
    ]);
    expect((await refusal(createPromotion(db, promotion({ campaignCode: "NOPE" })))).issues).toEqual([{ field: "campaignCode", reason: 'unknown campaign "NOPE"' }]);
    expect(await db.promotion.count()).toBe(0);
  });
});
