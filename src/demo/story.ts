/**
 * The demo story: Shanxi province (SX) with its 11 city branches, their sub-branches, outlets
 * and account managers, Q1 2021 plans, and six months of card applications and activations
 * (2020-10-01 .. 2021-03-31), told so that the figures of shared/domain.md come out exactly:
 *
 * - Lüliang (SX-LL), as of 2021-02-28 for 2021-Q1: NEW_CUSTOMERS 6,245 against a plan of 4,700
 *   (1.3287), first among the province's city branches;
 * - its 1,500 paper applications, received and keyed in Q4 2020, decided in January;
 * - 3,218 of its Q1 new customers came through the business-circle campaign;
 * - its 568 visited merchants, 3 complex, 70 single-merchant and 3 supermarket circles, and the
 *   campaign with its promotions and redemptions (./circles.ts).
 *
 * Exact figures are not left to chance: every customer is written with a role (first approved
 * in Q4, in January–February, in March, returning, rejected, pending), and the contract counts
 * are the number of customers given the January–February role. Randomness only spreads them
 * over dates, units, staff and channels. It comes from a seeded PRNG, never Math.random or the
 * clock, so the same seed always tells the same story, row for row.
 */
import { addDays, compareDates, eachDay, maxDate, minDate, weekdayOf, type BusinessDate } from "../domain/dates.js";
import { parsePeriod } from "../domain/period.js";
import { ApplicationChannel, Decision, Metric, OrgLevel } from "../generated/prisma/enums.js";
import type { AccountManagerInput, BranchInput } from "../modules/org/org.input.js";
import type { ActivationInput, ApplicationInput } from "../modules/records/records.input.js";
import type { TargetInput } from "../modules/targets/targets.input.js";
import { buildCircles, CIRCLES, type CirclesStory } from "./circles.js";

/** The handles a reader (or a test) of the story needs. */
export const DEMO = {
  seed: 20_210_228,
  province: "SX",
  storyBranch: "SX-LL",
  period: "2021-Q1",
  asOf: "2021-02-28",
  campaignCode: "LL-2021Q1-CIRCLES",
  /** Paper applications stockpiled by SX-LL in Q4 2020. */
  paperApplications: 1_500,
  /** SX-LL's new customers of the campaign, January–February 2021. */
  campaignNewCustomers: 3_218,
  /** SX-LL merchants visited by its staff, October 2020 – March 2021. */
  visitedMerchants: CIRCLES.visitedMerchants,
} as const;

export interface DemoStory extends CirclesStory {
  readonly branches: BranchInput[];
  readonly managers: AccountManagerInput[];
  readonly targets: TargetInput[];
  readonly applications: ApplicationInput[];
  readonly activations: ActivationInput[];
}

// ---- Randomness ---------------------------------------------------------------------------

/** mulberry32: a tiny, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Rng {
  constructor(private readonly next: () => number) {}

  /** A stream of its own per label, so changing one city's story leaves the others as they were. */
  static for(seed: number, label: string): Rng {
    let h = 0x811c9dc5 ^ seed; // FNV-1a over the label, mixed with the seed
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Rng(mulberry32(h));
  }

  float(): number {
    return this.next();
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** An integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** Fisher–Yates on a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/** Picks items with probability proportional to their weight (binary search over the running sum). */
class WeightedPicker<T> {
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(
    private readonly items: readonly T[],
    weight: (item: T) => number,
  ) {
    let sum = 0;
    for (const item of items) this.cumulative.push((sum += weight(item)));
    this.total = sum;
  }

  pick(rng: Rng): T {
    const x = rng.float() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

// ---- Calendar -----------------------------------------------------------------------------

interface DateRange {
  readonly start: BusinessDate;
  readonly end: BusinessDate;
}

const STORY: DateRange = { start: "2020-10-01", end: "2021-03-31" };
const Q4_2020: DateRange = { start: "2020-10-01", end: "2020-12-31" };
/** The contract window: 2021-Q1 as of 2021-02-28. */
const JAN_FEB: DateRange = { start: "2021-01-01", end: "2021-02-28" };
const MARCH: DateRange = { start: "2021-03-01", end: "2021-03-31" };

const daysOf = (range: DateRange): BusinessDate[] => eachDay(range.start, range.end);

/**
 * Day arithmetic by table look-up: the story shifts dates a few hundred thousand times, and
 * going through luxon each time would make building it several times slower. The table spans
 * the story with room for lags on either side.
 */
const CALENDAR = daysOf({ start: "2020-09-01", end: "2021-06-30" });
const CALENDAR_INDEX = new Map(CALENDAR.map((d, i) => [d, i]));

function shift(day: BusinessDate, days: number): BusinessDate {
  const shifted = CALENDAR[CALENDAR_INDEX.get(day)! + days];
  if (shifted === undefined) throw new RangeError(`${day} + ${days} days is outside the story's calendar`);
  return shifted;
}

/** Business is quieter at weekends and nearly stops over the National Day and Spring Festival holidays. */
function businessWeight(day: BusinessDate): number {
  if (day >= "2020-10-01" && day <= "2020-10-08") return 0.3;
  if (day >= "2021-02-11" && day <= "2021-02-17") return 0.25;
  return weekdayOf(day) >= 6 ? 0.6 : 1;
}

const dayPickers = new Map<string, WeightedPicker<BusinessDate>>();

/** A business day in the range, busy days being likelier. */
function dayIn(rng: Rng, range: DateRange): BusinessDate {
  const key = `${range.start}/${range.end}`;
  let picker = dayPickers.get(key);
  if (!picker) dayPickers.set(key, (picker = new WeightedPicker(daysOf(range), businessWeight)));
  return picker.pick(rng);
}

// ---- The org tree -------------------------------------------------------------------------

interface CitySpec {
  readonly code: string;
  readonly cn: string;
  readonly pinyin: string;
  /** Sub-branches, one per district or county: [Chinese, pinyin]. */
  readonly districts: readonly (readonly [string, string])[];
  /** Q1 2021 NEW_CUSTOMERS plan. */
  readonly newCustomerTarget: number;
  /** New customers first approved 2021-01-01..2021-02-28: the contract figure for SX-LL. */
  readonly newCustomersJanFeb: number;
}

/**
 * The province's city branches. Completion as of 2021-02-28 is newCustomersJanFeb ÷ target:
 * every other city is strictly below Lüliang's 1.3287, so Lüliang ranks first.
 */
const CITIES: readonly CitySpec[] = [
  { code: "TY", cn: "太原", pinyin: "Taiyuan", newCustomerTarget: 5_200, newCustomersJanFeb: 5_824, // 1.12
    districts: [["小店", "Xiaodian"], ["迎泽", "Yingze"], ["杏花岭", "Xinghualing"], ["尖草坪", "Jiancaoping"], ["万柏林", "Wanbailin"], ["晋源", "Jinyuan"]] },
  { code: "DT", cn: "大同", pinyin: "Datong", newCustomerTarget: 2_400, newCustomersJanFeb: 2_256, // 0.94
    districts: [["平城", "Pingcheng"], ["云冈", "Yungang"], ["新荣", "Xinrong"], ["云州", "Yunzhou"], ["阳高", "Yanggao"]] },
  { code: "YQ", cn: "阳泉", pinyin: "Yangquan", newCustomerTarget: 1_100, newCustomersJanFeb: 858, // 0.78
    districts: [["城区", "Chengqu"], ["矿区", "Kuangqu"], ["平定", "Pingding"]] },
  { code: "CZ", cn: "长治", pinyin: "Changzhi", newCustomerTarget: 2_300, newCustomersJanFeb: 2_415, // 1.05
    districts: [["潞州", "Luzhou"], ["上党", "Shangdang"], ["屯留", "Tunliu"], ["潞城", "Lucheng"], ["襄垣", "Xiangyuan"]] },
  { code: "JC", cn: "晋城", pinyin: "Jincheng", newCustomerTarget: 1_700, newCustomersJanFeb: 1_496, // 0.88
    districts: [["城区", "Chengqu"], ["泽州", "Zezhou"], ["高平", "Gaoping"], ["阳城", "Yangcheng"]] },
  { code: "SZ", cn: "朔州", pinyin: "Shuozhou", newCustomerTarget: 1_200, newCustomersJanFeb: 792, // 0.66
    districts: [["朔城", "Shuocheng"], ["平鲁", "Pinglu"], ["怀仁", "Huairen"]] },
  { code: "JZ", cn: "晋中", pinyin: "Jinzhong", newCustomerTarget: 2_200, newCustomersJanFeb: 2_596, // 1.18
    districts: [["榆次", "Yuci"], ["太谷", "Taigu"], ["介休", "Jiexiu"], ["平遥", "Pingyao"], ["灵石", "Lingshi"]] },
  { code: "YC", cn: "运城", pinyin: "Yuncheng", newCustomerTarget: 2_600, newCustomersJanFeb: 2_522, // 0.97
    districts: [["盐湖", "Yanhu"], ["永济", "Yongji"], ["河津", "Hejin"], ["临猗", "Linyi"], ["芮城", "Ruicheng"]] },
  { code: "XZ", cn: "忻州", pinyin: "Xinzhou", newCustomerTarget: 1_500, newCustomersJanFeb: 1_065, // 0.71
    districts: [["忻府", "Xinfu"], ["原平", "Yuanping"], ["定襄", "Dingxiang"], ["代县", "Daixian"]] },
  { code: "LF", cn: "临汾", pinyin: "Linfen", newCustomerTarget: 2_500, newCustomersJanFeb: 2_075, // 0.83
    districts: [["尧都", "Yaodu"], ["侯马", "Houma"], ["霍州", "Huozhou"], ["曲沃", "Quwo"], ["洪洞", "Hongtong"]] },
  { code: "LL", cn: "吕梁", pinyin: "Lüliang", newCustomerTarget: 4_700, newCustomersJanFeb: 6_245, // 1.3287, the story
    districts: [["离石", "Lishi"], ["孝义", "Xiaoyi"], ["汾阳", "Fenyang"], ["文水", "Wenshui"], ["交城", "Jiaocheng"], ["柳林", "Liulin"]] },
];

/** An account manager with the weights that shape their plan (`plan`) and their results (`plan × pace`). */
interface Staff {
  readonly code: string;
  readonly name: string;
  readonly branchCode: string;
  readonly subBranchCode: string;
  readonly plan: number;
  readonly pace: number;
}

interface City {
  readonly spec: CitySpec;
  readonly branchCode: string;
  readonly subBranchCodes: string[];
  readonly staff: Staff[];
}

const SURNAMES = ["王", "李", "张", "刘", "郭", "武", "贾", "杨", "赵", "任", "韩", "侯", "段", "薛", "阎", "梁", "高", "田", "乔", "白"];
const GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "霞", "平", "刚", "晋", "彦", "慧", "婷", "鹏", "瑞", "红", "建国", "晓东", "海燕", "春梅", "志刚"];

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** Units and staff of one city: a sub-branch per district, 2–4 outlets each; staff mostly at outlets. */
function buildCity(spec: CitySpec, seed: number, branches: BranchInput[]): City {
  const rng = Rng.for(seed, `org:${spec.code}`);
  const branchCode = `${DEMO.province}-${spec.code}`;
  branches.push({ code: branchCode, name: `${spec.cn}市分行 (${spec.pinyin})`, level: OrgLevel.CITY, parentCode: DEMO.province });
  const city: City = { spec, branchCode, subBranchCodes: [], staff: [] };
  const hire = (unitCode: string, subBranchCode: string) => {
    // A few stars per city: the staff whose results carry a sub-branch.
    const pace = rng.between(0.7, 1.3) * (rng.chance(0.05) ? 1.6 : 1);
    city.staff.push({
      code: `M-${branchCode}-${pad(city.staff.length + 1, 4)}`,
      name: rng.pick(SURNAMES) + rng.pick(GIVEN),
      branchCode: unitCode,
      subBranchCode,
      plan: rng.between(0.6, 1.4),
      pace,
    });
  };
  spec.districts.forEach(([cn, pinyin], d) => {
    const subCode = `${branchCode}-${pad(d + 1, 2)}`;
    city.subBranchCodes.push(subCode);
    branches.push({ code: subCode, name: `${cn}支行 (${pinyin})`, level: OrgLevel.SUB_BRANCH, parentCode: branchCode });
    for (let s = rng.int(1, 2); s > 0; s--) hire(subCode, subCode);
    for (let o = 1, outlets = rng.int(2, 4); o <= outlets; o++) {
      const outletCode = `${subCode}-${pad(o, 2)}`;
      branches.push({ code: outletCode, name: `${cn}支行第${o}网点 (${pinyin} outlet ${o})`, level: OrgLevel.OUTLET, parentCode: subCode });
      for (let s = rng.int(3, 6); s > 0; s--) hire(outletCode, subCode);
    }
  });
  return city;
}

// ---- Plans (targets) ----------------------------------------------------------------------

const roundTo = (x: number, step: number) => Math.max(step, Math.round(x / step) * step);

/** A city's Q1 plan per metric, derived from its new-customer plan by the usual funnel ratios. */
function cityPlan(spec: CitySpec): Record<Metric, number> {
  const t = spec.newCustomerTarget;
  return {
    [Metric.APPLICATIONS]: roundTo(t * 1.5, 50),
    [Metric.APPROVALS]: roundTo(t * 1.2, 50),
    [Metric.NEW_CUSTOMERS]: t,
    [Metric.ACTIVATIONS]: roundTo(t * 0.95, 50),
  };
}

/** Sub-branches deliberately without a plan for some metric, to show the "no target, no rate" rule. */
const UNPLANNED: Readonly<Record<string, readonly Metric[]>> = {
  "SX-TY-06": [Metric.NEW_CUSTOMERS, Metric.ACTIVATIONS], // opened in the quarter
  "SX-DT-05": [Metric.ACTIVATIONS],
  "SX-YQ-03": [Metric.APPLICATIONS],
};

function buildTargets(seed: number, cities: readonly City[]): TargetInput[] {
  const period = parsePeriod(DEMO.period);
  const out: TargetInput[] = [];
  const plans = cities.map((c) => cityPlan(c.spec));
  for (const metric of Object.values(Metric)) {
    out.push({ branchCode: DEMO.province, period, metric, value: plans.reduce((sum, p) => sum + p[metric], 0) });
  }
  cities.forEach((city, i) => {
    const rng = Rng.for(seed, `targets:${city.spec.code}`);
    const totalPlan = city.staff.reduce((sum, s) => sum + s.plan, 0);
    for (const metric of Object.values(Metric)) out.push({ branchCode: city.branchCode, period, metric, value: plans[i][metric] });
    // A sub-branch's share of the city plan is the share of its staff's planned capacity.
    for (const sub of city.subBranchCodes) {
      const share = city.staff.filter((s) => s.subBranchCode === sub).reduce((sum, s) => sum + s.plan, 0) / totalPlan;
      for (const metric of Object.values(Metric)) {
        if (UNPLANNED[sub]?.includes(metric)) continue;
        out.push({ branchCode: sub, period, metric, value: roundTo(plans[i][metric] * share, 10) });
      }
    }
    for (const s of city.staff) {
      // Staff hired during the quarter have no personal plan yet (never in the story's branch).
      if (city.branchCode !== DEMO.storyBranch && rng.chance(0.03)) continue;
      const value = Math.max(1, Math.round((city.spec.newCustomerTarget * s.plan) / totalPlan));
      out.push({ managerCode: s.code, period, metric: Metric.NEW_CUSTOMERS, value });
    }
  });
  return out;
}

// ---- Records ------------------------------------------------------------------------------

/** Volumes relative to a city's Q1 new-customer plan, outside the contract window. */
const SHARE_FIRST_APPROVED_Q4 = 0.45;
const SHARE_FIRST_APPROVED_MARCH = 0.35;
const SHARE_PENDING_END_OF_MARCH = 0.05;
/** Share of Q4's new customers who apply again in Q1 (approved, but not new again). */
const SHARE_RETURNING = 0.08;
/** Rejected-only customers, relative to all first approvals of the city. */
const SHARE_REJECTED = 0.15;
const ACTIVATION_RATE = 0.86;
const FIRST_SPEND_RATE = 0.8;
const CAMPAIGN_MERCHANTS = CIRCLES.singleMerchants; // LL-M-001..070, the single-merchant circles

type NewApplication = Omit<ApplicationInput, "externalId">;

/** Writes one city's records: id counters, staff picks and the date logic every role shares. */
class CityRecords {
  private customers = 0;
  private applications = 0;
  private readonly staffPicker: WeightedPicker<Staff>;

  constructor(
    private readonly city: City,
    readonly rng: Rng,
    private readonly story: DemoStory,
  ) {
    this.staffPicker = new WeightedPicker(city.staff, (s) => s.plan * s.pace);
  }

  get isStoryBranch(): boolean {
    return this.city.branchCode === DEMO.storyBranch;
  }

  newCustomer(): string {
    return `C-${this.city.spec.code}-${pad(++this.customers, 6)}`;
  }

  /** Where an application is taken: a manager's unit; some online ones come in with no manager. */
  takenBy(channel: ApplicationChannel): { branchCode: string; managerCode: string | null } {
    const staff = this.staffPicker.pick(this.rng);
    const unassigned = channel === ApplicationChannel.ONLINE && this.rng.chance(0.35);
    return { branchCode: staff.branchCode, managerCode: unassigned ? null : staff.code };
  }

  /** Lüliang takes no paper outside its Q4 stockpile, so its paper count is exactly the story's. */
  regularChannel(): ApplicationChannel {
    const x = this.rng.float();
    if (!this.isStoryBranch && x < 0.12) return ApplicationChannel.PAPER;
    return x < 0.62 ? ApplicationChannel.ONLINE : ApplicationChannel.MERCHANT_SITE;
  }

  /** Receipt and keying before a decision; online forms are keyed the day they arrive. */
  intakeBefore(decidedOn: BusinessDate, channel: ApplicationChannel, notBefore: BusinessDate = STORY.start) {
    const keyedOn = maxDate(notBefore, shift(decidedOn, -this.rng.int(0, 6)));
    const receivedOn = channel === ApplicationChannel.ONLINE ? keyedOn : maxDate(notBefore, shift(keyedOn, -this.rng.int(0, 3)));
    return { receivedOn, keyedOn };
  }

  /** A decided application of `customerId`, its dates leading up to a decision day in `range`. */
  decided(customerId: string, decision: Decision, range: DateRange): void {
    const channel = this.regularChannel();
    const decidedOn = dayIn(this.rng, range);
    this.record({ customerId, channel, ...this.takenBy(channel), ...this.intakeBefore(decidedOn, channel), decision, decidedOn });
  }

  record(app: NewApplication): void {
    const externalId = `A-${this.city.spec.code}-${pad(++this.applications, 6)}`;
    this.story.applications.push({ externalId, campaignCode: null, merchantCode: null, ...app });
    if (app.decision === Decision.APPROVED) this.maybeActivate(externalId, app.decidedOn!);
  }

  /** Most cards are activated within days to weeks; those that would be after the story's end are not yet. */
  private maybeActivate(applicationExternalId: string, decidedOn: BusinessDate): void {
    if (!this.rng.chance(ACTIVATION_RATE)) return;
    const activatedOn = shift(decidedOn, this.rng.int(0, 3) + (this.rng.chance(0.5) ? this.rng.int(0, 20) : 0));
    if (compareDates(activatedOn, STORY.end) > 0) return;
    const spendOn = shift(activatedOn, this.rng.int(0, 14));
    const firstSpendOn = this.rng.chance(FIRST_SPEND_RATE) && compareDates(spendOn, STORY.end) <= 0 ? spendOn : null;
    this.story.activations.push({ applicationExternalId, activatedOn, firstSpendOn });
  }
}

/** Customers first approved in `range`: each one is a new customer of that range, exactly once. */
function firstApprovals(w: CityRecords, count: number, range: DateRange): string[] {
  const customers: string[] = [];
  for (let i = 0; i < count; i++) {
    const customerId = w.newCustomer();
    w.decided(customerId, Decision.APPROVED, range);
    customers.push(customerId);
  }
  return customers;
}

/**
 * The city's regular new customers of the contract window. Some were turned down in Q4 and
 * applied again; some get a second card in March. Neither changes the count: the first
 * approval is what makes a customer new.
 */
function janFebNewCustomers(w: CityRecords, count: number): void {
  for (let i = 0; i < count; i++) {
    const customerId = w.newCustomer();
    if (w.rng.chance(0.04)) w.decided(customerId, Decision.REJECTED, Q4_2020);
    w.decided(customerId, Decision.APPROVED, JAN_FEB);
    if (w.rng.chance(0.02)) w.decided(customerId, Decision.APPROVED, MARCH);
  }
}

/** Q4 customers applying again in Q1: approvals, never new customers again. */
function returningCustomers(w: CityRecords, q4Customers: readonly string[]): void {
  const count = Math.round(q4Customers.length * SHARE_RETURNING);
  for (const customerId of w.rng.shuffled(q4Customers).slice(0, count)) {
    w.decided(customerId, Decision.APPROVED, w.rng.chance(0.7) ? JAN_FEB : MARCH);
  }
}

function rejections(w: CityRecords, count: number): void {
  for (let i = 0; i < count; i++) w.decided(w.newCustomer(), Decision.REJECTED, STORY);
}

/** Applications still waiting for a decision on 2021-03-31; the very latest are not even keyed yet. */
function pendingApplications(w: CityRecords, count: number): void {
  for (let i = 0; i < count; i++) {
    const channel = w.regularChannel();
    const receivedOn = dayIn(w.rng, { start: "2021-03-12", end: STORY.end });
    const keyed = shift(receivedOn, channel === ApplicationChannel.ONLINE ? 0 : w.rng.int(0, 3));
    const keyedOn = compareDates(keyed, STORY.end) <= 0 ? keyed : null;
    w.record({ customerId: w.newCustomer(), channel, ...w.takenBy(channel), receivedOn, keyedOn, decision: Decision.PENDING, decidedOn: null });
  }
}

/**
 * Lüliang's Q4 pipeline: 1,500 paper forms collected from mid-October, all keyed by 31
 * December, decided in the first weeks of 2021 (1,300 approved, 200 turned down).
 */
function paperStockpile(w: CityRecords): number {
  const approvedInJanuary = 1_200;
  const approvedInFebruary = 100;
  const rejected = DEMO.paperApplications - approvedInJanuary - approvedInFebruary;
  const outcomes = w.rng.shuffled([
    ...Array<[Decision, DateRange]>(approvedInJanuary).fill([Decision.APPROVED, { start: "2021-01-04", end: "2021-01-31" }]),
    ...Array<[Decision, DateRange]>(approvedInFebruary).fill([Decision.APPROVED, { start: "2021-02-01", end: "2021-02-10" }]),
    ...Array<[Decision, DateRange]>(rejected).fill([Decision.REJECTED, { start: "2021-01-04", end: "2021-01-29" }]),
  ]);
  for (const [decision, decidedIn] of outcomes) {
    const receivedOn = dayIn(w.rng, { start: "2020-10-12", end: "2020-12-24" });
    const keyedOn = minDate("2020-12-31", shift(receivedOn, w.rng.int(0, 12)));
    const channel = ApplicationChannel.PAPER;
    const { branchCode, managerCode } = w.takenBy(channel);
    w.record({ customerId: w.newCustomer(), channel, branchCode, managerCode, receivedOn, keyedOn, decision, decidedOn: dayIn(w.rng, decidedIn) });
  }
  return outcomes.filter(([d]) => d === Decision.APPROVED).length;
}

/**
 * The business-circle campaign: new customers won at the 70 single merchants (on-site
 * marketing, lucky draws, the 1-yuan car wash) or through its online weekly promotions.
 */
function circlesCampaign(w: CityRecords): number {
  const merchants = Array.from({ length: CAMPAIGN_MERCHANTS }, (_, i) => ({ code: `LL-M-${pad(i + 1, 3)}`, pull: w.rng.between(0.3, 1.7) }));
  const merchantPicker = new WeightedPicker(merchants, (m) => m.pull);
  for (let i = 0; i < DEMO.campaignNewCustomers; i++) {
    const atMerchant = w.rng.chance(0.78);
    const channel = atMerchant ? ApplicationChannel.MERCHANT_SITE : ApplicationChannel.ONLINE;
    const decidedOn = dayIn(w.rng, { start: "2021-01-04", end: JAN_FEB.end });
    w.record({
      customerId: w.newCustomer(),
      channel,
      ...w.takenBy(channel),
      ...w.intakeBefore(decidedOn, channel, JAN_FEB.start),
      decision: Decision.APPROVED,
      decidedOn,
      campaignCode: DEMO.campaignCode,
      merchantCode: atMerchant ? merchantPicker.pick(w.rng).code : null,
    });
  }
  return DEMO.campaignNewCustomers;
}

/** One city's six months, role by role; the January–February new customers add up to its contract figure. */
function writeCityRecords(city: City, seed: number, story: DemoStory): void {
  const w = new CityRecords(city, Rng.for(seed, `records:${city.spec.code}`), story);
  const plan = city.spec.newCustomerTarget;
  const q4Customers = firstApprovals(w, Math.round(plan * SHARE_FIRST_APPROVED_Q4), Q4_2020);
  // Lüliang's paper stockpile and campaign bring new customers of the window too: the rest are regular.
  const special = w.isStoryBranch ? paperStockpile(w) + circlesCampaign(w) : 0;
  if (special > city.spec.newCustomersJanFeb) throw new Error(`${city.branchCode}: more special new customers than its total`);
  janFebNewCustomers(w, city.spec.newCustomersJanFeb - special);
  const march = firstApprovals(w, Math.round(plan * SHARE_FIRST_APPROVED_MARCH), MARCH);
  returningCustomers(w, q4Customers);
  rejections(w, Math.round((q4Customers.length + city.spec.newCustomersJanFeb + march.length) * SHARE_REJECTED));
  pendingApplications(w, Math.round(plan * SHARE_PENDING_END_OF_MARCH));
}

// ---- The whole story ----------------------------------------------------------------------

/** Builds the story in memory; pure and deterministic: the same seed gives identical rows. */
export function buildStory(seed: number = DEMO.seed): DemoStory {
  const branches: BranchInput[] = [{ code: DEMO.province, name: "山西省分行 (Shanxi)", level: OrgLevel.PROVINCE, parentCode: null }];
  const cities = CITIES.map((spec) => buildCity(spec, seed, branches));
  const managers = cities.flatMap((city) => city.staff.map((s) => ({ code: s.code, name: s.name, branchCode: s.branchCode })));
  // The circles half draws from streams of its own: the records below stay row for row as they were.
  const circles = buildCircles({ campaignCode: DEMO.campaignCode, branchCode: DEMO.storyBranch, branches, managers, rng: (label) => Rng.for(seed, label) });
  const story: DemoStory = { branches, managers, targets: buildTargets(seed, cities), applications: [], activations: [], ...circles };
  for (const city of cities) writeCityRecords(city, seed, story);
  return story;
}
