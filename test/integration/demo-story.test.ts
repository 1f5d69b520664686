/**
 * The demo story reproduces the figures of shared/domain.md through the real API: loaded with
 * the production services, read back over GraphQL on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_BATCH, loadDemo, type DemoSummary } from "../../src/demo/load.js";
import { DEMO_PLAN } from "../../src/demo/plan.js";
import { buildStory, DEMO } from "../../src/demo/story.js";
import { startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
let firstLoad: DemoSummary;

// Loading the whole demo bank (about a minute on the embedded database) is this file's setup;
// on a busy machine it has taken longer than the default two minutes for a hook.
beforeAll(async () => {
  api = await startTestApi();
  firstLoad = await loadDemo(api.database.prisma);
}, 300_000);
afterAll(() => api?.close());

describe("the demo story", () => {
  it("is deterministic and keeps the record invariants", () => {
    const story = buildStory();
    expect(buildStory()).toEqual(story);
    // Collected, not asserted row by row: one failure should name the rows, not stop at the first.
    const broken: string[] = [];
    for (const a of story.applications) {
      const ok =
        (a.decision === "PENDING") === (a.decidedOn == null) &&
        a.receivedOn >= "2020-10-01" &&
        (!a.keyedOn || (a.keyedOn >= a.receivedOn && a.keyedOn <= "2021-03-31")) &&
        (!a.decidedOn || (a.decidedOn >= (a.keyedOn ?? a.receivedOn) && a.decidedOn <= "2021-03-31"));
      if (!ok) broken.push(a.externalId);
    }
    const decidedOn = new Map(story.applications.map((a) => [a.externalId, a.decidedOn]));
    for (const v of story.activations) {
      const ok =
        v.activatedOn >= decidedOn.get(v.applicationExternalId)! &&
        v.activatedOn <= "2021-03-31" &&
        (!v.firstSpendOn || (v.firstSpendOn >= v.activatedOn && v.firstSpendOn <= "2021-03-31"));
      if (!ok) broken.push(`activation of ${v.applicationExternalId}`);
    }
    for (const v of story.visits) {
      if (v.visitedOn < "2020-10-01" || v.visitedOn > "2021-03-31" || !v.managerCode.startsWith("M-SX-LL-")) broken.push(`visit ${v.merchantCode} ${v.visitedOn}`);
    }
    for (const r of story.redemptions) {
      const at = r.at!.toISOString();
      if (at < "2020-12-31T16:00:00.000Z" || at >= "2021-03-31T16:00:00.000Z") broken.push(`redemption ${r.transactionId} at ${at}`);
    }
    expect(broken.slice(0, 10)).toEqual([]);
  });

  it("has the size of a province: a few hundred units, hundreds of managers, tens of thousands of applications", () => {
    expect(firstLoad.branches.created).toBeGreaterThanOrEqual(150);
    expect(firstLoad.branches.created).toBeLessThanOrEqual(250);
    expect(firstLoad.managers.created).toBeGreaterThanOrEqual(500);
    expect(firstLoad.managers.created).toBeLessThanOrEqual(1000);
    expect(firstLoad.applications.created).toBeGreaterThanOrEqual(40_000);
    expect(firstLoad.applications.created).toBeLessThanOrEqual(80_000);
    expect(firstLoad.applications.created).toBeGreaterThan(DEMO_BATCH); // so the chunking is exercised
  });

  it("ranks Lüliang first in Shanxi with 6,245 new customers against 4,700 (132.87 %)", async () => {
    const res = await api.as("HQ").gql(`{
      branchRanking(parentCode: "SX", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") {
        rank actual target completionRate branch { code }
      }
    }`);
    expect(res.errors).toBeUndefined();
    const ranking = res.data.branchRanking;
    expect(ranking).toHaveLength(11);
    expect(ranking[0]).toMatchObject({ rank: 1, actual: 6245, target: 4700, branch: { code: "SX-LL" } });
    expect(ranking[0].completionRate).toBeCloseTo(1.3287, 4);
    for (const other of ranking.slice(1)) {
      expect(other.target).not.toBeNull();
      expect(other.completionRate).toBeLessThan(ranking[0].completionRate);
      expect(other.rank).toBeGreaterThan(1);
    }
  });

  it("shows the same figures on the branch's own dashboard, with time progress 59/90", async () => {
    const res = await api.as("HQ").gql(`{
      branch(code: "SX-LL") {
        performance(period: "2021-Q1", asOf: "2021-02-28") {
          timeProgress
          metrics { metric actual target completionRate }
          rank(metric: NEW_CUSTOMERS)
        }
      }
    }`);
    expect(res.errors).toBeUndefined();
    const p = res.data.branch.performance;
    expect(p.timeProgress).toBeCloseTo(59 / 90, 10);
    expect(p.rank).toBe(1);
    const newCustomers = p.metrics.find((m: { metric: string }) => m.metric === "NEW_CUSTOMERS");
    expect(newCustomers).toMatchObject({ actual: 6245, target: 4700 });
    expect(newCustomers.completionRate).toBeCloseTo(1.3287, 4);
    // Every metric has a plan, and returning customers make approvals outnumber new customers.
    for (const m of p.metrics) expect(m.target, m.metric).toBeGreaterThan(0);
    const approvals = p.metrics.find((m: { metric: string }) => m.metric === "APPROVALS");
    expect(approvals.actual).toBeGreaterThan(6245);
  });

  it("counts March approvals only after 28 February", async () => {
    const res = await api.as("HQ").gql(`{
      end: branch(code: "SX-LL") { performance(period: "2021-Q1", asOf: "2021-03-31") { metric(metric: NEW_CUSTOMERS) { actual } } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.end.performance.metric.actual).toBeGreaterThan(6245);
  });

  it("keyed the 1,500 stockpiled paper applications in Q4 2020", async () => {
    const res = await api.as("HQ").gql(`{
      branch(code: "SX-LL") { performance(period: "2020-Q4", asOf: "2020-12-31") { metric(metric: APPLICATIONS) { actual } } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.branch.performance.metric.actual).toBeGreaterThanOrEqual(1500);

    const inLuliang = { branch: { ancestors: { some: { ancestor: { code: "SX-LL" } } } } };
    const prisma = api.database.prisma;
    const paper = await prisma.application.count({ where: { ...inLuliang, channel: "PAPER" } });
    const keyedInQ4 = await prisma.application.count({
      where: { ...inLuliang, channel: "PAPER", keyedOn: { gte: new Date("2020-10-01"), lte: new Date("2020-12-31") } },
    });
    expect(paper).toBe(DEMO.paperApplications);
    expect(keyedInQ4).toBe(1500);
  });

  it("credits 3,218 of Lüliang's new customers to the business-circle campaign", async () => {
    const [row] = await api.database.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(DISTINCT cu.id)::int AS n
      FROM customer cu
      JOIN application a ON a.id = cu.first_approved_application_id
      JOIN branch_closure c ON c.descendant_id = a.branch_id
      JOIN branch b ON b.id = c.ancestor_id AND b.code = 'SX-LL'
      WHERE a.decided_on BETWEEN '2021-01-01' AND '2021-02-28' AND a.campaign_code = 'LL-2021Q1-CIRCLES'`;
    expect(row.n).toBe(3218);
  });

  it("built 3 commercial-complex, 70 single-merchant and 3 supermarket circles in Lüliang", async () => {
    const res = await api.as("HQ").gql(`{
      complex: businessCircles(branchCode: "SX-LL", kind: COMPLEX) { totalCount edges { node { code merchantCount } } }
      single: businessCircles(branchCode: "SX-LL", kind: SINGLE) { totalCount }
      market: businessCircles(branchCode: "SX-LL", kind: SUPERMARKET) { totalCount }
      street: businessCircles(branchCode: "SX-LL", kind: STREET) { totalCount }
      firstSingle: businessCircle(code: "LL-C-SINGLE-001") { merchants { edges { node { code } } } }
      merchants(branchCode: "SX-LL") { totalCount }
      everywhere: merchants { totalCount }
    }`);
    expect(res.errors).toBeUndefined();
    const d = res.data;
    expect([d.complex.totalCount, d.single.totalCount, d.market.totalCount, d.street.totalCount]).toEqual([3, 70, 3, 0]);
    expect(d.complex.edges.map((e: any) => e.node.code)).toEqual(["LL-C-COMPLEX-1", "LL-C-COMPLEX-2", "LL-C-COMPLEX-3"]);
    for (const e of d.complex.edges) expect(e.node.merchantCount).toBeGreaterThanOrEqual(24); // a few dozen each
    expect(d.firstSingle.merchants.edges).toEqual([{ node: { code: "LL-M-001" } }]);
    expect(d.merchants.totalCount).toBeGreaterThanOrEqual(DEMO.visitedMerchants);
    expect(d.everywhere.totalCount).toBeGreaterThan(d.merchants.totalCount); // a few elsewhere too
  });

  it("visited exactly 568 of Lüliang's merchants, October 2020 to March 2021, with its own staff", async () => {
    const [row] = await api.database.prisma.$queryRaw<{ merchants: number; visits: number; outsiders: number }[]>`
      WITH ll AS (SELECT c.descendant_id AS id FROM branch_closure c JOIN branch b ON b.id = c.ancestor_id AND b.code = 'SX-LL')
      SELECT count(DISTINCT v.merchant_id)::int AS merchants, count(*)::int AS visits,
             count(*) FILTER (WHERE am.branch_id NOT IN (SELECT id FROM ll))::int AS outsiders
      FROM visit v JOIN merchant m ON m.id = v.merchant_id JOIN account_manager am ON am.id = v.manager_id
      WHERE m.branch_id IN (SELECT id FROM ll) AND v.visited_on BETWEEN '2020-10-01' AND '2021-03-31'`;
    expect(row).toMatchObject({ merchants: 568, outsiders: 0 });
    expect(row.visits).toBeGreaterThan(568); // several visits to some merchants
    expect(await api.database.prisma.visit.count()).toBe(row.visits);

    const res = await api.as("HQ").gql(`{ visits(merchantCode: "LL-M-001", first: 5) { edges { node { outcome note visitedOn manager { code } } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.visits.edges.length).toBeGreaterThan(0);
    expect(res.data.visits.edges[0].node.outcome).toBe("SIGNED_UP"); // newest first: the visit that won it
  });

  it("runs the business-circle campaign: ACTIVE, four promotions, money spent and left, 3,218 new customers", async () => {
    const res = await api.as("HQ").gql(`{
      campaign(code: "${DEMO.campaignCode}") {
        status startsOn endsOn budget spent remaining circleCodes branch { code }
        promotions { code rule { kind fixedPrice listPrice } schedule { days start end } limits { perDay } spent }
        q1: results(period: "2021-Q1", asOf: "2021-03-31") { newCustomers redemptions redemptionCost merchantsVisited }
        febEnd: results(period: "2021-Q1", asOf: "2021-02-28") { newCustomers }
      }
      campaigns(branchCode: "SX-LL") { totalCount }
    }`);
    expect(res.errors).toBeUndefined();
    const c = res.data.campaign;
    expect(c).toMatchObject({ status: "ACTIVE", startsOn: "2021-01-01", endsOn: "2021-03-31", branch: { code: "SX-LL" } });
    expect(c.circleCodes).toHaveLength(76);
    expect(c.promotions.map((p: any) => p.rule.kind).sort()).toEqual(["CASHBACK", "FIXED_PRICE", "LUCKY_DRAW", "PERCENT_OFF"]);
    const carWash = c.promotions.find((p: any) => p.rule.kind === "FIXED_PRICE");
    expect(carWash).toMatchObject({ rule: { fixedPrice: 1, listPrice: 45 }, schedule: [{ days: ["SATURDAY"], start: "09:00", end: "21:00" }], limits: { perDay: 1 } });
    expect(carWash.spent).toBeGreaterThan(0);
    expect(c.spent).toBeGreaterThan(0);
    expect(c.remaining).toBeGreaterThan(0);
    expect(c.spent + c.remaining).toBeCloseTo(c.budget, 2);
    expect(c.q1).toMatchObject({ newCustomers: DEMO.campaignNewCustomers, redemptions: buildStory().redemptions.length });
    expect(c.q1.redemptionCost).toBeCloseTo(c.spent, 2);
    expect(c.febEnd.newCustomers).toBe(DEMO.campaignNewCustomers); // all decided by 28 February
    expect(res.data.campaigns.totalCount).toBe(1);
  });

  it("offers the 1-yuan car wash at car washes only, on a Saturday in the centre of Lüliang", async () => {
    const res = await api.as("ANONYMOUS").gql(`{ promotionsNear(latitude: 37.518, longitude: 111.141, radiusMeters: 5000, at: "2021-01-09T10:00:00+08:00", first: 50) {
      totalCount edges { node { promotion { rule { kind } } merchant { code category } } } } }`);
    expect(res.errors).toBeUndefined();
    const edges = res.data.promotionsNear.edges.map((e: any) => e.node);
    const washes = edges.filter((n: any) => n.promotion.rule.kind === "FIXED_PRICE");
    expect(washes.length).toBeGreaterThan(0);
    expect(new Set(washes.map((n: any) => n.merchant.category))).toEqual(new Set(["CAR_WASH"]));
    // The other offers still apply across the circles, at merchants of other kinds.
    expect(edges.some((n: any) => n.merchant.category !== "CAR_WASH")).toBe(true);
  });

  it("loads again without changing anything", async () => {
    const before = await api.as("HQ").gql(`{ campaign(code: "${DEMO.campaignCode}") { status spent promotions { spent rule { prizeStock } } } }`);
    const again = await loadDemo(api.database.prisma);
    expect(Object.keys(again).sort()).toEqual(Object.keys(firstLoad).sort());
    for (const [what, counts] of Object.entries(again)) {
      const first = firstLoad[what as keyof DemoSummary];
      expect({ what, ...counts }).toEqual({ what, created: 0, updated: 0, unchanged: first.created });
    }
    expect(firstLoad).toMatchObject({ campaigns: { created: 1 }, promotions: { created: 4 }, visits: { created: expect.any(Number) } });
    const after = await api.as("HQ").gql(`{ campaign(code: "${DEMO.campaignCode}") { status spent promotions { spent rule { prizeStock } } } }`);
    expect(after).toEqual(before);
    expect(await api.database.prisma.campaign.count()).toBe(1);
    expect(await api.database.prisma.redemption.count()).toBe(firstLoad.redemptions.created);
  });
});

/**
 * Lüliang's Q1 2021 plan (src/demo/plan.ts), its statements worked out again from the records
 * alone: first approvals by DISTINCT ON over the applications (not the customers' derived
 * column), the subtree by a recursive walk of parent links (not the closure table), targets
 * from the target table, and the team pools split by largest remainder here.
 */
describe("the demo's assessment plan", () => {
  const FEN = 100;

  async function expected() {
    const db = api.database.prisma;
    const newCustomers = await db.$queryRaw<{ application: string; manager: string | null; unit: string; subBranch: string | null; inTime: boolean }[]>`
      WITH RECURSIVE tree AS (
        SELECT id, code, level, NULL::text AS sub FROM branch WHERE code = ${DEMO.storyBranch}
        UNION ALL
        SELECT b.id, b.code, b.level, CASE WHEN b.level = 'SUB_BRANCH' THEN b.code ELSE t.sub END FROM branch b JOIN tree t ON b.parent_id = t.id
      ), first AS (
        SELECT DISTINCT ON (customer_id) id, customer_id, branch_id, manager_id, decided_on, external_id
        FROM application WHERE decision = 'APPROVED' ORDER BY customer_id, decided_on, received_on, external_id
      )
      SELECT f.external_id AS application, m.code AS manager, t.code AS unit, t.sub AS "subBranch",
             coalesce(v.first_spend_on BETWEEN f.decided_on AND f.decided_on + ${DEMO_PLAN.firstOrder.withinDays}::int
                      AND v.first_spend_on <= ${DEMO_PLAN.asOf}::date, false) AS "inTime"
      FROM first f JOIN tree t ON t.id = f.branch_id
      LEFT JOIN account_manager m ON m.id = f.manager_id LEFT JOIN activation v ON v.application_id = f.id
      WHERE f.decided_on BETWEEN '2021-01-01' AND '2021-03-31'`;
    const staff = await db.$queryRaw<{ code: string; subBranch: string | null }[]>`
      WITH RECURSIVE tree AS (
        SELECT id, level, NULL::text AS sub FROM branch WHERE code = ${DEMO.storyBranch}
        UNION ALL
        SELECT b.id, b.level, CASE WHEN b.level = 'SUB_BRANCH' THEN b.code ELSE t.sub END FROM branch b JOIN tree t ON b.parent_id = t.id
      )
      SELECT m.code, t.sub AS "subBranch" FROM account_manager m JOIN tree t ON t.id = m.branch_id`;
    const targets = new Map(
      (await db.$queryRaw<{ code: string; value: number }[]>`
        SELECT b.code, t.value FROM target t JOIN branch b ON b.id = t.branch_id WHERE t.period = ${DEMO.period} AND t.metric = 'NEW_CUSTOMERS'`).map((t) => [t.code, t.value]),
    );

    const lines = new Map<string, string[]>();
    const add = (code: string, line: string) => lines.set(code, [...(lines.get(code) ?? []), line]);
    const firstOrders = new Map<string, string[]>();
    for (const c of newCustomers) if (c.inTime && c.manager) firstOrders.set(c.manager, [...(firstOrders.get(c.manager) ?? []), c.application]);
    for (const [code, apps] of firstOrders) add(code, `FIRST_ORDER ${apps.length} = ${apps.length * DEMO_PLAN.firstOrder.amount * FEN} ${apps.sort().join(",")}`);

    const actualOf = new Map<string, number>();
    for (const c of newCustomers) if (c.manager) actualOf.set(c.manager, (actualOf.get(c.manager) ?? 0) + 1);
    const pool = DEMO_PLAN.team.amount * FEN;
    let poolsPaid = 0;
    for (const sub of [...new Set(staff.map((s) => s.subBranch).filter((s): s is string => s !== null))].sort()) {
      const actual = newCustomers.filter((c) => c.subBranch === sub).length;
      const target = targets.get(sub);
      if (!target || actual < target * DEMO_PLAN.team.threshold) continue;
      const members = staff.filter((s) => s.subBranch === sub && (actualOf.get(s.code) ?? 0) >= 1).sort((a, b) => (a.code < b.code ? -1 : 1));
      const total = members.reduce((sum, m) => sum + actualOf.get(m.code)!, 0);
      const shares = members.map((m) => ({ code: m.code, fen: Math.floor((pool * actualOf.get(m.code)!) / total), rest: (pool * actualOf.get(m.code)!) % total }));
      let left = pool - shares.reduce((sum, s) => sum + s.fen, 0);
      for (const s of [...shares].sort((a, b) => b.rest - a.rest || (a.code < b.code ? -1 : 1))) if (left-- > 0) s.fen++;
      for (const s of shares) add(s.code, `TEAM ${actualOf.get(s.code)} = ${s.fen}`);
      add(sub, `TEAM 1 = ${pool}`);
      poolsPaid++;
    }
    return { lines, poolsPaid, firstOrderCount: [...firstOrders.values()].flat().length };
  }

  async function stored(): Promise<Map<string, string[]>> {
    const rows = await api.database.prisma.$queryRaw<{ code: string; kind: string; quantity: number; amount: bigint; applications: string[] }[]>`
      SELECT coalesce(m.code, b.code) AS code, l.rule_kind::text AS kind, l.quantity, l.amount_fen AS amount, l.applications
      FROM incentive_statement s JOIN incentive_plan p ON p.id = s.plan_id JOIN incentive_statement_line l ON l.statement_id = s.id
      LEFT JOIN account_manager m ON m.id = s.manager_id LEFT JOIN branch b ON b.id = s.branch_id
      WHERE p.code = ${DEMO_PLAN.code} ORDER BY 1, l.rule_index`;
    const lines = new Map<string, string[]>();
    for (const r of rows) {
      const line = `${r.kind} ${r.quantity} = ${r.amount}${r.kind === "FIRST_ORDER" ? ` ${r.applications.join(",")}` : ""}`;
      lines.set(r.code, [...(lines.get(r.code) ?? []), line]);
    }
    return lines;
  }

  it("pays the ¥20 first-order bonus and the ¥3,000 team pools exactly as the records say", async () => {
    const want = await expected();
    // The story has something to pay under both rules, so the comparison proves something.
    expect(want.firstOrderCount).toBeGreaterThan(100);
    expect(want.poolsPaid).toBeGreaterThan(0);
    const got = await stored();
    expect(Object.fromEntries([...got].sort())).toEqual(Object.fromEntries([...want.lines].sort()));
  });

  it("shows them to the account manager, FINAL and CALCULATED, with totals that add up", async () => {
    const want = await expected();
    const [code] = [...want.lines.keys()].filter((c) => c.startsWith("M-")).sort();
    const res = await api.as({ role: "ACCOUNT_MANAGER", unit: (await api.database.prisma.accountManager.findUnique({ where: { code }, include: { branch: true } }))!.branch.code, sub: code })
      .gql(`{ accountManager(code: "${code}") { incentives(period: "${DEMO.period}") { planCode basis status asOf total lines { ruleKind amount } } } }`);
    expect(res.errors).toBeUndefined();
    const [statement] = res.data.accountManager.incentives;
    expect(statement).toMatchObject({ planCode: DEMO_PLAN.code, basis: "FINAL", status: "CALCULATED", asOf: DEMO_PLAN.asOf });
    const wantTotal = want.lines.get(code)!.reduce((sum, l) => sum + Number(/ = (-?\d+)/.exec(l)![1]), 0) / FEN;
    expect(statement.total).toBe(wantTotal);
  });
});
