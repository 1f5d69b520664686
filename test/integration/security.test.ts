/**
 * Hardening, through real HTTP: tokens, document limits, body size, pagination, rate limits
 * (in memory and shared through Redis), CSRF prevention, introspection, trusted documents and
 * fuzzed input that must never produce a 500 or an unmasked error.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { documentHash, TRUSTED_DOCUMENTS } from "../../src/graphql/trusted-documents.js";
import { CALLERS, twoCities } from "../fixtures/access.js";
import { seed } from "../fixtures/scenarios.js";
import { codeOf, startTestApi, TEST_JWT_SECRET, type GqlResponse, type TestApi } from "../support/harness.js";

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

async function sign(claims: Record<string, unknown>, { secret = TEST_JWT_SECRET, expiresIn = 600, alg = "HS256" } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn)
    .sign(new TextEncoder().encode(secret));
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
    const res = await post(api.server.url, { query: RANKING, variables: { pad: "x".repeat(api.config.BODY_LIMIT_BYTES) } });
    expect([res.status, codeOf(res)]).toEqual([413, "PAYLOAD_TOO_LARGE"]);
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
});

describe("production settings", () => {
  let prod: TestApi;
  beforeAll(async () => {
    prod = await startTestApi({ NODE_ENV: "production" }, { reset: false });
  });
  afterAll(() => prod?.close());

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
    ["ANONYMOUS", () => ({ in: { transactionId: randomString(), promotionCode: randomString(), merchantCode: randomString(), cardToken: randomString(), spend: randomNumber() } }), `mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { cost } }`],
    ["HQ", () => ({ f: randomString(), n: randomNumber(), a: randomString() }), `query($f: DateTime, $n: Int!, $a: String) { auditTrail(from: $f, first: $n, after: $a) { totalCount } }`],
  ];

  it("300 random requests over queries and mutations", async () => {
    const tokens = { HQ: await api.token({ role: "HQ" }), INGEST: await api.token({ role: "INGEST" }), MARKETING: await api.token({ role: "MARKETING" }) } as Record<string, string>;
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

  it("a deeply nested document is refused cheaply", async () => {
    const deep = `{ ${"branch(code: \"P\") { parent { ".repeat(500)} code ${"} } ".repeat(500)} }`;
    const res = await api.as(CALLERS.HQ).gql(deep);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe("TOO_MANY_TOKENS");
  });
});
