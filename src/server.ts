/**
 * The HTTP server: Express with Apollo at /graphql and a health check. Returned handle closes
 * everything in order (HTTP first, in-flight requests drained).
 *
 * A request to /graphql meets, in order: the body size limit, the bearer token, the caller's
 * rate limit, the trusted-document check, then Apollo (CSRF prevention, document limits, field
 * authorization, error masking). A mutation refused for its token is audited on the way out.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import type { Config } from "./config.js";
import type { Database } from "./db/database.js";
import { cacheControlPlugin } from "./graphql/cache-control.js";
import { createContext, type Context } from "./graphql/context.js";
import { createFormatError } from "./graphql/format-error.js";
import { armor } from "./graphql/limits.js";
import { createSchema } from "./graphql/schema.js";
import { TRUSTED_MANIFEST } from "./graphql/trusted-documents.js";
import { authenticate } from "./http/authenticate.js";
import { sendError } from "./http/errors.js";
import { rateLimit } from "./http/rate-limit.js";
import { trustedDocuments } from "./http/trusted-documents.js";
import type { Logger } from "./logger.js";
import { auditRefusedTokens } from "./modules/audit/audit.http.js";
import { auditPlugin } from "./modules/audit/audit.plugin.js";
import { createAuthenticator, type Claims } from "./modules/auth/auth.service.js";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startServer(database: Database, config: Config, logger: Logger): Promise<RunningServer> {
  const verifyToken = createAuthenticator(config); // first: no signing key, no server
  const app = express();
  const httpServer = http.createServer(app);
  const limits = armor(config);
  const apollo = new ApolloServer<Context>({
    schema: await createSchema(),
    formatError: createFormatError(logger),
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
      cacheControlPlugin(),
      auditPlugin(logger),
      ...limits.plugins,
    ],
  });
  await apollo.start();
  const limiter = await rateLimit(config, logger);
  if (config.devTokens) logger.warn("JWT_SECRET is not set: tokens are checked with the development key (npm run token)");

  app.disable("x-powered-by");
  // Behind the bank's load balancer the client address is in X-Forwarded-For; anonymous rate limits key on it.
  app.set("trust proxy", "loopback, linklocal, uniquelocal");
  app.get("/health", (_req, res) => {
    res.json({ status: "ok", database: database.kind });
  });
  const bodyErrors: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err?.type === "entity.too.large") return sendError(res, 413, "PAYLOAD_TOO_LARGE", `Request body larger than ${config.BODY_LIMIT_BYTES} bytes`);
    if (err?.type === "entity.parse.failed") return sendError(res, 400, "BAD_REQUEST", "Request body is not valid JSON");
    if (err?.type === "encoding.unsupported" || err?.type === "charset.unsupported") return sendError(res, 415, "BAD_REQUEST", "Unsupported body encoding");
    logger.error({ err }, "unexpected error before GraphQL");
    sendError(res, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
  };
  app.use(
    "/graphql",
    auditRefusedTokens(database.prisma, logger, limits.parseOptions),
    express.json({ limit: config.BODY_LIMIT_BYTES }),
    authenticate(verifyToken),
    limiter.middleware,
    trustedDocuments(config, TRUSTED_MANIFEST),
    expressMiddleware(apollo, { context: async ({ res }) => createContext(database.prisma, config, res.locals.claims as Claims | null) }),
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
    close: async () => {
      await apollo.stop();
      await limiter.close();
    },
  };
}
