/** `npm start`. */
import "reflect-metadata";
import { startApp } from "./app.js";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const app = await startApp(config, logger);
  const where = app.database.kind === "embedded" ? `embedded PostgreSQL in ${config.dataDir}` : "PostgreSQL from DATABASE_URL";
  console.log(`\n  GraphQL API ready at ${app.server.url}  (${where})\n`);

  const shutdown = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    await app.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
