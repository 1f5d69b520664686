/** `npm start`. */
import "reflect-metadata";
import { startApp } from "./app.js";
import { loadConfig } from "./config.js";
import { DEMO_CALLERS } from "./demo/callers.js";
import { createLogger } from "./logger.js";
import { signToken } from "./modules/auth/auth.service.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const app = await startApp(config, logger);
  const where = app.database.kind === "embedded" ? `embedded PostgreSQL in ${config.dataDir}` : "PostgreSQL from DATABASE_URL";
  console.log(`\n  GraphQL API ready at ${app.server.url}  (${where})\n`);
  console.log(`  Dashboard at ${new URL("/", app.server.url).href}\n`);
  if (config.GRAPHQL_IDE === "on") console.log(`  Open it in a browser for the GraphQL IDE${config.devTokens ? ", with the demo callers' tokens at hand" : ""}.\n`);
  if (config.devTokens) {
    // A newcomer can query the demo at once; these tokens work only with the development key.
    const signed = await Promise.all(DEMO_CALLERS.flatMap((c) => (c.claims ? [signToken(config, c.claims).then((token) => ({ label: c.label, token }))] : [])));
    const width = Math.max(...signed.map((s) => s.label.length)) + 1;
    console.log(`  Development tokens (8 h; send as "Authorization: Bearer <token>"; more with npm run token):`);
    for (const { label, token } of signed) console.log(`    ${`${label}:`.padEnd(width)} ${token}`);
    console.log("");
  }

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
