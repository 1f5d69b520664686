/**
 * OpenTelemetry traces, only when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go to that OTLP/HTTP
 * collector (JSON, `<endpoint>/v1/traces`) in batches. Three sources make one trace per request:
 * - HTTP: @opentelemetry/instrumentation-http (the server span, W3C traceparent honoured);
 * - GraphQL: our own span (src/observability/graphql-spans.ts);
 * - the database: Prisma's instrumentation (`prisma:client:operation`, `prisma:client:db_query`
 *   with the SQL), and `db_query <name>` for the hot reads sent past Prisma (src/db/direct.ts),
 *   the same on PostgreSQL and the embedded database.
 *
 * Must run before the server's modules load: the HTTP instrumentation patches `http` as it is
 * first required (main.ts imports the app only after this). The packages are loaded here
 * only when tracing is on. Versions pinned to the last that run on Node 20 (0.223 / 2.12:
 * 0.300 and later need Node 22.15).
 */
import type { Config } from "../config.js";

export interface Tracing {
  /** Sends the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** Health checks would be most of the spans and tell nothing. */
const UNTRACED_PATHS = new Set(["/livez", "/readyz", "/health"]);

export async function startTracing(config: Config): Promise<Tracing | null> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return null;
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { registerInstrumentations }, { HttpInstrumentation }, { PrismaInstrumentation }, { resourceFromAttributes }] =
    await Promise.all([
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/instrumentation"),
      import("@opentelemetry/instrumentation-http"),
      import("@prisma/instrumentation"),
      import("@opentelemetry/resources"),
    ]);
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": config.OTEL_SERVICE_NAME }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has(new URL(req.url ?? "/", "http://x").pathname),
        // A query string can carry what a trace store must not keep: the sign-in callback's
        // authorization code (`/?code=…&state=…`), export arguments. Spans keep the path only.
        requestHook: (span, req) => {
          // Incoming only (an IncomingMessage, unlike a ClientRequest, has no setHeader).
          if ("setHeader" in req || typeof req.url !== "string" || !req.url.includes("?")) return;
          const path = req.url.slice(0, req.url.indexOf("?"));
          span.setAttribute("http.target", path);
          span.setAttribute("url.path", path);
          span.setAttribute("url.query", "");
          const host = req.headers.host ?? "localhost";
          span.setAttribute("http.url", `http://${host}${path}`);
        },
      }),
      new PrismaInstrumentation(),
    ],
  });
  return { shutdown: () => provider.shutdown() };
}
