/**
 * `npm start`. Tracing (when configured) starts before the server's modules load, so the
 * app is imported only then.
 *
 * SIGTERM or SIGINT: /readyz answers 503 at once, requests in flight finish, subscriptions
 * close with 1001, then connections and the database; exit 0. Past SHUTDOWN_TIMEOUT_MS, or on a
 * second signal, exit 1 whatever is left.
 */
import "reflect-metadata";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startTracing } from "./observability/tracing.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const tracing = await startTracing(config);
  const { startApp } = await import("./app.js");
  const { demoCallersWithTokens } = await import("./http/demo-tokens.js");
  const app = await startApp(config, logger);
  const where = app.database.kind === "embedded" ? `embedded PostgreSQL in ${config.dataDir}` : "PostgreSQL from DATABASE_URL";
  console.log(`\n  GraphQL API ready at ${app.server.url}  (${where})\n`);
  console.log(`  Dashboard at ${new URL("/", app.server.url).href}\n`);
  if (app.server.metricsUrl) console.log(`  Metrics at ${app.server.metricsUrl}  (METRICS_PORT: keep it off the public network)\n`);
  if (config.GRAPHQL_IDE === "on") console.log(`  Open it in a browser for the GraphQL IDE${config.devTokens ? ", with the demo callers' tokens at hand" : ""}.\n`);
  if (config.devTokens) {
    // A newcomer can query the demo at once; these tokens work only with the development key.
    const signed = (await demoCallersWithTokens(config)).flatMap(({ caller, token }) => (token ? [{ label: caller.label, token }] : []));
    const width = Math.max(...signed.map((s) => s.label.length)) + 1;
    console.log(`  Development tokens (8 h; send as "Authorization: Bearer <token>"; more with npm run token):`);
    for (const { label, token } of signed) console.log(`    ${`${label}:`.padEnd(width)} ${token}`);
    console.log("");
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, deadlineMs: config.SHUTDOWN_TIMEOUT_MS }, "shutting down: not ready from now on, finishing requests in flight");
    setTimeout(() => {
      logger.error({ deadlineMs: config.SHUTDOWN_TIMEOUT_MS }, "shutdown took longer than SHUTDOWN_TIMEOUT_MS: exiting with work unfinished");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    try {
      await app.close();
      await tracing?.shutdown();
      logger.info("shut down");
      process.exit(0);
    } catch (err) {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
