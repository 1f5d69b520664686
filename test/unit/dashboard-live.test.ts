import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { LIVE_CAMPAIGNS } from "../../src/dashboard/documents.js";
import { liveFollows, type UnitAnswers } from "../../src/dashboard/live.js";
import type { DetailsData, Standing, UnitData } from "../../src/dashboard/tables.js";

const performance = (actual: number) => ({ period: "2021-Q1", asOf: "2021-02-28", timeProgress: 0.656, metrics: [{ metric: "NEW_CUSTOMERS" as const, actual, target: 10, completionRate: actual / 10 }], rank: 1, series: [] });
const standing = (code: string, rank: number, actual: number): Standing => ({ rank, actual, target: null, completionRate: null, branch: { code, name: code } });
const campaign = (code: string, status: string, newCustomers: number) => ({
  code, name: code, status, budget: 100, spent: 0, startsOn: "2021-01-01", endsOn: "2021-03-31",
  results: { applications: 0, approvals: 0, newCustomers, activations: 0, redemptions: 0, spentSoFar: 0, budgetUsed: 0 },
});

function answers(campaignStatuses: string[], withParent = true): UnitAnswers {
  const unit: UnitData = {
    branch: { code: "C", name: "C", level: "CITY", parent: withParent ? { code: "P", name: "P", parent: null } : null, performance: performance(5) },
    children: [standing("C-01", 1, 3), standing("C-02", 2, 2)],
    childrenBefore: [standing("C-01", 1, 3)],
  };
  const details: DetailsData = {
    peers: withParent ? [standing("C", 1, 5)] : null,
    peersBefore: withParent ? [standing("C", 1, 5)] : null,
    managers: null,
    campaigns: { totalCount: campaignStatuses.length, edges: campaignStatuses.map((s, i) => ({ node: campaign(`K${i}`, s, i) })) },
    businessCircles: null,
  };
  return { unit, details };
}
const q = { period: "2021-Q1", asOf: "2021-02-28", previous: "2021-02-27", metric: "NEW_CUSTOMERS" };

describe("what a unit's screen follows live", () => {
  it("its figures, the children's and peers' standings on the date and the day before, its campaigns", () => {
    const follows = liveFollows(answers(["ENDED", "ACTIVE"]), q);
    expect(follows.map((f) => [f.key, f.document, f.variables])).toEqual([
      ["figures", "DashboardFiguresLive", { code: "C", ...{ period: q.period, asOf: q.asOf, metric: q.metric } }],
      ["children", "DashboardRankingLive", { parent: "C", period: q.period, asOf: q.asOf, metric: q.metric }],
      ["childrenBefore", "DashboardRankingLive", { parent: "C", period: q.period, asOf: q.previous, metric: q.metric }],
      ["peers", "DashboardRankingLive", { parent: "P", period: q.period, asOf: q.asOf, metric: q.metric }],
      ["peersBefore", "DashboardRankingLive", { parent: "P", period: q.period, asOf: q.previous, metric: q.metric }],
      // Running ones first.
      ["campaign:K1", "DashboardCampaignLive", { code: "K1", period: q.period, asOf: q.asOf }],
      ["campaign:K0", "DashboardCampaignLive", { code: "K0", period: q.period, asOf: q.asOf }],
    ]);
  });

  it("a bounded number of subscriptions, whatever the number of campaigns; nothing the API refused", () => {
    const many = liveFollows(answers(Array.from({ length: 50 }, () => "ACTIVE")), q);
    expect(many.filter((f) => f.document === "DashboardCampaignLive")).toHaveLength(LIVE_CAMPAIGNS);
    const top = answers([], false);
    const refused = { ...top, unit: { ...top.unit, children: null }, details: null };
    expect(liveFollows(refused, q).map((f) => f.key)).toEqual(["figures"]);
  });

  it("an event replaces its own part of the answers and nothing else", () => {
    const before = answers(["ACTIVE", "ACTIVE"]);
    const [figures, children, , peers, , campaignK1] = liveFollows(before, { ...q }).filter((f) => f.key !== "campaign:K0");
    let now = figures.apply(before, { figuresChanged: performance(6) });
    now = children.apply(now, { rankingChanged: [standing("C-02", 1, 4), standing("C-01", 2, 3)] });
    now = peers.apply(now, { rankingChanged: [standing("C", 1, 6)] });
    now = campaignK1.apply(now, { campaignChanged: campaign("K1", "PAUSED", 7) });
    expect(now.unit.branch!.performance.metrics[0].actual).toBe(6);
    expect(now.unit.children!.map((s) => s.branch.code)).toEqual(["C-02", "C-01"]);
    expect(now.unit.childrenBefore).toBe(before.unit.childrenBefore);
    expect(now.details!.peers![0].actual).toBe(6);
    expect(now.details!.campaigns!.edges.map((e) => [e.node.code, e.node.status, e.node.results.newCustomers])).toEqual([["K0", "ACTIVE", 0], ["K1", "PAUSED", 7]]);
    // The answers the screen was built from are left as they were.
    expect(before.unit.branch!.performance.metrics[0].actual).toBe(5);
  });
});

describe("the dashboard's sign-in configuration", () => {
  const oidc = { OIDC_ISSUER: "https://sso.bank.example", OIDC_CLIENT_ID: "dashboard", JWKS_URL: "https://sso.bank.example/jwks" };
  it("an OpenID Connect provider needs its client id and its keys, and https in production", () => {
    expect(loadConfig(oidc).OIDC_SCOPE).toBe("openid");
    expect(() => loadConfig({ OIDC_ISSUER: oidc.OIDC_ISSUER })).toThrow(/OIDC_CLIENT_ID, JWKS_URL: required with OIDC_ISSUER/);
    expect(() => loadConfig({ ...oidc, NODE_ENV: "production", OIDC_ISSUER: "http://sso.bank.example" })).toThrow(/OIDC_ISSUER: must be https in production/);
    expect(loadConfig({ ...oidc, NODE_ENV: "production" }).devTokens).toBe(false);
  });
});
