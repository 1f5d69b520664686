/**
 * `npm start`: open the database, bring it up to date when that is ours to do, load the demo
 * story into an empty embedded database, and serve.
 */
import "reflect-metadata";
import { loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { applyMigrations, migrationStatus } from "./db/migrations.js";
import { isEmpty, loadDemo } from "./demo/load.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const database = await openDatabase(config);

  // The embedded database is ours, so we migrate it. A real PostgreSQL is migrated on purpose
  // (npm run db:migrate) unless MIGRATE_ON_START says otherwise.
  if (database.kind === "embedded" || config.MIGRATE_ON_START) {
    const applied = await applyMigrations(database.adapterFactory);
    if (applied.length) logger.info({ applied }, "migrations applied");
  } else {
    const status = await migrationStatus(database.adapterFactory);
    if (!status.applied) {
      logger.warn({ status }, "database schema is not up to date: run `npm run db:migrate`");
    }
  }
  if (database.kind === "embedded" && (await isEmpty(database.prisma))) {
    logger.info("empty embedded database: loading the demo story (takes a few seconds)");
    const summary = await loadDemo(database.prisma);
    logger.info(summary, "demo story loaded");
  }

  const server = await startServer(database, config, logger);
  const where = database.kind === "embedded" ? `embedded PostgreSQL in ${config.dataDir}` : "PostgreSQL from DATABASE_URL";
  console.log(`\n  GraphQL API ready at ${server.url}  (${where})\n`);

  const shutdown = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    await server.close();
    await database.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
