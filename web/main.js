// The branch manager's dashboard (served at / by src/http/dashboard.ts). Every number on it comes
// from the API, asked with the signed-in caller's token through the trusted documents of
// src/dashboard/documents.ts: two requests per screen (the unit, then its peers, staff,
// campaigns and circles), whatever the number of units. Tables are built by
// src/dashboard/tables.ts, the same code the exports use. Once shown, a unit's screen follows
// its figures, rankings and campaigns live (src/dashboard/live.ts, web/live.js): each event
// replaces its part of the answers and the screen is built again.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "htm/preact";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./dashboard.css";
import {
  ancestorsOf,
  dayBefore,
  display,
  format,
  managersTable,
  METRIC_LABELS,
  METRICS,
  NO_TARGET,
  pace,
  PACE_LABELS,
  TABLE_TITLES,
  unitTables,
} from "../src/dashboard/tables.ts";
import { EARNINGS_TEXT, estimatedEarnings, teamStatus } from "../src/dashboard/earnings.ts";
import { liveFollows } from "../src/dashboard/live.ts";
import { TEXT } from "./i18n.js";
import { connectLive, followLive } from "./live.js";
import { currentCaller, signOut, startSignIn } from "./sign-in.js";

/**
 * @typedef {import("../src/dashboard/tables.ts").UnitData} UnitData
 * @typedef {import("../src/dashboard/tables.ts").DetailsData} DetailsData
 * @typedef {import("../src/dashboard/tables.ts").Metric} Metric
 * @typedef {{ id: string, label: string, role: string, sub: string, unit: string | null, token: string }} Caller
 * @typedef {{ unit: string | null, period: string, asOf: string, metric: Metric }} Query
 * @typedef {{ kind: "manager", data: any } | { kind: "unit", unit: UnitData, details: DetailsData | null, detailsError: ApiError | null }} Loaded
 * @typedef {{ state: "loading" } | { state: "error", error: ApiError } | ({ state: "ready", load: number } & Loaded)} Screen
 * @typedef {{ state: string, at: Date | null, error: string | null }} Live
 * @typedef {{ caller: Caller | null, error?: Error }} Session
 */

/** What the server put in the page (src/http/dashboard.ts pageHtml). */
const CONFIG = JSON.parse(document.getElementById("dashboard-config")?.textContent ?? "null");

/** The screen's address: unit, period, as-of date and ranking metric, in the fragment (a reload keeps them). */
function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return Object.fromEntries([...params].filter(([, v]) => v));
}
function writeHash(state) {
  const params = new URLSearchParams();
  for (const key of ["caller", "unit", "period", "asOf", "metric"]) if (state[key]) params.set(key, state[key]);
  history.replaceState(null, "", `#${params}`);
}

function today() {
  return new Date().toISOString().slice(0, 10);
}
function quarterOf(date) {
  return `${date.slice(0, 4)}-Q${Math.floor((Number(date.slice(5, 7)) - 1) / 3) + 1}`;
}

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** A trusted document by its hash, as the caller. Errors on some fields leave the rest of the answer usable. */
async function gql(caller, operation, variables) {
  const res = await fetch(CONFIG.endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${caller.token}` },
    body: JSON.stringify({ documentId: CONFIG.documents[operation], variables }),
  });
  const body = await res.json();
  if (!body.data) {
    const first = body.errors?.[0];
    throw new ApiError(first?.extensions?.code ?? String(res.status), first?.message ?? res.statusText);
  }
  return body;
}

/**
 * Everything one screen shows: at most two requests.
 * @param {Caller} caller
 * @param {Query} query
 * @returns {Promise<Loaded>}
 */
async function loadScreen(caller, { unit, period, asOf, metric }) {
  const common = { period, asOf, metric };
  if (caller.role === "ACCOUNT_MANAGER") {
    const { data } = await gql(caller, "DashboardManager", { ...common, code: caller.sub, unit: caller.unit });
    return { kind: "manager", data };
  }
  // A unit's own manager starts at their unit; HQ at the top of the tree.
  let code = unit ?? caller.unit;
  if (!code) {
    const roots = await gql(caller, "DashboardRoots", {});
    code = roots.data.branches.edges[0]?.node.code;
  }
  const previous = dayBefore(asOf);
  const unitAnswer = await gql(caller, "DashboardUnit", { ...common, previous, code });
  const branch = unitAnswer.data.branch;
  if (!branch) {
    const first = unitAnswer.errors?.[0];
    throw new ApiError(first?.extensions?.code ?? "NOT_FOUND", first?.message ?? "");
  }
  // The unit's own figures stand even if the rest is refused: the tables then say so.
  const details = await gql(caller, "DashboardDetails", {
    ...common,
    previous,
    code,
    parent: branch.parent?.code ?? "",
    hasParent: branch.parent !== null,
  }).then(
    (answer) => ({ data: answer.data, error: null }),
    (error) => ({ data: null, error }),
  );
  return { kind: "unit", unit: unitAnswer.data, details: details.data, detailsError: details.error };
}

/**
 * The page. `session` is the OpenID Connect sign-in's outcome when the server configured one
 * (`{ caller }`, `{ caller: null }` or `{ error }`); without it the demo callers are offered.
 */
function App({ session }) {
  const initial = readHash();
  const oidc = CONFIG.signIn ?? null;
  const [lang, setLang] = useState(localStorage.getItem("dashboard-lang") === "en" ? "en" : "zh");
  const [callerId, setCallerId] = useState(initial.caller ?? CONFIG.callers.find((c) => c.role === "BRANCH_MANAGER")?.id ?? CONFIG.callers[0]?.id);
  const defaults = CONFIG.defaults ?? { period: quarterOf(today()), asOf: today() };
  const [query, setQuery] = useState(/** @type {Query} */ ({
    unit: initial.unit ?? null,
    period: initial.period ?? defaults.period,
    asOf: initial.asOf ?? defaults.asOf,
    metric: METRICS.find((m) => m === initial.metric) ?? "NEW_CUSTOMERS",
  }));
  const [screen, setScreen] = useState(/** @type {Screen} */ ({ state: "loading" }));
  const [live, setLive] = useState(/** @type {Live} */ ({ state: "connecting", at: null, error: null }));
  const client = useRef(/** @type {import("graphql-ws").Client | null} */ (null));
  const loads = useRef(0);
  const t = TEXT[lang === "en" ? "en" : "zh"];
  const caller = oidc ? (session?.caller ?? null) : CONFIG.callers.find((c) => c.id === callerId);
  const signInAgain = () => {
    signOut();
    startSignIn(oidc);
  };

  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.title = t.title;
    localStorage.setItem("dashboard-lang", lang);
  }, [lang]);

  // One live connection per signed-in caller, whatever the screen.
  useEffect(() => {
    if (!caller) return undefined;
    let active = true;
    setLive({ state: "connecting", at: null, error: null });
    const connection = connectLive(CONFIG, caller, (state) => active && setLive((l) => ({ ...l, state })));
    client.current = connection;
    return () => {
      active = false;
      connection.dispose();
      client.current = null;
    };
  }, [caller?.token]);

  useEffect(() => {
    if (!caller) return;
    writeHash({ caller: oidc ? null : callerId, ...query });
    let current = true;
    setScreen({ state: "loading" });
    loadScreen(caller, query).then(
      (result) => {
        if (!current) return;
        setScreen({ state: "ready", load: ++loads.current, ...result });
        setLive((l) => ({ ...l, at: new Date(), error: null }));
      },
      (error) => current && setScreen({ state: "error", error }),
    );
    return () => {
      current = false;
    };
  }, [caller?.token, query.unit, query.period, query.asOf, query.metric]);

  // A unit's screen, once shown, follows what it shows: each event replaces its part of the answers.
  useEffect(() => {
    const connection = client.current;
    if (screen.state !== "ready" || screen.kind !== "unit" || !connection) return undefined;
    const load = screen.load;
    const follows = liveFollows({ unit: screen.unit, details: screen.details }, { ...query, previous: dayBefore(query.asOf) });
    const stops = follows.map((follow) =>
      followLive(
        connection,
        CONFIG,
        follow,
        (data) => {
          setScreen((s) => (s.state === "ready" && s.kind === "unit" && s.load === load ? { ...s, ...follow.apply({ unit: s.unit, details: s.details }, data) } : s));
          setLive((l) => ({ ...l, at: new Date() }));
        },
        (error) => setLive((l) => ({ ...l, error: error?.extensions?.code ?? "ERROR" })),
      ),
    );
    return () => stops.forEach((stop) => stop());
  }, [screen.state === "ready" ? screen.load : 0]);

  const go = (unit) => setQuery({ ...query, unit });
  const pickCaller = (id) => {
    setCallerId(id);
    setQuery({ ...query, unit: null });
  };

  return html`
    <header class="top">
      <h1>${t.title}</h1>
      <button type="button" class="lang" data-action="lang" onClick=${() => setLang(lang === "zh" ? "en" : "zh")}>${t.lang}</button>
    </header>
    ${caller
      ? html`
          <${Controls} t=${t} lang=${lang} callers=${CONFIG.callers} caller=${caller} oidc=${oidc} onSignOut=${() => { signOut(); location.reload(); }} callerId=${callerId} onCaller=${pickCaller} query=${query} onQuery=${setQuery} />
          <main>${screen.state === "loading"
            ? html`<p class="status" role="status">${t.loading}</p>`
            : screen.state === "error" && screen.error.code === "UNAUTHENTICATED"
              ? html`<div class="status error" role="alert" data-error="UNAUTHENTICATED"><p><strong>${t.tokenRefused}</strong> ${screen.error.message}</p>
                  ${oidc ? html`<button type="button" data-action="sign-in" onClick=${signInAgain}>${t.signInAgain}</button>` : ""}</div>`
            : screen.state === "error"
              ? html`<p class="status error" role="alert" data-error=${screen.error.code}>${screen.error.code === "FORBIDDEN" ? t.forbidden : t.error}: ${screen.error.message}</p>`
              : screen.kind === "manager"
                ? html`<${ManagerScreen} t=${t} lang=${lang} data=${screen.data} query=${query} caller=${caller} />`
                : html`<${UnitScreen} t=${t} lang=${lang} live=${live} unit=${screen.unit} details=${screen.details} detailsError=${screen.detailsError} query=${query} caller=${caller} onGo=${go} />`}
          </main>
        `
      : oidc
        ? html`<main><div class="status" data-sign-in="required">
            ${session?.error ? html`<p role="alert" data-error="SIGN_IN_FAILED"><strong>${t.signInFailed}</strong> ${session.error.message}</p>` : html`<p><strong>${t.signInRequired}</strong> ${t.signInHow}</p>`}
            <button type="button" class="primary" data-action="sign-in" onClick=${() => startSignIn(oidc)}>${t.signIn}</button>
          </div></main>`
        : html`<main><p class="status" data-sign-in="required"><strong>${t.signInRequired}</strong> ${t.signInNotConfigured}</p></main>`}
  `;
}

function Controls({ t, lang, callers, caller, oidc, onSignOut, callerId, onCaller, query, onQuery }) {
  const [period, setPeriod] = useState(query.period);
  const [asOf, setAsOf] = useState(query.asOf);
  useEffect(() => {
    setPeriod(query.period);
    setAsOf(query.asOf);
  }, [query.period, query.asOf]);
  const submit = (e) => {
    e.preventDefault();
    onQuery({ ...query, period: period.trim(), asOf });
  };
  return html`
    <form class="controls" onSubmit=${submit}>
      ${oidc
        ? html`<p class="signed-in">${t.caller} <strong data-signed-in=${caller.sub}>${caller.label}</strong>
            <button type="button" data-action="sign-out" onClick=${onSignOut}>${t.signOut}</button></p>`
        : html`<label>${t.caller}
            <select data-control="caller" value=${callerId} onChange=${(e) => onCaller(e.currentTarget.value)}>
              ${callers.map((c) => html`<option value=${c.id}>${c.label}</option>`)}
            </select>
          </label>`}
      <label>${t.period}
        <input data-control="period" value=${period} pattern="\\d{4}-(Q[1-4]|\\d{2}|W\\d{2})" title=${t.periodHint} size="9" onInput=${(e) => setPeriod(e.currentTarget.value)} />
      </label>
      <label>${t.asOf}
        <input data-control="asOf" type="date" value=${asOf} onInput=${(e) => setAsOf(e.currentTarget.value)} />
      </label>
      <label>${t.metric}
        <select data-control="metric" value=${query.metric} onChange=${(e) => onQuery({ ...query, metric: e.currentTarget.value })}>
          ${METRICS.map((m) => html`<option value=${m}>${METRIC_LABELS[m][lang]}</option>`)}
        </select>
      </label>
      <button type="submit" data-action="show">${t.show}</button>
    </form>
  `;
}

/** Breadcrumbs: the units above, links from the caller's own unit down (above it there is nothing to see). */
function Breadcrumbs({ branch, caller, onGo }) {
  const chain = [...ancestorsOf(branch), { code: branch.code, name: branch.name }];
  const from = caller.unit ? chain.findIndex((u) => u.code === caller.unit) : 0;
  return html`
    <nav class="crumbs" aria-label="breadcrumbs">
      ${chain.map((u, i) =>
        html`${i > 0 ? html`<span aria-hidden="true"> › </span>` : ""}${i === chain.length - 1
          ? html`<strong aria-current="page" data-crumb=${u.code}>${u.name}</strong>`
          : from >= 0 && i >= from
            ? html`<a href="#" data-crumb=${u.code} onClick=${(e) => { e.preventDefault(); onGo(u.code); }}>${u.name}</a>`
            : html`<span data-crumb=${u.code}>${u.name}</span>`}`,
      )}
    </nav>
  `;
}

function UnitScreen({ t, lang, live, unit, details, detailsError, query, caller, onGo }) {
  const branch = unit.branch;
  const performance = branch.performance;
  const tables = unitTables(unit, details);
  const focus = performance.metrics.find((m) => m.metric === query.metric);
  return html`
    <${Breadcrumbs} branch=${branch} caller=${caller} onGo=${onGo} />
    <h2 data-unit=${branch.code}>${branch.name} <small>${performance.period} · ${t.asOf} ${performance.asOf}</small></h2>
    <${LiveStatus} t=${t} lang=${lang} live=${live} />
    <${Tiles} t=${t} lang=${lang} performance=${performance} />
    <div class="pair">
      <${Series} t=${t} performance=${performance} target=${focus?.target ?? null} />
      <${Funnel} t=${t} lang=${lang} metrics=${performance.metrics} />
    </div>
    ${branch.parent ? html`<${TableView} t=${t} lang=${lang} table=${tables.peers} query=${query} caller=${caller} unitCode=${branch.code} highlight=${branch.code} />` : ""}
    ${detailsError ? html`<p class="status error" role="alert" data-error=${detailsError.code}>${t.error}: ${detailsError.message}</p>` : ""}
    <${TeamBonus} lang=${lang} statements=${branch.incentives} />
    <${TableView} t=${t} lang=${lang} table=${tables.children} query=${query} caller=${caller} unitCode=${branch.code} onRow=${onGo} hint=${t.drill} />
    <${TableView} t=${t} lang=${lang} table=${tables.managers} query=${query} caller=${caller} unitCode=${branch.code} />
    <${TableView} t=${t} lang=${lang} table=${tables.campaigns} query=${query} caller=${caller} unitCode=${branch.code} />
    <${TableView} t=${t} lang=${lang} table=${tables.circles} query=${query} caller=${caller} unitCode=${branch.code} />
  `;
}

/** An account manager sees their own figures and the manager ranking of their unit, nothing else. */
function ManagerScreen({ t, lang, data, query }) {
  const manager = data.accountManager;
  if (!manager) return html`<p class="status error" data-error="FORBIDDEN">${t.forbidden}</p>`;
  const performance = manager.performance;
  const focus = performance.metrics.find((m) => m.metric === query.metric);
  return html`
    <h2 data-manager=${manager.code}>${t.myFigures} · ${manager.name} <small>${manager.branch.name} · ${performance.period} · ${t.asOf} ${performance.asOf}</small></h2>
    <${Tiles} t=${t} lang=${lang} performance=${performance} />
    <${Earnings} lang=${lang} statements=${manager.incentives} />
    <div class="pair">
      <${Series} t=${t} performance=${performance} target=${focus?.target ?? null} />
      <${Funnel} t=${t} lang=${lang} metrics=${performance.metrics} />
    </div>
    <${TableView} t=${t} lang=${lang} table=${managersTable(data.managers)} highlight=${manager.code} />
  `;
}

/** An account manager's earnings so far under the period's assessment plans (their statements' totals). */
function Earnings({ lang, statements }) {
  const e = estimatedEarnings(statements);
  if (!e) return "";
  const words = EARNINGS_TEXT[lang];
  return html`
    <section class="earnings" aria-label=${words.estimated} data-earnings=${e.total}>
      <h3>${words.estimated}</h3>
      <p class="big">¥<span data-field="earnings">${format("money", e.total)}</span></p>
      <p>${e.plans.join(", ")} · ${e.final ? words.final : words.provisional} · <span data-field="earningsAsOf">${e.asOf}</span></p>
    </section>
  `;
}

/** A unit's team-bonus status: the pool its team earned, or the penalty, per plan. */
function TeamBonus({ lang, statements }) {
  if (statements === undefined || statements === null) return "";
  const words = EARNINGS_TEXT[lang];
  const status = teamStatus(statements);
  return html`
    <section class="team-bonus" aria-label=${words.team} data-team-bonus=${status.length}>
      <h3>${words.team}</h3>
      ${status.length === 0
        ? html`<p data-field="team-none">${words.noTeam}</p>`
        : html`<ul>${status.map(
            (s) => html`<li data-team=${s.kind} data-plan=${s.planCode}>
              ${s.planCode} · ${METRIC_LABELS[s.metric]?.[lang] ?? s.metric} · ${s.kind === "TEAM" ? words.reached : words.penalty}
              ¥<span data-field="team-amount">${format("money", Math.abs(s.amount))}</span> · ${s.asOf}
            </li>`,
          )}</ul>`}
    </section>
  `;
}

/** Whether the screen is following the figures, and when it last heard from the server. */
function LiveStatus({ t, lang, live }) {
  const time = live.at ? live.at.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : "—";
  return html`
    <p class=${`live ${live.state}`} role="status" data-live=${live.state}>
      <span class="dot" aria-hidden="true"></span>${t.live[live.state]} · ${t.updatedAt}
      <time data-field="updated" datetime=${live.at?.toISOString()}>${time}</time>
      ${live.error ? html` · <span data-live-error=${live.error}>${t.livePartial}</span>` : ""}
    </p>
  `;
}

function Tiles({ t, lang, performance }) {
  const tp = performance.timeProgress;
  return html`
    <section class="tiles" aria-label=${t.completion}>
      ${performance.metrics.map((m) => {
        const p = pace(m.completionRate, tp);
        const width = Math.min(100, (m.completionRate ?? 0) * 100);
        return html`
          <article class=${`tile ${p ?? "none"}`} data-metric=${m.metric}>
            <h3>${METRIC_LABELS[m.metric][lang]}</h3>
            <p class="big"><span data-field="actual">${format("count", m.actual)}</span> / <span data-field="target">${format("count", m.target)}</span></p>
            <div class="bar" aria-hidden="true"><div class="fill" style=${{ width: `${width}%` }}></div><div class="mark" style=${{ left: `${tp * 100}%` }}></div></div>
            <dl>
              <dt>${t.completion}</dt><dd data-field="completionRate">${format("rate", m.completionRate)}</dd>
              <dt>${t.timeProgress}</dt><dd data-field="timeProgress">${format("progress", tp)}</dd>
            </dl>
            <p class="pace" data-field="pace">${p ? PACE_LABELS[p][lang] : NO_TARGET[lang]}</p>
          </article>
        `;
      })}
      <article class="tile rank" data-metric="rank">
        <h3>${t.rank}</h3>
        <p class="big" data-field="rank">${performance.rank ?? "—"}</p>
      </article>
    </section>
  `;
}

/** The cumulative daily series of the ranking metric against the straight target line of the period. */
function Series({ t, performance, target }) {
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => {
    const points = performance.series;
    const chart = ref.current;
    if (!chart || points.length === 0) return undefined;
    // Time progress is the share of the period's days elapsed: the series' days over it are the period's.
    const days = Math.max(points.length, Math.round(points.length / (performance.timeProgress || 1)));
    const start = Date.parse(`${points[0].start}T00:00:00Z`) / 1000;
    const xs = Array.from({ length: days }, (_, i) => start + i * 86400);
    const actual = xs.map((_, i) => (i < points.length ? points[i].cumulative : null));
    const line = xs.map((_, i) => (target === null ? null : Math.round((target * (i + 1)) / days)));
    const plot = new uPlot(
      {
        width: Math.min(640, chart.clientWidth || 640),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        series: [{}, { label: t.cumulative, stroke: "#1f6feb", width: 2 }, { label: t.paceLine, stroke: "#b35900", dash: [6, 4], width: 1.5 }],
        axes: [{}, { size: 60 }],
      },
      [xs, actual, line],
      chart,
    );
    return () => plot.destroy();
  }, [performance, target, t]);
  // The chart is a picture of the tiles' numbers for a screen reader: its title says what it plots.
  return html`<section class="panel"><h3 id="series-title">${t.series}</h3><div ref=${ref} class="chart" data-chart="series" role="img" aria-labelledby="series-title"></div></section>`;
}

function Funnel({ t, lang, metrics }) {
  const top = Math.max(1, ...metrics.map((m) => m.actual));
  return html`
    <section class="panel funnel"><h3>${t.funnel}</h3>
      ${METRICS.map((metric, i) => {
        const m = metrics.find((x) => x.metric === metric);
        const before = i > 0 ? metrics.find((x) => x.metric === METRICS[i - 1]) : null;
        return html`
          <div class="step" data-funnel=${metric}>
            <span class="label">${METRIC_LABELS[metric][lang]}</span>
            <span class="track"><span class="fill" style=${{ width: `${((m?.actual ?? 0) / top) * 100}%` }}></span></span>
            <span class="value">${format("count", m?.actual ?? 0)}${before && before.actual > 0 ? html` <small>(${format("rate", (m?.actual ?? 0) / before.actual)})</small>` : ""}</span>
          </div>
        `;
      })}
    </section>
  `;
}

/** Downloads an export through its authenticated URL (the same file a script gets). */
async function download(caller, table, fmt, query, unitCode, lang) {
  const params = new URLSearchParams({ unit: unitCode, period: query.period, asOf: query.asOf, metric: query.metric, lang });
  const res = await fetch(`/export/${table}.${fmt}?${params}`, { headers: { authorization: `Bearer ${caller.token}` } });
  if (!res.ok) throw new Error(`${res.status}`);
  const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? `${table}.${fmt}`;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function TableView({ t, lang, table, query, caller, unitCode, onRow, hint, highlight }) {
  const exportable = caller && unitCode && caller.role !== "ACCOUNT_MANAGER";
  return html`
    <section class="panel" data-table=${table.id}>
      <header class="table-head">
        <h3>${TABLE_TITLES[table.id][lang]}</h3>
        ${hint && table.rows.length ? html`<small>${hint}</small>` : ""}
        ${exportable
          ? html`<span class="exports">
              <button type="button" data-export="csv" onClick=${() => download(caller, table.id, "csv", query, unitCode, lang)}>${t.exportCsv}</button>
              <button type="button" data-export="xlsx" onClick=${() => download(caller, table.id, "xlsx", query, unitCode, lang)}>${t.exportXlsx}</button>
            </span>`
          : ""}
      </header>
      ${table.rows.length === 0
        ? html`<p class="empty">${t.none}</p>`
        : html`
          <div class="scroll" tabindex="0" role="region" aria-label=${TABLE_TITLES[table.id][lang]}><table>
            <thead><tr>${table.columns.map((c) => html`<th scope="col" class=${c.kind}>${c.label[lang]}</th>`)}</tr></thead>
            <tbody>
              ${table.rows.map(
                (row) => html`
                  <tr data-code=${row.code} class=${row.code === highlight ? "me" : ""}>
                    ${table.columns.map((c) => {
                      const text = display(c, row[c.key] ?? null, lang);
                      const cls = `${c.kind}${c.kind === "change" && typeof row[c.key] === "number" ? (row[c.key] > 0 ? " up" : row[c.key] < 0 ? " down" : "") : ""}`;
                      return c.key === "name" && onRow
                        ? html`<td class=${cls} data-key=${c.key}><a href="#" data-drill=${row.code} onClick=${(e) => { e.preventDefault(); onRow(row.code); }}>${text}</a></td>`
                        : html`<td class=${cls} data-key=${c.key}>${text}</td>`;
                    })}
                  </tr>
                `,
              )}
            </tbody>
          </table></div>
        `}
    </section>
  `;
}

/** Signs in first when the server configured a provider (back from it, the code is exchanged here), then shows the page. */
async function boot() {
  let session;
  if (CONFIG.signIn) {
    session = await currentCaller(CONFIG.signIn).then(
      (caller) => ({ caller }),
      (error) => ({ caller: null, error }),
    );
  }
  const root = /** @type {HTMLElement} */ (document.getElementById("app"));
  root.textContent = ""; // the "Loading…" placeholder the server's page holds until the script runs
  render(html`<${App} session=${session} />`, root);
}
boot();
