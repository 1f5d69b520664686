/**
 * Everything `npm start` does, as a function tests can call: open the database, bring it up to
 * date when that is ours to do, load the demo story into an empty embedded database, serve.
 */
import type { Config } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import { migrate, unappliedMigrations } from "./db/migrations.js";
import { isEmpty, loadDemo } from "./demo/load.js";
import type { Logger } from "./logger.js";
import { startServer, type RunningServer } from "./server.js";

export interface App {
  readonly database: Database;
  readonly server: RunningServer;
  close(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  const database = await openDatabase(config);
  try {
    // The embedded database is ours, so we migrate it. A real PostgreSQL is migrated on
    // purpose (npm run db:migrate) unless MIGRATE_ON_START says otherwise.
    if (database.kind === "embedded" || config.MIGRATE_ON_START) {
      const applied = await migrate(database);
      if (applied.length) logger.info({ applied }, "migrations applied");
    } else {
      const pending = await unappliedMigrations(database.prisma);
      if (pending.length) logger.warn({ pending }, "database schema is not up to date: run `npm run db:migrate` (`npm run db:status` for details)");
    }
    if (database.kind === "embedded" && (await isEmpty(database.prisma))) {
      logger.info("empty embedded database: loading the demo story");
      logger.info(await loadDemo(database.prisma), "demo story loaded");
    }
    const server = await startServer(database, config, logger);
    return {
      database,
      server,
      close: async () => {
        await server.close();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
