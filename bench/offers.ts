/**
 * The card app's path at scale (issue 15): `promotionsNear` on the live-offer index over HTTP
 * and its own SQL through node-postgres, in the densest city centre and in a sparse area, at
 * 1 and 8 connections; then redemptions over HTTP, on distinct cards and on one hot promotion
 * with a small budget (1,000 attempts at once).
 *
 *   node dist/bench/offers.js [--merchants N] [--promotions N] [--duration S] [--warmup S]
 *                             [--concurrency 1,8] [--pool N] [--rebuild] [--out FILE]
 *                             [--redemptions-only] [--nearby-only] [--profile-dir DIR]
 *
 * Sizes default to 100,000 merchants and 10,000 promotions (circles and campaigns in the same
 * proportions as bench/promotions.ts). BENCH_OFFERS_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/cardgrowth_bench_offers) names the database; a small
 * synthetic bank (10,000 applications) gives the org the merchants hang on. Figures go to
 * bench/results.md under `offers:merchants=N`. `--redemptions-only` skips the promotionsNear rows
 * and the CPU profile and writes nothing (it prints the redemption rows): for iterating on the
 * redemption path. `--nearby-only` skips the redemption runs and, like it, writes nothing (the
 * section holds both parts): for iterating on the nearby path. `--profile-dir` runs the measured
 * server under `--cpu-prof` and leaves its profile there (the figures then include the profiler's cost).
 */
import "reflect-metadata";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { loadConfig } from "../src/config.js";
import { createSchema } from "../src/graphql/schema.js";
import { signToken } from "../src/modules/auth/auth.service.js";
import { BENCH_JWT_SECRET, captureStatements, describe, explain, labelOf, profileStatements } from "./capture.js";
import { cpuPerRequest, cpuSnapshot, summarizeProfile, type CpuPerRequest, type ProfileSummary } from "./cpu.js";
import { loadHttp, loadPg, type LoadResult } from "./load.js";
import { CITIES, DENSE_CENTRE, ensurePromotionsData, sizeFor } from "./promotions.js";
import { describeMachine, loadAverage, planSummary, renderCpu, resultsTable, writeResults, type Row } from "./report.js";
import { startServerProcess } from "./server.js";
import { ensureData, ensureDatabase, fmt, migrate } from "./synthetic.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (line: string) => console.log(line);
/** A Saturday, 10:00 in Asia/Shanghai, as bench/run.ts asks. */
const AT = "2021-01-09T02:00:00Z";
const RADIUS_M = 2000;
/** The sparse area: 4 km out of Fenyang's centre, near the edge of the smallest city's cluster (5 km). */
const FENYANG = CITIES.find((c) => c.code === "C13")!;
const SPARSE = { name: `${FENYANG.name} outskirts`, lat: FENYANG.lat + 4000 / 111_320 / Math.SQRT2, lng: FENYANG.lng + 4000 / (111_320 * Math.cos((FENYANG.lat * Math.PI) / 180)) / Math.SQRT2 };

interface Options {
  url: string;
  merchants: number;
  promotions: number;
  durationSeconds: number;
  warmupSeconds: number;
  concurrency: number[];
  pool: number;
  rebuild: boolean;
  out: string;
  redemptionsOnly: boolean;
  nearbyOnly: boolean;
  profileDir: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    url: process.env.BENCH_OFFERS_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/cardgrowth_bench_offers",
    merchants: 100_000,
    promotions: 10_000,
    durationSeconds: 10,
    warmupSeconds: 2,
    concurrency: [1, 8],
    pool: 10,
    rebuild: false,
    out: path.resolve(here, "..", "..", "bench", "results.md"),
    redemptionsOnly: false,
    nearbyOnly: false,
    profileDir: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const next = () => argv[++i];
    switch (argv[i]) {
      case "--merchants": o.merchants = Number(next()); break;
      case "--promotions": o.promotions = Number(next()); break;
      case "--duration": o.durationSeconds = Number(next()); break;
      case "--warmup": o.warmupSeconds = Number(next()); break;
      case "--concurrency": o.concurrency = next().split(",").map(Number); break;
      case "--pool": o.pool = Number(next()); break;
      case "--rebuild": o.rebuild = true; break;
      case "--out": o.out = path.resolve(next()); break;
      case "--redemptions-only": o.redemptionsOnly = true; break;
      case "--nearby-only": o.nearbyOnly = true; break;
      case "--profile-dir": o.profileDir = path.resolve(next()); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return o;
}

function nearbyQuery(lat: number, lng: number): string {
  return `query PromotionsNear {
  promotionsNear(latitude: ${lat}, longitude: ${lng}, radiusMeters: ${RADIUS_M}, at: "${AT}", first: 20) {
    totalCount
    edges { node { distanceMeters availableUntil nextAvailableAt merchant { code name } promotion { code title rule { headline } } } }
  }
}`;
}

const REDEEM = `mutation($in: RedeemPromotionInput!) { redeemPromotion(input: $in) { cost } }`;

/** One POST; resolves with the error code (null: accepted) and the latency. */
function post(agent: http.Agent, url: URL, body: unknown, token: string): Promise<{ code: string | null; ms: number }> {
  const data = Buffer.from(JSON.stringify(body));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { "content-type": "application/json", "content-length": data.length, authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const ms = performance.now() - t0;
          try {
            const json = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
            resolve({ code: json.errors?.length ? (json.errors[0].extensions?.code ?? "ERROR") : null, ms });
          } catch {
            resolve({ code: `HTTP ${res.statusCode}`, ms });
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}

interface RedemptionRun {
  name: string;
  /** CPU per attempt: the server process, PostgreSQL and the load generator. */
  cpu?: CpuPerRequest;
  connections: number;
  attempts: number;
  accepted: number;
  refused: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function summarizeRun(name: string, connections: number, results: { code: string | null; ms: number }[], seconds: number): RedemptionRun {
  const refused: Record<string, number> = {};
  for (const r of results) if (r.code) refused[r.code] = (refused[r.code] ?? 0) + 1;
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  return { name, connections, attempts: results.length, accepted: results.filter((r) => !r.code).length, refused, seconds, perSecond: results.length / seconds, p50: pct(sorted, 50), p99: pct(sorted, 99) };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const loadBefore = loadAverage();
  log(`offers bench: ${fmt(opts.merchants)} merchants, ${fmt(opts.promotions)} promotions on ${opts.url}`);
  await ensureDatabase(opts.url, log);
  await migrate(opts.url, log);
  await ensureData(opts.url, 10_000, false, log);
  const data = await ensurePromotionsData(opts.url, opts.rebuild, log, sizeFor(opts.merchants, opts.promotions));
  const client = new pg.Client({ connectionString: opts.url });
  await client.connect();
  const indexRows = (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM live_offer")).rows[0].n;
  log(`data: ${fmt(data.merchants)} merchants, ${fmt(data.campaigns)} campaigns, ${fmt(data.promotions)} promotions; live-offer index ${fmt(indexRows)} rows`);

  const schema = await createSchema();
  const scenarios = [
    { name: `promotionsNear(${DENSE_CENTRE.name} centre, 2 km)`, graphql: nearbyQuery(DENSE_CENTRE.lat, DENSE_CENTRE.lng) },
    { name: `promotionsNear(${SPARSE.name}, 2 km)`, graphql: nearbyQuery(Number(SPARSE.lat.toFixed(5)), Number(SPARSE.lng.toFixed(5))) },
  ];
  const captured = [];
  for (const s of opts.redemptionsOnly ? [] : scenarios) {
    const { data: answer, statements } = await captureStatements(opts.url, schema, s.graphql);
    const profile = await profileStatements(opts.url, statements);
    const plan = await explain(opts.url, statements[0]);
    const total = (answer as { promotionsNear: { totalCount: number } }).promotionsNear.totalCount;
    log(`${s.name}: totalCount ${total}, ${statements.length} statements: ${profile.map((p) => `${p.label} ${p.meanMs.toFixed(2)} ms`).join("; ")}`);
    captured.push({ ...s, statements, profile, plan, total, described: statements.map(describe), labels: statements.map(labelOf) });
  }

  const config = loadConfig({ NODE_ENV: "production", JWT_SECRET: BENCH_JWT_SECRET });
  const rows: Row[] = [];
  const server = await startServerProcess({ url: opts.url, pool: opts.pool }, opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`] : [], {
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000000",
    REDEMPTION_MAX_CLOCK_SKEW_SECONDS: String(20 * 365 * 86_400),
  });
  let redemptions: RedemptionRun[] = [];
  let hot: { cap: number; spent: number; costSum: number; accepted: number; overspend: number; campaignOverspend: number } | null = null;
  let exactness = "";
  const hq = await signToken(config, { sub: "bench", role: "HQ" });
  try {
    log(`server ${server.url}`);
    for (const s of captured) {
      for (const concurrency of opts.concurrency) {
        // Signed in (HQ), as bench/run.ts: an anonymous caller may send only the app's trusted
        // documents by id; the statements are the same.
        const load = { concurrency, warmupSeconds: opts.warmupSeconds, durationSeconds: opts.durationSeconds, headers: { authorization: `Bearer ${hq}` } };
        let before = cpuSnapshot(server.child.pid);
        const h = await loadHttp(server.url, s.graphql, load);
        server.assertAlive();
        rows.push({ request: s.name, path: "HTTP GraphQL", result: h, cpu: cpuPerRequest(before, cpuSnapshot(server.child.pid), h.requests + h.warmupRequests + h.errors) });
        before = cpuSnapshot(undefined);
        const p = await loadPg(opts.url, s.statements, load);
        rows.push({ request: s.name, path: "pg direct", result: p, cpu: cpuPerRequest(before, cpuSnapshot(undefined), p.requests + p.warmupRequests + p.errors) });
        log(`  ${s.name} x${concurrency}: HTTP ${h.rps.toFixed(1)} req/s p99 ${h.p99.toFixed(2)} ms (${h.errors} errors${h.firstError ? `: ${h.firstError}` : ""}) | pg ${p.rps.toFixed(1)} req/s p99 ${p.p99.toFixed(2)} ms`);
      }
    }

    // --nearby-only: promotionsNear alone.
    if (!opts.nearbyOnly) {
      // Redemptions on distinct cards: (promotion, merchant) pairs usable at AT whose rule takes a
      // 1,000-yuan spend (cash back and percent off), each attempt a new card.
      const acquirer = await signToken(config, { sub: "bench-acquirer", role: "ACQUIRER" });
      const pairs = (
        await client.query<{ p: string; m: string }>(
          `SELECT o.promotion_code AS p, o.merchant_code AS m FROM live_offer o JOIN promotion p ON p.id = o.promotion_id
           WHERE p.kind IN ('CASHBACK', 'PERCENT_OFF') AND DATE '2021-01-09' BETWEEN o.valid_from AND o.valid_to AND o.open_minutes @> ${5 * 1440 + 600}
           ORDER BY hashint4(o.promotion_id * 7919 + o.merchant_id) LIMIT 20000`,
        )
      ).rows;
      const url = new URL(server.url);
      let serial = 0;
      const runId = Date.now().toString(36); // a new card every attempt, across runs too
      const distinct = async (connections: number, seconds: number) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
        const results: { code: string | null; ms: number }[] = [];
        const deadline = performance.now() + seconds * 1000;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: connections }, async () => {
            while (performance.now() < deadline) {
              const n = ++serial;
              const pair = pairs[n % pairs.length];
              results.push(await post(agent, url, { query: REDEEM, variables: { in: { transactionId: `B-${Date.now()}-${n}`, promotionCode: pair.p, merchantCode: pair.m, cardToken: `tok_bench_${runId}_${n}`, at: AT, spend: 1000 } } }, acquirer));
            }
          }),
        );
        agent.destroy();
        return summarizeRun(`distinct cards, ${fmt(pairs.length)} (promotion, merchant) pairs`, connections, results, (performance.now() - t0) / 1000);
      };
      for (const connections of [1, 8]) {
        const before = cpuSnapshot(server.child.pid);
        const r = await distinct(connections, opts.durationSeconds);
        r.cpu = cpuPerRequest(before, cpuSnapshot(server.child.pid), r.attempts);
        server.assertAlive();
        redemptions.push(r);
        log(`  redemptions ${r.name} x${connections}: ${r.perSecond.toFixed(1)}/s, accepted ${r.accepted}, refused ${JSON.stringify(r.refused)}, p99 ${r.p99.toFixed(1)} ms; CPU per attempt: server ${r.cpu.serverMs.toFixed(2)} ms, PostgreSQL ${r.cpu.postgresMs.toFixed(2)} ms, load generator ${r.cpu.loadGeneratorMs.toFixed(2)} ms`);
      }
      // Every limit exact: each promotion's and campaign's spent equals its uses' cost, within its cap.
      const check = await client.query<{ campaigns: number; over: number; drift: number }>(`
        SELECT (SELECT count(*) FROM campaign WHERE spent_fen > budget_fen)::int AS campaigns,
               (SELECT count(*) FROM promotion WHERE budget_cap_fen IS NOT NULL AND spent_fen > budget_cap_fen)::int AS over,
               (SELECT count(*) FROM promotion p WHERE p.code LIKE 'HOT%' AND p.spent_fen <> (SELECT coalesce(sum(cost_fen), 0) FROM redemption r WHERE r.promotion_id = p.id))::int AS drift`);
      exactness = `campaigns over budget: ${check.rows[0].campaigns}, promotions over their cap: ${check.rows[0].over}`;

      // One hot promotion with a small budget: 1,000 attempts at once on distinct cards.
      const campaign = (await client.query<{ code: string }>(`SELECT c.code FROM campaign c WHERE status = 'ACTIVE' AND budget_fen - spent_fen > 100000 ORDER BY id LIMIT 1`)).rows[0].code;
      const merchant = (await client.query<{ code: string }>(`SELECT m.code FROM campaign_merchant cm JOIN campaign c ON c.id = cm.campaign_id JOIN merchant m ON m.id = cm.merchant_id WHERE c.code = $1 LIMIT 1`, [campaign])).rows[0]?.code
        ?? (await client.query<{ code: string }>(`SELECT m.code FROM campaign_circle cc JOIN campaign c ON c.id = cc.campaign_id JOIN circle_member x ON x.circle_id = cc.circle_id JOIN merchant m ON m.id = x.merchant_id WHERE c.code = $1 LIMIT 1`, [campaign])).rows[0].code;
      const marketing = await signToken(config, { sub: "bench-marketing", role: "MARKETING" });
      const hotCode = `HOT${Date.now()}`;
      const created = await post(new http.Agent(), url, {
        query: `mutation($in: CreatePromotionInput!) { createPromotion(input: $in) { code } }`,
        variables: { in: { idempotencyKey: hotCode, code: hotCode, campaignCode: campaign, title: "Hot offer", rule: { kind: "CASHBACK", cashback: 5 }, validFrom: "2021-01-01", validTo: "2021-03-31", budgetCap: 100, appliesTo: { merchantCodes: [merchant] } } },
      }, marketing);
      if (created.code) throw new Error(`hot promotion not created: ${created.code}`);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });
      const cpuBefore = cpuSnapshot(server.child.pid);
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => post(agent, url, { query: REDEEM, variables: { in: { transactionId: `${hotCode}-${i}`, promotionCode: hotCode, merchantCode: merchant, cardToken: `tok_hot_${i}_card_xx`, at: AT, spend: 100 } } }, acquirer)),
      );
      const run = summarizeRun(`one hot promotion (cap 100 yuan, 5 yuan a use), 1,000 attempts at once`, 1000, results, (performance.now() - t0) / 1000);
      agent.destroy();
      run.cpu = cpuPerRequest(cpuBefore, cpuSnapshot(server.child.pid), run.attempts);
      redemptions.push(run);
      const h = (await client.query<{ cap: string; spent: string; cost: string; n: number; covered: string; budget: string }>(
        `SELECT p.budget_cap_fen AS cap, p.spent_fen AS spent, (SELECT coalesce(sum(cost_fen), 0) FROM redemption WHERE promotion_id = p.id) AS cost,
                (SELECT count(*)::int FROM redemption WHERE promotion_id = p.id) AS n, c.spent_fen AS covered, c.budget_fen AS budget
         FROM promotion p JOIN campaign c ON c.id = p.campaign_id WHERE p.code = $1`, [hotCode])).rows[0];
      hot = { cap: Number(h.cap), spent: Number(h.spent), costSum: Number(h.cost), accepted: h.n, overspend: Math.max(0, Number(h.spent) - Number(h.cap)), campaignOverspend: Math.max(0, Number(h.covered) - Number(h.budget)) };
      log(`  hot promotion: ${run.accepted} accepted of 1,000, refused ${JSON.stringify(run.refused)}, spent ${hot.spent / 100} of ${hot.cap / 100} yuan, overspend ${hot.overspend}, ${run.perSecond.toFixed(0)} attempts/s`);
    }
  } finally {
    await server.stop();
    await client.end();
  }
  // Where the server's CPU goes on the dense request at 8 connections: a server started with
  // --cpu-prof, 5 s of load (not part of the figures above: profiling slows it down).
  const profiles: ProfileSummary[] = [];
  if (opts.redemptionsOnly) {
    log(`load average at the start: ${loadBefore}; at the end: ${loadAverage()}`);
    return;
  }
  for (const s of captured.slice(0, 1)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-offers-prof-"));
    const profiled = await startServerProcess({ url: opts.url, pool: opts.pool }, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
    try {
      await loadHttp(profiled.url, s.graphql, { concurrency: 8, warmupSeconds: 1, durationSeconds: 5, headers: { authorization: `Bearer ${hq}` } });
    } finally {
      await profiled.stop();
    }
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (file) profiles.push(summarizeProfile(path.join(dir, file), `${s.name} over HTTP, 8 connections, 5 s`));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = loadAverage();
  const machine = await describeMachine(opts.url, loadBefore);

  const out: string[] = [];
  out.push(`## The card app's path: ${fmt(data.merchants)} merchants, ${fmt(data.promotions)} promotions (live-offer index)`, "");
  out.push(`Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC by \`node dist/bench/offers.js --merchants ${opts.merchants} --promotions ${opts.promotions}\` (bench/offers.ts).`, "");
  out.push(`- **Machine**: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, ${machine.memory}; shared with other work. **Load average (1/5/15 min)** at the start: ${loadBefore}; at the end: ${loadAfter}`);
  out.push(`- **Node** ${machine.node}; **PostgreSQL**: ${machine.postgres.split(" on ")[0]}; ${machine.postgresSettings}`);
  out.push(`- **Data**: ${fmt(data.merchants)} merchants, ${fmt(data.circles)} circles, ${fmt(data.campaigns)} ACTIVE campaigns, ${fmt(data.promotions)} promotions (bench/promotions.ts); the live-offer index holds **${fmt(indexRows)}** (promotion, merchant) rows.`);
  out.push(`- **Requests**: ${RADIUS_M} m around ${DENSE_CENTRE.name}'s centre (${DENSE_CENTRE.lat}, ${DENSE_CENTRE.lng}) and around ${SPARSE.name} (${SPARSE.lat.toFixed(4)}, ${SPARSE.lng.toFixed(4)}), at ${AT} (Saturday 10:00 in Shanghai), first 20, as a signed-in caller (HQ token: an anonymous caller may send only trusted documents by id; same statements; the in-process cache is off). Closed loop, warm-up ${opts.warmupSeconds} s, ${opts.durationSeconds} s per row; server pool ${opts.pool}; load generator, server and PostgreSQL on the same machine.`, "");
  out.push("### promotionsNear", "", resultsTable(rows), "", ...renderCpu(rows, []));
  const byName = (n: string, p: Row["path"], c: number) => rows.find((r) => r.request === n && r.path === p && r.result.concurrency === c)?.result as LoadResult;
  const targets: string[] = [];
  for (const s of captured) {
    const h8 = byName(s.name, "HTTP GraphQL", 8);
    const p8 = byName(s.name, "pg direct", 8);
    if (h8 && p8) {
      targets.push(`| ${s.name}: p99 at 8 connections < 10 ms | ${h8.p99.toFixed(2)} ms | ${h8.p99 < 10 ? "met" : "**not met**"} |`);
      targets.push(`| ${s.name}: HTTP ≥ 0.8 × its SQL's req/s at 8 | ${(h8.rps / p8.rps).toFixed(2)} × | ${h8.rps >= 0.8 * p8.rps ? "met" : "**not met**"} |`);
    }
  }
  const d8 = redemptions.find((r) => r.name.startsWith("distinct") && r.connections === 8);
  if (d8) targets.push(`| redemptions on distinct cards ≥ 500/s (8 connections) | ${d8.perSecond.toFixed(0)}/s (${fmt(d8.accepted)} accepted) | ${d8.perSecond >= 500 ? "met" : "**not met**"} |`);
  if (hot) targets.push(`| hot promotion: no overspend | ${fmt(hot.overspend)} fen over (${hot.accepted} uses, ${hot.spent / 100} of ${hot.cap / 100} yuan; campaign over budget by ${hot.campaignOverspend}) | ${hot.overspend === 0 && hot.spent === hot.costSum ? "met" : "**not met**"} |`);
  out.push("### Targets", "", "| target | measured | verdict |", "|---|---|---|", ...targets, "");
  out.push("### Where the time goes (SQL)", "");
  for (const s of captured) {
    const plan = planSummary(s.plan);
    out.push(`- **${s.name}**: totalCount ${fmt(s.total)}; ${s.statements.length} statements per request: ${s.profile.map((p) => `${p.label} ${p.meanMs.toFixed(2)} ms (${p.rows} rows)`).join("; ")}. Index statement plan: execution ${plan.executionMs ?? "?"} ms, planning ${plan.planningMs ?? "?"} ms; scans ${plan.scans.map((x) => `\`${x}\``).join(", ")}.`);
  }
  for (const p of profiles) {
    out.push("", `**Server CPU profile**, ${p.request} (${(p.totalMs / 1000).toFixed(1)} s of CPU): by package ${p.byPackage.slice(0, 8).map((x) => `${x.name} ${(100 * x.share).toFixed(0)} %`).join(", ")}; top functions ${p.byFunction.slice(0, 6).map((x) => `\`${x.name}\` (${x.where}) ${(100 * x.share).toFixed(0)} %`).join(", ")}.`);
  }
  if (!opts.nearbyOnly) out.push("", "### Redemptions over HTTP (ACQUIRER)", "", "| run | connections | attempts | accepted | refused | per second | p50 ms | p99 ms |", "|---|--:|--:|--:|---|--:|--:|--:|");
  for (const r of redemptions) out.push(`| ${r.name} | ${r.connections} | ${fmt(r.attempts)} | ${fmt(r.accepted)} | ${Object.entries(r.refused).map(([k, v]) => `${k} ${v}`).join(", ") || "-"} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`);
  if (!opts.nearbyOnly) out.push("", `CPU per attempt (user + system, from /proc: the server process, every PostgreSQL process, the load generator; less sensitive to the machine's load than the rates): ${redemptions.filter((r) => r.cpu).map((r) => `${r.name.split(/,| \(/)[0]} ×${r.connections} server ${r.cpu!.serverMs.toFixed(2)} ms, PostgreSQL ${r.cpu!.postgresMs.toFixed(2)} ms, load generator ${r.cpu!.loadGeneratorMs.toFixed(2)} ms`).join("; ")}.`);
  if (!opts.nearbyOnly) out.push("", `After the runs: ${exactness}.`);
  // The reading of the nearby figures, written for the query of src/figures/offer-index.ts (KNN bound, capped count).
  const ratios = captured.map((s) => {
    const [h8, p8] = [byName(s.name, "HTTP GraphQL", 8), byName(s.name, "pg direct", 8)];
    return h8 && p8 ? `${s.name.replace(/^promotionsNear\((.*), 2 km\)$/, "$1")} ${(h8.rps / p8.rps).toFixed(2)}` : null;
  });
  out.push(
    "",
    `**Reading (rendered by bench/offers.ts; load average ${loadBefore} at the start, ${loadAfter} at the end, on ${machine.logicalCpus} CPUs shared with other work).** ` +
      `*SQL*: a request without a card is one statement. A nearest-neighbour scan on the GiST index (index-only: it carries the dates and the schedule) takes the first+1 nearest usable offers in degrees and stops; ` +
      `the farthest of them in metres bounds the page, which is ordered exactly among the few dozen offers within that reach, and joined with its promotions and merchants. ` +
      `totalCount is counted only when selected, up to 500 (the schema says so), where an exact count would visit every index entry within the radius (at 100,000 merchants, 12,600 entries in Taiyuan's 2 km box for 4,358 offers). ` +
      `EXPLAIN on a fresh connection: ${captured.map((s) => `${s.name.replace(/^promotionsNear\((.*), 2 km\)$/, "$1")} execution ${planSummary(s.plan).executionMs ?? "?"} ms, planning ${planSummary(s.plan).planningMs ?? "?"} ms`).join("; ")}. ` +
      `Over HTTP the statement is prepared once per connection and runs its generic plan; the pg rows send its text each time, so PostgreSQL plans it on every request there. ` +
      `*HTTP ÷ pg at 8 connections*: ${ratios.filter(Boolean).join(", ")}: the rest is the server's own work per request (GraphQL execution of 20 edges, JSON, HTTP) competing for the same cores as PostgreSQL and the load generator; ` +
      `the CPU profile above includes the profiled server's start (module loading).`,
  );
  log(out.join("\n"));
  // The section holds both parts: a run of one part would drop the other's figures.
  if (opts.nearbyOnly) log(`--nearby-only: ${path.relative(process.cwd(), opts.out)} left as it was`);
  else writeResults(opts.out, `offers:merchants=${data.merchants}`, out.join("\n"));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
