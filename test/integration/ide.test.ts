/**
 * The GraphQL IDE at /graphql: served from this server alone, checked over HTTP and in a real
 * browser (Debian's chromium driven by playwright-core) that may reach nothing but this
 * machine. Every request to another host is aborted and recorded, and the test asserts that
 * none was even attempted. Chromium missing is a failure, not a skip: `.ci/run` installs it.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Kind, parse, print, visit } from "graphql";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/demo/story.js";
import { loadDemo } from "../../src/demo/load.js";
import { DEMO_CALLERS } from "../../src/demo/callers.js";
import { IDE_CONTENT_SECURITY_POLICY, IDE_TABS } from "../../src/http/ide.js";
import { launchChromium } from "../support/browser.js";
import { startTestApi, type TestApi } from "../support/harness.js";

const ARTIFACTS = fileURLToPath(new URL("../browser/artifacts/", import.meta.url));
/** What Chromium sends when it navigates to a page. */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

interface IdeConfig {
  endpoint: string;
  callers: { id: string; label: string; headers: string }[];
  tabs: { query: string; variables?: string; headers: string }[];
}

/** GET /graphql as a browser: the response and the page's embedded configuration. */
async function openPage(api: TestApi) {
  const res = await fetch(api.server.url, { headers: { accept: BROWSER_ACCEPT } });
  const html = await res.text();
  const data = /<script type="application\/json" id="ide-config">(.*?)<\/script>/s.exec(html)?.[1];
  return { res, html, config: data ? (JSON.parse(data) as IdeConfig) : undefined };
}

/** Sends a document with the headers the IDE would send for it. */
async function send(api: TestApi, headers: string, query: string, variables?: string) {
  const res = await fetch(api.server.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(JSON.parse(headers) as Record<string, string>) },
    body: JSON.stringify({ query, variables: variables ? JSON.parse(variables) : undefined }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] }) };
}

describe("the GraphQL IDE in development", () => {
  let api: TestApi;
  let browser: Browser;

  beforeAll(async () => {
    // No signing key configured, not production: the development tokens the IDE hands out.
    api = await startTestApi({ JWT_SECRET: "" });
    expect(api.config.devTokens).toBe(true);
    await loadDemo(api.database.prisma);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it("serves the page and every file it loads from this server, under a policy that allows nothing else", async () => {
    const { res, html } = await openPage(api);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(IDE_CONTENT_SECURITY_POLICY);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(html).not.toMatch(/apollo|cdn|https?:\/\//i);

    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.filter((r) => r !== "data:,").map((r) => r.replace(/\/[0-9a-f]{16}\//, "/…/"))).toEqual([
      "/graphql/ide/…/graphiql.min.css",
      "/graphql/ide/…/ide.css",
      "/graphql/ide/…/react.production.min.js",
      "/graphql/ide/…/react-dom.production.min.js",
      "/graphql/ide/…/graphiql.min.js",
      "/graphql/ide/…/ide.js",
    ]);
    for (const ref of refs.filter((r) => r !== "data:,")) {
      const asset = await fetch(new URL(ref, api.server.url));
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(asset.headers.get("content-type")).toMatch(ref.endsWith(".css") ? /^text\/css/ : /^text\/javascript/);
      const body = await asset.text();
      // Fonts and icons are inlined (data: URLs); nothing is fetched from elsewhere.
      expect(body, ref).not.toMatch(/@import|url\(\s*["']?(https?:)?\/\//);
    }
    expect((await fetch(new URL("/graphql/ide/0000000000000000/graphiql.min.js", api.server.url))).status).toBe(404);
  });

  it("leaves GET /graphql to Apollo for clients that do not ask for a page; / is the dashboard (test/integration/dashboard.test.ts)", async () => {
    const res = await fetch(api.server.url, { headers: { accept: "*/*" } });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const root = await fetch(new URL("/", api.server.url), { redirect: "manual" });
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('id="dashboard-config"');
  });

  it("opens with the README's examples", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const documents = [
      ...[...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]),
      ...[...readme.matchAll(/"query":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string),
    ];
    // The tabs name their operations (GraphiQL titles tabs by them); otherwise they are the README's.
    const unnamed = (document: string) =>
      print(visit(parse(document), { [Kind.OPERATION_DEFINITION]: (op) => ({ ...op, name: undefined }) }));
    const inReadme = new Set(documents.map(unnamed));
    for (const tab of IDE_TABS) expect(inReadme, tab.query).toContain(unnamed(tab.query));
  });

  it("hands out tokens of real demo callers, and each tab runs as its caller", async () => {
    const { config } = await openPage(api);
    expect(config!.callers.map((c) => c.id)).toEqual(DEMO_CALLERS.map((c) => c.id));
    const headers = Object.fromEntries(config!.callers.map((c) => [c.id, c.headers]));

    const [ranking, performance, campaign, nearby] = await Promise.all(config!.tabs.map((t) => send(api, t.headers, t.query, t.variables)));
    expect(ranking.errors).toBeUndefined();
    expect(ranking.data.branchRanking[0]).toMatchObject({ rank: 1, actual: 6245, target: 4700, branch: { code: DEMO.storyBranch } });
    expect(performance.errors).toBeUndefined();
    expect(performance.data.branch.performance.timeProgress).toBeCloseTo(59 / 90, 10);
    expect(performance.data.branch.performance.rank).toBe(1);
    expect(campaign.errors).toBeUndefined();
    expect(campaign.data).toMatchObject({ createCampaign: { code: "LL-WEEKLY" }, createPromotion: { code: "LL-CARWASH" } });
    expect(nearby.errors).toBeUndefined();

    // The sub-branch manager and the account manager exist in the story, with figures of their own.
    const figures = `performance(period: "2021-Q1", asOf: "2021-02-28") { metrics { metric actual } }`;
    const sub = await send(api, headers["sub-branch-manager"], `{ branch(code: "SX-LL-01") { name ${figures} } }`);
    expect(sub.errors).toBeUndefined();
    expect(sub.data.branch.performance.metrics.find((m: { metric: string }) => m.metric === "NEW_CUSTOMERS").actual).toBeGreaterThan(0);
    const sibling = await send(api, headers["sub-branch-manager"], `{ branch(code: "SX-LL-02") { ${figures} } }`);
    expect(sibling.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const own = await send(api, headers["account-manager"], `{ accountManager(code: "M-SX-LL-0001") { name ${figures} } }`);
    expect(own.errors).toBeUndefined();
    expect(own.data.accountManager.performance.metrics.length).toBe(4);
    const marketing = await send(api, headers.marketing, `{ campaign(code: "${DEMO.campaignCode}") { code } }`);
    expect(marketing.data).toEqual({ campaign: { code: DEMO.campaignCode } });
  });

  it("renders in Chromium with nothing but this server reachable, and runs queries as the caller picked", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const attemptedElsewhere: string[] = [];
    const requested: string[] = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      requested.push(url.href);
      if (url.protocol === "data:" || url.hostname === "127.0.0.1" || url.hostname === "localhost") return route.continue();
      attemptedElsewhere.push(url.href);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(msg.text());
    });
    await page.addInitScript(() => {
      const window = globalThis as any;
      window.cspViolations = [];
      window.document.addEventListener("securitypolicyviolation", (e: any) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    try {
      await page.goto(api.server.url);
      await page.locator(".graphiql-query-editor .CodeMirror").waitFor();
      await page.locator('[data-caller="hq"]').waitFor();
      // Tokens are signed afresh for each page: the ones this page holds.
      const config = JSON.parse((await page.locator("#ide-config").textContent())!) as IdeConfig;
      const headers = Object.fromEntries(config.callers.map((c) => [c.id, c.headers]));
      expect(await page.locator(".graphiql-tab").allInnerTexts()).toEqual(["BranchRanking", "BranchPerformance", "CreateCampaign", "Nearby"]);

      // The first tab, as the SX-LL branch manager.
      await page.locator('[data-caller="branch-manager"]').click();
      expect(await editorText(page, HEADERS_EDITOR)).toBe(headers["branch-manager"]);
      expect(await page.locator('[data-caller="branch-manager"]').getAttribute("aria-pressed")).toBe("true");
      const ranking = await run(page);
      expect(ranking.errors).toBeUndefined();
      expect(ranking.data.branchRanking).toHaveLength(11);
      expect(ranking.data.branchRanking[0]).toMatchObject({ rank: 1, actual: 6245, target: 4700, branch: { code: "SX-LL" } });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}ide-branch-ranking.png` });

      // The caller picked is the one the server sees: the sub-branch manager may not read the city's figures.
      await showTab(page, "BranchPerformance");
      await page.locator('[data-caller="sub-branch-manager"]').click();
      expect((await run(page)).errors?.[0].extensions?.code).toBe("FORBIDDEN");
      await page.locator('[data-caller="branch-manager"]').click();
      const performance = await run(page);
      expect(performance.errors).toBeUndefined();
      expect(performance.data.branch.performance).toMatchObject({ rank: 1 });
      expect(performance.data.branch.performance.timeProgress).toBeCloseTo(59 / 90, 10);
      await page.screenshot({ path: `${ARTIFACTS}ide-branch-performance.png` });

      // The schema loaded (introspection within the document limits): the docs list the root types.
      await page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click();
      await page.locator(".graphiql-doc-explorer", { hasText: "Query" }).waitFor();

      expect(await page.evaluate(() => (globalThis as any).cspViolations)).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
    // Not one request to another host was attempted (so none could have succeeded).
    expect(attemptedElsewhere).toEqual([]);
    expect(requested.some((u) => u.includes("/graphql/ide/"))).toBe(true);
  });
});

/** GraphiQL shows the headers below the query (defaultEditorToolsVisibility: "headers"); the variables editor is there, hidden. */
const HEADERS_EDITOR = 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror';

/** The text of a CodeMirror 5 editor (GraphiQL 3's editors). */
function editorText(page: Page, selector: string): Promise<string> {
  return page.locator(selector).first().evaluate((el) => (el as any).CodeMirror.getValue() as string);
}

/**
 * Switches to a tab and waits until GraphiQL has parsed its document: the operation name it
 * sends is set 100 ms (debounced) after the editor changes, and a run before that sends the
 * previous tab's name with this tab's document (OPERATION_RESOLUTION_FAILURE, seen in CI).
 */
async function showTab(page: Page, operationName: string): Promise<void> {
  await page.locator(".graphiql-tab", { hasText: operationName }).click();
  await page.waitForFunction(
    (name) => (globalThis as any).document.querySelector(".graphiql-query-editor .CodeMirror")?.CodeMirror.operationName === name,
    operationName,
  );
}

/** Runs the active tab's operation and returns the response the IDE shows. */
async function run(page: Page): Promise<{ data?: any; errors?: { extensions?: { code?: string } }[] }> {
  const before = await editorText(page, ".result-window .CodeMirror");
  await page.locator(".graphiql-execute-button").click();
  await page.waitForFunction(
    (previous) => {
      const document = (globalThis as any).document;
      const text = document.querySelector(".result-window .CodeMirror")?.CodeMirror.getValue();
      return text && text !== previous && !document.querySelector(".result-window .graphiql-spinner");
    },
    before,
  );
  return JSON.parse(await editorText(page, ".result-window .CodeMirror"));
}

describe("the GraphQL IDE in production", () => {
  it("is off unless switched on: no page, and no CDN page either", async () => {
    const api = await startTestApi({ NODE_ENV: "production" }, { reset: false });
    try {
      expect(api.config.GRAPHQL_IDE).toBe("off");
      const { res, html } = await openPage(api);
      expect(res.status).toBe(404);
      expect(html).not.toMatch(/apollo|sandbox|cdn/i);
      expect((await fetch(new URL("/graphql/ide/0000000000000000/graphiql.min.js", api.server.url))).status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it("switched on, offers no tokens, and what it sends still meets the trusted-document rules", async () => {
    const api = await startTestApi({ NODE_ENV: "production", GRAPHQL_IDE: "on" }, { reset: false });
    try {
      const { res, html, config } = await openPage(api);
      expect(res.status).toBe(200);
      expect(config!.callers).toEqual([]);
      expect(config!.tabs.map((t) => t.headers)).toEqual(IDE_TABS.map(() => "{}"));
      expect(html).not.toMatch(/Bearer|eyJ/); // no JWT anywhere in the page
      // Without a token the IDE's request is anonymous: production accepts only trusted documents from it.
      const anonymous = await send(api, "{}", IDE_TABS[0].query);
      expect(anonymous.status).toBe(400);
      expect(anonymous.errors?.[0].extensions?.code).toBe("TRUSTED_DOCUMENT_REQUIRED");
    } finally {
      await api.close();
    }
  });
});
