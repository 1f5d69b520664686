/**
 * OpenTelemetry traces from the real process (`node dist/src/main.js`) to an OTLP/HTTP receiver
 * in this test: one GraphQL request gives one trace holding its HTTP server span, its GraphQL
 * span under it, and the database spans under that. Without OTEL_EXPORTER_OTLP_ENDPOINT
 * nothing is sent.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twoCities } from "../fixtures/access.js";
import { seed } from "../fixtures/scenarios.js";
import { startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/harness.js";
import { startProduct } from "../support/product.js";

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: number } }[];
}

/** An OTLP/HTTP trace receiver (JSON, as the exporter sends it), keeping every span it gets. */
async function otlpReceiver() {
  const spans: Span[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += String(chunk)));
    req.on("end", () => {
      paths.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
      const message = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] };
      for (const rs of message.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { spans, paths, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await seed(api, twoCities); // not empty: the embedded product does not load the demo story
});
afterAll(() => api?.close());

/** Runs the product with `extra` in its environment, sends one query as HQ, stops it with SIGTERM (which flushes spans). */
async function oneRequest(extra: Record<string, string>) {
  const token = await api.token({ role: "HQ" });
  return api.database.released(async () => {
    const env = { ...process.env, ...api.database.env, JWT_SECRET: TEST_JWT_SECRET, PORT: "0", HOST: "127.0.0.1", NODE_ENV: "test", LOG_LEVEL: "silent", ...extra };
    const { child, url } = await startProduct(env);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `query TraceMe { branch(code: "S1") { code name } }` }),
    });
    const body = await res.json();
    child.kill("SIGTERM");
    return { body, exit: await exited };
  });
}

describe("traces", () => {
  it("one GraphQL request: HTTP, GraphQL and database spans in one trace, each under the one before", async () => {
    const receiver = await otlpReceiver();
    try {
      const { body, exit } = await oneRequest({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: "card-growth-test" });
      expect(body).toEqual({ data: { branch: { code: "S1", name: "Sub-branch one" } } });
      expect(exit).toBe(0);
      expect(new Set(receiver.paths)).toEqual(new Set(["POST /v1/traces application/json"]));

      const graphql = receiver.spans.filter((s) => s.name === "graphql query TraceMe");
      expect(graphql).toHaveLength(1);
      const trace = receiver.spans.filter((s) => s.traceId === graphql[0].traceId);
      const byId = new Map(trace.map((s) => [s.spanId, s]));
      const httpSpan = byId.get(graphql[0].parentSpanId!)!;
      expect(httpSpan).toMatchObject({ kind: 2 }); // SERVER
      expect(httpSpan.parentSpanId ?? "").toBe(""); // the root: the client sent no traceparent
      expect(httpSpan.attributes).toContainEqual({ key: "url.path", value: { stringValue: "/graphql" } });
      expect(httpSpan.attributes).toContainEqual({ key: "http.response.status_code", value: { intValue: 200 } });
      const underGraphql = (s: Span): boolean => s.parentSpanId === graphql[0].spanId || (byId.has(s.parentSpanId!) && underGraphql(byId.get(s.parentSpanId!)!));
      // Prisma's statements, and the hot reads sent on the direct path (src/db/direct.ts).
      const queries = trace.filter((s) => s.name === "prisma:client:db_query" || s.name.startsWith("db_query "));
      expect(queries.length).toBeGreaterThan(0);
      expect(queries.every(underGraphql)).toBe(true);
      expect(queries.map((q) => q.attributes.find((a) => a.key === "db.query.text")?.value.stringValue).join("\n")).toMatch(/SELECT/);
    } finally {
      await receiver.close();
    }
  }, 120_000);

  it("sends nothing without OTEL_EXPORTER_OTLP_ENDPOINT", async () => {
    const receiver = await otlpReceiver();
    try {
      // The receiver's address in the standard variable of another signal must not switch traces on.
      const { body, exit } = await oneRequest({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.url });
      expect(body).toEqual({ data: { branch: { code: "S1", name: "Sub-branch one" } } });
      expect(exit).toBe(0);
      expect(receiver.paths).toEqual([]);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
