/**
 * The HTTP server: Express with Apollo at /graphql, the GraphQL IDE for browsers (src/http/ide.ts)
 * and a health check. Returned handle closes everything in order (HTTP first, in-flight requests
 * drained).
 *
 * A request to /graphql meets, in order: the bearer token (verified from the header alone), the
 * rate limit (every request counts, a forged token against its address), the token's refusal,
 * the body (a small limit for anonymous callers, nesting depth checked before parsing), the
 * trusted-document check, a response-cache hit sent as stored (src/http/early-answers.ts), then Apollo (CSRF prevention, document limits, input strings, field
 * authorization, error masking). Cheap refusals come first, so a request that will be refused
 * costs as little as possible. A request refused for its token is audited on the way out.
 *
 * The same port and path take GraphQL subscriptions over WebSocket (src/live/subscriptions.ts),
 * fed by the process's change feed (src/live/feed.ts: in process, or Redis with REDIS_URL),
 * which every write publishes to after it commits. The same feed drives the group notifications
 * (src/modules/notify/notifier.ts: milestones, the daily report, the outbox's worker), which run
 * with the server and stop before the feed closes.
 *
 * Reads: with DATABASE_REPLICA_URLS a query operation may run on a streaming replica (the
 * context's `db`, chosen by src/graphql/read-routing.ts before the context is built).
 *
 * Operations: /livez, /readyz and /health on the public port (src/http/health.ts); Prometheus
 * metrics on METRICS_PORT only (src/observability/metrics.ts); GraphQL spans when tracing is on
 * (src/observability/tracing.ts). Shutdown (`close`): readiness fails first, in-flight requests
 * finish, then the parts in `stops` stop in their order.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import type { Registry } from "prom-client";
import type { Config } from "./config.js";
import type { Database } from "./db/database.js";
import { todayIn } from "./domain/dates.js";
import { AppError } from "./errors.js";
import { cacheControlPlugin } from "./graphql/cache-control.js";
import type { Context } from "./graphql/context.js";
import { createContext } from "./graphql/create-context.js";
import { createFormatError } from "./graphql/format-error.js";
import { documentLimits } from "./graphql/limits.js";
import { requestChecksPlugin } from "./graphql/request-checks.js";
import { ResponseCache } from "./graphql/response-cache.js";
import { createSchema } from "./graphql/schema.js";
import { TRUSTED_MANIFEST } from "./graphql/trusted-documents.js";
import { authenticate, refuseInvalidToken } from "./http/authenticate.js";
import { jsonBody } from "./http/body.js";
import { sendError, withHttpStatus } from "./http/errors.js";
import { dashboard } from "./http/dashboard.js";
import { earlyAnswers } from "./http/early-answers.js";
import { graphqlIde } from "./http/ide.js";
import { readRouting } from "./graphql/read-routing.js";
import { openReplicas } from "./db/replicas.js";
import { rateLimit } from "./http/rate-limit.js";
import { health } from "./http/health.js";
import { trustedDocuments } from "./http/trusted-documents.js";
import type { Logger } from "./logger.js";
import { auditRefusedTokens } from "./modules/audit/audit.http.js";
import { auditPlugin } from "./modules/audit/audit.plugin.js";
import { createAuthenticator, type Claims } from "./modules/auth/auth.service.js";
import type { ChangeFeed } from "./live/change.js";
import { createChangeFeed } from "./live/feed.js";
import { serveSubscriptions } from "./live/subscriptions.js";
import { NO_NOTIFIER, startNotifier, type Notifier } from "./modules/notify/notifier.js";
import { graphqlSpan, graphqlSpanNames } from "./observability/graphql-spans.js";
import { createMetrics } from "./observability/metrics.js";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Committed writes' changes, from this instance and (with REDIS_URL) every other one. */
  readonly feed: ChangeFeed;
  /** Milestones and daily reports to the units' chat groups (src/modules/notify). */
  readonly notifier: Notifier;
  /** Where Prometheus scrapes (`http://host:METRICS_PORT/metrics`), or null without METRICS_PORT. */
  readonly metricsUrl: string | null;
  /** From now on /readyz answers 503; resolves once no request is in flight. */
  drain(): Promise<void>;
  /** Drains, then stops every part in order (subscriptions, HTTP, notifier, rate limits, feed, metrics). */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** The wall clock "today" is taken from (requests' default as-of, milestones, the report's time); tests pass their own. */
  clock?: () => Date;
}

/** Something that started with the server and stops with it. */
interface Stoppable {
  readonly name: string;
  stop(): Promise<void>;
}

/** How often a draining server looks whether its last request has finished. */
const DRAIN_POLL_MS = 25;

export async function startServer(database: Database, config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const verifyToken = createAuthenticator(config); // first: no signing key, no server
  const app = express();
  const httpServer = http.createServer(app);
  // Idle kept-alive connections outlive a load balancer's idle timeout (60 s is usual), so the
  // server never closes one that a client is reusing at that moment (a reset request).
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const limits = documentLimits(config);
  const schema = await createSchema();
  const formatError = createFormatError(logger);
  // With DATABASE_REPLICA_URLS, query operations may be answered by a replica (src/graphql/read-routing.ts).
  const replicas = config.DATABASE_REPLICA_URLS.length > 0 ? await openReplicas(database, config, logger) : null;
  const routing = replicas ? readRouting(replicas, limits.parseOptions) : null;
  const feed = await createChangeFeed(config, logger);
  // Follows the feed from here on: every change heard makes what it holds unusable.
  const responseCache =
    config.RESPONSE_CACHE_ENTRIES > 0
      ? new ResponseCache(feed, {
          entries: config.RESPONSE_CACHE_ENTRIES,
          maxBytes: config.RESPONSE_CACHE_MB * 1024 * 1024,
          maxAgeMs: config.RESPONSE_CACHE_MAX_AGE_SECONDS * 1000,
        })
      : null;
  // Scraped only once the server runs, by when `live` exists.
  const metrics = createMetrics({
    database,
    replicas,
    openSubscriptions: () => live.openSubscriptions(),
    trustedDocuments: TRUSTED_MANIFEST,
    responseCache: responseCache?.stats ?? null,
  });
  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    introspection: config.NODE_ENV !== "production",
    includeStacktraceInErrorResponses: false,
    // A browser page elsewhere cannot make a signed-in user's browser send a "simple" request.
    csrfPrevention: true,
    // Only trusted documents are persisted (src/http/trusted-documents.ts): automatic
    // persisted queries would let anyone register a document.
    persistedQueries: false,
    allowBatchedHttpRequests: false,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // Our own cache-control (src/graphql/cache-control.ts) replaces Apollo's field-hint one.
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginCacheControlDisabled(),
      // Apollo's landing page loads Apollo Sandbox from a CDN; our IDE is served from here (src/http/ide.ts).
      ApolloServerPluginLandingPageDisabled(),
      cacheControlPlugin(),
      requestChecksPlugin(),
      // Before the audit: a document over its cost budget is refused before any plugin sees it run.
      ...limits.plugins,
      auditPlugin(logger),
      graphqlSpanNames(),
      metrics.plugin(),
      ...(routing ? [routing.plugin()] : []),
      // Last: its answer replaces execution only once every plugin above has accepted the
      // operation (document limits, input checks), and the ones above still see the response.
      ...(responseCache ? [responseCache.plugin((query, operation) => metrics.labelOf(query, operation))] : []),
    ],
  });
  await apollo.start();
  const limiter = await rateLimit(config, logger);
  const notifier = config.NOTIFICATIONS === "on" ? startNotifier({ db: database.prisma, config, logger, feed, clock: options.clock }) : NO_NOTIFIER;
  const live = serveSubscriptions(httpServer, { schema, database, config, logger, verifyToken, feed, limits, formatError, manifest: TRUSTED_MANIFEST });
  let draining = false;
  if (config.devTokens) logger.warn("JWT_SECRET is not set: tokens are checked with the development key (npm run token)");

  app.disable("x-powered-by");
  // Behind the bank's load balancer the client address is in X-Forwarded-For; anonymous rate
  // limits key on it. Only the configured proxies are believed: from anywhere else the header
  // is the client's own choice.
  app.set("trust proxy", config.TRUSTED_PROXIES.length > 0 ? config.TRUSTED_PROXIES : false);
  app.use(metrics.inFlightMiddleware);
  app.use((_req, res, next) => {
    // A kept-alive client is told to reconnect, so its next request goes to another instance.
    if (draining) res.set("Connection", "close");
    next();
  });
  app.use(health({ config, database, draining: () => draining, checks: limiter.redisCheck ? { redis: limiter.redisCheck } : {} }));
  // The dashboard page at / and its exports (src/http/dashboard.ts).
  app.use(dashboard({ config, database, apollo, verifyToken, rateLimit: limiter.middleware }));
  app.use(graphqlIde(config));
  const bodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err?.type === "entity.too.large") return sendError(res, 413, "PAYLOAD_TOO_LARGE", `Request body larger than ${err.limit} bytes`);
    if (err?.type === "entity.too.deep") return sendError(res, 400, "JSON_TOO_DEEP", err.message);
    if (err?.type === "entity.parse.failed") return sendError(res, 400, "BAD_REQUEST", "Request body is not valid JSON");
    if (err?.type === "encoding.unsupported" || err?.type === "charset.unsupported" || err?.type === "encoding.not.utf8") {
      return sendError(res, 415, "BAD_REQUEST", "Unsupported body encoding: send UTF-8 JSON");
    }
    logger.error({ err }, "unexpected error before GraphQL");
    sendError(res, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
  };
  app.use(
    "/graphql",
    metrics.middleware,
    auditRefusedTokens(database.prisma, logger, limits.parseOptions),
    authenticate(verifyToken),
    limiter.middleware,
    refuseInvalidToken,
    jsonBody(config),
    trustedDocuments(config, TRUSTED_MANIFEST),
    // A cached answer goes out here, without GraphQL (not with replicas: which database would
    // have answered is decided in Apollo's context).
    ...(responseCache && !routing ? [earlyAnswers(responseCache, () => todayIn(config.BANK_TIME_ZONE, options.clock?.()))] : []),
    graphqlSpan,
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const claims = res.locals.claims as Claims | null;
        const route = routing ? await routing.route(req, claims) : null;
        const context = createContext(route?.db ?? database.prisma, config, claims, feed, options.clock?.());
        metrics.bind(context, res);
        if (route) routing!.bind(context, route);
        // Before the viewer is read: nothing this request reads predates the version it is cached
        // under. Not for a read a replica serves (it may not have replayed the change that bumped
        // the version yet) nor for a caller whose own write the replicas have not replayed: the
        // cache would answer them from before it.
        if (!route || route.servedBy === "primary" && route.reason !== "own_write") responseCache?.bind(context);
        // A scoped token whose unit (or account manager) does not exist is refused like a
        // forged one, before anything runs; for the other roles this costs nothing.
        await context.viewer().catch((err: unknown) => {
          if (err instanceof AppError) res.locals.refusal = err.code;
          throw err instanceof AppError ? withHttpStatus(err, 401) : err;
        });
        return context;
      },
    }),
    bodyErrors,
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.PORT, config.HOST, resolve);
  });
  const port = (httpServer.address() as AddressInfo).port;
  const metricsServer = config.METRICS_PORT === undefined ? null : await serveMetrics(metrics.registry, config.METRICS_PORT, config.METRICS_HOST ?? config.HOST);

  // What stops once no request is in flight, in this order. A part that starts with the
  // server (a worker, a listener) adds itself here, before the parts it needs.
  const stops: Stoppable[] = [
    // Subscribers first (1001 "going away"): the HTTP server drains only once their sockets are gone.
    { name: "subscriptions", stop: () => live.close() },
    // Stops listening and closes the idle kept-alive connections (the drain plugin).
    { name: "http", stop: () => apollo.stop() },
    // Before the feed and the database: an attempt in flight records its outcome.
    { name: "notifier", stop: () => notifier.close() },
    // No request reads from them any more.
    { name: "replicas", stop: async () => replicas?.close() },
    { name: "rate limits", stop: () => limiter.close() },
    { name: "response cache", stop: async () => responseCache?.close() },
    { name: "change feed", stop: () => feed.close() },
    { name: "metrics", stop: async () => metricsServer?.close() },
  ];
  const drain = async () => {
    draining = true;
    while (metrics.inFlight() > 0) await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  };
  let closing: Promise<void> | undefined;
  return {
    url: `http://${displayHost(config.HOST)}:${port}/graphql`,
    port,
    feed,
    notifier,
    metricsUrl: metricsServer ? `http://${displayHost(config.METRICS_HOST ?? config.HOST)}:${metricsServer.port}/metrics` : null,
    drain,
    close: () =>
      (closing ??= (async () => {
        await drain();
        for (const part of stops) {
          logger.debug({ part: part.name }, "stopping");
          await part.stop();
        }
      })()),
  };
}

function displayHost(host: string): string {
  return host === "0.0.0.0" || host === "::" ? "localhost" : host;
}

/** The metrics listener: `GET /metrics` and nothing else, on a port of its own. */
async function serveMetrics(registry: Registry, port: number, host: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || new URL(req.url ?? "/", "http://x").pathname !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found: metrics are at /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
