/**
 * Running it: Prometheus metrics on their own port (METRICS_PORT) with bounded labels, and the
 * health endpoints (/livez, /readyz, /health) a load balancer and an orchestrator probe.
 * The import and rollups:verify, processes that end, leave theirs in METRICS_TEXTFILE_DIR.
 * Shutdown and traces need a real server process: shutdown.test.ts, tracing.test.ts.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { TRUSTED_MANIFEST } from "../../src/graphql/trusted-documents.js";
import { createLogger } from "../../src/logger.js";
import { startServer } from "../../src/server.js";
import { CALLERS, twoCities } from "../fixtures/access.js";
import { apps, seed } from "../fixtures/scenarios.js";
import { openEmptyDatabase } from "../support/database.js";
import { codeOf, startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/harness.js";
import { follow, TEST_REDIS_URL, uniqueChannel, type Follower } from "../support/live.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ METRICS_PORT: "0", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3" });
  await seed(api, twoCities);
});
afterAll(() => api?.close());

const scrape = async (url = api.server.metricsUrl!) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

/** The value of one sample, `name{labels}` exactly as Prometheus text writes it; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const FIGURES = `subscription($code: String!) {
  figuresChanged(branchCode: $code, period: "2021-Q1") { metric(metric: APPLICATIONS) { actual } }
}`;

describe("metrics", () => {
  let follower: Follower;
  let before: string;

  beforeAll(async () => {
    before = await scrape();
    const hq = api.as(CALLERS.HQ);
    // A client's own operation name is not a label: one root field names the operation.
    expect((await hq.gql(`query ClientChosenName_${Date.now()} { branch(code: "S1") { code } }`)).errors).toBeUndefined();
    expect((await hq.gql(`query Again { branch(code: "C1") { code } }`)).errors).toBeUndefined();
    // Two root fields: "other", never the text.
    expect((await hq.gql(`query Two { a: branch(code: "S1") { code } b: branch(code: "S2") { code } branches(first: 1) { totalCount } }`)).errors).toBeUndefined();
    expect(codeOf(await hq.gql(`{ noSuchField }`))).toBe("GRAPHQL_VALIDATION_FAILED");
    const record = "mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }";
    expect(codeOf(await hq.gql(record, { in: apps("MX", "S1", 1, "2021-01-05") }))).toBe("FORBIDDEN"); // HQ reads, the feeds write
    // Anonymous budget 3 a minute: the fourth is refused before GraphQL runs.
    const anonymous = api.as("ANONYMOUS");
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await anonymous.gql(`{ __typename }`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // A trusted document (the dashboard's), sent by its hash: its own operation name is the label.
    const [hash] = [...TRUSTED_MANIFEST].find(([, text]) => text.startsWith("query DashboardRoots"))!;
    const trusted = await fetch(api.server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await api.token(CALLERS.HQ)}` },
      body: JSON.stringify({ documentId: `sha256:${hash}` }),
    });
    expect(trusted.status).toBe(200);
    expect(((await trusted.json()) as { errors?: unknown }).errors).toBeUndefined();
    follower = follow(api.server, await api.token(CALLERS.HQ), FIGURES, { code: "S1" });
    await follower.waitFor(1);
  });
  afterAll(() => follower?.dispose());

  it("counts requests by bounded operation label, type and status, with latency", async () => {
    const text = await scrape();
    expect(sample(text, 'cardgrowth_graphql_requests_total{operation="Query.branch",type="query",status="200"}')).toBe(2);
    expect(sample(text, 'cardgrowth_graphql_request_duration_seconds_count{operation="Query.branch",type="query"}')).toBe(2);
    expect(sample(text, 'cardgrowth_graphql_request_duration_seconds_bucket{le="+Inf",operation="Query.branch",type="query"}')).toBe(2);
    expect(sample(text, 'cardgrowth_graphql_requests_total{operation="other",type="query",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'cardgrowth_graphql_requests_total{operation="other",type="unknown",status="400"}')).toBe(1);
    expect(text).not.toMatch(/ClientChosenName|operation="Again"|operation="Two"/);
    expect(sample(text, 'cardgrowth_graphql_requests_total{operation="DashboardRoots",type="query",status="200"}')).toBe(1);
    // The refused one never reached GraphQL: no operation, no type.
    expect(sample(text, 'cardgrowth_graphql_requests_total{operation="other",type="unknown",status="429"}')).toBe(1);
    expect(before).not.toMatch(/operation="Query.branch"/);
  });

  it("counts errors by extensions.code, and rate-limit refusals by caller kind", async () => {
    const text = await scrape();
    expect(sample(text, 'cardgrowth_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}')).toBe(1);
    expect(sample(text, 'cardgrowth_graphql_errors_total{code="FORBIDDEN"}')).toBe(1);
    const refused = 'cardgrowth_graphql_requests_total{operation="Mutation.recordApplications",type="mutation",status="200"}';
    expect(sample(text, refused)! - sample(before, refused)!).toBe(1); // the seed wrote through it once before
    expect(sample(text, 'cardgrowth_graphql_errors_total{code="RATE_LIMITED"}')).toBe(1);
    expect(sample(text, 'cardgrowth_rate_limit_refusals_total{caller="anonymous"}')).toBe(1);
  });

  it("shows open subscriptions, database statements and time, the pool (PostgreSQL) and process metrics", async () => {
    const text = await scrape();
    expect(sample(text, "cardgrowth_live_subscriptions_open")).toBe(1);
    expect(sample(text, "cardgrowth_db_statements_total")).toBeGreaterThan(sample(before, "cardgrowth_db_statements_total")!);
    expect(sample(text, "cardgrowth_db_statement_seconds_total")).toBeGreaterThan(0);
    if (api.database.kind === "postgres") {
      expect(sample(text, 'cardgrowth_db_pool_connections{state="max"}')).toBe(4);
      expect(sample(text, 'cardgrowth_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    } else {
      expect(text).not.toMatch(/^cardgrowth_db_pool_connections\{/m); // one PGlite connection, no pool
    }
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    await follower.dispose();
    await expect.poll(async () => sample(await scrape(), "cardgrowth_live_subscriptions_open")).toBe(0);
  });

  it("is served only on METRICS_PORT: the public port has no /metrics", async () => {
    expect(new URL(api.server.metricsUrl!).port).not.toBe(String(api.server.port));
    expect((await fetch(new URL("/metrics", api.server.url))).status).toBe(404);
    expect((await fetch(new URL("/other", api.server.metricsUrl!))).status).toBe(404);
  });

  it("has no listener at all without METRICS_PORT", async () => {
    const server = await startServer(api.database, loadConfig({ ...api.database.env, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", JWT_SECRET: TEST_JWT_SECRET }), createLogger("silent"));
    try {
      expect(server.metricsUrl).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe("health", () => {
  const get = async (path: string, server = api.server) => {
    const res = await fetch(new URL(path, server.url));
    return { status: res.status, body: (await res.json()) as { status: string; checks?: Record<string, string> } };
  };

  it("/livez answers while the process runs; /readyz and its alias /health check the database and its migrations", async () => {
    expect(await get("/livez")).toEqual({ status: 200, body: { status: "ok" } });
    const ready = await get("/readyz");
    expect(ready).toEqual({ status: 200, body: { status: "ok", database: api.database.kind, checks: { database: "ok", migrations: "ok" } } });
    expect(await get("/health")).toEqual(ready);
  });

  it("/readyz fails on a database whose migrations are not applied, naming the check", async () => {
    const empty = await openEmptyDatabase();
    const server = await startServer(empty, api.config, createLogger("silent"));
    try {
      const ready = await get("/readyz", server);
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toMatchObject({ database: "ok", migrations: expect.stringMatching(/^\d+ migration\(s\) not applied: run npm run db:migrate$/) });
      expect((await get("/livez", server)).status).toBe(200);
    } finally {
      await server.close();
      await empty.close();
    }
  });

  it("/readyz checks Redis when REDIS_URL is set", async () => {
    const withRedis = await startServer(api.database, loadConfig({ ...api.database.env, PORT: "0", HOST: "127.0.0.1", JWT_SECRET: TEST_JWT_SECRET, REDIS_URL: TEST_REDIS_URL, LIVE_REDIS_CHANNEL: uniqueChannel() }), createLogger("silent"));
    // Nothing listens on port 1: the check names the failure.
    const noRedis = await startServer(api.database, loadConfig({ ...api.database.env, PORT: "0", HOST: "127.0.0.1", JWT_SECRET: TEST_JWT_SECRET, REDIS_URL: "redis://127.0.0.1:1", LIVE_REDIS_CHANNEL: uniqueChannel() }), createLogger("silent"));
    try {
      expect(await get("/readyz", withRedis)).toMatchObject({ status: 200, body: { checks: { database: "ok", migrations: "ok", redis: "ok" } } });
      const down = await get("/readyz", noRedis);
      expect(down.status).toBe(503);
      expect(down.body.checks!.redis).not.toBe("ok");
    } finally {
      await withRedis.close();
      await noRedis.close();
    }
  });

  it("while draining, /readyz answers 503 and /livez still 200", async () => {
    const server = await startServer(api.database, api.config, createLogger("silent"));
    try {
      await server.drain();
      expect(await get("/readyz", server)).toEqual({ status: 503, body: { status: "draining" } });
      expect(await get("/health", server)).toEqual({ status: 503, body: { status: "draining" } });
      expect((await get("/livez", server)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe("metrics of the batch jobs (METRICS_TEXTFILE_DIR)", () => {
  const root = path.resolve(import.meta.dirname, "../..");
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-textfile-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A CLI from dist/ (built by the global setup) with the test database; its exit code. */
  const run = (cli: string, args: string[]) =>
    api.database.released(() =>
      promisify(execFile)("node", [path.join(root, "dist/src/cli", cli), ...args], { cwd: root, env: { ...process.env, ...api.database.env, LOG_LEVEL: "silent", METRICS_TEXTFILE_DIR: dir } }).then(
        () => 0,
        (err: { code: number }) => err.code,
      ),
    );

  it("an import writes its rows by outcome and its batches as cardgrowth_import_<kind>.prom", async () => {
    const rows = [...apps("TXT", "S1", 3, "2021-01-20"), { ...apps("TXT-BAD", "S1", 1, "2021-01-20")[0], branchCode: "NOPE" }];
    const file = path.join(dir, "applications.ndjson");
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n"));
    expect(await run("import.js", ["applications", file, "--batch-size", "2", "--report", path.join(dir, "report.ndjson")])).toBe(1); // one row rejected
    const text = fs.readFileSync(path.join(dir, "cardgrowth_import_applications.prom"), "utf8");
    expect(sample(text, 'cardgrowth_import_last_rows{kind="applications",outcome="created"}')).toBe(3);
    expect(sample(text, 'cardgrowth_import_last_rows{kind="applications",outcome="rejected"}')).toBe(1);
    expect(sample(text, 'cardgrowth_import_last_batches{kind="applications"}')).toBe(2);
    expect(sample(text, 'cardgrowth_import_last_run_timestamp_seconds{kind="applications"}')).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("rollups:verify writes its differences as cardgrowth_rollups.prom", async () => {
    expect(await run("rollups.js", ["verify"])).toBe(0);
    const text = fs.readFileSync(path.join(dir, "cardgrowth_rollups.prom"), "utf8");
    expect(sample(text, "cardgrowth_rollups_verify_differences")).toBe(0);
    expect(sample(text, "cardgrowth_rollups_verify_last_run_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 600);
  });
});
