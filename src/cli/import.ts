/**
 * npm run import -- <kind> <file> [--dry-run] [--bulk] [--batch-size N] [--report PATH] [--format csv|ndjson] [--as SUBJECT]
 *
 * Every written batch is recorded in the audit trail under SUBJECT (default cli:<OS user>). With
 * REDIS_URL, each committed batch's changes are published to the API instances' subscribers.
 *
 * kinds: units, managers, targets, applications, activations, merchants, circles, visits, plans. See docs/import.md.
 * --bulk (applications only): rows streamed into the database with COPY, a chunk of --batch-size
 * rows (default 1,000,000) per transaction; the same checks, report and effect as without it.
 * Exit status: 0 all rows imported, 1 some rows rejected (see the report), 2 the file could not
 * be read (nothing imported, or, for a file that breaks off, the batches before the break).
 * With METRICS_TEXTFILE_DIR, a run that wrote (not a dry run) leaves its counts there as
 * cardgrowth_import_<kind>.prom (src/observability/textfile.ts).
 */
import "reflect-metadata";
import os from "node:os";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { createChangeFeed } from "../live/feed.js";
import { createLogger } from "../logger.js";
import { IMPORT_KINDS, isImportKind } from "../modules/import/import.kinds.js";
import { ImportFileError, runImport, type ImportProgress } from "../modules/import/import.service.js";
import { writeImportMetrics } from "../observability/textfile.js";

/** A batch is one transaction, held in memory while it is written: this bounds both. */
const MAX_BATCH_SIZE = 200_000;
/** A bulk chunk is one transaction too, but streamed: only the transaction's length bounds it. */
const MAX_BULK_CHUNK = 10_000_000;

const USAGE = `usage: npm run import -- <${Object.keys(IMPORT_KINDS).join("|")}> <file> [--dry-run] [--bulk] [--batch-size N] [--report PATH] [--format csv|ndjson] [--as SUBJECT]`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "dry-run": { type: "boolean", default: false },
      bulk: { type: "boolean", default: false },
      "batch-size": { type: "string" },
      report: { type: "string" },
      format: { type: "string" },
      as: { type: "string" },
    },
  });
  const [kind, file] = positionals;
  const batchSize = values["batch-size"] === undefined ? undefined : Number(values["batch-size"]);
  if (!kind || !file || !isImportKind(kind) || (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > (values.bulk ? MAX_BULK_CHUNK : MAX_BATCH_SIZE)))) {
    console.error(USAGE);
    return 2;
  }
  if (values.format !== undefined && values.format !== "csv" && values.format !== "ndjson") {
    console.error(`--format must be csv or ndjson\n${USAGE}`);
    return 2;
  }

  let db;
  let config;
  try {
    config = loadConfig();
    db = await openDatabase(config);
  } catch (err) {
    console.error(`import: ${(err as Error).message}`); // e.g. the embedded database is held by the server
    return 2;
  }
  // Only publishes: the API instances listen. Without REDIS_URL nobody would hear it.
  const feed = await createChangeFeed(config, createLogger(config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL), { listen: false });
  const progress = progressReporter();
  try {
    const summary = await runImport(db.prisma, {
      kind,
      file,
      format: values.format as "csv" | "ndjson" | undefined,
      batchSize,
      bulk: values.bulk,
      dryRun: values["dry-run"],
      reportPath: values.report ?? `${file}.report.ndjson`,
      onProgress: progress.update,
      auditSubject: values.as ?? `cli:${os.userInfo().username}`,
      feed,
    });
    progress.stop();
    if (config.METRICS_TEXTFILE_DIR && !summary.dryRun) await writeImportMetrics(config.METRICS_TEXTFILE_DIR, kind, summary, progress.seconds());
    const verb = summary.dryRun ? "would be" : "were";
    console.log(
      `${summary.dryRun ? "[dry run] " : ""}${summary.rows} rows read in ${progress.seconds().toFixed(1)} s: ` +
        `${summary.created} ${verb} created, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.rejected} rejected` +
        (summary.superseded ? `, ${summary.superseded} superseded by a later row with the same key` : "") +
        (summary.rejected ? ` (see ${summary.reportPath})` : ""),
    );
    return summary.rejected ? 1 : 0;
  } catch (err) {
    progress.stop();
    console.error(err instanceof ImportFileError || (err as { code?: string }).code === "ENOENT" ? `import: ${(err as Error).message}` : err);
    return 2;
  } finally {
    await feed.close();
    await db.close();
  }
}

/** A bar with rows/s and ETA on a terminal; a plain line every few seconds otherwise (CI, logs). */
function progressReporter() {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  let bar: SingleBar | undefined;
  let lastLine = 0;
  const update = (p: ImportProgress) => {
    const rate = Math.round(p.rows / Math.max(seconds(), 0.001));
    if (process.stdout.isTTY) {
      bar ??= new SingleBar({ format: "{bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}", etaBuffer: 20 });
      if (!bar.isActive) bar.start(p.totalBytes, 0, { rows: 0, rate: 0 });
      bar.update(p.bytesRead, { rows: p.rows, rate });
    } else if (Date.now() - lastLine > 2_000) {
      lastLine = Date.now();
      const share = p.bytesRead / Math.max(p.totalBytes, 1);
      const eta = share > 0 ? Math.round((seconds() / share) * (1 - share)) : 0;
      console.log(`progress: ${p.rows} rows (${Math.round(share * 100)} %), ${rate} rows/s, ${p.rejected} rejected, ETA ${eta} s`);
    }
  };
  return { update, seconds, stop: () => bar?.stop() };
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
