/**
 * Hardening, through real HTTP: tokens, document limits, body size, pagination, rate limits
 * (in memory and shared through Redis), CSRF prevention, introspection, trusted documents and
 * fuzzed input that must never produce a 500 or an unmasked error.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType, type GraphQLInputType } from "graphql";
import { getMetadataStorage } from "type-graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createSchema } from "../../src/graphql/schema.js";
import { documentHash, TRUSTED_DOCUMENTS } from "../../src/graphql/trusted-documents.js";
import { CALLERS, twoCities, twoCityMerchants } from "../fixtures/access.js";
import { seed, write } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, TEST_JWT_SECRET, type As, type GqlResponse, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await seed(api, twoCities);
});
afterAll(() => api?.close());

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const RANKING = `{ branchRanking(parentCode: "P", period: "2021-Q1", metric: APPLICATIONS) { rank } }`;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<GqlResponse & { headers: Headers }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: object = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, headers: res.headers, ...json };
}

async function sign(claims: Record<string, unknown>, { secret = TEST_JWT_SECRET, expiresIn = 600, alg = "HS256", issuedAt = true } = {}) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg }).setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn);
  if (issuedAt) jwt.setIssuedAt();
  return jwt.sign(new TextEncoder().encode(secret));
}

describe("tokens", () => {
  it.each([
    ["expired", async () => sign({ sub: "a", role: "HQ" }, { expiresIn: -60 }), /expired/],
    ["signed with another key", async () => sign({ sub: "a", role: "HQ" }, { secret: "another-secret-another-secret-123456" }), /signature/],
    ["malformed", async () => "not.a.token", /malformed/],
    ["unsigned (alg none)", async () => `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"a","role":"HQ"}').toString("base64url")}.`, /malformed|signature/],
    ["of an unknown role", async () => sign({ sub: "a", role: "ROOT" }), /role/],
    ["of a scoped role without a unit", async () => sign({ sub: "a", role: "BRANCH_MANAGER" }), /unit/],
    ["without a subject", async () => sign({ role: "HQ" }), /sub/],
    ["living until the year 9999", async () => sign({ sub: "a", role: "HQ" }, { expiresIn: 253_402_300_799 - Math.floor(Date.now() / 1000), issuedAt: false }), /at most 12 h/],
    ["living 13 hours", async () => sign({ sub: "a", role: "HQ" }, { expiresIn: 13 * 3600 }), /at most 12 h/],
    ["of a branch manager whose unit does not exist", async () => sign({ sub: "a", role: "BRANCH_MANAGER", unit: "NOPE" }), /unit claim names no unit/],
    ["of an account manager whose sub is a manager of another unit", async () => sign({ sub: "M13", role: "ACCOUNT_MANAGER", unit: "S1" }), /no account manager of unit "S1"/],
    ["of an account manager whose sub is no manager at all", async () => sign({ sub: "bm-s1", role: "ACCOUNT_MANAGER", unit: "S1" }), /no account manager/],
  ])("a token %s is refused with 401 UNAUTHENTICATED", async (_, make, reason) => {
    const res = await post(api.server.url, { query: RANKING }, { authorization: `Bearer ${await make()}` });
    expect(res.status).toBe(401);
    expect(codeOf(res)).toBe("UNAUTHENTICATED");
    expect(res.errors![0].message).toMatch(reason);
  });

  it("an Authorization header that is not a bearer token is refused", async () => {
    const res = await post(api.server.url, { query: RANKING }, { authorization: "Basic YTpi" });
    expect([res.status, codeOf(res)]).toEqual([401, "UNAUTHENTICATED"]);
  });

  it("with JWKS_URL: tokens signed by the identity provider's key are accepted, others refused", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "idp-1", alg: "RS256", use: "sig" };
    const idp = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
    const jwks = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
    const withIdp = await startTestApi({ JWT_SECRET: "", JWKS_URL: jwks, JWT_ISSUER: "https://idp.bank.example", JWT_AUDIENCE: "card-growth" }, { reset: false });
    try {
      const token = (iss: string) =>
        new SignJWT({ role: "HQ" }).setProtectedHeader({ alg: "RS256", kid: "idp-1" }).setSubject("hq-1").setIssuer(iss).setAudience("card-growth")
          .setExpirationTime("5m").sign(privateKey);
      const ok = await post(withIdp.server.url, { query: RANKING }, { authorization: `Bearer ${await token("https://idp.bank.example")}` });
      expect(ok.errors).toBeUndefined();
      const wrongIssuer = await post(withIdp.server.url, { query: RANKING }, { authorization: `Bearer ${await token("https://evil.example")}` });
      expect([wrongIssuer.status, codeOf(wrongIssuer)]).toEqual([401, "UNAUTHENTICATED"]);
      const hs256 = await post(withIdp.server.url, { query: RANKING }, { authorization: `Bearer ${await sign({ sub: "a", role: "HQ" })}` });
      expect([hs256.status, codeOf(hs256)]).toEqual([401, "UNAUTHENTICATED"]);
    } finally {
      await withIdp.close();
      idp.close();
    }
  });

  it("a token accepted once is refused once it expires (verified tokens are remembered only until their exp)", async () => {
    const token = await sign({ sub: "short-lived", role: "HQ" }, { expiresIn: 2 });
    expect((await post(api.server.url, { query: RANKING }, { authorization: `Bearer ${token}` })).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 2_100));
    const late = await post(api.server.url, { query: RANKING }, { authorization: `Bearer ${token}` });
    expect([late.status, codeOf(late)]).toEqual([401, "UNAUTHENTICATED"]);
    expect(late.errors![0].message).toMatch(/expired/);
  });

  it("a valid token is accepted", async () => {
    const res = await post(api.server.url, { query: RANKING }, { authorization: `Bearer ${await sign({ sub: "a", role: "HQ" })}` });
    expect(res.errors).toBeUndefined();
    expect(res.data.branchRanking).toHaveLength(2);
  });

  it("a token living exactly JWT_MAX_TTL_HOURS, and an account manager's naming a manager of their unit, are accepted", async () => {
    const twelveHours = await sign({ sub: "a", role: "HQ" }, { expiresIn: 12 * 3600 });
    expect((await post(api.server.url, { query: RANKING }, { authorization: `Bearer ${twelveHours}` })).errors).toBeUndefined();
    const am = await sign({ sub: "M11", role: "ACCOUNT_MANAGER", unit: "S1" });
    const res = await post(api.server.url, { query: `{ accountManager(code: "M11") { name } }` }, { authorization: `Bearer ${am}` });
    expect(res.errors).toBeUndefined();
    expect(res.data.accountManager.name).toBe("Li Na");
  });
});

describe("document limits", () => {
  const nest = (depth: number) => `{ branch(code: "P") ${"{ parent ".repeat(depth - 2)}{ code }${" }".repeat(depth - 2)} }`;
  it.each([
    ["depth 8", nest(8), "QUERY_TOO_DEEP"],
    ["16 aliases", `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: branch(code: "P") { code }`).join(" ")} }`, "TOO_MANY_ALIASES"],
    ["51 directives", `{ branch(code: "P") { code ${"@include(if: true) ".repeat(51)} } }`, "TOO_MANY_DIRECTIVES"],
    ["1,001 tokens", `{ branch(code: "P") { ${"code ".repeat(1_000)} } }`, "TOO_MANY_TOKENS"],
    [
      "cost above 10,000",
      `{ branches(first: 100) { edges { node { children { children { performance(period: "2021-Q1") { metrics { actual target completionRate } } } } } } } }`,
      "QUERY_TOO_COSTLY",
    ],
  ])("%s is refused before execution with its own code", async (_, query, code) => {
    const statements = await api.countStatements(async () => {
      const res = await api.as(CALLERS.HQ).gql(query);
      expect(res.status).toBe(400);
      expect(res.errors!.map((e) => e.extensions?.code)).toContain(code);
      expect(res.data).toBeUndefined();
    });
    expect(statements).toBe(0);
  });

  it("depth 7, 15 aliases and a 1,000-token document are accepted", async () => {
    for (const query of [nest(7), `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: branch(code: "P") { code }`).join(" ")} }`]) {
      expect((await api.as(CALLERS.HQ).gql(query)).errors).toBeUndefined();
    }
  });

  it("does not suggest field names", async () => {
    const res = await api.as(CALLERS.HQ).gql(`{ branch(code: "P") { nme } }`);
    expect(codeOf(res)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(res.errors![0].message).not.toMatch(/Did you mean/);
  });

  it("pages are at most 100 long, manager rankings at most 1,000", async () => {
    const res = await api.as(CALLERS.HQ).gql(`{ branches(first: 101) { totalCount } }`);
    expect(codeOf(res)).toBe("BAD_USER_INPUT");
    expect(res.errors![0].message).toMatch(/first/);
    const ranking = (first: number) => api.as(CALLERS.HQ).gql(`{ accountManagerRanking(branchCode: "P", period: "2021-Q1", metric: APPLICATIONS, first: ${first}) { rank } }`);
    expect(codeOf(await ranking(1001))).toBe("BAD_USER_INPUT");
    expect((await ranking(2)).data.accountManagerRanking).toEqual([{ rank: 1 }, { rank: 2 }]);
  });
});

describe("request bodies", () => {
  it("a body above BODY_LIMIT_BYTES is refused with 413 PAYLOAD_TOO_LARGE", async () => {
    const res = await post(api.server.url, { query: RANKING, variables: { pad: "x".repeat(api.config.BODY_LIMIT_BYTES) } }, { authorization: `Bearer ${await api.token({ role: "HQ" })}` });
    expect([res.status, codeOf(res)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  });

  it("anonymous callers, and trusted documents whoever sends them, get ANONYMOUS_BODY_LIMIT_BYTES (16 KB)", async () => {
    const pad = "x".repeat(20_000);
    const anonymous = await post(api.server.url, { query: "{ __typename }", variables: { pad } });
    expect([anonymous.status, codeOf(anonymous)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    expect(anonymous.errors![0].message).toContain("16384");
    const hq = { authorization: `Bearer ${await api.token({ role: "HQ" })}` };
    expect((await post(api.server.url, { query: "{ __typename }", variables: { pad } }, hq)).status).toBe(200);
    const trusted = await post(api.server.url, { documentId: `sha256:${documentHash(TRUSTED_DOCUMENTS[0])}`, variables: { latitude: 31.2, longitude: 121.4, pad } }, hq);
    expect([trusted.status, codeOf(trusted)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
  });

  it("a 1.9 MB body of nested arrays is refused on its raw bytes, before it is parsed", async () => {
    const nested = `{"query":"{ __typename }","variables":{"x":${"[".repeat(950_000)}${"]".repeat(950_000)}}}`;
    expect(nested.length).toBeGreaterThan(1_900_000);
    const signedIn = await post(api.server.url, nested, { authorization: `Bearer ${await api.token({ role: "HQ" })}` });
    expect([signedIn.status, codeOf(signedIn)]).toEqual([400, "JSON_TOO_DEEP"]);
    expect(signedIn.errors![0].message).toMatch(/deeper than 64 levels/);
    const anonymous = await post(api.server.url, nested);
    expect([anonymous.status, codeOf(anonymous)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
    // 64 levels are fine, and brackets inside strings do not count.
    const fine = `{"query":"{ __typename }","variables":{"x":${"[".repeat(62)}"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["${"]".repeat(62)}}}`;
    const ok = await post(api.server.url, fine);
    expect([ok.status, ok.errors]).toEqual([200, undefined]);
  });

  it("a body that is not JSON is refused with 400", async () => {
    const res = await post(api.server.url, "{ not json");
    expect([res.status, codeOf(res)]).toEqual([400, "BAD_REQUEST"]);
  });

  it("batched requests are refused", async () => {
    const res = await post(api.server.url, [{ query: "{ __typename }" }, { query: "{ __typename }" }]);
    expect(res.status).toBe(400);
  });
});

describe("CSRF prevention", () => {
  it("refuses a GET without a preflight header and a POST a browser form could send", async () => {
    const get = await fetch(`${api.server.url}?query=${encodeURIComponent("{ __typename }")}`);
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/CSRF/i);
    const form = await fetch(api.server.url, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(form.status).toBe(400);
  });

  it("accepts a GET with the apollo-require-preflight header", async () => {
    const get = await fetch(`${api.server.url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { "apollo-require-preflight": "true" } });
    expect(get.status).toBe(200);
  });
});

describe("rate limits", () => {
  it("in memory: a subject over its budget gets 429 RATE_LIMITED with Retry-After; another subject is not affected", async () => {
    const limited = await startTestApi({ RATE_LIMIT_PER_MINUTE: "3", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "2" }, { reset: false });
    try {
      const alice = await limited.token({ role: "HQ", sub: "alice" });
      const bob = await limited.token({ role: "HQ", sub: "bob" });
      const send = (token?: string) => post(limited.server.url, { query: "{ __typename }" }, token ? { authorization: `Bearer ${token}` } : {});
      for (let i = 0; i < 3; i++) expect((await send(alice)).status).toBe(200);
      const refused = await send(alice);
      expect([refused.status, codeOf(refused)]).toEqual([429, "RATE_LIMITED"]);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await send(bob)).status).toBe(200);
      // Anonymous callers are counted per address, with their own budget.
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(200);
      expect(codeOf(await send())).toBe("RATE_LIMITED");
    } finally {
      await limited.close();
    }
  });

  it("X-Forwarded-For is not believed from an unconfigured proxy: spoofed addresses count against the real one", async () => {
    const limited = await startTestApi({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3" }, { reset: false });
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await post(limited.server.url, { query: "{ __typename }" }, { "x-forwarded-for": `203.0.113.${i}` })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it("with TRUSTED_PROXIES, the proxy's X-Forwarded-For names the client", async () => {
    const limited = await startTestApi({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "2", TRUSTED_PROXIES: "127.0.0.1/32, ::1" }, { reset: false });
    try {
      const from = async (address: string) => (await post(limited.server.url, { query: "{ __typename }" }, { "x-forwarded-for": address })).status;
      expect([await from("198.51.100.7"), await from("198.51.100.7"), await from("198.51.100.7"), await from("198.51.100.8")]).toEqual([200, 200, 429, 200]);
    } finally {
      await limited.close();
    }
  });

  it("TRUSTED_PROXIES must hold addresses or ranges", () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, everyone" })).toThrow(/TRUSTED_PROXIES/);
    expect(loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, loopback" }).TRUSTED_PROXIES).toEqual(["10.0.0.0/8", "loopback"]);
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
  });

  it("forged tokens are counted against the address: a flood of them is rate-limited", async () => {
    const limited = await startTestApi({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3" }, { reset: false });
    try {
      const forged = await sign({ sub: "a", role: "HQ" }, { secret: "another-secret-another-secret-123456" });
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push(codeOf(await post(limited.server.url, { query: "{ __typename }" }, { authorization: `Bearer ${forged}` })));
      expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED", "RATE_LIMITED"]);
      // The subject the forged token names keeps its own budget.
      expect((await post(limited.server.url, { query: "{ __typename }" }, { authorization: `Bearer ${await limited.token({ role: "HQ", sub: "a" })}` })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it("every request is counted before its body is read: bodies that fail to parse count too", async () => {
    const limited = await startTestApi({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: "2" }, { reset: false });
    try {
      expect((await post(limited.server.url, "{ not json")).status).toBe(400);
      expect((await post(limited.server.url, `{"query":"{ __typename }","variables":{"x":${"[".repeat(100)}${"]".repeat(100)}}}`)).status).toBe(400);
      const third = await post(limited.server.url, { query: "{ __typename }" });
      expect([third.status, codeOf(third)]).toEqual([429, "RATE_LIMITED"]);
    } finally {
      await limited.close();
    }
  });

  it("with REDIS_URL: two API instances share one budget", async () => {
    const env = { RATE_LIMIT_PER_MINUTE: "3", REDIS_URL };
    const [a, b] = [await startTestApi(env, { reset: false }), await startTestApi(env, { reset: false })];
    try {
      const token = await a.token({ role: "HQ", sub: `shared-${randomUUID()}` });
      const send = (server: TestApi) => post(server.server.url, { query: "{ __typename }" }, { authorization: `Bearer ${token}` });
      expect((await send(a)).status).toBe(200);
      expect((await send(b)).status).toBe(200);
      expect((await send(a)).status).toBe(200);
      const refused = await send(b);
      expect([refused.status, codeOf(refused)]).toEqual([429, "RATE_LIMITED"]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("with REDIS_URL: once a budget is spent, each instance refuses from memory, sending Redis nothing more", async () => {
    const env = { RATE_LIMIT_PER_MINUTE: "3", REDIS_URL };
    const [a, b] = [await startTestApi(env, { reset: false }), await startTestApi(env, { reset: false })];
    const redis = new Redis(REDIS_URL);
    try {
      const sub = `flood-${randomUUID()}`;
      const token = await a.token({ role: "HQ", sub });
      const send = (server: TestApi) => post(server.server.url, { query: "{ __typename }" }, { authorization: `Bearer ${token}` });
      const counted = async () => Number(await redis.get(`cardgrowth:rl:subject:HQ:${sub}`));
      expect([(await send(a)).status, (await send(a)).status, (await send(a)).status]).toEqual([200, 200, 200]);
      expect(await counted()).toBe(3);
      // b has not seen the spent budget yet: it asks Redis once, and is told.
      expect(codeOf(await send(b))).toBe("RATE_LIMITED");
      expect(await counted()).toBe(4);
      for (const server of [a, a, b, b, a, b]) {
        const refused = await send(server);
        expect([refused.status, codeOf(refused)]).toEqual([429, "RATE_LIMITED"]);
        expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      }
      expect(await counted()).toBe(4);
    } finally {
      redis.disconnect();
      await a.close();
      await b.close();
    }
  });
});

describe("redemptions: only the acquiring platform reports a use", () => {
  const REDEEM = "mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { transactionId cost } }";
  let n = 0;
  const use = (over: Record<string, unknown> = {}) => ({ transactionId: `tx-sec-${++n}`, promotionCode: "SEC-CB", merchantCode: "ME1", cardToken: "tok_security_card_01", spend: 50, ...over });

  beforeAll(async () => {
    // A campaign running now (redemptions are judged at the server's clock), at ME1.
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    await write(api, "merchants", twoCityMerchants);
    const marketing = api.as(CALLERS.MARKETING);
    const steps = [
      ["mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }", { idempotencyKey: "sec-camp", code: "SEC", name: "Security", branchCode: "C1", startsOn: day(-2), endsOn: day(30), budget: 100, merchantCodes: ["ME1"] }],
      ["mutation($in: CreatePromotionInput!) { createPromotion(input: $in) { code } }", { idempotencyKey: "sec-promo", code: "SEC-CB", campaignCode: "SEC", title: "Cashback", rule: { kind: "CASHBACK", cashback: 5 }, validFrom: day(-2), validTo: day(30) }],
      ["mutation($in: TransitionCampaignInput!) { transitionCampaign(input: $in) { status } }", { idempotencyKey: "sec-move-1", code: "SEC", to: "SCHEDULED" }],
      ["mutation($in: TransitionCampaignInput!) { transitionCampaign(input: $in) { status } }", { idempotencyKey: "sec-move-2", code: "SEC", to: "ACTIVE" }],
    ] as const;
    for (const [query, input] of steps) expect((await marketing.gql(query, { in: input })).errors).toBeUndefined();
  });

  it.each([
    ["an anonymous caller", "ANONYMOUS", "UNAUTHENTICATED"],
    ["HQ", CALLERS.HQ, "FORBIDDEN"],
    ["INGEST", CALLERS.INGEST, "FORBIDDEN"],
    ["MARKETING", CALLERS.MARKETING, "FORBIDDEN"],
  ] as [string, As, string][])("%s cannot report a use, and the budget is untouched", async (_, who, code) => {
    expect(codeOf(await api.as(who).gql(REDEEM, { in: use() }))).toBe(code);
    expect(await api.database.prisma.redemption.count()).toBe(0);
  });

  it("the acquiring platform's use is recorded and costs the campaign", async () => {
    const res = await api.as(CALLERS.ACQUIRER).gql(REDEEM, { in: use({ transactionId: "tx-sec-acquirer" }) });
    expect(res.errors).toBeUndefined();
    expect(res.data.redeemPromotion).toEqual({ transactionId: "tx-sec-acquirer", cost: 5 });
    expect((await api.as(CALLERS.MARKETING).gql(`{ campaign(code: "SEC") { spent remaining } }`)).data.campaign).toEqual({ spent: 5, remaining: 95 });
  });

  it.each(["tok_short", "6222020200112233445", "tok card with spaces!!", "x".repeat(65)])("a card token %j is refused by name, in a use and in the mobile query", async (cardToken) => {
    const redeemed = await api.as(CALLERS.ACQUIRER).gql(REDEEM, { in: use({ cardToken }) });
    expect(codeOf(redeemed)).toBe("BAD_USER_INPUT");
    expect(redeemed.errors![0].extensions!.issues!.map((i) => i.field)).toEqual(["cardToken"]);
    const near = await api.as("ANONYMOUS").gql(`query($c: String) { promotionsNear(latitude: 31.23, longitude: 121.47, cardToken: $c) { totalCount } }`, { c: cardToken });
    expect(codeOf(near)).toBe("BAD_USER_INPUT");
    expect(near.errors![0].extensions!.issues!.map((i) => i.field)).toEqual(["cardToken"]);
  });

  it("the app's trusted documents hold no write", () => {
    expect(TRUSTED_DOCUMENTS.filter((d) => /^\s*mutation/.test(d))).toEqual([]);
  });
});

describe("bad input is always a clear error", () => {
  const NUL = "a\u0000b";
  const LONE = "a\ud800b";
  const branchRow = (name: string) => ({ code: "ZX", name, level: "CITY", parentCode: "P" });
  const CASES: [string, As, string, Record<string, unknown>, string][] = [
    ["a unit code", CALLERS.HQ, "query($s: String!) { branch(code: $s) { code } }", { s: NUL }, "code"],
    ["a unit search", CALLERS.HQ, "query($s: String) { branches(search: $s) { totalCount } }", { s: LONE }, "search"],
    ["a merchant search", CALLERS.MARKETING, "query($s: String) { merchants(search: $s) { totalCount } }", { s: NUL }, "search"],
    ["a ranking's parent", CALLERS.HQ, `query($s: String!) { branchRanking(parentCode: $s, period: "2021-Q1", metric: APPLICATIONS) { rank } }`, { s: LONE }, "parentCode"],
    ["a manager code", CALLERS.HQ, "query($s: String!) { accountManager(code: $s) { name } }", { s: NUL }, "code"],
    ["a unit's name in a batch", CALLERS.INGEST, "mutation($in: [BranchInput!]!) { upsertBranches(input: $in) { created } }", { in: [branchRow("ok"), branchRow(NUL)] }, "input[1].name"],
    ["an application's customer", CALLERS.INGEST, "mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }", { in: [{ externalId: "NUL-1", customerId: LONE, branchCode: "S1", channel: "ONLINE", receivedOn: "2021-01-12" }] }, "input[0].customerId"],
    ["a campaign's name", CALLERS.MARKETING, "mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }", { in: { idempotencyKey: "nul-campaign", code: "NULC", name: NUL, branchCode: "C1", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 1 } }, "input.name"],
    ["a visit's note", CALLERS.INGEST, "mutation($in: [VisitInput!]!) { recordVisits(input: $in) { created } }", { in: [{ managerCode: "M11", merchantCode: "ME1", visitedOn: "2021-01-20", outcome: "FOLLOW_UP", note: LONE }] }, "input[0].note"],
    ["an audit filter", CALLERS.HQ, "query($s: String) { auditTrail(subject: $s, first: 5) { totalCount } }", { s: NUL }, "subject"],
    ["a literal in the document", CALLERS.HQ, `{ branch(code: "a\\u0000b") { code } }`, {}, "code"],
  ];

  it.each(CASES)("a NUL or lone surrogate in %s is BAD_USER_INPUT naming the field", async (_, who, query, variables, field) => {
    const before = await api.database.prisma.branch.count();
    const res = await api.as(who).gql(query, variables);
    expect([res.status, codeOf(res)]).toEqual([400, "BAD_USER_INPUT"]);
    expect(res.errors![0].extensions!.issues!.map((i) => i.field)).toEqual([field]);
    expect(res.errors![0].message).toMatch(/NUL|surrogate/);
    expect(await api.database.prisma.branch.count()).toBe(before);
  });

  it("a well-formed surrogate pair (an emoji) is text like any other", async () => {
    const res = await api.as(CALLERS.HQ).gql("query($s: String) { branches(search: $s) { totalCount } }", { s: "😀" });
    expect(res.errors).toBeUndefined();
  });

  it.each([
    ["an operationName the document does not hold", { query: "query A { __typename }", operationName: "B" }, /Unknown operation named "B"/],
    ["no operationName for a document with two operations", { query: "query A { __typename } query B { __typename }" }, /Must provide operation name/],
  ])("%s is a 400", async (_, body, message) => {
    const res = await post(api.server.url, body, { authorization: `Bearer ${await api.token({ role: "HQ" })}` });
    expect([res.status, codeOf(res)]).toEqual([400, "OPERATION_RESOLUTION_FAILURE"]);
    expect(res.errors![0].message).toMatch(message);
  });
});

describe("production settings", () => {
  let prod: TestApi;
  beforeAll(async () => {
    prod = await startTestApi({ NODE_ENV: "production" }, { reset: false });
  });
  afterAll(() => prod?.close());

  it.each([
    ["an enum value", `{ branchRanking(parentCode: "P", period: "2021-Q1", metric: APPLICATION) { rank } }`, undefined],
    ["an enum value in a variable", `query($m: Metric!) { branchRanking(parentCode: "P", period: "2021-Q1", metric: $m) { rank } }`, { m: "APPLICATION" }],
    ["a field", `{ branch(code: "P") { nme } }`, undefined],
    ["an argument", `{ branch(cod: "P") { name } }`, undefined],
    ["a type", `query($m: Metrc!) { branchRanking(parentCode: "P", period: "2021-Q1", metric: $m) { rank } }`, { m: "APPLICATIONS" }],
    ["an input field", `mutation { upsertBranches(input: [{ code: "X", nme: "X", level: CITY }]) { created } }`, undefined],
  ])("no suggestion for a misspelt %s", async (_, query, variables) => {
    const res = await post(prod.server.url, { query, variables }, { authorization: `Bearer ${await prod.token({ role: "HQ" })}` });
    expect(res.status).toBe(400);
    expect(res.errors!.length).toBeGreaterThan(0);
    for (const e of res.errors!) expect(e.message).not.toMatch(/did you mean/i);
  });

  it("no introspection", async () => {
    const res = await post(prod.server.url, { query: "{ __schema { types { name } } }" }, { authorization: `Bearer ${await prod.token({ role: "HQ" })}` });
    expect(codeOf(res)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(res.data ?? null)).not.toMatch(/Branch/);
  });

  it("anonymous callers may send only trusted documents, by hash", async () => {
    const [near] = TRUSTED_DOCUMENTS;
    const freeText = await post(prod.server.url, { query: near, variables: { latitude: 31.2, longitude: 121.4 } });
    expect([freeText.status, codeOf(freeText)]).toEqual([400, "TRUSTED_DOCUMENT_REQUIRED"]);
    const byId = await post(prod.server.url, { documentId: `sha256:${documentHash(near)}`, variables: { latitude: 31.2, longitude: 121.4 } });
    expect(byId.errors).toBeUndefined();
    expect(byId.data.promotionsNear.totalCount).toBe(0);
    const apq = await post(prod.server.url, { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(near) } }, variables: { latitude: 31.2, longitude: 121.4 } });
    expect(apq.errors).toBeUndefined();
    const unknown = await post(prod.server.url, { documentId: `sha256:${"0".repeat(64)}` });
    expect(codeOf(unknown)).toBe("PERSISTED_QUERY_NOT_FOUND");
  });

  it("signed-in tools may still send their own documents", async () => {
    const res = await post(prod.server.url, { query: RANKING }, { authorization: `Bearer ${await prod.token({ role: "HQ" })}` });
    expect(res.errors).toBeUndefined();
  });

  it("refuses to start without a signing key, while the command-line tools (which verify no tokens) still run", async () => {
    await expect(startTestApi({ NODE_ENV: "production", JWT_SECRET: "" }, { reset: false })).rejects.toThrow(/JWT_SECRET/);
    const cli = loadConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://db.internal/cardgrowth" });
    expect([cli.devTokens, cli.JWT_SECRET]).toEqual([false, undefined]);
  });
});

describe("fuzzed input never produces a 500 or an unmasked error", () => {
  // A small deterministic generator, so a failure can be replayed.
  let seedValue = 20261126;
  const rand = () => ((seedValue = (seedValue * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const STRINGS = ["", " ", "P", "'; DROP TABLE branch; --", "\u0000", "😀".repeat(50), "ñ\u200b\uFEFF", "x".repeat(5_000), "2021-Q5", "2021-02-30", "9999-W99", "%", "\\", "null", "../../etc/passwd", "<script>alert(1)</script>"];
  const NUMBERS = [0, -1, 1e308, -1e308, 2 ** 31, 2 ** 53 + 1, 0.1, 91, -181, 1e-300];
  const randomString = () => (rand() < 0.5 ? pick(STRINGS) : Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCodePoint(Math.floor(rand() * 0x2ffff))).join(""));
  const randomNumber = () => pick(NUMBERS);
  const CASES: [string, () => Record<string, unknown>, string][] = [
    ["HQ", () => ({ s: randomString() }), `query($s: String!) { branch(code: $s) { code } merchants(search: $s, first: 5) { totalCount } }`],
    ["HQ", () => ({ p: randomString(), d: randomString(), s: randomString() }), `query($p: Period!, $d: Date, $s: String!) { branchRanking(parentCode: $s, period: $p, metric: APPLICATIONS, asOf: $d) { rank } }`],
    ["ANONYMOUS", () => ({ a: randomNumber(), b: randomNumber(), r: randomNumber(), c: randomString(), f: randomNumber() }), `query($a: Float!, $b: Float!, $r: Int!, $c: String, $f: Int) { promotionsNear(latitude: $a, longitude: $b, radiusMeters: $r, cardToken: $c, first: $f) { totalCount } }`],
    ["INGEST", () => ({ in: [{ externalId: randomString(), customerId: randomString(), branchCode: randomString(), channel: "ONLINE", receivedOn: randomString(), keyedOn: randomString() }] }), `mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }`],
    ["MARKETING", () => ({ in: { idempotencyKey: randomString(), code: randomString(), name: randomString(), branchCode: randomString(), startsOn: randomString(), endsOn: "2021-03-31", budget: randomNumber() } }), `mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { code } }`],
    ["ACQUIRER", () => ({ in: { transactionId: randomString(), promotionCode: randomString(), merchantCode: randomString(), cardToken: randomString(), spend: randomNumber() } }), `mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { cost } }`],
    ["HQ", () => ({ f: randomString(), n: randomNumber(), a: randomString() }), `query($f: DateTime, $n: Int!, $a: String) { auditTrail(from: $f, first: $n, after: $a) { totalCount } }`],
  ];

  it("300 random requests over queries and mutations", async () => {
    const tokens = { HQ: await api.token({ role: "HQ" }), INGEST: await api.token({ role: "INGEST" }), MARKETING: await api.token({ role: "MARKETING" }), ACQUIRER: await api.token({ role: "ACQUIRER" }) } as Record<string, string>;
    for (let i = 0; i < 300; i++) {
      const [who, vars, query] = CASES[i % CASES.length];
      const variables = vars();
      const res = await post(api.server.url, { query, variables }, who === "ANONYMOUS" ? {} : { authorization: `Bearer ${tokens[who]}` });
      const context = JSON.stringify({ query: query.slice(0, 60), variables }).slice(0, 300);
      expect(res.status, context).toBeLessThan(500);
      for (const e of res.errors ?? []) {
        expect(e.extensions?.code, `${context} → ${e.message}`).not.toBe("INTERNAL_SERVER_ERROR");
        expect(e.message, context).not.toMatch(/prisma|postgres|SELECT |INSERT |violates|invalid input syntax|\bat .*\.(ts|js):\d+/i);
      }
    }
  });

  it("every mutation, with arguments drawn from its own input types, answers without a 5xx or an internal error", async () => {
    const schema = await createSchema();
    // Each mutation is sent as a role it allows (from its @Allow), so the input reaches the service.
    const allowed = new Map(getMetadataStorage().authorizedFields.flatMap((a) => ((a.roles[0] as { roles?: string[] })?.roles ? [[a.fieldName, (a.roles[0] as { roles: string[] }).roles]] : [])));
    const callerFor = (field: string): As => {
      const role = ["INGEST", "MARKETING", "ACQUIRER", "ACCOUNT_MANAGER", "BRANCH_MANAGER", "HQ"].find((r) => allowed.get(field)?.includes(r))!;
      return role === "ACCOUNT_MANAGER" ? CALLERS.AM_M11 : role === "BRANCH_MANAGER" ? CALLERS.BM_C1 : ({ role } as As);
    };
    const nearlyValid = ["S1", "C1", "P", "ME1", "M11", "K1", "SEC", "SEC-CB", "tok_fuzz_card_000001", "2021-01-11", "2021-Q1"];
    const SCALARS: Record<string, () => unknown> = {
      String: () => (rand() < 0.3 ? pick(nearlyValid) : randomString()),
      ID: () => randomString(),
      Int: () => pick([0, -1, 1, 7, 100, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, 1e308, 0.5, "12", true]),
      Float: () => pick([0, -1, 0.01, 12.345, 1e-300, 1e308, -1e308, 2 ** 53 + 1, 91, -181, "3.5", false]),
      Boolean: () => pick([true, false, "true", 0]),
      Date: () => pick(["2021-01-11", "2021-02-29", "2021-02-30", "2020-02-29", "0000-01-01", "9999-12-31", "2021-13-01", "21-1-1", "", randomString()]),
      Period: () => pick(["2021-Q1", "2021-Q5", "2021-02", "2021-13", "2021-W53", "2020-W53", "9999-W99", "", randomString()]),
      DateTime: () => pick([new Date().toISOString(), "2021-01-09T02:00:00Z", "9999-12-31T23:59:59Z", "-271821-04-20T00:00:00Z", "2021-02-30T00:00:00Z", "now", randomString()]),
    };
    // Half the requests are "tame": well-typed values, mostly plausible, one poisoned string
    // now and then, so that they get past coercion and into the services' own checks and SQL.
    const TAME: Record<string, () => unknown> = {
      String: () => (rand() < 0.1 ? pick(["a\u0000b", "a\udc00", "x".repeat(5_000), "'; --"]) : rand() < 0.7 ? pick(nearlyValid) : `fz-${Math.floor(rand() * 1e6)}`),
      Int: () => pick([1, 2, 7, 100, 0]),
      Float: () => pick([1, 12.5, 50, 100]),
      Date: () => pick(["2021-01-11", "2021-02-01", "2021-03-31"]),
      Period: () => pick(["2021-Q1", "2021-02", "2021-W05"]),
      DateTime: () => new Date().toISOString(),
    };
    const value = (type: GraphQLInputType, tame: boolean, depth = 0): unknown => {
      if (isNonNullType(type)) return !tame && rand() < 0.03 ? null : value(type.ofType, tame, depth);
      if (rand() < (tame ? 0.3 : 0.05)) return null;
      if (isListType(type)) return Array.from({ length: 1 + Math.floor(rand() * 3) }, () => value(type.ofType, tame, depth + 1));
      if (isEnumType(type)) return !tame && rand() < 0.1 ? randomString() : pick(type.getValues()).name;
      if (isInputObjectType(type)) {
        const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) || rand() < 0.6);
        return Object.fromEntries(fields.map((f) => [f.name, depth > 4 ? null : value(f.type, tame, depth + 1)]));
      }
      if (isScalarType(type)) return ((tame ? TAME[type.name] : undefined) ?? SCALARS[type.name] ?? SCALARS.String)();
      return null;
    };
    const tokens = new Map<string, string>();
    const tokenOf = async (who: As) => {
      if (who === "ANONYMOUS") return undefined;
      const key = JSON.stringify(who);
      if (!tokens.has(key)) tokens.set(key, await api.token(who));
      return tokens.get(key);
    };
    const PER_MUTATION = 30;
    const tried = new Map<string, number>();
    let fiveHundreds = 0;
    let internal = 0;
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    for (const field of Object.values(schema.getMutationType()!.getFields())) {
      const who = callerFor(field.name);
      const token = await tokenOf(who);
      const selection = isScalarType(getNamedType(field.type)) ? "" : "{ __typename }";
      const query = `mutation(${field.args.map((a) => `$${a.name}: ${a.type}`).join(", ")}) { ${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(", ")}) ${selection} }`;
      for (let i = 0; i < PER_MUTATION; i++) {
        const variables = Object.fromEntries(field.args.map((a) => [a.name, value(a.type, i % 2 === 1)]));
        const res = await post(api.server.url, { query, variables }, token ? { authorization: `Bearer ${token}` } : {});
        tried.set(field.name, (tried.get(field.name) ?? 0) + 1);
        const outcome = res.errors ? String(codeOf(res)) : "ok";
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        const context = JSON.stringify({ mutation: field.name, variables }).slice(0, 400);
        if (res.status >= 500) (fiveHundreds++, failures.push(`${res.status} ${context}`));
        for (const e of res.errors ?? []) {
          if (e.extensions?.code === "INTERNAL_SERVER_ERROR") (internal++, failures.push(`internal ${context}`));
          expect(e.message, context).not.toMatch(/prisma|postgres|SELECT |INSERT |violates|invalid input syntax|\bat .*\.(ts|js):\d+/i);
        }
      }
    }
    const total = [...tried.values()].reduce((a, b) => a + b, 0);
    console.log(`mutation fuzz: ${total} requests over ${tried.size} mutations (${[...tried].map(([m, n]) => `${m} ${n}`).join(", ")}); 5xx: ${fiveHundreds}; INTERNAL_SERVER_ERROR: ${internal}; outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(tried.size).toBe(Object.keys(schema.getMutationType()!.getFields()).length);
    expect(failures).toEqual([]);
  });

  it("a deeply nested document is refused cheaply", async () => {
    const deep = `{ ${"branch(code: \"P\") { parent { ".repeat(500)} code ${"} } ".repeat(500)} }`;
    const res = await api.as(CALLERS.HQ).gql(deep);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe("TOO_MANY_TOKENS");
  });
});
