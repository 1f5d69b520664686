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
  if (config.GRAPHQL_IDE === "on") console.log(`  Open it in a browser for the GraphQL IDE${config.devTokens ? ", with the demo callers' tokens at hand" : ""}.\n`);
  if (config.devTokens) {
    // A newcomer can query the demo at once; these tokens work only with the development key.
    const [hq, manager] = await Promise.all(["hq", "branch-manager"].map((id) => signToken(config, DEMO_CALLERS.find((c) => c.id === id)!.claims!)));
    console.log(`  Development tokens (8 h; send as "Authorization: Bearer <token>"; more with npm run token):`);
    console.log(`    HQ:                     ${hq}`);
    console.log(`    SX-LL branch manager:   ${manager}\n`);
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
