/**
 * The second half of the demo story: Lüliang's business circles (商圈) and the campaign that
 * ran on them (shared/domain.md).
 *
 * - Staff of SX-LL's sub-branches visited (走访) exactly 568 merchants between October 2020 and
 *   March 2021, some of them several times, with the outcome of each visit;
 * - the branch built 3 commercial-complex circles (综合体), 70 single-merchant circles (单体商户,
 *   the merchants LL-M-001..070 that the story's applications name) and 3 large-supermarket
 *   circles, all within a few kilometres of the city centre (≈ 37.52 N, 111.14 E);
 * - the campaign LL-2021Q1-CIRCLES ran on all of them in 2021-Q1: a weekly Saturday discount at
 *   the complexes ("an activity every week"), the 1-yuan car wash, a lucky draw and a
 *   supermarket cashback, used a few hundred times by cardholders.
 *
 * Like the rest of the story it is pure and deterministic: randomness comes from the seeded
 * streams story.ts hands in, and redemption instants are built from local times in the bank's
 * zone, never from the clock.
 */
import { DateTime } from "luxon";
import { addDays, compareDates, dayNumber, eachDay, weekdayOf, type BusinessDate } from "../domain/dates.js";
import { periodOf } from "../domain/period.js";
import { CircleKind, OrgLevel, PromotionKind, VisitOutcome, type MerchantCategory } from "../generated/prisma/enums.js";
import type { CreateCampaignInput, CreatePromotionInput, RedeemPromotionInput } from "../modules/campaigns/campaigns.input.js";
import type { DayOfWeek } from "../modules/campaigns/campaigns.enums.js";
import type { BusinessCircleInput, MerchantInput, VisitInput } from "../modules/merchants/merchants.input.js";
import type { AccountManagerInput, BranchInput } from "../modules/org/org.input.js";

/** The figures of the circles half of the story. */
export const CIRCLES = {
  /** Distinct SX-LL merchants with at least one visit. */
  visitedMerchants: 568,
  complexes: 3,
  /** LL-M-001..070, one SINGLE circle each; the story's campaign applications name them. */
  singleMerchants: 70,
  supermarkets: 3,
  /** Merchants on the branch's list that nobody has visited yet. */
  unvisitedMerchants: 28,
  /** The zone redemption instants are written in: the bank's default. */
  zone: "Asia/Shanghai",
  budget: 150_000,
  /** Promotion codes; the demo's idempotency keys are "demo-" + code. */
  promotions: {
    weekly: "LL-2021Q1-WEEKLY",
    carWash: "LL-2021Q1-CARWASH",
    draw: "LL-2021Q1-DRAW",
    cashback: "LL-2021Q1-CASHBACK",
  },
} as const;

/** What story.ts gives this half: its seeded streams and the org it already built. */
export interface Random {
  float(): number;
  between(lo: number, hi: number): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  shuffled<T>(items: readonly T[]): T[];
}

export interface CirclesStory {
  readonly merchants: MerchantInput[];
  readonly circles: BusinessCircleInput[];
  readonly visits: VisitInput[];
  readonly campaign: CreateCampaignInput;
  readonly promotions: CreatePromotionInput[];
  /** In time order; each one's `at` is given, inside its promotion's schedule. */
  readonly redemptions: RedeemPromotionInput[];
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const key = (code: string) => `demo-${code}`;

// ---- Places -------------------------------------------------------------------------------

/** Lishi, Lüliang's city centre. */
const CENTRE = { latitude: 37.52, longitude: 111.14 };
const METRES_PER_DEGREE_LAT = 111_320;
const METRES_PER_DEGREE_LNG = METRES_PER_DEGREE_LAT * Math.cos((CENTRE.latitude * Math.PI) / 180);

interface Point {
  readonly latitude: number;
  readonly longitude: number;
}

/** A point within `radius` metres of `around` (uniform over the disc), to 6 decimals (≈ 0.1 m). */
function near(rng: Random, around: Point, radius: number): Point {
  const r = radius * Math.sqrt(rng.float());
  const a = 2 * Math.PI * rng.float();
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return {
    latitude: round(around.latitude + (r * Math.sin(a)) / METRES_PER_DEGREE_LAT),
    longitude: round(around.longitude + (r * Math.cos(a)) / METRES_PER_DEGREE_LNG),
  };
}

const STREETS = ["永宁中路", "永宁西路", "龙凤南大街", "龙凤北大街", "北川河东路", "北川河西路", "滨河北路", "滨河南路", "凤山路", "吕梁大道", "体育路", "环城路", "八一街", "世纪大道"];

function address(rng: Random, street: string = rng.pick(STREETS)): string {
  return `山西省吕梁市离石区${street}${rng.int(1, 388)}号`;
}

// ---- Merchants ----------------------------------------------------------------------------

/** [category, Chinese word for the shop]. */
type Category = readonly [MerchantCategory, string];
const C = {
  carWash: ["CAR_WASH", "洗车行"],
  restaurant: ["RESTAURANT", "饭店"],
  noodles: ["RESTAURANT", "面馆"],
  hotpot: ["RESTAURANT", "火锅"],
  clothing: ["RETAIL", "服饰"],
  shoes: ["RETAIL", "鞋业"],
  cosmetics: ["BEAUTY", "美妆"],
  jewellery: ["RETAIL", "珠宝"],
  bakery: ["CAFE", "烘焙坊"],
  tea: ["CAFE", "茶饮"],
  electronics: ["ELECTRONICS", "数码"],
  pharmacy: ["HEALTH", "大药房"],
  gym: ["FITNESS", "健身"],
  salon: ["BEAUTY", "美发"],
  hotel: ["HOTEL", "酒店"],
  cinema: ["ENTERTAINMENT", "影城"],
  ktv: ["ENTERTAINMENT", "KTV"],
  kids: ["RETAIL", "童装"],
  fuel: ["AUTO_SERVICE", "汽车服务"],
  grocery: ["CONVENIENCE_STORE", "便利店"],
  supermarket: ["SUPERMARKET", "超市"],
  mobile: ["ELECTRONICS", "通讯"],
} as const satisfies Record<string, Category>;

const BRANDS = ["顺达", "鑫源", "金凤", "永宁", "福临", "华泰", "晋韵", "龙凤", "新世纪", "锦绣", "佳美", "老街", "三晋", "滨河", "盛世", "康乐", "百味", "鼎盛", "宏达", "恒通", "北川", "凤山", "家和", "兴隆", "瑞祥", "德顺", "阳光", "吕梁人家", "汾州", "晋西", "黄河", "天元"];

function merchant(rng: Random, code: string, category: Category, branchCode: string, at: Point, street?: string, name?: string): MerchantInput {
  return { code, name: name ?? `${rng.pick(BRANDS)}${category[1]}`, category: category[0], address: address(rng, street), ...at, branchCode };
}

/** Expands [category, how many] into a shuffled list. */
function mix(rng: Random, counts: readonly (readonly [Category, number])[]): Category[] {
  return rng.shuffled(counts.flatMap(([c, n]) => Array<Category>(n).fill(c)));
}

const COMPLEXES = [
  { name: "吕梁新天地购物中心 (Xintiandi mall)", street: "永宁中路", members: 38, offset: [600, -400] },
  { name: "凤山商业综合体 (Fengshan complex)", street: "凤山路", members: 44, offset: [-1_500, 1_200] },
  { name: "北川河商业广场 (Beichuan river plaza)", street: "北川河东路", members: 31, offset: [2_200, 900] },
] as const;

const SUPERMARKETS = [
  { name: "惠民大型超市 (Huimin hypermarket)", street: "龙凤南大街", offset: [-900, -1_300] },
  { name: "万家福购物广场 (Wanjiafu superstore)", street: "吕梁大道", offset: [1_300, -2_100] },
  { name: "滨河生活超市 (Binhe supermarket)", street: "滨河北路", offset: [-2_400, -200] },
] as const;

/** Shops inside each supermarket, members of its circle. */
const SUPERMARKET_TENANTS: readonly Category[] = [C.bakery, C.pharmacy, C.tea, C.mobile, C.jewellery];

const offsetFrom = (p: Point, [north, east]: readonly [number, number]): Point => ({
  latitude: p.latitude + north / METRES_PER_DEGREE_LAT,
  longitude: p.longitude + east / METRES_PER_DEGREE_LNG,
});

interface Lists {
  merchants: MerchantInput[];
  circles: BusinessCircleInput[];
  /** Merchants that are members of a circle: all of them were visited and signed up. */
  members: string[];
  carWashes: string[];
  complexMembers: string[];
  supermarketMembers: string[];
}

function buildMerchantsAndCircles(rng: Random, branchCode: string, subBranches: readonly string[]): Lists {
  const out: Lists = { merchants: [], circles: [], members: [], carWashes: [], complexMembers: [], supermarketMembers: [] };
  const [centreBranch] = subBranches; // Lishi: the city centre's sub-branch runs the big circles
  // Elsewhere ownership is spread over the sub-branches, the centre's holding the largest share.
  const owner = () => (rng.chance(0.4) ? centreBranch : rng.pick(subBranches));

  COMPLEXES.forEach((cx, i) => {
    const at = offsetFrom(CENTRE, cx.offset);
    const categories = mix(rng, [[C.restaurant, 6], [C.hotpot, 3], [C.clothing, 8], [C.shoes, 3], [C.cosmetics, 4], [C.jewellery, 2], [C.tea, 4], [C.bakery, 2], [C.electronics, 3], [C.kids, 3], [C.gym, 1], [C.ktv, 2], [C.cinema, 1], [C.salon, 2]]).slice(0, cx.members - 1);
    const codes: string[] = [];
    [C.cinema, ...categories].forEach((category, m) => {
      const code = `LL-X${i + 1}-${pad(m + 1, 3)}`;
      out.merchants.push(merchant(rng, code, category, centreBranch, near(rng, at, 90), cx.street, m === 0 ? `${cx.name.split(" ")[0]}${category[1]}` : undefined));
      codes.push(code);
    });
    out.circles.push({ code: `LL-C-COMPLEX-${i + 1}`, name: cx.name, kind: CircleKind.COMPLEX, branchCode: centreBranch, merchantCodes: codes });
    out.complexMembers.push(...codes);
  });

  const singles = mix(rng, [[C.carWash, 10], [C.restaurant, 10], [C.noodles, 4], [C.hotpot, 6], [C.clothing, 8], [C.bakery, 4], [C.gym, 4], [C.salon, 5], [C.pharmacy, 3], [C.tea, 6], [C.electronics, 4], [C.hotel, 3], [C.jewellery, 3]]);
  if (singles.length !== CIRCLES.singleMerchants) throw new Error(`${singles.length} single merchants, not ${CIRCLES.singleMerchants}`);
  singles.forEach((category, i) => {
    const code = `LL-M-${pad(i + 1, 3)}`;
    const m = merchant(rng, code, category, owner(), near(rng, CENTRE, 3_500));
    out.merchants.push(m);
    out.circles.push({ code: `LL-C-SINGLE-${pad(i + 1, 3)}`, name: `${m.name} (单体商户)`, kind: CircleKind.SINGLE, branchCode: m.branchCode, merchantCodes: [code] });
    if (category === C.carWash) out.carWashes.push(code);
  });

  SUPERMARKETS.forEach((sm, i) => {
    const at = offsetFrom(CENTRE, sm.offset);
    const code = `LL-SM-${i + 1}`;
    const codes = [code];
    out.merchants.push(merchant(rng, code, C.supermarket, centreBranch, at, sm.street, sm.name.split(" ")[0]));
    SUPERMARKET_TENANTS.forEach((category, t) => {
      codes.push(`${code}-${pad(t + 1, 2)}`);
      out.merchants.push(merchant(rng, codes.at(-1)!, category, centreBranch, near(rng, at, 40), sm.street));
    });
    out.circles.push({ code: `LL-C-MARKET-${i + 1}`, name: sm.name, kind: CircleKind.SUPERMARKET, branchCode: centreBranch, merchantCodes: codes });
    out.supermarketMembers.push(...codes);
  });

  out.members = out.merchants.map((m) => m.code);
  // Street shops complete the visit list; a few more are on it but not visited yet.
  const streetShops = CIRCLES.visitedMerchants - out.members.length + CIRCLES.unvisitedMerchants;
  const streetCategories = [C.restaurant, C.noodles, C.clothing, C.grocery, C.salon, C.tea, C.pharmacy, C.electronics, C.mobile, C.bakery, C.fuel, C.carWash, C.hotpot, C.shoes, C.kids];
  for (let i = 1; i <= streetShops; i++) {
    out.merchants.push(merchant(rng, `LL-ST-${pad(i, 3)}`, rng.pick(streetCategories), owner(), near(rng, CENTRE, 4_000)));
  }
  return out;
}

/** A handful of Taiyuan merchants, so SX-LL's lists are visibly a subset of the province's. */
function otherCities(rng: Random): MerchantInput[] {
  const taiyuan = { latitude: 37.87, longitude: 112.55 };
  return [C.restaurant, C.carWash, C.supermarket, C.clothing, C.tea, C.hotel].map((category, i) => ({
    code: `TY-M-${pad(i + 1, 3)}`,
    name: `${rng.pick(BRANDS)}${category[1]}`,
    category: category[0],
    address: `山西省太原市小店区长风街${rng.int(1, 300)}号`,
    ...near(rng, taiyuan, 3_000),
    branchCode: "SX-TY-01",
  }));
}

// ---- Visits -------------------------------------------------------------------------------

const NOTES: Record<VisitOutcome, readonly string[]> = {
  SIGNED_UP: ["签约商圈活动，已布放宣传物料 (signed up; display material placed)", "同意参加每周一活动 (agreed to the weekly promotion)", "签约并开通收单 (signed up; card acceptance set up)", "店员已培训，可现场办卡 (staff trained for on-site applications)"],
  FOLLOW_UP: ["店主外出，约下周再访 (owner away; revisit next week)", "对优惠方案有兴趣，需总部同意 (interested; needs head-office approval)", "已讲解办卡流程，待回复 (explained the card offer; awaiting reply)", "要求提高补贴比例 (asks for a larger subsidy)"],
  DECLINED: ["暂无合作意向 (not interested for now)", "已与他行合作 (works with another bank)", "客流少，不愿投入 (too little footfall)", "即将关店 (closing down)"],
};

const VISITS_FROM: BusinessDate = "2020-10-09"; // after the National Day holiday
const VISITS_TO: BusinessDate = "2021-03-31";
const CIRCLES_BUILT_BY: BusinessDate = "2020-12-31";

function visitDay(rng: Random, from: BusinessDate, to: BusinessDate): BusinessDate {
  const span = dayNumber(to) - dayNumber(from);
  return addDays(from, rng.int(0, span));
}

/**
 * One to three visits per visited merchant by staff of its owning sub-branch. Circle members
 * were all won in Q4 (their last visit signed them up); street shops end any way, any time.
 */
function buildVisits(rng: Random, lists: Lists, managers: readonly AccountManagerInput[], subBranchOf: (unit: string) => string): VisitInput[] {
  const staffBySub = new Map<string, string[]>();
  for (const m of managers) {
    const sub = subBranchOf(m.branchCode);
    staffBySub.set(sub, [...(staffBySub.get(sub) ?? []), m.code]);
  }
  const members = new Set(lists.members);
  const visited = lists.merchants.filter((m) => m.code.startsWith("LL-")).slice(0, CIRCLES.visitedMerchants);
  const visits: VisitInput[] = [];
  for (const m of visited) {
    const staff = staffBySub.get(m.branchCode);
    if (!staff?.length) throw new Error(`no account managers under ${m.branchCode}`);
    const inCircle = members.has(m.code);
    const count = rng.int(1, 3);
    let day = visitDay(rng, VISITS_FROM, inCircle ? "2020-12-10" : "2021-03-10");
    const manager = rng.pick(staff);
    for (let v = 1; v <= count; v++) {
      const last = v === count || compareDates(addDays(day, 3), inCircle ? CIRCLES_BUILT_BY : VISITS_TO) > 0;
      const outcome = !last ? VisitOutcome.FOLLOW_UP : inCircle ? VisitOutcome.SIGNED_UP : rng.pick([VisitOutcome.SIGNED_UP, VisitOutcome.SIGNED_UP, VisitOutcome.FOLLOW_UP, VisitOutcome.DECLINED]);
      const car = m.category === C.carWash[0] && outcome === VisitOutcome.SIGNED_UP;
      // Mostly the same manager; now and then a colleague of the sub-branch goes along instead.
      visits.push({
        managerCode: rng.chance(0.8) ? manager : rng.pick(staff),
        merchantCode: m.code,
        visitedOn: day,
        outcome,
        note: car ? "签约1元洗车 (signed up for the 1-yuan car wash)" : rng.pick(NOTES[outcome]),
      });
      if (last) break;
      const limit = inCircle ? CIRCLES_BUILT_BY : VISITS_TO;
      const next = addDays(day, rng.int(3, 24));
      day = compareDates(next, limit) <= 0 ? next : limit;
    }
  }
  return visits;
}

// ---- The campaign -------------------------------------------------------------------------

const Q1 = { start: "2021-01-01", end: "2021-03-31" } as const;
/** Regular prices of a wash at Lüliang's car washes, yuan; the dearest is the promotion's list price. */
const CAR_WASH_PRICES = [25, 30, 35, 40, 45] as const;
const SATURDAY = ["SATURDAY"] as DayOfWeek[];
const WEEKEND = ["SATURDAY", "SUNDAY"] as DayOfWeek[];

function buildCampaign(campaignCode: string, branchCode: string, circles: readonly BusinessCircleInput[]) {
  const campaign: CreateCampaignInput = {
    idempotencyKey: key(campaignCode),
    code: campaignCode,
    name: "吕梁商圈季度活动 (Lüliang business circles, 2021 Q1)",
    branchCode,
    startsOn: Q1.start,
    endsOn: Q1.end,
    budget: CIRCLES.budget,
    circleCodes: circles.map((c) => c.code),
    merchantCodes: [],
  };
  const P = CIRCLES.promotions;
  const promotion = (code: string, rest: Omit<CreatePromotionInput, "idempotencyKey" | "code" | "campaignCode">): CreatePromotionInput => ({ idempotencyKey: key(code), code, campaignCode, ...rest });
  const promotions: CreatePromotionInput[] = [
    promotion(P.weekly, {
      title: "每周一活动：周六商圈8折 (an activity every week: 20% off on Saturdays)",
      rule: { kind: PromotionKind.PERCENT_OFF, percentOff: 20, maxDiscount: 30 },
      validFrom: Q1.start, validTo: Q1.end,
      schedule: [{ days: SATURDAY, start: "10:00", end: "22:00" }],
      limits: { perWeek: 1 },
      budgetCap: 40_000,
    }),
    promotion(P.carWash, {
      title: "1元洗车 (1-yuan car wash)",
      rule: { kind: PromotionKind.FIXED_PRICE, fixedPrice: 1, listPrice: CAR_WASH_PRICES.at(-1) },
      validFrom: Q1.start, validTo: Q1.end,
      schedule: [{ days: SATURDAY, start: "09:00", end: "21:00" }],
      limits: { perDay: 1 },
      budgetCap: 30_000,
      appliesTo: { merchantCodes: [], categories: ["CAR_WASH"], circleCodes: [] },
    }),
    promotion(P.draw, {
      title: "刷卡抽奖 (lucky draw)",
      rule: { kind: PromotionKind.LUCKY_DRAW, drawOdds: 0.1, prizeStock: 200, prizeValue: 88 },
      validFrom: Q1.start, validTo: Q1.end,
      schedule: [{ days: WEEKEND, start: "10:00", end: "20:00" }],
      limits: { perDay: 1 },
      budgetCap: 17_600,
    }),
    promotion(P.cashback, {
      title: "大型超市满100返10 (¥10 back on ¥100 at the supermarkets)",
      rule: { kind: PromotionKind.CASHBACK, cashback: 10, minSpend: 100 },
      validFrom: Q1.start, validTo: Q1.end,
      schedule: [],
      limits: { perWeek: 1 },
      budgetCap: 20_000,
      appliesTo: { merchantCodes: [], categories: [], circleCodes: circles.filter((c) => c.kind === CircleKind.SUPERMARKET).map((c) => c.code) },
    }),
  ];
  return { campaign, promotions };
}


/** Local time in the bank's zone → the instant `redeem` receives. */
function instant(day: BusinessDate, hour: number, minute: number): Date {
  return DateTime.fromISO(`${day}T${pad(hour, 2)}:${pad(minute, 2)}:00`, { zone: CIRCLES.zone }).toJSDate();
}

const isoWeek = (day: BusinessDate) => periodOf("WEEK", day).code;

/**
 * Redemptions that the service accepts, as the acquiring platform would report them (only it
 * may: shared/domain.md): inside each promotion's schedule, within its per-card limits, spends
 * that qualify. About two hundred: each is one call (one transaction) of
 * `redeem`, the slowest part of the first start on the embedded database. The lucky draw is left out: the server draws its winners from
 * crypto randomness, which would make the story's spend differ from one load to the next.
 */
function buildRedemptions(rng: Random, lists: Lists): RedeemPromotionInput[] {
  const P = CIRCLES.promotions;
  const days = eachDay(Q1.start, Q1.end);
  const saturdays = days.filter((d) => weekdayOf(d) === 6);
  const used = new Set<string>();
  const drafts: Omit<RedeemPromotionInput, "transactionId">[] = [];
  /** A card that has not yet used the promotion in the limit's window ("day" or "week"). */
  const card = (promotion: string, window: string) => {
    for (;;) {
      const token = `tok_demo_card_${pad(rng.int(1, 4_000), 6)}`; // the card-token shape: 16+ characters, not all digits
      if (!used.has(`${promotion}|${token}|${window}`)) return used.add(`${promotion}|${token}|${window}`), token;
    }
  };
  for (const day of saturdays) {
    for (let n = rng.int(4, 9); n > 0; n--) {
      // The wash's regular price: the bank pays all but the cardholder's 1 yuan.
      drafts.push({ promotionCode: P.carWash, merchantCode: rng.pick(lists.carWashes), cardToken: card(P.carWash, day), at: instant(day, rng.int(9, 20), rng.int(0, 59)), spend: rng.pick(CAR_WASH_PRICES) });
    }
    for (let n = rng.int(4, 9); n > 0; n--) {
      const spend = rng.int(60, 600) + rng.pick([0, 0, 0.5]);
      drafts.push({ promotionCode: P.weekly, merchantCode: rng.pick(lists.complexMembers), cardToken: card(P.weekly, isoWeek(day)), at: instant(day, rng.int(10, 21), rng.int(0, 59)), spend });
    }
  }
  for (let n = 0; n < 50; n++) {
    const day = rng.pick(days);
    // Mostly at the supermarket's own tills, sometimes at a shop inside it.
    const merchantCode = rng.chance(0.8) ? rng.pick(lists.supermarketMembers.filter((c) => /^LL-SM-\d$/.test(c))) : rng.pick(lists.supermarketMembers);
    drafts.push({ promotionCode: P.cashback, merchantCode, cardToken: card(P.cashback, isoWeek(day)), at: instant(day, rng.int(8, 21), rng.int(0, 59)), spend: rng.int(100, 480) });
  }
  drafts.sort((a, b) => a.at!.getTime() - b.at!.getTime() || (a.promotionCode < b.promotionCode ? -1 : a.promotionCode > b.promotionCode ? 1 : 0));
  return drafts.map((d, i) => ({ transactionId: `demo-R-${pad(i + 1, 5)}`, ...d }));
}

// ---- The whole half -----------------------------------------------------------------------

export interface CirclesContext {
  readonly campaignCode: string;
  /** The story's city branch, SX-LL. */
  readonly branchCode: string;
  readonly branches: readonly BranchInput[];
  readonly managers: readonly AccountManagerInput[];
  /** A seeded stream per label, as story.ts makes them. */
  readonly rng: (label: string) => Random;
}

export function buildCircles(ctx: CirclesContext): CirclesStory {
  const parentOf = new Map(ctx.branches.map((b) => [b.code, b]));
  const subBranchOf = (code: string): string => {
    for (let b = parentOf.get(code); b; b = b.parentCode ? parentOf.get(b.parentCode) : undefined) {
      if (b.level === OrgLevel.SUB_BRANCH) return b.code;
    }
    return code;
  };
  const subBranches = ctx.branches.filter((b) => b.level === OrgLevel.SUB_BRANCH && b.parentCode === ctx.branchCode).map((b) => b.code);
  const storyManagers = ctx.managers.filter((m) => subBranches.includes(subBranchOf(m.branchCode)));

  const lists = buildMerchantsAndCircles(ctx.rng("circles:merchants"), ctx.branchCode, subBranches);
  const visits = buildVisits(ctx.rng("circles:visits"), lists, storyManagers, subBranchOf);
  const { campaign, promotions } = buildCampaign(ctx.campaignCode, ctx.branchCode, lists.circles);
  return {
    merchants: [...lists.merchants, ...otherCities(ctx.rng("circles:other-cities"))],
    circles: lists.circles,
    visits,
    campaign,
    promotions,
    redemptions: buildRedemptions(ctx.rng("circles:redemptions"), lists),
  };
}
