/**
 * `npm run demo:load [-- --yes]`: wipes every data table and loads the demo story again.
 *
 * The database is DATABASE_URL when set (then `--yes` is required: this deletes all its data),
 * otherwise the embedded one in DATA_DIR. The embedded database is single-process: stop
 * `npm start` on the same DATA_DIR first, or both would write the same files.
 */
// The services load decorated GraphQL types, which need the metadata polyfill first.
import "reflect-metadata";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { migrate } from "../db/migrations.js";
import { loadDemo } from "../demo/load.js";
import { TRUNCATE_ALL } from "../db/tables.js";
import { announceOutsideWrite } from "../live/feed.js";
import { createLogger } from "../logger.js";

/** Every data table; the migration history (`_prisma_migrations`) stays. */

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  if (config.DATABASE_URL && !argv.includes("--yes")) {
    console.error("DATABASE_URL is set: demo:load would delete every row of that database. Re-run with `npm run demo:load -- --yes`.");
    return 2;
  }
  const db = await openDatabase(config);
  try {
    const applied = await migrate(db);
    if (applied.length) console.log(`Applied migrations: ${applied.join(", ")}`);
    await db.prisma.$executeRawUnsafe(TRUNCATE_ALL);
    const started = performance.now();
    const summary = await loadDemo(db.prisma);
    await announceOutsideWrite(config, createLogger("warn"));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const where = db.kind === "embedded" ? `embedded database in ${config.dataDir}` : "PostgreSQL of DATABASE_URL";
    console.log(`Demo story loaded into the ${where} in ${seconds} s:`);
    for (const [what, counts] of Object.entries(summary)) console.log(`  ${what.padEnd(13)} ${counts.created} created`);
    return 0;
  } finally {
    await db.close();
  }
}

// The WASM migration engine leaves a timer armed after it is done: exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
