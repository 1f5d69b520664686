/**
 * The branch manager's dashboard: the page at `/` and its exports.
 *
 * The page's sources are in web/ (Preact + htm, uPlot for the daily series), built by Vite into
 * dist/web (`npm run build:web`, run by `npm start` and the test setup); this router serves the
 * built files and the page around them, like the GraphQL IDE (src/http/ide.ts): nothing from
 * another host, under the same content security policy. The page asks the API only through
 * trusted documents (src/dashboard/documents.ts) with the caller's own token, so it sees what
 * that caller may see and nothing more.
 *
 * Sign-in: with OIDC_ISSUER the page signs its user in at the bank's OpenID Connect provider
 * (authorization code with PKCE, web/sign-in.js) and calls the API with the access token, which
 * the API verifies like any other (JWKS_URL); the page gets the issuer, the client id and the
 * scopes, never a secret (a public client has none). Otherwise, with development tokens, it
 * offers the demo callers (src/demo/callers.ts), as the IDE does, and in production it says
 * that sign-in is not configured.
 *
 * Exports: `GET /export/<table>.csv|.xlsx?unit=&period=&asOf=&metric=&lang=` with the bearer
 * token. They run the page's own documents through Apollo (the same resolvers, guards and
 * limits as /graphql) and the page's own tables (src/dashboard/tables.ts), so a file holds the
 * numbers the screen shows. `GET /export/payroll.csv|.xlsx?plan=` is an assessment plan's
 * statements (src/dashboard/payroll.ts), paged through the same way.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ApolloServer } from "@apollo/server";
import ExcelJS from "exceljs";
import express, { type RequestHandler, type Response, type Router } from "express";
import type { Config } from "../config.js";
import { DASHBOARD_DETAILS, DASHBOARD_DOCUMENTS, DASHBOARD_PAYROLL, DASHBOARD_SUBSCRIPTIONS, DASHBOARD_UNIT } from "../dashboard/documents.js";
import { payrollTable, payrollTitle, type PayrollPage, type PayrollStatement } from "../dashboard/payroll.js";
import {
  cellNumber,
  dayBefore,
  display,
  TABLE_IDS,
  tableTitle,
  toCsv,
  unitTables,
  type DetailsData,
  type Lang,
  type Table,
  type TableId,
  type UnitData,
} from "../dashboard/tables.js";
import type { Database } from "../db/database.js";
import { PROJECT_ROOT } from "../project-root.js";
import { DEMO } from "../demo/story.js";
import { AppError } from "../errors.js";
import type { Context } from "../graphql/context.js";
import { createContext } from "../graphql/create-context.js";
import { documentHash } from "../graphql/trusted-documents.js";
import type { Authenticate, Claims } from "../modules/auth/auth.service.js";
import { authenticate, refuseInvalidToken } from "./authenticate.js";
import { demoCallersWithTokens } from "./demo-tokens.js";
import { sendError } from "./errors.js";
import { PAGE_HEADERS } from "./ide.js";

/** Where the page's built files are served. */
export const DASHBOARD_ASSETS = "/dashboard/assets";


export interface DashboardDeps {
  readonly config: Config;
  readonly database: Database;
  readonly apollo: ApolloServer<Context>;
  readonly verifyToken: Authenticate;
  /** The API's rate limit: an export costs what its documents cost. */
  readonly rateLimit: RequestHandler;
}

export const WEB_BUILD = path.join(PROJECT_ROOT, "dist", "web");

interface Built {
  readonly script: string;
  readonly styles: readonly string[];
}

/** The entry's files, from Vite's manifest; undefined when the page has not been built. */
function readBuild(): Built | undefined {
  const manifestFile = path.join(WEB_BUILD, ".vite", "manifest.json");
  if (!existsSync(manifestFile)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as Record<string, { file: string; css?: string[]; isEntry?: boolean }>;
  const entry = Object.values(manifest).find((e) => e.isEntry);
  if (!entry) return undefined;
  // Vite writes them under assets/ and the page's base is /dashboard/.
  return { script: `/dashboard/${entry.file}`, styles: (entry.css ?? []).map((c) => `/dashboard/${c}`) };
}

export function dashboard(deps: DashboardDeps): Router {
  const router = express.Router();
  const { config } = deps;
  router.get("/", (_req, res, next) => {
    const built = readBuild();
    if (!built) return sendError(res, 503, "INTERNAL_SERVER_ERROR", "The dashboard is not built: npm run build:web");
    pageHtml(config, built).then((html) => {
      res.set(PAGE_HEADERS);
      // The page talks to the provider (discovery and token endpoints) from the browser.
      if (config.OIDC_ISSUER) res.set("Content-Security-Policy", PAGE_HEADERS["Content-Security-Policy"].replace("connect-src 'self'", `connect-src 'self' ${new URL(config.OIDC_ISSUER).origin}`));
      res.send(html);
    }, next);
  });
  // Vite names the files by a hash of their content, so they can be cached for good.
  router.use(DASHBOARD_ASSETS, express.static(path.join(WEB_BUILD, "assets"), { immutable: true, maxAge: "365d", index: false, fallthrough: false }));
  router.get(
    "/export/:file",
    authenticate(deps.verifyToken),
    deps.rateLimit,
    refuseInvalidToken,
    (req, res, next) => {
      exportTable(deps, String(req.params.file ?? ""), req.query as Record<string, unknown>, res.locals.claims as Claims | null, res).catch(next);
    },
  );
  return router;
}

const hashes = (documents: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(documents).map(([name, doc]) => [name, `sha256:${documentHash(doc)}`]));

/** The page's shell: its built files and what its script needs (documents' hashes, callers). */
async function pageHtml(config: Config, built: Built): Promise<string> {
  // The page is for the staff who follow figures: not marketing, the acquirer nor the card app.
  const callers = (await demoCallersWithTokens(config))
    .filter(({ caller: c, token }) => token !== null && c.claims && ["HQ", "BRANCH_MANAGER", "ACCOUNT_MANAGER"].includes(c.claims.role))
    .map(({ caller: c, token }) => ({
      id: c.id,
      label: c.label,
      description: c.description,
      role: c.claims!.role,
      sub: c.claims!.sub,
      unit: c.claims!.unit ?? null,
      token,
    }));
  const pageConfig = {
    endpoint: "/graphql",
    documents: hashes(DASHBOARD_DOCUMENTS),
    // Sent over WebSocket on the same path, by hash too.
    subscriptions: hashes(DASHBOARD_SUBSCRIPTIONS),
    callers,
    signIn: config.OIDC_ISSUER
      ? { issuer: config.OIDC_ISSUER, clientId: config.OIDC_CLIENT_ID, scope: config.OIDC_SCOPE, resource: config.JWT_AUDIENCE ?? null }
      : null,
    // The demo story's quarter in development; elsewhere the page starts on today.
    defaults: config.devTokens ? { period: DEMO.period, asOf: DEMO.asOf } : null,
  };
  const data = JSON.stringify(pageConfig).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>业绩看板 · Dashboard</title>
<link rel="icon" href="data:,">
${built.styles.map((s) => `<link rel="stylesheet" href="${s}">`).join("\n")}
</head>
<body>
<div id="app">加载中… Loading…</div>
<script type="application/json" id="dashboard-config">${data}</script>
<script type="module" src="${built.script}"></script>
</body>
</html>
`;
}

const FILE = /^([a-z]+)\.(csv|xlsx)$/;
const METRIC_ARG = /^(APPLICATIONS|APPROVALS|NEW_CUSTOMERS|ACTIVATIONS)$/;

/** One table of a unit's screen as a file, computed by the page's documents as the caller. */
async function exportTable(deps: DashboardDeps, file: string, query: Record<string, unknown>, claims: Claims | null, res: Response): Promise<void> {
  const match = FILE.exec(file);
  const table = match?.[1] as TableId | "payroll" | undefined;
  if (!match || !table || !(TABLE_IDS.includes(table as TableId) || table === "payroll")) {
    return sendError(res, 404, "NOT_FOUND", `Unknown export: one of ${[...TABLE_IDS, "payroll"].map((t) => `${t}.csv`).join(", ")} (or .xlsx)`);
  }
  if (table === "payroll") return exportPayroll(deps, match[2] as "csv" | "xlsx", query, claims, res);
  const str = (name: string) => queryString(query, name);
  const unit = str("unit");
  const period = str("period");
  const asOf = str("asOf");
  const metric = str("metric") ?? "NEW_CUSTOMERS";
  const lang: Lang = str("lang") === "en" ? "en" : "zh";
  if (!unit || !period || !asOf || !/^\d{4}-\d{2}-\d{2}$/.test(asOf) || !METRIC_ARG.test(metric)) {
    return sendError(res, 400, "BAD_USER_INPUT", "unit, period and asOf (YYYY-MM-DD) are required; metric is one of APPLICATIONS, APPROVALS, NEW_CUSTOMERS, ACTIVATIONS");
  }
  if (!claims) return sendError(res, 401, "UNAUTHENTICATED", "An export needs a bearer token");
  const context = createContext(deps.database.prisma, deps.config, claims);
  try {
    await context.viewer();
  } catch (err) {
    if (err instanceof AppError) return sendError(res, 401, err.code, err.message);
    throw err;
  }
  const common = { period, asOf, previous: dayBefore(asOf), metric };
  const unitAnswer = await run<UnitData>(deps, context, DASHBOARD_UNIT, { ...common, code: unit });
  if (!unitAnswer.data?.branch) return refuse(res, unitAnswer.errors);
  const branch = unitAnswer.data.branch;
  let details: DetailsData | null = null;
  if (table !== "metrics" && table !== "children") {
    // The answer is asked in full, as the page asks it; only the table asked for must be there.
    const answer = await run<DetailsData>(deps, context, DASHBOARD_DETAILS, {
      ...common,
      code: unit,
      parent: branch.parent?.code ?? "",
      hasParent: branch.parent !== null,
    });
    details = answer.data ?? null;
    const key = table === "circles" ? "businessCircles" : table;
    if (!details || (details as unknown as Record<string, unknown>)[key] === null) return refuse(res, answer.errors);
  } else if (table === "children" && unitAnswer.data.children === null) {
    return refuse(res, unitAnswer.errors);
  }
  const built = unitTables(unitAnswer.data, details)[table];
  const title = tableTitle(table, branch.name, period, asOf, lang);
  await sendTable(res, built, title, lang, `${unit}-${table}-${period}-${asOf}.${match[2]}`);
}

/** A table as a download, CSV or XLSX by the file name's extension; never cached (it holds figures). */
async function sendTable(res: Response, table: Table, title: string, lang: Lang, filename: string): Promise<void> {
  res.set({ "Cache-Control": "no-store", "Content-Disposition": `attachment; filename="${filename}"`, "X-Content-Type-Options": "nosniff" });
  if (filename.endsWith(".csv")) res.type("text/csv; charset=utf-8").send(toCsv(table, title, lang));
  else res.type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").send(await toXlsx(table, title, lang));
}

/** Query arguments as strings; anything else (arrays, objects) as absent. */
function queryString(query: Record<string, unknown>, name: string): string | undefined {
  return typeof query[name] === "string" ? (query[name] as string) : undefined;
}

/**
 * `GET /export/payroll.csv|.xlsx?plan=CODE&lang=`: every statement of a plan, read page by page
 * through DashboardPayroll as the caller (HQ, or a branch manager who approves the plan's
 * statements), so the file holds what the API answers and nothing the caller could not ask.
 */
async function exportPayroll(deps: DashboardDeps, format: "csv" | "xlsx", query: Record<string, unknown>, claims: Claims | null, res: Response): Promise<void> {
  const plan = queryString(query, "plan");
  const lang: Lang = queryString(query, "lang") === "en" ? "en" : "zh";
  if (!plan) return sendError(res, 400, "BAD_USER_INPUT", "plan (the assessment plan's code) is required");
  if (!claims) return sendError(res, 401, "UNAUTHENTICATED", "An export needs a bearer token");
  const context = createContext(deps.database.prisma, deps.config, claims);
  const statements: PayrollStatement[] = [];
  let after: string | null = null;
  let head: NonNullable<PayrollPage["plan"]> | null = null;
  for (;;) {
    const answer: Answer<PayrollPage> = await run<PayrollPage>(deps, context, DASHBOARD_PAYROLL, { plan, after });
    const page = answer.data?.plan;
    if (!page?.statements) {
      if (!answer.errors && answer.data) return sendError(res, 404, "NOT_FOUND", `No assessment plan "${plan}"`);
      return refuse(res, answer.errors);
    }
    head ??= page;
    statements.push(...page.statements.edges.map((e) => e.node));
    if (!page.statements.pageInfo.hasNextPage) break;
    after = page.statements.pageInfo.endCursor;
  }
  await sendTable(res, payrollTable(statements), payrollTitle(head!, lang), lang, `${plan}-payroll.${format}`);
}

interface Answer<T> {
  data?: T | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** A document through Apollo, as /graphql would run it for this caller. */
async function run<T>(deps: DashboardDeps, context: Context, query: string, variables: Record<string, unknown>): Promise<Answer<T>> {
  const response = await deps.apollo.executeOperation<T & Record<string, unknown>>({ query, variables }, { contextValue: context });
  if (response.body.kind !== "single") throw new Error("unexpected incremental response");
  return response.body.singleResult as Answer<T>;
}

/** The API's refusal, with its code and HTTP status. */
function refuse(res: Response, errors: Answer<unknown>["errors"]): void {
  const first = errors?.[0];
  const code = typeof first?.extensions?.code === "string" ? first.extensions.code : "INTERNAL_SERVER_ERROR";
  const status = { FORBIDDEN: 403, UNAUTHENTICATED: 401, NOT_FOUND: 404, BAD_USER_INPUT: 400 }[code] ?? 500;
  sendError(res, status, code, first?.message ?? "The table could not be computed");
}

/** Excel's number formats for the column kinds: the same rounding and look as the screen. */
const NUMBER_FORMATS: Record<string, string> = { count: "#,##0", rank: "0", money: "#,##0.00", rate: "0.00%", progress: "0.0%", change: "+0;-0;0" };

/**
 * The table as an XLSX workbook: the title on the first row, the header on the second, numbers
 * as numbers (formatted as on screen) so they can be summed and charted.
 */
export async function toXlsx(table: Table, title: string, lang: Lang): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = "card-growth-platform";
  const sheet = workbook.addWorksheet(table.id);
  sheet.addRow([title]).font = { bold: true, size: 13 };
  sheet.mergeCells(1, 1, 1, table.columns.length);
  sheet.addRow(table.columns.map((c) => c.label[lang])).font = { bold: true };
  for (const row of table.rows) {
    sheet.addRow(
      table.columns.map((c) => {
        const value = row[c.key] ?? null;
        if (typeof value === "number" && c.kind !== "text") return cellNumber(c.kind, value);
        return value === null ? null : display(c, value, lang);
      }),
    );
  }
  table.columns.forEach((c, i) => {
    const column = sheet.getColumn(i + 1);
    column.width = c.kind === "text" ? 18 : 14;
    const format = NUMBER_FORMATS[c.kind];
    if (format) column.eachCell((cell, rowNumber) => {
      if (rowNumber > 2) cell.numFmt = format;
    });
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
