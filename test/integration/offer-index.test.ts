/**
 * The live-offer index (src/figures/offer-index.ts) stays exact: an offer is indexed only where
 * it applies and while it can be used; the write that ends it (a spent budget, the last prize,
 * a pause) takes it out, a resume brings it back; after a few hundred random campaign,
 * promotion, merchant and circle writes, rebuilding it from the sources finds no difference;
 * and the nearby query costs the same statements however many offers are near.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tx } from "../../src/db/transaction.js";
import { NEARBY_COUNT_CAP, nearestBound, offersNearCtes, OFFERS_NEAR_ORDER, offersNearValues, verifyOffers } from "../../src/figures/offer-index.js";
import { merchant, org } from "../fixtures/merchants.js";
import { seed, write } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, type As, type TestApi } from "../support/harness.js";
import { seededRandom } from "../support/random.js";

let api: TestApi;
const HERE = { latitude: 31.23, longitude: 121.47 };
let keys = 0;
const key = () => `offer-index-${++keys}`;
// 2021-01-09 is a Saturday; 02:00 UTC is 10:00 in Shanghai.
const AT = "2021-01-09T02:00:00Z";
const CATEGORIES = ["RESTAURANT", "CAR_WASH", "CAFE", "SUPERMARKET"];

const CAMPAIGN = `mutation($in: CreateCampaignInput!) { r: createCampaign(input: $in) { code } }`;
const UPDATE = `mutation($in: UpdateCampaignInput!) { r: updateCampaign(input: $in) { code } }`;
const MOVE = `mutation($in: TransitionCampaignInput!) { r: transitionCampaign(input: $in) { status } }`;
const PROMO = `mutation($in: CreatePromotionInput!) { r: createPromotion(input: $in) { code } }`;
const REDEEM = `mutation($in: RedeemPromotionInput!) { r: redeemPromotion(input: $in) { won } }`;
const ACQUIRER = { role: "ACQUIRER" } as const;

/** A merchant `meters` north of HERE (about). */
function near(code: string, meters: number, category: string) {
  return merchant(code, "O1", { category, latitude: HERE.latitude + meters / 111_320, longitude: HERE.longitude });
}

const MARKETING = { role: "MARKETING" } as const;

async function ok(query: string, input: unknown, as: As = MARKETING) {
  const res = await api.as(as).gql(query, { in: input });
  expect(res.errors).toBeUndefined();
  return res;
}

async function activeCampaign(code: string, over: Record<string, unknown> = {}) {
  await ok(CAMPAIGN, { idempotencyKey: key(), code, name: code, branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 1000, ...over });
  for (const to of ["SCHEDULED", "ACTIVE"]) await ok(MOVE, { idempotencyKey: key(), code, to });
}

function promotion(code: string, campaignCode: string, over: Record<string, unknown> = {}) {
  return { idempotencyKey: key(), code, campaignCode, title: code, rule: { kind: "CASHBACK", cashback: 5 }, validFrom: "2021-01-01", validTo: "2021-03-31", ...over };
}

/** The index's rows of these promotions, as "PROMOTION@MERCHANT", sorted. */
async function indexed(...promotionCodes: string[]): Promise<string[]> {
  const rows = await api.database.prisma.$queryRaw<{ pair: string }[]>`
    SELECT promotion_code || '@' || merchant_code AS pair FROM live_offer WHERE promotion_code = ANY(${promotionCodes}::text[]) ORDER BY 1`;
  return rows.map((r) => r.pair);
}

async function expectExact() {
  const found = await verifyOffers(api.database.prisma);
  expect(found.differences).toEqual([]);
  expect(found.total).toBe(0);
  return found.rows;
}

beforeAll(async () => {
  api = await startTestApi({ REDEMPTION_MAX_CLOCK_SKEW_SECONDS: String(10 * 365 * 86_400) });
  await seed(api, org);
  await write(api, "merchants", [near("MA", 100, "RESTAURANT"), near("MB", 200, "CAR_WASH"), near("MC", 300, "CAFE"), near("MD", 400, "SUPERMARKET")]);
  await write(api, "circles", [{ code: "MALL", name: "Mall", kind: "COMPLEX", branchCode: "C1", merchantCodes: ["MA", "MB"] }]);
});
afterAll(() => api?.close());

describe("the live-offer index", () => {
  it("holds an offer only at the merchants it applies to, and the card app lists exactly those", async () => {
    await activeCampaign("WHERE", { circleCodes: ["MALL"], merchantCodes: ["MC"] });
    await ok(PROMO, promotion("W-ALL", "WHERE"));
    await ok(PROMO, promotion("W-WASH", "WHERE", { appliesTo: { categories: ["CAR_WASH"] } }));
    await ok(PROMO, promotion("W-MALL", "WHERE", { appliesTo: { circleCodes: ["MALL"] } }));
    await ok(PROMO, promotion("W-MC", "WHERE", { appliesTo: { merchantCodes: ["MC"] } }));
    // MD is near but not in the campaign: no offer of it is there.
    const expected = ["W-ALL@MA", "W-ALL@MB", "W-ALL@MC", "W-MALL@MA", "W-MALL@MB", "W-MC@MC", "W-WASH@MB"];
    expect(await indexed("W-ALL", "W-WASH", "W-MALL", "W-MC")).toEqual(expected);
    const res = await api.as("ANONYMOUS").gql(`query($at: DateTime) { promotionsNear(latitude: ${HERE.latitude}, longitude: ${HERE.longitude}, radiusMeters: 1000, at: $at, first: 50) {
      totalCount edges { node { promotion { code } merchant { code } } } } }`, { at: AT });
    expect(res.errors).toBeUndefined();
    const listed = res.data.promotionsNear.edges.map((e: any) => `${e.node.promotion.code}@${e.node.merchant.code}`).filter((p: string) => p.startsWith("W-"));
    expect(listed.sort()).toEqual(expected);

    // A merchant's new category moves the category offer with it, in the same write.
    await write(api, "merchants", [near("MC", 300, "CAR_WASH")]);
    expect(await indexed("W-WASH")).toEqual(["W-WASH@MB", "W-WASH@MC"]);
    await write(api, "merchants", [near("MC", 300, "CAFE")]);
    // A circle losing a member takes the circle's offers from it.
    await write(api, "circles", [{ code: "MALL", name: "Mall", kind: "COMPLEX", branchCode: "C1", merchantCodes: ["MA"] }]);
    expect(await indexed("W-MALL", "W-WASH")).toEqual(["W-MALL@MA"]);
    await write(api, "circles", [{ code: "MALL", name: "Mall", kind: "COMPLEX", branchCode: "C1", merchantCodes: ["MA", "MB"] }]);
    expect(await indexed("W-MALL", "W-WASH")).toEqual(["W-MALL@MA", "W-MALL@MB", "W-WASH@MB"]);
    await ok(MOVE, { idempotencyKey: key(), code: "WHERE", to: "ENDED" });
    expect(await indexed("W-ALL", "W-WASH", "W-MALL", "W-MC")).toEqual([]);
    await expectExact();
  });

  it("an offer leaves with the use that spends its budget or its last prize, or with its campaign's pause, and comes back on resume", async () => {
    await activeCampaign("LIVE", { merchantCodes: ["MA"], budget: 21 });
    await ok(PROMO, promotion("L-CAP", "LIVE", { budgetCap: 10 }));
    await ok(PROMO, promotion("L-DRAW", "LIVE", { rule: { kind: "LUCKY_DRAW", drawOdds: 1, prizeStock: 1, prizeValue: 1 } }));
    await ok(PROMO, promotion("L-OPEN", "LIVE"));
    expect(await indexed("L-CAP", "L-DRAW", "L-OPEN")).toEqual(["L-CAP@MA", "L-DRAW@MA", "L-OPEN@MA"]);
    const use = (promotionCode: string, n: number) =>
      api.as(ACQUIRER).gql(REDEEM, { in: { transactionId: `T-${promotionCode}-${n}`, promotionCode, merchantCode: "MA", cardToken: `tok_card_live_000${n}`, at: AT, spend: 50 } });

    expect((await use("L-CAP", 1)).errors).toBeUndefined(); // 5 of 10 spent: still usable
    expect(await indexed("L-CAP")).toEqual(["L-CAP@MA"]);
    expect((await use("L-CAP", 2)).errors).toBeUndefined(); // 10 of 10: gone with this use
    expect(await indexed("L-CAP")).toEqual([]);
    expect(codeOf(await use("L-CAP", 3))).toBe("BUDGET_EXHAUSTED"); // a refusal commits nothing
    expect(await indexed("L-CAP", "L-OPEN")).toEqual(["L-OPEN@MA"]);

    expect((await use("L-DRAW", 1)).data.r.won).toBe(true); // the only prize
    expect(await indexed("L-DRAW")).toEqual([]);

    await ok(MOVE, { idempotencyKey: key(), code: "LIVE", to: "PAUSED" });
    expect(await indexed("L-OPEN")).toEqual([]);
    await ok(MOVE, { idempotencyKey: key(), code: "LIVE", to: "ACTIVE" });
    expect(await indexed("L-OPEN")).toEqual(["L-OPEN@MA"]);

    // 11 of the campaign's 21 spent; the use that spends its last yuan pauses it and takes every offer of it out.
    expect((await use("L-OPEN", 1)).errors).toBeUndefined();
    expect((await use("L-OPEN", 2)).errors).toBeUndefined();
    expect(await indexed("L-OPEN")).toEqual([]);
    const paused = await api.as("MARKETING").gql(`{ campaign(code: "LIVE") { status } }`);
    expect(paused.data.campaign.status).toBe("PAUSED");
    await ok(UPDATE, { idempotencyKey: key(), code: "LIVE", budget: 100 });
    await ok(MOVE, { idempotencyKey: key(), code: "LIVE", to: "ACTIVE" });
    expect(await indexed("L-CAP", "L-DRAW", "L-OPEN")).toEqual(["L-OPEN@MA"]);
    await expectExact();
  });

  it("rebuilding it from the sources finds no difference after 300 random campaign, promotion, merchant and circle writes", async () => {
    const random = seededRandom(15);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const some = <T>(list: readonly T[], p: number): T[] => list.filter(() => random() < p);
    const merchants = Array.from({ length: 12 }, (_, i) => `RM${i}`);
    const circles = ["RC0", "RC1", "RC2"];
    const campaigns: string[] = [];
    const promotions: string[] = [];
    const status = new Map<string, string>();
    const liveAtCheckpoints: number[] = [];
    await write(api, "merchants", merchants.map((m, i) => near(m, 50 * i, pick(CATEGORIES))));
    await write(api, "circles", circles.map((c) => ({ code: c, name: c, kind: "STREET", branchCode: "C1", merchantCodes: some(merchants, 0.4) })));
    let n = 0;
    const send = async (query: string, input: unknown, as: As = MARKETING) => {
      // Random writes may be refused (an illegal move, a spent budget): only a server fault fails the test.
      const res = await api.as(as).gql(query, { in: input });
      expect(res.errors?.filter((e) => e.extensions?.code === "INTERNAL_SERVER_ERROR") ?? []).toEqual([]);
      return res;
    };
    for (let op = 0; op < 300; op++) {
      const r = random();
      if (campaigns.length === 0 || r < 0.08) {
        const code = `RCAMP${campaigns.length}`;
        campaigns.push(code);
        await send(CAMPAIGN, { idempotencyKey: key(), code, name: code, branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 40 + Math.floor(random() * 40), circleCodes: some(circles, 0.4), merchantCodes: some(merchants, 0.3) });
        status.set(code, "DRAFT");
        if (random() < 0.7) for (const to of ["SCHEDULED", "ACTIVE"]) if ((await send(MOVE, { idempotencyKey: key(), code, to })).data?.r) status.set(code, to);
      } else if (r < 0.25) {
        const code = pick(campaigns);
        const to = pick(["SCHEDULED", "ACTIVE", "PAUSED", "ACTIVE", "ENDED", "DRAFT"]);
        if ((await send(MOVE, { idempotencyKey: key(), code, to })).data?.r) status.set(code, to);
      } else if (r < 0.35) {
        const code = pick(campaigns);
        await send(UPDATE, { idempotencyKey: key(), code, ...(random() < 0.5 ? { circleCodes: some(circles, 0.5) } : { merchantCodes: some(merchants, 0.3) }), ...(random() < 0.3 ? { budget: 60 + Math.floor(random() * 60) } : {}) });
      } else if (r < 0.5) {
        const campaignCode = pick(campaigns);
        const code = `RP${promotions.length}`;
        const scope = random();
        const appliesTo = scope < 0.3 ? { categories: some(CATEGORIES, 0.5) } : scope < 0.45 ? { circleCodes: some(circles, 0.5) } : undefined;
        const draw = random() < 0.3;
        const res = await send(PROMO, promotion(code, campaignCode, {
          ...(draw ? { rule: { kind: "LUCKY_DRAW", drawOdds: 0.8, prizeStock: 1 + Math.floor(random() * 2), prizeValue: 3 } } : {}),
          ...(random() < 0.4 ? { budgetCap: 10 + 5 * Math.floor(random() * 3) } : {}),
          ...(random() < 0.3 ? { schedule: [{ days: ["SATURDAY", "SUNDAY"], start: "22:00", end: "02:00" }] } : {}),
          ...(random() < 0.3 ? { validFrom: "2021-02-01", validTo: "2021-02-28" } : {}),
          ...(appliesTo ? { appliesTo } : {}),
        }));
        if (res.data?.r) promotions.push(code);
      } else if (r < 0.62) {
        await write(api, "merchants", [pick(merchants), ...some(merchants, 0.2)].filter((m, i, all) => all.indexOf(m) === i).map((m) => near(m, Math.floor(random() * 800), pick(CATEGORIES))));
      } else if (r < 0.7) {
        const code = pick(circles);
        await write(api, "circles", [{ code, name: code, kind: "STREET", branchCode: "C1", merchantCodes: some(merchants, 0.4) }]);
      } else if (r < 0.75) {
        const code = `RM${merchants.length}`;
        merchants.push(code);
        await write(api, "merchants", [near(code, Math.floor(random() * 800), pick(CATEGORIES))]);
      } else if (promotions.length) {
        // Uses, to spend budgets, prizes and campaigns down to nothing.
        await send(REDEEM, { transactionId: `RT-${++n}`, promotionCode: pick(promotions), merchantCode: pick(merchants), cardToken: `tok_card_random_${n}x`, at: "2021-02-06T02:00:00Z", spend: 50 }, ACQUIRER);
      }
      if (op % 50 === 49) {
        await expectExact();
        liveAtCheckpoints.push((await indexed(...promotions)).length);
      }
    }
    await expectExact();
    // The writes did put random offers in the index and take some out again.
    expect(Math.max(...liveAtCheckpoints)).toBeGreaterThan(0);
    expect(liveAtCheckpoints.length).toBe(6);
    expect([...status.values()]).toContain("ACTIVE");
  }, 240_000); // 300 writes with six full verifications: about 20 s on a quiet machine, over 60 s at load 12

  it("the nearby query costs the same statements for 2 offers near as for 60", async () => {
    await activeCampaign("COUNT", { merchantCodes: ["MA", "MB"] });
    await ok(PROMO, promotion("N-ONE", "COUNT"));
    const ask = () =>
      api.as("ANONYMOUS").gql(`query($at: DateTime) { promotionsNear(latitude: ${HERE.latitude}, longitude: ${HERE.longitude}, radiusMeters: 1000, at: $at, first: 50, cardToken: "tok_card_count_0001") {
        totalCount edges { node { distanceMeters availableUntil promotion { code rule { headline } } merchant { code name } remainingForCard { perDay } } } } }`, { at: AT });
    const before = await ask();
    const few = await api.countStatements(ask);
    await ok(UPDATE, { idempotencyKey: key(), code: "COUNT", merchantCodes: ["MA", "MB", "MC", "MD"] });
    for (let i = 0; i < 14; i++) await ok(PROMO, promotion(`N-${i}`, "COUNT"));
    const after = await ask();
    expect(after.data.promotionsNear.totalCount - before.data.promotionsNear.totalCount).toBe(4 * 15 - 2);
    const many = await api.countStatements(ask);
    expect(many).toBe(few);
    // The page with its promotions and merchants is one statement; the card's uses a second.
    expect(many).toBe(2);
    const publicAsk = () =>
      api.as("ANONYMOUS").gql(`query($at: DateTime) { promotionsNear(latitude: ${HERE.latitude}, longitude: ${HERE.longitude}, radiusMeters: 1000, at: $at, first: 50) {
        totalCount edges { node { distanceMeters promotion { code } merchant { code } } } } }`, { at: AT });
    expect(await api.countStatements(publicAsk)).toBe(1);
  });

  it("pages nearest first, ties by promotion then merchant code, as an exhaustive sort of the index says, through `after` and with or without totalCount", async () => {
    // Every usable offer within 1 km, sorted without the index: the answer's definition.
    const R = 6_371_000;
    const rows = await api.database.prisma.$queryRawUnsafe<{ pair: string; distance: number }[]>(
      `SELECT promotion_code || '@' || merchant_code AS pair, d.distance::float8 AS distance FROM live_offer o
       CROSS JOIN LATERAL (SELECT 2 * ${R} * asin(sqrt(power(sin(radians(o.location[1] - $1) / 2), 2)
         + cos(radians($1)) * cos(radians(o.location[1])) * power(sin(radians(o.location[0] - $2) / 2), 2))) AS distance) d
       WHERE DATE '2021-01-09' BETWEEN o.valid_from AND o.valid_to AND o.open_minutes @> ${5 * 1440 + 600} AND d.distance <= 1000
       ORDER BY d.distance, promotion_code, merchant_code`,
      HERE.latitude,
      HERE.longitude,
    );
    expect(rows.length).toBeGreaterThan(60);
    const want = rows.map((r) => `${r.pair} ${Math.round(r.distance)}`);
    const page = (first: number, after: string | null, withCount: boolean) =>
      api.as("ANONYMOUS").gql(`query($at: DateTime, $first: Int, $after: String) { promotionsNear(latitude: ${HERE.latitude}, longitude: ${HERE.longitude}, radiusMeters: 1000, at: $at, first: $first, after: $after) {
        ${withCount ? "totalCount" : ""} pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { distanceMeters promotion { code } merchant { code } } } } }`, { at: AT, first, after });
    const got: string[] = [];
    let after: string | null = null;
    for (let n = 0; ; n++) {
      const res = await page(7, after, n % 2 === 0);
      expect(res.errors).toBeUndefined();
      const c = res.data.promotionsNear;
      got.push(...c.edges.map((e: any) => `${e.node.promotion.code}@${e.node.merchant.code} ${e.node.distanceMeters}`));
      expect(c.pageInfo.hasPreviousPage).toBe(n > 0);
      if (n % 2 === 0) expect(c.totalCount).toBe(rows.length);
      else expect(c.totalCount).toBeUndefined();
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(got).toEqual(want);
    // Past the end: no edges, the count still said.
    const past = await api.as("ANONYMOUS").gql(`query($at: DateTime, $after: String) { promotionsNear(latitude: ${HERE.latitude}, longitude: ${HERE.longitude}, radiusMeters: 1000, at: $at, after: $after) { totalCount edges { cursor } pageInfo { hasNextPage } } }`, { at: AT, after: Buffer.from(`k:${rows.length + 5}`).toString("base64url") });
    expect(past.data.promotionsNear).toEqual({ totalCount: rows.length, edges: [], pageInfo: { hasNextPage: false } });
  });

  it("counts at most NEARBY_COUNT_CAP offers, and only when asked", async () => {
    const far = { latitude: HERE.latitude + 0.2, longitude: HERE.longitude };
    const ask = (count: boolean) => (db: Tx) =>
      db.$queryRawUnsafe<{ total: number | null; promotion_id: number | null }[]>(
        `${offersNearCtes(nearestBound(3))} SELECT c.total, page.promotion_id FROM counted c LEFT JOIN page ON true ORDER BY ${OFFERS_NEAR_ORDER}`,
        ...offersNearValues({ ...far, radiusMeters: 2000, localDate: "2021-01-09", minuteOfWeek: 5 * 1440 + 600, offset: 0, take: 3, count }),
      );
    // Rows only this transaction sees, rolled back at the end (the index stays exact for the others).
    const rollback = new Error("rollback");
    const seen = await api.database.prisma
      .$transaction(async (tx) => {
        await tx.$executeRawUnsafe(
          `INSERT INTO live_offer (promotion_id, merchant_id, promotion_code, merchant_code, location, valid_from, valid_to, open_minutes)
           SELECT 900000 + i, 900000 + i, 'CAP' || i, 'CAPM' || i, point($1::float8, $2::float8 + i * 1e-6), DATE '2021-01-01', DATE '2021-12-31', int4multirange(int4range(0, 10080))
           FROM generate_series(1, ${NEARBY_COUNT_CAP + 20}) i`,
          far.longitude,
          far.latitude,
        );
        const counted = await ask(true)(tx);
        const uncounted = await ask(false)(tx);
        throw Object.assign(rollback, { seen: { counted, uncounted } });
      })
      .catch((err) => (err === rollback ? (err as Error & { seen: unknown }).seen : Promise.reject(err)));
    const { counted, uncounted } = seen as { counted: { total: number | null; promotion_id: number | null }[]; uncounted: { total: number | null }[] };
    expect(counted[0].total).toBe(NEARBY_COUNT_CAP);
    expect(uncounted[0].total).toBeNull();
    expect(counted.map((r) => r.promotion_id)).toEqual([900001, 900002, 900003]);
    await expectExact();
  });

  it("a server with the nearby cache answers a repeated public request without SQL, lowers the max-age by the answer's age, and drops an ended offer within its TTL", async () => {
    const cached = await startTestApi({ NEARBY_CACHE_SECONDS: "3" }, { reset: false });
    try {
      await activeCampaign("CACHE", { merchantCodes: ["MD"] });
      await ok(PROMO, promotion("K-ONE", "CACHE"));
      const MD = { latitude: HERE.latitude + 400 / 111_320, longitude: HERE.longitude };
      const ask = async (latitude = MD.latitude, cardToken?: string) => {
        const res = await fetch(cached.server.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: `query($lat: Float!, $lng: Float!, $at: DateTime, $card: String) { promotionsNear(latitude: $lat, longitude: $lng, radiusMeters: 50, at: $at, cardToken: $card) { edges { node { promotion { code } merchant { code } } } } }`,
            variables: { lat: latitude, lng: MD.longitude, at: AT, card: cardToken },
          }),
        });
        const body = (await res.json()) as { data: any; errors?: unknown };
        expect(body.errors).toBeUndefined();
        const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1]);
        return { cacheControl: res.headers.get("cache-control"), maxAge, offers: body.data.promotionsNear.edges.map((e: any) => `${e.node.promotion.code}@${e.node.merchant.code}`) as string[] };
      };
      const first = await ask();
      const stored = Date.now(); // the answer was cached before it was sent
      expect(first.offers).toContain("K-ONE@MD");
      expect(first.cacheControl).toBe("public, max-age=30");
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      // A place within the rounding (5 decimals, about 1 m) shares the answer: no statement at all.
      let again!: Awaited<ReturnType<typeof ask>>;
      expect(await cached.countStatements(async () => (again = await ask(MD.latitude + 0.000001)))).toBe(0);
      expect(again.offers).toEqual(first.offers);
      // Already a second old: HTTP caches get what is left of the 30 s, not 30 s more.
      expect(again.maxAge).toBeLessThanOrEqual(29);
      expect(again.cacheControl).toMatch(/^public, max-age=\d+$/);
      // A card's answer is its own: never from the shared cache.
      await ask(MD.latitude, "tok_card_cache_0001");
      expect(await cached.countStatements(() => ask(MD.latitude, "tok_card_cache_0001"))).toBeGreaterThan(0);

      await ok(MOVE, { idempotencyKey: key(), code: "CACHE", to: "PAUSED" });
      // The entry lives at most NEARBY_CACHE_SECONDS (3 s, bounded by the max-age): then the pause shows.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, stored + 3_100 - Date.now())));
      const after = await ask();
      expect(after.offers).not.toContain("K-ONE@MD");
    } finally {
      await cached.close();
    }
  });
});
