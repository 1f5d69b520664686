/**
 * The demo story reproduces the figures of shared/domain.md through the real API: loaded with
 * the production services, read back over GraphQL on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_BATCH, loadDemo, type DemoSummary } from "../../src/demo/load.js";
import { buildStory, DEMO } from "../../src/demo/story.js";
import { startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
let firstLoad: DemoSummary;

beforeAll(async () => {
  api = await startTestApi();
  firstLoad = await loadDemo(api.database.prisma);
});
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
    const res = await api.gql(`{
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
    const res = await api.gql(`{
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
    const res = await api.gql(`{
      end: branch(code: "SX-LL") { performance(period: "2021-Q1", asOf: "2021-03-31") { metric(metric: NEW_CUSTOMERS) { actual } } }
    }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.end.performance.metric.actual).toBeGreaterThan(6245);
  });

  it("keyed the 1,500 stockpiled paper applications in Q4 2020", async () => {
    const res = await api.gql(`{
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

  it("loads again without changing anything", async () => {
    const again = await loadDemo(api.database.prisma);
    for (const [what, counts] of Object.entries(again)) {
      const first = firstLoad[what as keyof DemoSummary];
      expect({ what, ...counts }).toEqual({ what, created: 0, updated: 0, unchanged: first.created });
    }
  });
});
