/**
 * The HTTP server: Express with Apollo at /graphql and a health check. Returned handle closes
 * everything in order (HTTP first, in-flight requests drained).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import type { Config } from "./config.js";
import type { Database } from "./db/database.js";
import { cacheControlPlugin } from "./graphql/cache-control.js";
import { createContext, type Context } from "./graphql/context.js";
import { createFormatError } from "./graphql/format-error.js";
import { createSchema } from "./graphql/schema.js";
import type { Logger } from "./logger.js";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startServer(database: Database, config: Config, logger: Logger): Promise<RunningServer> {
  const app = express();
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<Context>({
    schema: await createSchema(),
    formatError: createFormatError(logger),
    introspection: config.NODE_ENV !== "production",
    includeStacktraceInErrorResponses: false,
    // Our own cache-control (src/graphql/cache-control.ts) replaces Apollo's field-hint one.
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginCacheControlDisabled(), cacheControlPlugin()],
  });
  await apollo.start();

  app.disable("x-powered-by");
  app.get("/health", (_req, res) => {
    res.json({ status: "ok", database: database.kind });
  });
  app.use(
    "/graphql",
    express.json({ limit: "1mb" }),
    expressMiddleware(apollo, { context: async () => createContext(database.prisma, config) }),
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
    close: () => apollo.stop(),
  };
}
