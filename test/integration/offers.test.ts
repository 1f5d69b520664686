/**
 * Where an offer applies (shared/domain.md "Promotions"): a promotion narrows its campaign's
 * merchants by the merchants, categories and business circles it names, and the mobile query
 * and redemption both follow it.
 *
 * The campaign covers the MALL circle (MA restaurant, MB car wash, MC cinema) and MD on its own
 * (a supermarket, also in the SUPER circle, which the campaign does not list).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { merchant, org } from "../fixtures/merchants.js";
import { seed, write } from "../fixtures/scenarios.js";
import { codeOf, issuesOf, startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
const HERE = { latitude: 31.23, longitude: 121.47 };
let keys = 0;
const key = () => `offers-${++keys}`;

const PROMO = `mutation($in: CreatePromotionInput!) { r: createPromotion(input: $in) { code appliesTo { merchantCodes categories circleCodes } } }`;
const NEAR = `query($at: DateTime) { promotionsNear(latitude: ${HERE.latitude}, longitude: ${HERE.longitude}, radiusMeters: 5000, at: $at, first: 50) {
  totalCount edges { node { promotion { code } merchant { code category } } } } }`;
const REDEEM = `mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { transactionId } }`;
// 2021-01-09 is a Saturday; 02:00 UTC is 10:00 in Shanghai.
const AT = "2021-01-09T02:00:00Z";

function promotion(code: string, appliesTo?: Record<string, string[]>) {
  return { idempotencyKey: key(), code, campaignCode: "CAMP", title: code, rule: { kind: "CASHBACK", cashback: 5 }, validFrom: "2021-01-01", validTo: "2021-03-31", ...(appliesTo ? { appliesTo } : {}) };
}

beforeAll(async () => {
  api = await startTestApi({ REDEMPTION_MAX_CLOCK_SKEW_SECONDS: String(10 * 365 * 86_400) });
  await seed(api, org);
  await write(api, "merchants", [
    merchant("MA", "O1", { category: "RESTAURANT" }),
    merchant("MB", "O1", { category: "CAR_WASH" }),
    merchant("MC", "S1", { category: "ENTERTAINMENT" }),
    merchant("MD", "C1", { category: "SUPERMARKET" }),
  ]);
  await write(api, "circles", [
    { code: "MALL", name: "City Mall", kind: "COMPLEX", branchCode: "C1", merchantCodes: ["MA", "MB", "MC"] },
    { code: "SUPER", name: "Supermarket", kind: "SUPERMARKET", branchCode: "C1", merchantCodes: ["MD"] },
    { code: "INNER", name: "Mall, ground floor", kind: "COMPLEX", branchCode: "C1", merchantCodes: ["MA", "MB"] },
  ]);
  const marketing = api.as("MARKETING");
  const campaign = await marketing.gql(`mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }`, {
    in: { idempotencyKey: key(), code: "CAMP", name: "Campaign", branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 1000, circleCodes: ["MALL", "INNER"], merchantCodes: ["MD"] },
  });
  expect(campaign.errors).toBeUndefined();
  for (const p of [
    promotion("EVERYWHERE"),
    promotion("WASH", { categories: ["CAR_WASH"] }),
    promotion("CINEMA", { merchantCodes: ["MC"] }),
    promotion("GROUND", { circleCodes: ["INNER"] }),
    // Each kind named narrows: restaurants or car washes, and only MB or MC of those: MB.
    promotion("BOTH", { categories: ["RESTAURANT", "CAR_WASH"], merchantCodes: ["MB", "MC"] }),
  ]) {
    const res = await marketing.gql(PROMO, { in: p });
    expect(res.errors).toBeUndefined();
  }
  for (const to of ["SCHEDULED", "ACTIVE"]) {
    const res = await marketing.gql(`mutation($in: TransitionCampaignInput!) { transitionCampaign(input: $in) { status } }`, { in: { idempotencyKey: key(), code: "CAMP", to } });
    expect(res.errors).toBeUndefined();
  }
});
afterAll(() => api?.close());

describe("where an offer applies", () => {
  it("the mobile query lists each offer only at the merchants it applies to", async () => {
    const res = await api.as("ANONYMOUS").gql(NEAR, { at: AT });
    expect(res.errors).toBeUndefined();
    const pairs = res.data.promotionsNear.edges.map((e: { node: { promotion: { code: string }; merchant: { code: string } } }) => `${e.node.promotion.code}@${e.node.merchant.code}`);
    expect(pairs.sort()).toEqual([
      "BOTH@MB",
      "CINEMA@MC",
      "EVERYWHERE@MA", "EVERYWHERE@MB", "EVERYWHERE@MC", "EVERYWHERE@MD",
      "GROUND@MA", "GROUND@MB",
      "WASH@MB",
    ]);
    expect(res.data.promotionsNear.totalCount).toBe(9);
  });

  it("a redemption where the offer does not apply is refused; where it applies it is accepted", async () => {
    const use = (promotionCode: string, merchantCode: string, n: number) =>
      api.as("ACQUIRER", undefined, "acquirer-1").gql(REDEEM, { in: { transactionId: `T-${promotionCode}-${merchantCode}-${n}`, promotionCode, merchantCode, cardToken: `tok_card_0000000${n}`, at: AT, spend: 50 } });
    const refused = await use("WASH", "MA", 1);
    expect(codeOf(refused)).toBe("MERCHANT_NOT_ELIGIBLE");
    expect(refused.errors![0].message).toContain('does not apply at merchant "MA"');
    expect((await use("WASH", "MB", 2)).errors).toBeUndefined();
    expect(codeOf(await use("GROUND", "MC", 3))).toBe("MERCHANT_NOT_ELIGIBLE");
    expect((await use("EVERYWHERE", "MD", 4)).errors).toBeUndefined();
  });

  it("marketing reads where each promotion applies; the card app does not see it", async () => {
    const res = await api.as("MARKETING").gql(`{ campaign(code: "CAMP") { promotions { code appliesTo { merchantCodes categories circleCodes } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.campaign.promotions).toEqual([
      { code: "BOTH", appliesTo: { merchantCodes: ["MB", "MC"], categories: ["CAR_WASH", "RESTAURANT"], circleCodes: [] } },
      { code: "CINEMA", appliesTo: { merchantCodes: ["MC"], categories: [], circleCodes: [] } },
      { code: "EVERYWHERE", appliesTo: { merchantCodes: [], categories: [], circleCodes: [] } },
      { code: "GROUND", appliesTo: { merchantCodes: [], categories: [], circleCodes: ["INNER"] } },
      { code: "WASH", appliesTo: { merchantCodes: [], categories: ["CAR_WASH"], circleCodes: [] } },
    ]);
    const anonymous = await api.as("ANONYMOUS").gql(`query($at: DateTime) { promotionsNear(latitude: ${HERE.latitude}, longitude: ${HERE.longitude}, at: $at, first: 1) { edges { node { promotion { appliesTo { categories } } } } } }`, { at: AT });
    expect(codeOf(anonymous)).toBe("UNAUTHENTICATED");
  });

  it("a promotion may name only its campaign's merchants and circles; a refused one is not stored", async () => {
    const res = await api.as("MARKETING").gql(PROMO, {
      in: promotion("WRONG", { merchantCodes: ["MA", "NOPE", "XX"], circleCodes: ["SUPER", "MALL"], categories: ["FUEL"] }),
    });
    // XX exists nowhere either; MD would be fine (the campaign lists it), MA is a MALL member.
    expect(issuesOf(res)).toEqual(["- appliesTo.merchantCodes[1]", "- appliesTo.merchantCodes[2]", "- appliesTo.circleCodes[0]"]);
    expect(res.errors![0].extensions!.issues!.map((i) => i.reason)).toEqual([
      'unknown merchant "NOPE"',
      'unknown merchant "XX"',
      'business circle "SUPER" is not one of the campaign\'s',
    ]);
    await write(api, "merchants", [merchant("ME", "C2", { category: "FUEL" })]);
    const outside = await api.as("MARKETING").gql(PROMO, { in: promotion("WRONG", { merchantCodes: ["ME"] }) });
    expect(outside.errors![0].extensions!.issues!.map((i) => `${i.field}: ${i.reason}`)).toEqual(['appliesTo.merchantCodes[0]: merchant "ME" is not in the campaign']);
    expect(await api.database.prisma.promotion.count({ where: { code: "WRONG" } })).toBe(0);
  });

  it("a merchant's category is one of the fixed list, named in the error otherwise", async () => {
    const res = await api.as("MARKETING").gql(`mutation($in: [MerchantInput!]!) { r: upsertMerchants(input: $in) { created } }`, {
      in: [merchant("MZ", "C1", { category: "car wash" })],
    });
    expect(res.errors?.[0].message).toMatch(/category.*"car wash".*MerchantCategory|MerchantCategory.*"car wash"/s);
    expect(await api.database.prisma.merchant.count({ where: { code: "MZ" } })).toBe(0);
  });
});
