/**
 * The HTTP server: Express with Apollo at /graphql, the GraphQL IDE for browsers (src/http/ide.ts)
 * and a health check. Returned handle closes everything in order (HTTP first, in-flight requests
 * drained).
 *
 * A request to /graphql meets, in order: the bearer token (verified from the header alone), the
 * rate limit (every request counts, a forged token against its address), the token's refusal,
 * the body (a small limit for anonymous callers, nesting depth checked before parsing), the
 * trusted-document check, then Apollo (CSRF prevention, document limits, input strings, field
 * authorization, error masking). Cheap refusals come first, so a request that will be refused
 * costs as little as possible. A request refused for its token is audited on the way out.
 *
 * The same port and path take GraphQL subscriptions over WebSocket (src/live/subscriptions.ts),
 * fed by the process's change feed (src/live/feed.ts: in process, or Redis with REDIS_URL),
 * which every write publishes to after it commits. The same feed drives the group notifications
 * (src/modules/notify/notifier.ts: milestones, the daily report, the outbox's worker), which run
 * with the server and stop before the feed closes.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import type { Config } from "./config.js";
import type { Database } from "./db/database.js";
import { AppError } from "./errors.js";
import { cacheControlPlugin } from "./graphql/cache-control.js";
import type { Context } from "./graphql/context.js";
import { createContext } from "./graphql/create-context.js";
import { createFormatError } from "./graphql/format-error.js";
import { documentLimits } from "./graphql/limits.js";
import { requestChecksPlugin } from "./graphql/request-checks.js";
import { createSchema } from "./graphql/schema.js";
import { TRUSTED_MANIFEST } from "./graphql/trusted-documents.js";
import { authenticate, refuseInvalidToken } from "./http/authenticate.js";
import { jsonBody } from "./http/body.js";
import { sendError, withHttpStatus } from "./http/errors.js";
import { dashboard } from "./http/dashboard.js";
import { graphqlIde } from "./http/ide.js";
import { rateLimit } from "./http/rate-limit.js";
import { trustedDocuments } from "./http/trusted-documents.js";
import type { Logger } from "./logger.js";
import { auditRefusedTokens } from "./modules/audit/audit.http.js";
import { auditPlugin } from "./modules/audit/audit.plugin.js";
import { createAuthenticator, type Claims } from "./modules/auth/auth.service.js";
import type { ChangeFeed } from "./live/change.js";
import { createChangeFeed } from "./live/feed.js";
import { serveSubscriptions } from "./live/subscriptions.js";
import { NO_NOTIFIER, startNotifier, type Notifier } from "./modules/notify/notifier.js";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Committed writes' changes, from this instance and (with REDIS_URL) every other one. */
  readonly feed: ChangeFeed;
  /** Milestones and daily reports to the units' chat groups (src/modules/notify). */
  readonly notifier: Notifier;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** The wall clock "today" is taken from (requests' default as-of, milestones, the report's time); tests pass their own. */
  clock?: () => Date;
}

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
    ],
  });
  await apollo.start();
  const limiter = await rateLimit(config, logger);
  const feed = await createChangeFeed(config, logger);
  const notifier = config.NOTIFICATIONS === "on" ? startNotifier({ db: database.prisma, config, logger, feed, clock: options.clock }) : NO_NOTIFIER;
  const live = serveSubscriptions(httpServer, { schema, database, config, logger, verifyToken, feed, limits, formatError, manifest: TRUSTED_MANIFEST });
  if (config.devTokens) logger.warn("JWT_SECRET is not set: tokens are checked with the development key (npm run token)");

  app.disable("x-powered-by");
  // Behind the bank's load balancer the client address is in X-Forwarded-For; anonymous rate
  // limits key on it. Only the configured proxies are believed: from anywhere else the header
  // is the client's own choice.
  app.set("trust proxy", config.TRUSTED_PROXIES.length > 0 ? config.TRUSTED_PROXIES : false);
  app.get("/health", (_req, res) => {
    res.json({ status: "ok", database: database.kind });
  });
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
    auditRefusedTokens(database.prisma, logger, limits.parseOptions),
    authenticate(verifyToken),
    limiter.middleware,
    refuseInvalidToken,
    jsonBody(config),
    trustedDocuments(config, TRUSTED_MANIFEST),
    expressMiddleware(apollo, {
      context: async ({ res }) => {
        const context = createContext(database.prisma, config, res.locals.claims as Claims | null, feed, options.clock?.());
        // A scoped token whose unit (or account manager) does not exist is refused like a
        // forged one, before anything runs; for the other roles this costs nothing.
        await context.viewer().catch((err: unknown) => {
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
  const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "localhost" : config.HOST;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    feed,
    notifier,
    close: async () => {
      // Subscribers first: the HTTP server drains only once their sockets are gone.
      await live.close();
      await apollo.stop();
      // Before the feed and the database: an attempt in flight records its outcome.
      await notifier.close();
      await limiter.close();
      await feed.close();
    },
  };
}
