/**
 * The dashboard at / (src/http/dashboard.ts, web/): the demo story in a real browser (Debian's
 * chromium driven by playwright-core, as in ide.test.ts) that may reach nothing but this
 * machine, each figure checked against the API's answer to the same caller, and the exports
 * parsed back. Screenshots of each view go to test-artifacts/ (not committed).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import ExcelJS from "exceljs";
import { parse as parseCsv } from "csv-parse/sync";
import type { Browser, BrowserContext, Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_DOCUMENTS, DASHBOARD_SUBSCRIPTIONS } from "../../src/dashboard/documents.js";
import { loadDemo } from "../../src/demo/load.js";
import { DEMO_PLAN } from "../../src/demo/plan.js";
import { DEMO } from "../../src/demo/story.js";
import { documentHash, TRUSTED_MANIFEST } from "../../src/graphql/trusted-documents.js";
import { IDE_CONTENT_SECURITY_POLICY } from "../../src/http/ide.js";
import { launchChromium } from "../support/browser.js";
import { write } from "../fixtures/scenarios.js";
import { startTestApi, type GqlResponse, type TestApi } from "../support/harness.js";
import { listenOidcProvider, OIDC_API_SCOPE, OIDC_AUDIENCE, OIDC_CLIENT_ID, type TestProvider } from "../support/oidc.js";

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const Q = `period: "${DEMO.period}", asOf: "${DEMO.asOf}"`;

interface PageConfig {
  documents: Record<string, string>;
  subscriptions: Record<string, string>;
  callers: { id: string; role: string; unit: string | null; token: string }[];
}

async function pageConfig(api: TestApi): Promise<{ res: Response; html: string; config: PageConfig }> {
  const res = await fetch(new URL("/", api.server.url), { headers: { accept: "text/html" } });
  const html = await res.text();
  const data = /<script type="application\/json" id="dashboard-config">(.*?)<\/script>/s.exec(html)?.[1];
  return { res, html, config: JSON.parse(data ?? "null") as PageConfig };
}

/** The text of every cell of a table on the page, by row code and column key. */
async function screenTable(page: Page, id: string): Promise<{ code: string; cells: Record<string, string> }[]> {
  return page.locator(`[data-table="${id}"] tbody tr`).evaluateAll((rows) =>
    rows.map((tr) => ({
      code: (tr as any).dataset.code ?? "",
      cells: Object.fromEntries([...tr.querySelectorAll("td")].map((td) => [(td as any).dataset.key, (td.textContent ?? "").trim()])),
    })),
  );
}

async function tile(page: Page, metric: string, field: string): Promise<string> {
  return ((await page.locator(`[data-metric="${metric}"] [data-field="${field}"]`).textContent()) ?? "").trim();
}

/** axe-core, from node_modules: injected into the page by the test, never fetched. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** The serious and critical violations axe-core finds on the page as it stands (every rule axe runs by default). */
async function accessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's content security policy does not govern.
  await page.evaluate(AXE_SOURCE);
  const { violations, passed } = await page.evaluate(async () => {
    const browser = globalThis as any; // evaluated in the page
    const result = (await browser.axe.run(browser.document)) as { violations: AxeViolation[]; passes: unknown[] };
    return { violations: result.violations, passed: result.passes.length };
  });
  expect(passed, "axe ran its rules").toBeGreaterThan(10);
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}${v.nodes.length > 3 ? ", …" : ""})`);
}

/** Waits for `selector`; on failure says what the page showed instead (and keeps a screenshot). */
async function shown(page: Page, selector: string, name: string): Promise<void> {
  await page.locator(selector).first().waitFor().catch(async (err: Error) => {
    await page.screenshot({ path: `${ARTIFACTS}failed-${name}.png`, fullPage: true });
    throw new Error(`${err.message}\nat ${page.url()}: ${await page.locator("body").innerText()}`);
  });
}

/** A browser context that may reach nothing but this machine; what else it tried goes to `elsewhere`. */
async function localContext(browser: Browser, elsewhere: string[]): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (["data:", "blob:"].includes(url.protocol) || url.hostname === "127.0.0.1" || url.hostname === "localhost") return route.continue();
    let from = "";
    try {
      from = route.request().frame().url();
    } catch {
      // not from a frame (a service worker's request)
    }
    elsewhere.push(`${url.href} from ${from}`);
    return route.abort("blockedbyclient");
  });
  return context;
}

const count = (n: number | null) => (n === null ? "—" : n.toLocaleString("en-US"));
const rate = (r: number | null) => (r === null ? "—" : `${(r * 100).toFixed(2)} %`);

describe("the dashboard in development", () => {
  let api: TestApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const attemptedElsewhere: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    api = await startTestApi({ JWT_SECRET: "" });
    expect(api.config.devTokens).toBe(true);
    await loadDemo(api.database.prisma);
    browser = await launchChromium();
    context = await localContext(browser, attemptedElsewhere);
    page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      // A refused request (the sibling's figures) is logged by the browser as a failed resource: expected.
      if (msg.type() === "error" && !/status of 40[13]/.test(msg.text())) pageErrors.push(msg.text());
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 300_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await api?.close();
  });

  /** Opens a screen by its address and waits for its unit's heading. */
  async function open(fragment: string, ready: string): Promise<void> {
    // Through a blank page: going from one fragment to another would not load the page again.
    await page.goto("about:blank");
    await page.goto(new URL(`/#${fragment}`, api.server.url).href);
    await page.locator(ready).first().waitFor().catch(async (err: Error) => {
      await page.screenshot({ path: `${ARTIFACTS}failed-${fragment.replace(/[^\w-]+/g, "_")}.png`, fullPage: true });
      throw new Error(`${err.message}\npage: ${await page.locator("body").innerText()}`);
    });
  }

  it("is served from this server alone, with trusted documents only", async () => {
    const { res, html, config } = await pageConfig(api);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(IDE_CONTENT_SECURITY_POLICY);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(html).not.toMatch(/https?:\/\//);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((r) => r !== "data:,");
    expect(refs.length).toBe(2);
    for (const ref of refs) {
      const asset = await fetch(new URL(ref, api.server.url));
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get("cache-control")).toMatch(/immutable/);
      expect(await asset.text()).not.toMatch(/@import|url\(\s*["']?(https?:)?\/\//);
    }
    // Every document the page may send is in the manifest, and it sends no other.
    for (const [name, doc] of Object.entries(DASHBOARD_DOCUMENTS)) {
      expect(config.documents[name]).toBe(`sha256:${documentHash(doc)}`);
      expect(TRUSTED_MANIFEST.get(documentHash(doc))).toBe(doc);
    }
    for (const [name, doc] of Object.entries(DASHBOARD_SUBSCRIPTIONS)) {
      expect(config.subscriptions[name]).toBe(`sha256:${documentHash(doc)}`);
      expect(TRUSTED_MANIFEST.get(documentHash(doc))).toBe(doc);
    }
    expect(config.callers.map((c) => c.id)).toEqual(["hq", "branch-manager", "sub-branch-manager", "account-manager"]);
  });

  it("shows SX-LL's branch manager the story's figures, rank and time progress, in Chinese, then in English", async () => {
    const requests: string[] = [];
    const listen = (r: { url(): string; postData(): string | null }) => {
      if (r.url().endsWith("/graphql")) requests.push(JSON.parse(r.postData() ?? "{}").documentId ?? "free text");
    };
    page.on("request", listen);
    await open(`caller=branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="children"] tbody tr');
    page.off("request", listen);
    // One screen, two requests (the unit, then its peers, staff, campaigns and circles), by hash.
    expect(requests).toHaveLength(2);
    expect(requests.every((r) => r.startsWith("sha256:"))).toBe(true);

    expect(await page.locator("h2").getAttribute("data-unit")).toBe(DEMO.storyBranch);
    expect(await tile(page, "NEW_CUSTOMERS", "actual")).toBe("6,245");
    expect(await tile(page, "NEW_CUSTOMERS", "target")).toBe("4,700");
    expect(await tile(page, "NEW_CUSTOMERS", "completionRate")).toBe("132.87 %");
    expect(await tile(page, "NEW_CUSTOMERS", "timeProgress")).toBe("65.6 %");
    expect(await tile(page, "NEW_CUSTOMERS", "pace")).toBe("快于进度");
    expect(await tile(page, "rank", "rank")).toBe("1");
    expect(await page.locator("html").getAttribute("lang")).toBe("zh-CN");
    const peers = await screenTable(page, "peers");
    expect(peers).toHaveLength(11);
    expect(peers[0]).toMatchObject({ code: DEMO.storyBranch, cells: { rank: "1", actual: "6,245", target: "4,700", completionRate: "132.87 %" } });
    // The peers' ranks are the API's, in its order (units without a target after the others).
    const ranking = await api.as("BRANCH_MANAGER", DEMO.storyBranch).gql(
      `{ branchRanking(parentCode: "${DEMO.province}", ${Q}, metric: NEW_CUSTOMERS) { rank actual branch { code } } }`,
    );
    expect(peers.map((p) => [p.code, p.cells.rank, p.cells.actual])).toEqual(
      ranking.data.branchRanking.map((s: any) => [s.branch.code, String(s.rank), count(s.actual)]),
    );
    expect(await page.locator('[data-chart="series"] canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-unit-zh.png`, fullPage: true });

    await page.locator('[data-action="lang"]').click();
    await page.locator('[data-metric="NEW_CUSTOMERS"] h3', { hasText: "New customers" }).waitFor();
    expect(await tile(page, "NEW_CUSTOMERS", "pace")).toBe("ahead of pace");
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    await page.screenshot({ path: `${ARTIFACTS}dashboard-unit-en.png`, fullPage: true });
    await page.locator('[data-action="lang"]').click();
    await page.locator('[data-metric="NEW_CUSTOMERS"] h3', { hasText: "新增客户" }).waitFor();
  });

  it("drills into a sub-branch whose figures are the API's, and comes back up by the breadcrumbs", async () => {
    await open(`caller=branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="children"] tbody tr');
    const children = await screenTable(page, "children");
    expect(children.length).toBeGreaterThan(1);
    const child = children[0].code;
    await page.locator(`[data-drill="${child}"]`).click();
    await page.locator(`h2[data-unit="${child}"]`).waitFor();
    const answer = await api.as("BRANCH_MANAGER", DEMO.storyBranch).gql(
      `{ branch(code: "${child}") { performance(${Q}) { timeProgress rank(metric: NEW_CUSTOMERS) metrics { metric actual target completionRate } } } }`,
    );
    const performance = answer.data.branch.performance;
    for (const m of performance.metrics) {
      expect(await tile(page, m.metric, "actual"), m.metric).toBe(count(m.actual));
      expect(await tile(page, m.metric, "target"), m.metric).toBe(count(m.target));
      expect(await tile(page, m.metric, "completionRate"), m.metric).toBe(rate(m.completionRate));
    }
    expect(await tile(page, "rank", "rank")).toBe(String(performance.rank));
    // Its row in the city's table said the same.
    expect(children[0].cells.actual).toBe(count(performance.metrics.find((m: any) => m.metric === "NEW_CUSTOMERS").actual));
    await page.screenshot({ path: `${ARTIFACTS}dashboard-drill-down.png`, fullPage: true });

    await page.locator(`a[data-crumb="${DEMO.storyBranch}"]`).click();
    await page.locator(`h2[data-unit="${DEMO.storyBranch}"]`).waitFor();
  });

  it("shows a tie as a shared rank", async () => {
    // Early in the quarter the sub-branches' counts are small: find a day and metric where two tie.
    const asker = api.as("BRANCH_MANAGER", DEMO.storyBranch);
    let found: { asOf: string; metric: string; rank: number } | undefined;
    search: for (const asOf of ["2021-01-04", "2021-01-05", "2021-01-06", "2021-01-08", "2021-01-11", "2021-01-15"]) {
      for (const metric of ["ACTIVATIONS", "NEW_CUSTOMERS", "APPROVALS", "APPLICATIONS"]) {
        const r = await asker.gql(`{ branchRanking(parentCode: "${DEMO.storyBranch}", period: "${DEMO.period}", metric: ${metric}, asOf: "${asOf}") { rank } }`);
        const ranks: number[] = r.data.branchRanking.map((s: { rank: number }) => s.rank);
        const shared = ranks.find((rank, i) => ranks.indexOf(rank) !== i);
        if (shared !== undefined) {
          found = { asOf, metric, rank: shared };
          break search;
        }
      }
    }
    expect(found, "a tie among SX-LL's sub-branches early in the quarter").toBeDefined();
    await open(`caller=branch-manager&period=${DEMO.period}&asOf=${found!.asOf}&metric=${found!.metric}`, '[data-table="children"] tbody tr');
    const ranks = (await screenTable(page, "children")).map((r) => Number(r.cells.rank));
    expect(ranks.filter((r) => r === found!.rank).length).toBeGreaterThan(1);
    // Competition ranking: after a shared rank the next rank skips (1, 2, 2, 4).
    ranks.forEach((rank, i) => expect(rank).toBe(ranks.indexOf(rank) + 1));
    await page.locator(`[data-table="children"] tbody tr`).nth(ranks.indexOf(found!.rank)).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${ARTIFACTS}dashboard-shared-rank.png`, fullPage: true });
  });

  it("keeps a sub-branch manager to their own unit: no way to a sibling, and the sibling's figures refused", async () => {
    const home = `${DEMO.storyBranch}-01`;
    const sibling = `${DEMO.storyBranch}-02`;
    await open(`caller=sub-branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, `h2[data-unit="${home}"]`);
    // The sibling is among the peers ranked (names and ranked figures are published), with no link.
    expect((await screenTable(page, "peers")).map((p) => p.code)).toContain(sibling);
    expect(await page.locator(`a[data-drill="${sibling}"]`).count()).toBe(0);
    // Above their unit the breadcrumbs are names, not links.
    expect(await page.locator(`a[data-crumb="${DEMO.storyBranch}"]`).count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-sub-branch.png`, fullPage: true });

    await open(`caller=sub-branch-manager&unit=${sibling}&period=${DEMO.period}&asOf=${DEMO.asOf}`, "[data-error]");
    expect(await page.locator("[data-error]").getAttribute("data-error")).toBe("FORBIDDEN");
    expect(await page.locator("[data-metric]").count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-sibling-refused.png`, fullPage: true });

    // Nor through the export URL.
    const { config } = await pageConfig(api);
    const token = config.callers.find((c) => c.id === "sub-branch-manager")!.token;
    const refused = await fetch(new URL(`/export/metrics.csv?unit=${sibling}&period=${DEMO.period}&asOf=${DEMO.asOf}`, api.server.url), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(403);
    const anonymous = await fetch(new URL(`/export/metrics.csv?unit=${home}&period=${DEMO.period}&asOf=${DEMO.asOf}`, api.server.url));
    expect(anonymous.status).toBe(401);
  });

  it("shows an account manager their own figures and their unit's leaderboard", async () => {
    await open(`caller=account-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="managers"] tbody tr');
    expect(await page.locator("h2").getAttribute("data-manager")).toBe(`M-${DEMO.storyBranch}-0001`);
    expect(await page.locator('[data-table="managers"] tr.me').count()).toBe(1);
    // Their earnings so far under the demo plan: the API's statement total (src/demo/plan.ts: ¥1,295.56).
    const res = await api.as({ role: "ACCOUNT_MANAGER", unit: `${DEMO.storyBranch}-01`, sub: `M-${DEMO.storyBranch}-0001` }).gql(
      `{ accountManager(code: "M-${DEMO.storyBranch}-0001") { incentives(period: "${DEMO.period}") { total asOf } } }`,
    );
    expect(res.errors).toBeUndefined();
    const statements: { total: number; asOf: string }[] = res.data.accountManager.incentives;
    const total = statements.reduce((sum, s) => sum + Math.round(s.total * 100), 0) / 100;
    expect(total).toBe(1295.56);
    expect(await page.locator('[data-field="earnings"]').textContent()).toBe("1,295.56");
    expect(await page.locator('[data-field="earningsAsOf"]').textContent()).toBe(DEMO_PLAN.asOf);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-account-manager.png`, fullPage: true });
  });

  it("shows a sub-branch its team-bonus status: the pool its team earned by reaching the plan", async () => {
    const home = `${DEMO.storyBranch}-01`;
    await open(`caller=sub-branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, "[data-team-bonus]");
    // 离石 reached its plan (1,108 new customers): the ¥3,000 pool, as the API's statement says.
    const res = await api.as({ role: "BRANCH_MANAGER", unit: home }).gql(
      `{ branch(code: "${home}") { incentives(period: "${DEMO.period}") { planCode lines { ruleKind amount } } } }`,
    );
    expect(res.errors).toBeUndefined();
    const team = (res.data.branch.incentives as { planCode: string; lines: { ruleKind: string; amount: number }[] }[]).flatMap((s) =>
      s.lines.filter((l) => l.ruleKind === "TEAM").map((l) => ({ plan: s.planCode, amount: l.amount })),
    );
    expect(team).toEqual([{ plan: DEMO_PLAN.code, amount: 3000 }]);
    const shown = page.locator(`[data-team="TEAM"][data-plan="${DEMO_PLAN.code}"] [data-field="team-amount"]`);
    expect(await shown.textContent()).toBe("3,000.00");
    await page.screenshot({ path: `${ARTIFACTS}dashboard-team-bonus.png`, fullPage: true });
  });

  it("exports the peers ranking as CSV and XLSX holding the screen's numbers, titled with unit, period and date", async () => {
    await open(`caller=branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="peers"] tbody tr');
    const screen = await screenTable(page, "peers");
    const keys = ["rank", "change", "code", "name", "actual", "target", "completionRate", "timeProgress"];

    const [csvDownload] = await Promise.all([page.waitForEvent("download"), page.locator('[data-table="peers"] [data-export="csv"]').click()]);
    expect(csvDownload.suggestedFilename()).toBe(`${DEMO.storyBranch}-peers-${DEMO.period}-${DEMO.asOf}.csv`);
    const csv = readFileSync(await csvDownload.path());
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 byte-order mark
    const rows = parseCsv(csv.toString("utf8").slice(1), { relax_column_count: true }) as string[][];
    // The title names the unit (SX-LL is first among its peers), the table, the period and the date.
    expect(rows[0]).toEqual([`${screen[0].cells.name} · 同级排名 · ${DEMO.period} · 截至 ${DEMO.asOf}`]);
    expect(rows[1]).toEqual(["排名", "较前一日", "机构代码", "机构", "完成", "目标", "完成率", "时间进度"]);
    expect(rows.slice(2)).toEqual(screen.map((r) => keys.map((k) => r.cells[k])));
    expect(rows[2].slice(0, 7)).toEqual(["1", rows[2][1], DEMO.storyBranch, rows[2][3], "6,245", "4,700", "132.87 %"]);

    const [xlsxDownload] = await Promise.all([page.waitForEvent("download"), page.locator('[data-table="peers"] [data-export="xlsx"]').click()]);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(readFileSync(await xlsxDownload.path()) as any);
    const sheet = workbook.worksheets[0];
    expect(String(sheet.getCell(1, 1).value)).toBe(rows[0][0]);
    const values = (r: number) => keys.map((_, c) => sheet.getCell(r, c + 1).value);
    expect(values(3)).toEqual([1, expect.anything(), DEMO.storyBranch, screen[0].cells.name, 6245, 4700, 1.3287, 0.656]);
    // Every row: the screen's text is the cell's number in the screen's format.
    screen.forEach((r, i) => {
      const [rank, , code, name, actual, target, completion] = values(i + 3) as [number, unknown, string, string, number, number | null, number | null];
      expect([String(rank), code, name, count(actual), count(target), rate(completion)]).toEqual([
        r.cells.rank, r.cells.code, r.cells.name, r.cells.actual, r.cells.target, r.cells.completionRate,
      ]);
    });

    // The same file for a script, by URL and token.
    const { config } = await pageConfig(api);
    const token = config.callers.find((c) => c.id === "branch-manager")!.token;
    const byUrl = await fetch(new URL(`/export/peers.csv?unit=${DEMO.storyBranch}&period=${DEMO.period}&asOf=${DEMO.asOf}`, api.server.url), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(byUrl.status).toBe(200);
    expect(byUrl.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(Buffer.from(await byUrl.arrayBuffer()).equals(csv)).toBe(true);
  });

  it("exports a plan's payroll, every statement across pages, to whom approves it and to no one else", async () => {
    const { config } = await pageConfig(api);
    const tokenOf = (id: string) => config.callers.find((c) => c.id === id)!.token;
    const payroll = (id: string, format = "csv") =>
      fetch(new URL(`/export/payroll.${format}?plan=${DEMO_PLAN.code}`, api.server.url), { headers: { authorization: `Bearer ${tokenOf(id)}` } });

    // What the API answers the same caller, page by page (the demo's 107 statements are two pages).
    const fromApi: { recipientCode: string; sequence: number; total: number }[] = [];
    for (let after: string | null = null; ; ) {
      const res: GqlResponse = await api.as({ role: "BRANCH_MANAGER", unit: DEMO.storyBranch }).gql(
        `query($after: String) { plan(code: "${DEMO_PLAN.code}") { statements(first: 40, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { recipientCode sequence total } } } } }`,
        { after },
      );
      expect(res.errors).toBeUndefined();
      const page: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; edges: { node: (typeof fromApi)[number] }[] } = res.data.plan.statements;
      expect(page.totalCount).toBe(107);
      fromApi.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(fromApi).toHaveLength(107);

    const res = await payroll("branch-manager");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain(`${DEMO_PLAN.code}-payroll.csv`);
    const text = Buffer.from(await res.arrayBuffer()).toString("utf8");
    expect(text.startsWith("\uFEFF")).toBe(true);
    const [title, header, ...rows] = parseCsv(text.slice(1), { relax_column_count: true }) as string[][];
    expect(title[0]).toContain("奖励发放明细");
    expect(header).toEqual(["机构代码", "机构", "收款人代码", "收款人", "结算单序号", "口径", "截至", "状态", "金额(元)"]);
    expect(rows).toHaveLength(107);
    const yuan = (s: string) => Math.round(Number(s.replace(/,/g, "")) * 100);
    const byKey = (code: string, seq: number | string) => `${code}#${seq}`;
    expect(new Map(rows.map((r) => [byKey(r[2], r[4]), yuan(r[8])]))).toEqual(new Map(fromApi.map((s) => [byKey(s.recipientCode, s.sequence), Math.round(s.total * 100)])));
    // M-SX-LL-0001 earns ¥1,295.56 in the demo (src/demo/plan.ts).
    expect(rows.find((r) => r[2] === "M-SX-LL-0001")?.[8]).toBe("1,295.56");

    const xlsx = await payroll("branch-manager", "xlsx");
    expect(xlsx.status).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as unknown as ArrayBuffer);
    expect(book.worksheets[0].rowCount).toBe(2 + 107);

    // An account manager reads their own statement, not the plan's payroll.
    expect((await payroll("account-manager")).status).toBe(403);
    const anonymous = await fetch(new URL(`/export/payroll.csv?plan=${DEMO_PLAN.code}`, api.server.url));
    expect(anonymous.status).toBe(401);
  });

  it("has no serious or critical accessibility violations in any view, in Chinese and in English (axe-core)", async () => {
    const views: [string, string, string][] = [
      ["unit", `caller=branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="circles"] tbody tr'],
      ["drill-down", `caller=branch-manager&unit=${DEMO.storyBranch}-01&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="managers"] tbody tr'],
      ["hq", `caller=hq&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="children"] tbody tr'],
      ["sub-branch", `caller=sub-branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="peers"] tbody tr'],
      ["sibling refused", `caller=sub-branch-manager&unit=${DEMO.storyBranch}-02&period=${DEMO.period}&asOf=${DEMO.asOf}`, "[data-error]"],
      ["account manager", `caller=account-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-table="managers"] tbody tr'],
    ];
    const found: Record<string, string[]> = {};
    for (const [name, fragment, ready] of views) {
      await open(fragment, ready);
      found[`${name} (zh)`] = await accessibilityViolations(page);
      await page.locator('[data-action="lang"]').click();
      await page.locator("html[lang=en]").waitFor();
      found[`${name} (en)`] = await accessibilityViolations(page);
      await page.locator('[data-action="lang"]').click();
      await page.locator("html[lang=zh-CN]").waitFor();
    }
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
  }, 120_000);

  it("follows records as they land, without a reload: figures, rankings and the campaign; shows a dropped connection and catches up", async () => {
    // Every socket of the page goes through here, so the test can cut one and hold the next.
    const sockets: WebSocketRoute[] = [];
    let hold = false;
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      if (!hold) ws.connectToServer();
      sockets.push(ws);
    });
    await open(`caller=branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, '[data-live="live"]');
    await page.locator('[data-table="campaigns"] tbody tr').first().waitFor();
    const child = `${DEMO.storyBranch}-01`;
    const cell = (table: string, code: string, key: string) => page.locator(`[data-table="${table}"] tr[data-code="${code}"] [data-key="${key}"]`);
    const before = {
      tile: await tile(page, "NEW_CUSTOMERS", "actual"),
      child: (await cell("children", child, "actual").textContent())!,
      peer: (await cell("peers", DEMO.storyBranch, "actual").textContent())!,
      campaign: (await cell("campaigns", DEMO.campaignCode, "newCustomers").textContent())!,
      updated: await page.locator('[data-field="updated"]').getAttribute("datetime"),
    };
    expect(before.tile).toBe("6,245");
    const plusOne = (text: string, n = 1) => count(Number(text.replace(/,/g, "")) + n);
    /** A new customer of the campaign at SX-LL-01, approved the day before the as-of date. */
    const newCustomer = (id: string) =>
      write(api, "applications", [
        { externalId: `LIVE-${id}`, customerId: `CU-LIVE-${id}`, branchCode: child, channel: "ONLINE", receivedOn: "2021-02-27", keyedOn: "2021-02-27", decision: "APPROVED", decidedOn: "2021-02-27", campaignCode: DEMO.campaignCode },
      ]);
    /** The page shows `text` at `locator` within 2 s of the write (a functional bound: the live path works, not a speed claim). */
    const shows = (locator: ReturnType<Page["locator"]>, text: string) => locator.filter({ hasText: new RegExp(`^\\s*${text}\\s*$`) }).waitFor({ timeout: 2_000 });

    expect((await newCustomer("1")).created).toBe(1);
    await Promise.all([
      shows(page.locator('[data-metric="NEW_CUSTOMERS"] [data-field="actual"]'), "6,246"),
      shows(cell("children", child, "actual"), plusOne(before.child)),
      shows(cell("peers", DEMO.storyBranch, "actual"), plusOne(before.peer)),
      shows(cell("campaigns", DEMO.campaignCode, "newCustomers"), plusOne(before.campaign)),
    ]);
    expect(await tile(page, "NEW_CUSTOMERS", "completionRate")).toBe(rate(6246 / 4700));
    expect(await page.locator('[data-field="updated"]').getAttribute("datetime")).not.toBe(before.updated);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-live-updated.png`, fullPage: true });

    // The connection drops and the next one is held: the page says so, and catches up once back.
    hold = true;
    await sockets.at(-1)!.close({ code: 4000, reason: "dropped by the test" });
    await page.locator('[data-live="reconnecting"]').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${ARTIFACTS}dashboard-live-reconnecting.png`, fullPage: true });
    await newCustomer("2");
    hold = false;
    for (const held of sockets.splice(0)) await held.close({ code: 4000, reason: "released by the test" });
    await page.locator('[data-live="live"]').waitFor({ timeout: 20_000 });
    await shows(page.locator('[data-metric="NEW_CUSTOMERS"] [data-field="actual"]'), "6,247");
    expect(await cell("campaigns", DEMO.campaignCode, "newCustomers").textContent()).toBe(plusOne(before.campaign, 2));
  }, 60_000);

  it("asked nothing of another host and raised no errors", () => {
    expect(attemptedElsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

describe("the dashboard in production", () => {
  it("offers no demo callers: sign-in is required", async () => {
    const api = await startTestApi({ NODE_ENV: "production" }, { reset: false });
    try {
      const { res, html, config } = await pageConfig(api);
      expect(res.status).toBe(200);
      expect(config.callers).toEqual([]);
      expect(html).not.toMatch(/Bearer|eyJ/);
    } finally {
      await api.close();
    }
  });
});

describe("the dashboard signed in through the bank's OpenID Connect provider", () => {
  let provider: TestProvider;
  let api: TestApi;
  let browser: Browser;
  const attemptedElsewhere: string[] = [];
  const accounts = {
    "li.wei": { name: "李伟", role: "BRANCH_MANAGER", unit: DEMO.storyBranch },
    // A unit the API does not know: its token is refused.
    "gone.manager": { name: "Gone", role: "BRANCH_MANAGER", unit: "GONE" },
  };

  beforeAll(async () => {
    provider = await listenOidcProvider(accounts);
    api = await startTestApi(
      {
        JWT_SECRET: "",
        JWKS_URL: provider.jwksUri,
        JWT_ISSUER: provider.issuer,
        JWT_AUDIENCE: OIDC_AUDIENCE,
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID,
        OIDC_SCOPE: `openid ${OIDC_API_SCOPE}`,
      },
      { reset: false },
    );
    provider.start(new URL("/", api.server.url).href);
    if (!(await api.database.prisma.branch.findUnique({ where: { code: DEMO.storyBranch } }))) await loadDemo(api.database.prisma);
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await provider?.close();
  });

  /** Opens the page on the story's quarter and signs in as `login` at the provider (its login page, then its consent page). */
  async function signIn(page: Page, login: string): Promise<void> {
    await page.goto(new URL(`/#period=${DEMO.period}&asOf=${DEMO.asOf}`, api.server.url).href);
    await page.locator('[data-sign-in="required"] [data-action="sign-in"]').click();
    await page.waitForURL((url) => url.href.startsWith(provider.issuer));
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill("any password");
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]', { hasText: "Continue" }).click(); // consent
  }

  it("offers sign-in and no demo callers, and the page holds no secret", async () => {
    const { res, html, config } = await pageConfig(api);
    expect(config.callers).toEqual([]);
    expect((config as unknown as { signIn: unknown }).signIn).toEqual({ issuer: provider.issuer, clientId: OIDC_CLIENT_ID, scope: `openid ${OIDC_API_SCOPE}`, resource: OIDC_AUDIENCE });
    expect(html).not.toMatch(/Bearer|eyJ|secret/i);
    // The page may talk to the provider, and to nothing else outside this server.
    expect(res.headers.get("content-security-policy")).toBe(IDE_CONTENT_SECURITY_POLICY.replace("connect-src 'self'", `connect-src 'self' ${provider.issuer}`));
  });

  it("signs a branch manager in with the authorization code and PKCE; the page shows their unit's figures, the API's, and follows them live", async () => {
    const context = await localContext(browser, attemptedElsewhere);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    const sent: string[] = [];
    page.on("request", (r) => {
      if (r.url().startsWith(provider.issuer)) sent.push(`${r.method()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`);
    });
    try {
      await page.goto(new URL(`/#period=${DEMO.period}&asOf=${DEMO.asOf}`, api.server.url).href);
      await page.locator('[data-sign-in="required"]').waitFor();
      expect(await accessibilityViolations(page)).toEqual([]);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-sign-in.png`, fullPage: true });

      await signIn(page, "li.wei");
      await shown(page, `h2[data-unit="${DEMO.storyBranch}"]`, "signed-in");
      await page.locator('[data-live="live"]').waitFor();
      expect(await page.locator("[data-signed-in]").textContent()).toBe("李伟");
      // The authorization request carried a PKCE challenge (S256), and no secret went anywhere.
      const authorize = sent.find((r) => r.startsWith("GET /auth?"))!;
      expect(new URLSearchParams(authorize.split("?")[1]).get("code_challenge_method")).toBe("S256");
      expect(sent.some((r) => r.startsWith("POST /token"))).toBe(true);

      // The token the provider issued is the one the page sends; the API's answer to it is what the page shows.
      const token = await page.evaluate(() => JSON.parse((globalThis as any).sessionStorage.getItem("dashboard-session")).token as string);
      const answer = await fetch(new URL("/graphql", api.server.url), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `{ branch(code: "${DEMO.storyBranch}") { performance(${Q}) { rank(metric: NEW_CUSTOMERS) metrics { metric actual target completionRate } } } }` }),
      }).then((r) => r.json() as Promise<any>);
      expect(answer.errors).toBeUndefined();
      for (const m of answer.data.branch.performance.metrics) {
        expect(await tile(page, m.metric, "actual"), m.metric).toBe(count(m.actual));
        expect(await tile(page, m.metric, "completionRate"), m.metric).toBe(rate(m.completionRate));
      }
      expect(await tile(page, "NEW_CUSTOMERS", "target")).toBe("4,700");
      expect(await tile(page, "rank", "rank")).toBe("1");
      expect(await accessibilityViolations(page)).toEqual([]);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-signed-in.png`, fullPage: true });

      // A reload keeps the session (this tab's), without going back to the provider.
      sent.length = 0;
      await page.reload();
      await page.locator(`h2[data-unit="${DEMO.storyBranch}"]`).waitFor();
      expect(sent.filter((r) => r.startsWith("GET /auth"))).toEqual([]);
      // Signing out forgets it.
      await page.locator('[data-action="sign-out"]').click();
      await page.locator('[data-sign-in="required"]').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("says clearly when the API refuses the provider's token, and offers to sign in again", async () => {
    const context = await localContext(browser, attemptedElsewhere);
    const page = await context.newPage();
    try {
      await signIn(page, "gone.manager");
      await shown(page, '[data-error="UNAUTHENTICATED"]', "token-refused");
      const refusal = page.locator('[data-error="UNAUTHENTICATED"]');
      expect(await refusal.textContent()).toContain("登录令牌未被接受");
      expect(await refusal.textContent()).toContain('names no unit ("GONE")');
      expect(await refusal.locator('[data-action="sign-in"]').count()).toBe(1);
      expect(await page.locator("[data-metric]").count()).toBe(0);
      expect(await accessibilityViolations(page)).toEqual([]);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-token-refused.png`, fullPage: true });
    } finally {
      await context.close();
    }
  }, 120_000);

  it("asked nothing of another host (the provider's development pages ask for a web font, blocked)", () => {
    expect(attemptedElsewhere.filter((a) => !a.includes(` from ${provider.issuer}/`))).toEqual([]);
  });
});
