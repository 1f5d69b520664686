/**
 * The dashboard page (issue 13): how long the unit page takes to show its tiles in Chromium on
 * localhost, and how much JavaScript it ships. On the demo bank (the story's SX-LL, its branch
 * manager, 2021-Q1 as of 2021-02-28) in a database of its own (BENCH_DATABASE_URL + `_dashboard`,
 * loaded once), against the built server in a child process in development mode (the page's demo
 * callers), Debian's Chromium driven by playwright-core as in the browser tests.
 *
 * First render: from navigation start (`performance.timeOrigin`) to the moment the page's
 * "new customers" tile holds its number, as an observer installed before the page's scripts
 * sees it (`performance.now()`), so no polling of the test driver is counted. Cold: a new browser
 * context each run, nothing cached; warm: a reload in the same context (the hashed JS and CSS
 * come from the HTTP cache, the page and its two GraphQL requests are asked again).
 */
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { openPostgres } from "../src/db/database.js";
import { loadDemo } from "../src/demo/load.js";
import { DEMO } from "../src/demo/story.js";
import { WEB_BUILD } from "../src/http/dashboard.js";
import { launchChromium } from "../test/support/browser.js";
import { fmt } from "./synthetic.js";

export interface DashboardRun {
  /** First render in milliseconds, each run. */
  cold: number[];
  warm: number[];
  files: { file: string; kind: "js" | "css"; bytes: number; gzip: number }[];
  demoRecords: string;
}

type Log = (line: string) => void;

/** The demo bank in `url`, loaded when its story branch is missing; says how many applications it holds. */
export async function ensureDemo(url: string, log: Log): Promise<string> {
  const database = await openPostgres(url, 2);
  try {
    if (await database.prisma.branch.findUnique({ where: { code: DEMO.storyBranch } })) log("dashboard: demo bank present");
    else {
      log("dashboard: loading the demo bank");
      await loadDemo(database.prisma);
    }
    return `${fmt(await database.prisma.application.count())} applications`;
  } finally {
    await database.close();
  }
}

/** The page's built files (Vite's manifest: the entry and what it imports), raw and gzipped (level 9). */
export function shippedFiles(): DashboardRun["files"] {
  const manifestFile = path.join(WEB_BUILD, ".vite", "manifest.json");
  if (!fs.existsSync(manifestFile)) throw new Error(`${manifestFile} is missing: npm run build:web`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Record<string, { file: string; css?: string[]; imports?: string[]; isEntry?: boolean }>;
  const seen = new Set<string>();
  const visit = (key: string) => {
    const entry = manifest[key];
    if (!entry || seen.has(entry.file)) return;
    seen.add(entry.file);
    for (const c of entry.css ?? []) seen.add(c);
    for (const i of entry.imports ?? []) visit(i);
  };
  for (const [key, entry] of Object.entries(manifest)) if (entry.isEntry) visit(key);
  return [...seen].map((file) => {
    const bytes = fs.readFileSync(path.join(WEB_BUILD, file));
    return { file, kind: file.endsWith(".css") ? ("css" as const) : ("js" as const), bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
}

const TILE = '[data-metric="NEW_CUSTOMERS"] [data-field="actual"]';

/** Measures `runs` cold and warm first renders (after `warmup` unmeasured ones) of the page at `baseUrl`. */
export async function measureFirstRender(baseUrl: string, runs: number, warmup: number, log: Log): Promise<Pick<DashboardRun, "cold" | "warm">> {
  const browser = await launchChromium();
  const address = new URL(`/#caller=branch-manager&period=${DEMO.period}&asOf=${DEMO.asOf}`, baseUrl).href;
  const cold: number[] = [];
  const warm: number[] = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
      try {
        // Runs before the page's own scripts, at every navigation: notes when the tile first holds a number.
        await context.addInitScript((selector: string) => {
          const w = globalThis as any;
          const check = () => {
            if (w.__tilesAt === undefined && /\d/.test(w.document.querySelector(selector)?.textContent ?? "")) w.__tilesAt = w.performance.now();
          };
          new w.MutationObserver(check).observe(w.document, { childList: true, subtree: true, characterData: true });
        }, TILE);
        const page = await context.newPage();
        const once = async (go: () => Promise<unknown>) => {
          await go();
          await page.locator(TILE).waitFor({ timeout: 30_000 });
          await page.waitForFunction(() => (globalThis as any).__tilesAt !== undefined, undefined, { timeout: 30_000 });
          return page.evaluate(() => (globalThis as any).__tilesAt as number);
        };
        const first = await once(() => page.goto(address));
        const again = await once(() => page.reload());
        if (i >= warmup) {
          cold.push(first);
          warm.push(again);
        }
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
  }
  log(`dashboard: ${runs} runs measured (${warmup} warm-up)`);
  return { cold, warm };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const ms = (v: number) => `${v.toFixed(0)} ms`;

/** The section of bench/results.md. */
export function renderDashboardSection(r: DashboardRun & { when: string; loadAverage: string; machine: string; warmup: number }): string {
  const row = (name: string, v: number[]) =>
    `| ${name} | ${v.length} | ${ms(percentile(v, 50))} | ${ms(percentile(v, 95))} | ${ms(Math.min(...v))} | ${ms(Math.max(...v))} |`;
  const total = (kind: "js" | "css", key: "bytes" | "gzip") => r.files.filter((f) => f.kind === kind).reduce((a, f) => a + f[key], 0);
  return [
    `## Dashboard: first render of the unit page, and what it ships`,
    "",
    `Measured ${r.when} on ${r.machine}; load average at the start: ${r.loadAverage} (other work on the machine skews the figures).`,
    `The demo bank (${r.demoRecords}), SX-LL's branch manager, ${DEMO.period} as of ${DEMO.asOf}, in Chromium (headless) on localhost, against`,
    "the built server in a child process on PostgreSQL. From navigation start to the new-customers tile holding its number, which",
    "takes the page, its script and style, and its two GraphQL requests (the unit, then the rest); the live subscriptions open after.",
    `${r.warmup} unmeasured runs first.`,
    "",
    "| first render | runs | p50 | p95 | min | max |",
    "|---|---|---|---|---|---|",
    row("cold: a new browser context, nothing cached", r.cold),
    row("warm: a reload, script and style from the HTTP cache", r.warm),
    "",
    "| shipped | bytes | gzip (level 9) |",
    "|---|---|---|",
    ...r.files.map((f) => `| \`${f.file}\` | ${fmt(f.bytes)} | ${fmt(f.gzip)} |`),
    `| **JavaScript** | ${fmt(total("js", "bytes"))} | **${fmt(total("js", "gzip"))}** |`,
    `| CSS | ${fmt(total("css", "bytes"))} | ${fmt(total("css", "gzip"))} |`,
    "",
    "The server sends the files as they are (no compression of its own; a proxy in front may gzip them); they are named by their",
    "content's hash and cached for a year. The JavaScript holds Preact, htm, uPlot, graphql-ws, oauth4webapi and the page.",
  ].join("\n");
}
