/**
 * The README is a test: the product started the way `npm start` starts it (the built server,
 * the embedded database in a fresh folder, no configuration), then every GraphQL example of the
 * README run as written, each with the printed development token of the caller its first line
 * names (`# as: <caller>`), and the curl example with its body and its caller's token.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CALLERS } from "../../src/demo/callers.js";
import { startProduct } from "../support/product.js";

const root = path.resolve(import.meta.dirname, "../..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");

interface Example {
  readonly caller: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
}

/** Every ```graphql block, with the caller its `# as:` line names. */
function graphqlExamples(): Example[] {
  return [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map(([, query]) => {
    const caller = /^# as: (.+)$/m.exec(query)?.[1];
    if (!caller) throw new Error(`README example without "# as: <caller>":\n${query}`);
    return { caller, query };
  });
}

/** Every curl example of the API (one with a body): its JSON body, and the caller whose token `npm run token` makes for it. */
function curlExamples(): Example[] {
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, script]) => {
    if (!script.includes("curl ") || !script.includes(" -d '")) return [];
    const role = /--role (\w+)/.exec(script)?.[1];
    const unit = /--unit ([\w-]+)/.exec(script)?.[1];
    const caller = DEMO_CALLERS.find((c) => c.claims?.role === role && c.claims?.unit === unit);
    if (!caller) throw new Error(`README curl example as ${role} ${unit ?? ""}: no demo caller prints that token`);
    const body = JSON.parse(/-d '([^']*)'/.exec(script)![1]) as { query: string; variables?: Record<string, unknown> };
    return [{ caller: caller.label, ...body }];
  });
}

let child: ChildProcess;
let dataDir: string;
let url: string;
const tokens = new Map<string, string>();

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-readme-"));
  // A newcomer's environment: nothing configured but where to put the data and a free port.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|JWT_|JWKS_|NODE_ENV|TEST_|REDIS_URL)/.test(k)));
  // The token block ends with an empty line.
  const started = await startProduct({ ...env, DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" }, (out) =>
    /Development tokens[^\n]*\n(?:\s+.+\n)+\n/.test(out),
  );
  child = started.child;
  url = started.url;
  const out = started.output;
  for (const caller of DEMO_CALLERS) {
    const token = new RegExp(`^\\s+${caller.label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\s+(\\S+)$`, "m").exec(out)?.[1];
    if (token) tokens.set(caller.label, token);
  }
}, 300_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function run(example: Example) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = tokens.get(example.caller);
  if (token) headers.authorization = `Bearer ${token}`;
  else expect(example.caller, "a README example names a caller npm start prints no token for").toBe("No token");
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query: example.query, variables: example.variables }) });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: unknown[] }) };
}

describe("the README's examples on a fresh npm start", () => {
  it("prints the URL and a token for every demo caller that has one", () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect([...tokens.keys()]).toEqual(DEMO_CALLERS.filter((c) => c.claims).map((c) => c.label));
  });

  it("finds the examples", () => {
    expect(graphqlExamples().length).toBeGreaterThanOrEqual(3);
    expect(curlExamples()).toHaveLength(1);
  });

  it("every example answers without errors", async () => {
    for (const example of [...graphqlExamples(), ...curlExamples()]) {
      const res = await run(example);
      expect({ status: res.status, errors: res.errors }, example.query).toEqual({ status: 200, errors: undefined });
    }
  });

  it("the export examples: the SX-LL branch manager's peers and the demo plan's payroll as XLSX", async () => {
    const scripts = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, s]) => s).filter((s) => s.includes("/export/"));
    const paths = scripts.map((script) => /'localhost:4000(\/export\/[^']+)'/.exec(script)![1]);
    expect(paths.map((p) => p.split("?")[0])).toEqual(["/export/peers.xlsx", "/export/payroll.xlsx"]);
    const caller = DEMO_CALLERS.find((c) => c.claims?.role === "BRANCH_MANAGER" && c.claims?.unit === "SX-LL")!;
    for (const path of paths) {
      const res = await fetch(new URL(path, url), { headers: { authorization: `Bearer ${tokens.get(caller.label)}` } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/spreadsheetml/);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    // And the page itself is there, built by npm start.
    const page = await fetch(new URL("/", url), { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="dashboard-config"');
  });

  it("the ranking example: SX-LL first of Shanxi's 11 city branches, 6,245 new customers against 4,700", async () => {
    const ranking = graphqlExamples().find((e) => e.query.includes("branchRanking"))!;
    const { data } = await run(ranking);
    expect(data.branchRanking).toHaveLength(11);
    expect(data.branchRanking[0]).toMatchObject({ rank: 1, actual: 6245, target: 4700, branch: { code: "SX-LL" } });
    // 6,245 ÷ 4,700 = 1.32872…, shown as 132.87 %.
    expect(data.branchRanking[0].completionRate).toBeCloseTo(1.3287, 4);
  });

  it("the curl example: time progress 59/90, new customers 6,245 / 4,700, rank 1", async () => {
    const { data } = await run(curlExamples()[0]);
    const performance = data.branch.performance;
    // 2021-Q1 as of 2021-02-28: 31 + 28 = 59 of 90 days.
    expect(performance.timeProgress).toBeCloseTo(59 / 90, 10);
    expect(performance.metrics.find((m: any) => m.metric === "NEW_CUSTOMERS")).toMatchObject({ actual: 6245, target: 4700 });
    expect(performance.rank).toBe(1);
  });

  it("the campaign example creates LL-WEEKLY and its 1-yuan car wash, and replays unchanged", async () => {
    const create = graphqlExamples().find((e) => e.query.includes("createCampaign"))!;
    const first = await run(create);
    expect(first.data).toMatchObject({ createCampaign: { code: "LL-WEEKLY", status: "DRAFT" }, createPromotion: { code: "LL-CARWASH" } });
    expect(await run(create)).toEqual(first);
  });

  it("the incentives example: M-SX-LL-0001 earns ¥1,295.56 under SX-LL's Q1 plan, final, waiting for approval", async () => {
    const example = graphqlExamples().find((e) => e.query.includes("incentives"))!;
    const { data } = await run(example);
    expect(data.accountManager.incentives).toHaveLength(1);
    const [statement] = data.accountManager.incentives;
    expect(statement).toMatchObject({ planCode: "SX-LL-2021Q1", planVersion: 1, basis: "FINAL", status: "CALCULATED", asOf: "2021-04-01", total: 1295.56 });
    // 53 × ¥20 and 87/1,108 of ¥3,000 (235.559…, ¥235.56 by largest remainder).
    expect(statement.lines.map((l: any) => [l.ruleKind, l.quantity, l.rate, l.amount])).toEqual([
      ["FIRST_ORDER", 53, 20, 1060],
      ["TEAM", 87, 3000, 235.56],
    ]);
  });

  it("the card app's example lists the story's car wash offer, nearest first", async () => {
    const nearby = graphqlExamples().find((e) => e.query.includes("promotionsNear"))!;
    const { data } = await run(nearby);
    const edges = data.promotionsNear.edges;
    expect(edges.length).toBeGreaterThan(0);
    const distances = edges.map((e: any) => e.node.distanceMeters);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(edges.some((e: any) => e.node.promotion.rule.kind === "FIXED_PRICE")).toBe(true);
  });
});
