/**
 * Graceful shutdown of the real process (`node dist/src/main.js`, as `npm start` runs it): a
 * SIGTERM while a 5,000-row write is in flight fails readiness at once, lets the write finish
 * and answer, closes live subscriptions with 1001, and exits 0 within SHUTDOWN_TIMEOUT_MS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twoCities } from "../fixtures/access.js";
import { apps, seed } from "../fixtures/scenarios.js";
import { startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/harness.js";
import { follow, sleep } from "../support/live.js";
import { startProduct } from "../support/product.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await seed(api, twoCities);
});
afterAll(() => api?.close());

const SHUTDOWN_TIMEOUT_MS = 20_000;

/** One sample's value from Prometheus text. */
const sample = (text: string, series: string) => Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.slice(series.length + 1));

describe("SIGTERM", () => {
  it("during a 5,000-row recordApplications: readiness fails, the write finishes (200, audited), subscribers get 1001, exit 0", async () => {
    const subject = "shutdown-feed";
    const rows = apps("SHUT", "S1", 5_000, "2021-01-14");
    const token = await api.token({ role: "INGEST", sub: subject });
    const hq = await api.token({ role: "HQ" });
    const outcome = await api.database.released(async () => {
      const env = { ...process.env, ...api.database.env, JWT_SECRET: TEST_JWT_SECRET, PORT: "0", METRICS_PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent", SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
      const { child, url, output } = await startProduct(env, (o) => /Metrics at \S+/.test(o));
      const metricsUrl = /Metrics at (\S+)/.exec(output)![1];
      const exited = new Promise<{ code: number | null }>((resolve) => child.once("exit", (code) => resolve({ code })));
      const readyz = () => fetch(new URL("/readyz", url)).then((r) => r.status);
      expect(await readyz()).toBe(200);
      const subscriber = follow({ url }, hq, `subscription { figuresChanged(branchCode: "S1", period: "2021-Q1") { metric(metric: APPLICATIONS) { actual } } }`);
      await subscriber.waitFor(1);

      let answeredAt = 0;
      const write = fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }", variables: { in: rows } }),
      }).then(async (res) => {
        answeredAt = Date.now();
        return { status: res.status, body: (await res.json()) as { data?: { recordApplications: { created: number } } } };
      });
      // The write is in the server's hands once it counts as in flight.
      // (Bounded by the answer: a write done before this saw it fails the assertions below, not the clock.)
      while (answeredAt === 0 && sample(await (await fetch(metricsUrl)).text(), "cardgrowth_http_requests_in_flight") < 1) await sleep(5);
      const signalledAt = Date.now();
      child.kill("SIGTERM");
      // Readiness fails while the write is still being answered.
      const during: number[] = [];
      while (answeredAt === 0) {
        const status = await readyz().catch(() => null);
        if (status !== null && answeredAt === 0) during.push(status);
        await sleep(20);
      }
      const [response, exit, closed] = await Promise.all([write, exited, subscriber.closed]);
      return { response, exit, closed, during, signalledAt, answeredAt };
    });

    // A signal reaches the process's event loop on its own schedule: a readiness request that
    // arrives with it may be answered first. From the first 503 on, readiness stays failed.
    const firstDown = outcome.during.indexOf(503);
    expect(firstDown).toBeGreaterThanOrEqual(0);
    expect(new Set(outcome.during.slice(0, firstDown))).toEqual(new Set(firstDown === 0 ? [] : [200]));
    expect(new Set(outcome.during.slice(firstDown))).toEqual(new Set([503]));
    expect(outcome.answeredAt).toBeGreaterThan(outcome.signalledAt);
    expect(outcome.response).toEqual({ status: 200, body: { data: { recordApplications: { created: 5_000 } } } });
    expect(outcome.closed).toEqual({ code: 1001, reason: "Server shutting down" });
    // Within the deadline: past SHUTDOWN_TIMEOUT_MS the process exits with 1 (src/main.ts).
    expect(outcome.exit.code).toBe(0);

    const db = api.database.prisma;
    expect(await db.application.count({ where: { externalId: { startsWith: "SHUT-" } } })).toBe(5_000);
    const trail = await db.auditEntry.findMany({ where: { subject } });
    expect(trail.map((e) => [e.operation, e.outcome, (e.details as { created: number }).created])).toEqual([["recordApplications", "SUCCEEDED", 5_000]]);
  }, 300_000);
});
