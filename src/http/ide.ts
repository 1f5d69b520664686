/**
 * The GraphQL IDE a browser gets at /graphql: GraphiQL 3's prebuilt bundle on React 18's, read
 * from node_modules and served by this server, so it works where the internet does not reach
 * (a bank's intranet). Apollo's own landing page loads Apollo Sandbox from a CDN; server.ts
 * turns it off.
 *
 * It is answered here, before the /graphql chain, because it is a page and not an operation:
 * the trusted-document check would refuse an anonymous browser's GET in production. What the
 * page sends goes through the whole chain like any client's request.
 *
 * With development tokens (config.devTokens: no signing key configured, not production) the
 * page offers the demo callers and fills the Authorization header with their tokens; with a
 * configured key it offers none, since anyone who can open the page would get that key's tokens.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import express, { type Request, type Router } from "express";
import type { Config } from "../config.js";
import type { DemoCaller } from "../demo/callers.js";
import { demoCallersWithTokens } from "./demo-tokens.js";

/** Where the IDE's files are served: under /graphql, so a proxy that forwards the API forwards them too. */
export const IDE_ASSETS = "/graphql/ide";

/** Only this server's files; fonts and icons come inlined in graphiql.min.css as data: URLs. */
export const IDE_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The headers of a page this server serves (the IDE, the dashboard): its own files only, no caching. */
export const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  // The page carries development tokens: never kept by a cache.
  "Cache-Control": "no-store",
  "Content-Security-Policy": IDE_CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
} as const;

/** Files are named by a hash of their content, so they can be cached for good. */
const IMMUTABLE = "public, max-age=31536000, immutable";

interface Asset {
  readonly url: string;
  readonly type: string;
  readonly body: Buffer;
}

/** The README's example documents, one tab each, with the caller that may run them. */
export const IDE_TABS: readonly { readonly query: string; readonly variables?: string; readonly caller: DemoCaller["id"] }[] = [
  {
    caller: "hq",
    query: `# Shanxi's city branches ranked by new customers.
# Who you are: "Demo callers", on the left.
query BranchRanking {
  branchRanking(parentCode: "SX", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") {
    rank actual target completionRate
    branch { code name }
  }
}
`,
  },
  {
    caller: "branch-manager",
    query: `# A branch manager's dashboard: time
# progress, completion, rank.
query BranchPerformance {
  branch(code: "SX-LL") {
    name
    performance(period: "2021-Q1", asOf: "2021-02-28") {
      timeProgress
      metrics { metric actual target completionRate }
      rank(metric: NEW_CUSTOMERS)
    }
  }
}
`,
  },
  {
    caller: "marketing",
    query: `# A campaign and its 1-yuan car wash, as
# Marketing. Idempotent: run it again.
mutation CreateCampaign {
  createCampaign(input: {
    idempotencyKey: "mkt-2021-01-01-weekly-001", code: "LL-WEEKLY", name: "An activity every week",
    branchCode: "SX-LL", startsOn: "2021-01-01", endsOn: "2021-03-31", budget: 200000,
    circleCodes: ["LL-C-COMPLEX-1"], merchantCodes: ["LL-M-001"]
  }) { code status budget }
  createPromotion(input: {
    idempotencyKey: "mkt-2021-01-01-carwash-001", code: "LL-CARWASH", campaignCode: "LL-WEEKLY",
    title: "1-yuan car wash", rule: { kind: FIXED_PRICE, fixedPrice: 1, listPrice: 45 },
    validFrom: "2021-01-02", validTo: "2021-03-27",
    schedule: [{ days: [SATURDAY], start: "09:00", end: "21:00" }],
    limits: { perDay: 1, perCampaign: 4 }, budgetCap: 30000,
    appliesTo: { categories: [CAR_WASH] }
  }) { code rule { headline } appliesTo { categories } }
}
`,
  },
  {
    caller: "anonymous",
    variables: `{ "card": null }`,
    query: `# The card app's query, without a token:
# offers near a cardholder on a Saturday morning of the story.
query Nearby($card: String) {
  promotionsNear(latitude: 37.511, longitude: 111.147, radiusMeters: 2000, at: "2021-01-09T10:00:00+08:00", cardToken: $card, first: 20) {
    totalCount
    edges { cursor node {
      distanceMeters availableUntil nextAvailableAt
      merchant { code name address latitude longitude }
      promotion { code title rule { kind headline } }
      remainingForCard { perDay perWeek perCampaign }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
`,
  },
];

/**
 * Serves the IDE page to a browser's GET /graphql and its files under IDE_ASSETS. With
 * GRAPHQL_IDE off, both answer 404: the page is not there, and neither is a CDN one.
 */
export function graphqlIde(config: Config): Router {
  const router = express.Router();
  if (config.GRAPHQL_IDE === "off") {
    router.get("/graphql", (req, res, next) => (wantsPage(req) ? notFound(res) : next()));
    router.use(IDE_ASSETS, (_req, res) => notFound(res));
    return router;
  }
  const assets = loadAssets();
  const byUrl = new Map(Object.values(assets).map((a) => [a.url, a]));
  router.get("/graphql", (req, res, next) => {
    if (!wantsPage(req)) return next();
    page(config, assets).then(
      (html) => {
        res.set(PAGE_HEADERS);
        res.send(html);
      },
      next,
    );
  });
  router.use(IDE_ASSETS, (req, res) => {
    const asset = req.method === "GET" || req.method === "HEAD" ? byUrl.get(req.originalUrl.split("?")[0]) : undefined;
    if (!asset) return notFound(res);
    res.set({ "Content-Type": asset.type, "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff" });
    res.send(asset.body);
  });
  return router;
}

/** A browser navigating to /graphql (it prefers HTML), as opposed to a client sending an operation by GET. */
function wantsPage(req: Request): boolean {
  return req.accepts(["application/json", "application/graphql-response+json", "text/html"]) === "text/html";
}

function notFound(res: express.Response): void {
  res.status(404).type("text/plain").send("Not Found");
}

type Assets = ReturnType<typeof readAssets>;
let assetsRead: Assets | undefined;

/** The files, read once per process (tests start many servers). */
function loadAssets(): Assets {
  return (assetsRead ??= readAssets());
}

/** The vendor files, as their packages publish them, and ours, named by their hash. */
function readAssets() {
  const require = createRequire(import.meta.url);
  const fromPackage = (pkg: string, file: string) => readFileSync(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file));
  const asset = (name: string, type: string, body: Buffer): Asset => {
    const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
    return { url: `${IDE_ASSETS}/${hash}/${name}`, type, body };
  };
  const js = "text/javascript; charset=utf-8";
  const css = "text/css; charset=utf-8";
  return {
    react: asset("react.production.min.js", js, withoutSourceMap(fromPackage("react", "umd/react.production.min.js"))),
    reactDom: asset("react-dom.production.min.js", js, withoutSourceMap(fromPackage("react-dom", "umd/react-dom.production.min.js"))),
    graphiql: asset("graphiql.min.js", js, withoutSourceMap(fromPackage("graphiql", "graphiql.min.js"))),
    graphiqlCss: asset("graphiql.min.css", css, fromPackage("graphiql", "graphiql.min.css")),
    boot: asset("ide.js", js, Buffer.from(BOOT_SCRIPT)),
    css: asset("ide.css", css, Buffer.from(IDE_CSS)),
  };
}

/** The maps are not served: a browser with its developer tools open would ask for them in vain. */
function withoutSourceMap(body: Buffer): Buffer {
  return Buffer.from(body.toString("utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
}

/** What the page's script needs: the endpoint, the callers (with tokens in development) and the tabs. */
async function page(config: Config, assets: Assets): Promise<string> {
  const callers = (await demoCallersWithTokens(config)).map(({ caller: c, token }) => ({
    id: c.id,
    label: c.label,
    description: c.description,
    headers: headersFor(token),
  }));
  const headersOf = new Map(callers.map((c) => [c.id, c.headers]));
  const ideConfig = {
    endpoint: "/graphql",
    callers,
    tabs: IDE_TABS.map((t) => ({ query: t.query, variables: t.variables, headers: headersOf.get(t.caller) ?? "{}" })),
    defaultHeaders: callers[0]?.headers ?? "{}",
  };
  // A data block is not run, so the policy needs no inline script; `<` is escaped so no
  // string in it can close the element.
  const data = JSON.stringify(ideConfig).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Card growth platform · GraphQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assets.graphiqlCss.url}">
<link rel="stylesheet" href="${assets.css.url}">
</head>
<body>
<div id="graphiql">Loading the GraphQL IDE…</div>
<script type="application/json" id="ide-config">${data}</script>
<script src="${assets.react.url}"></script>
<script src="${assets.reactDom.url}"></script>
<script src="${assets.graphiql.url}"></script>
<script src="${assets.boot.url}"></script>
</body>
</html>
`;
}

/** GraphiQL's header editor holds JSON text. */
function headersFor(token: string | null): string {
  return token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : "{}";
}

/**
 * Runs in the browser (no build step: GraphiQL's UMD bundle exposes `GraphiQL` and its React
 * hooks as `GraphiQL.React`). The callers panel is a GraphiQL plugin, open on arrival.
 */
const BOOT_SCRIPT = `(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("ide-config").textContent);
  var h = React.createElement;

  function authorizationOf(headers) {
    try { return JSON.parse(headers).Authorization || null; } catch (e) { return undefined; }
  }

  function CallersIcon() {
    return h("svg", { viewBox: "0 0 24 24", width: 20, height: 20, fill: "none", stroke: "currentColor", strokeWidth: 1.5, "aria-hidden": "true" },
      h("circle", { cx: 12, cy: 8, r: 4 }),
      h("path", { d: "M4 21c0-4.4 3.6-8 8-8s8 3.6 8 8" }));
  }

  function CallersPanel() {
    // The headers editor (CodeMirror) of the active tab; re-rendered on each change, so the
    // caller shown as chosen follows edits and tab switches.
    var editor = GraphiQL.React.useEditorContext({ nonNull: true }).headerEditor;
    var rerender = React.useReducer(function (n) { return n + 1; }, 0)[1];
    React.useEffect(function () {
      if (!editor) return undefined;
      editor.on("change", rerender);
      return function () { editor.off("change", rerender); };
    }, [editor]);
    var current = authorizationOf(editor ? editor.getValue() : "");
    return h("div", { className: "ide-callers" },
      h("div", { className: "graphiql-doc-explorer-title" }, "Demo callers"),
      h("p", null, "Development tokens for the demo story. Choosing a caller puts its token in the Headers of this tab."),
      config.callers.map(function (caller) {
        var active = authorizationOf(caller.headers) === current;
        return h("button", {
          key: caller.id, type: "button", "data-caller": caller.id, "aria-pressed": active,
          className: "ide-caller" + (active ? " ide-caller-active" : ""),
          onClick: function () { if (editor) editor.setValue(caller.headers); }
        }, h("strong", null, caller.label), h("span", null, caller.description));
      }));
  }

  var plugins = config.callers.length ? [{ title: "Demo callers", icon: CallersIcon, content: CallersPanel }] : [];
  ReactDOM.createRoot(document.getElementById("graphiql")).render(h(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: config.endpoint }),
    defaultTabs: config.tabs,
    defaultHeaders: config.defaultHeaders,
    defaultQuery: "# Write a query, or open the example tabs above.\\n",
    defaultEditorToolsVisibility: "headers",
    // Tokens are handed out afresh with each page; old ones are not kept in the browser.
    shouldPersistHeaders: false,
    storage: GraphiQL.createLocalStorage({ namespace: "card-growth-platform" }),
    plugins: plugins,
    visiblePlugin: plugins[0]
  }));
})();
`;

/** The callers panel, in GraphiQL's own colours and spacing. */
const IDE_CSS = `html, body, #graphiql { height: 100%; margin: 0; }
.ide-callers p { color: hsla(var(--color-neutral), var(--alpha-secondary)); margin: var(--px-8) 0 var(--px-16); }
.ide-caller { display: block; width: 100%; text-align: left; margin-bottom: var(--px-8); padding: var(--px-8) var(--px-12);
  border: 1px solid hsla(var(--color-neutral), var(--alpha-background-heavy)); border-radius: var(--border-radius-4);
  background: none; color: inherit; font: inherit; cursor: pointer; }
.ide-caller:hover { background: hsla(var(--color-neutral), var(--alpha-background-light)); }
.ide-caller span { display: block; color: hsla(var(--color-neutral), var(--alpha-secondary)); font-size: var(--font-size-caption); }
.ide-caller-active { border-color: hsl(var(--color-primary)); background: hsla(var(--color-primary), var(--alpha-background-light)); }
`;
