/**
 * npm run rollups:verify   recompute every rollup (and first approval) from the records and list
 *                          the differences; exit 1 when there are any
 * npm run rollups:rebuild  re-derive them all from the records (repair)
 * Both cover the live-offer index (src/figures/offer-index.ts) too: it is derived from the
 * campaigns, promotions and merchants the same way the rollups are from the records.
 *
 * With METRICS_TEXTFILE_DIR, verify leaves its result there as cardgrowth_rollups.prom
 * (src/observability/textfile.ts): alert when differences are above 0.
 */
import "reflect-metadata";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { rebuildOffers, verifyOffers } from "../figures/offer-index.js";
import { rebuildRollups, verifyRollups } from "../figures/rebuild.js";
import { announceOutsideWrite } from "../live/feed.js";
import { createLogger } from "../logger.js";
import { writeRollupMetrics } from "../observability/textfile.js";

async function main(command: string | undefined): Promise<number> {
  if (command !== "verify" && command !== "rebuild") {
    console.error("usage: rollups <verify|rebuild>");
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    const started = Date.now();
    if (command === "rebuild") {
      await rebuildRollups(db.prisma);
      const offers = await db.prisma.$transaction((tx) => rebuildOffers(tx), { timeout: 600_000 });
      await announceOutsideWrite(config, createLogger("warn"));
      console.log(`Rollups rebuilt from the records, and ${offers} live offers from the campaigns, in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
      return 0;
    }
    const { differences, total } = await verifyRollups(db.prisma);
    const offers = await verifyOffers(db.prisma);
    const seconds = (Date.now() - started) / 1000;
    if (config.METRICS_TEXTFILE_DIR) await writeRollupMetrics(config.METRICS_TEXTFILE_DIR, total + offers.total, seconds);
    const took = `${seconds.toFixed(1)} s`;
    if (total === 0 && offers.total === 0) {
      console.log(`Rollups verified: 0 differences from the records; live-offer index: 0 differences in ${offers.rows} rows (${took}).`);
      return 0;
    }
    if (total) console.log(`${total} difference(s) between the rollups and the records (${took}); first ${differences.length}:`);
    for (const d of differences) console.log(`  ${d.table} ${d.key}: stored ${d.stored ?? "-"}, expected ${d.expected ?? "-"}`);
    if (offers.total) console.log(`${offers.total} difference(s) between the live-offer index and the campaigns; first ${offers.differences.length}:`);
    for (const d of offers.differences) console.log(`  ${d.kind}: promotion ${d.promotionId} at merchant ${d.merchantId}`);
    console.log("Run `npm run rollups:rebuild` to repair.");
    return 1;
  } finally {
    await db.close();
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
