/**
 * Metrics of the processes that run and end (the import, `rollups:verify`): Prometheus cannot
 * scrape them, so each writes what its run did, as Prometheus text, into METRICS_TEXTFILE_DIR
 * when it ends: the folder node_exporter's textfile collector reads. One file per job (and per
 * import kind), replaced atomically (written aside, then renamed), so a scrape never reads half
 * a file and the newest run's figures are the ones shown. Gauges, not counters: each file
 * describes the last run; alert on its timestamp growing old or its failures.
 */
import fs from "node:fs";
import path from "node:path";
import { Gauge, Registry } from "prom-client";
import type { ImportSummary } from "../modules/import/import.service.js";

/** Writes `registry` as `<dir>/<job>.prom`, atomically. */
async function writeTextfile(dir: string, job: string, registry: Registry): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${job}.prom`);
  const aside = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(aside, await registry.metrics());
  fs.renameSync(aside, file);
  return file;
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []) {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/** The last run of one import kind: rows by outcome, batches, duration, when, and whether every row went in. */
export function writeImportMetrics(dir: string, kind: string, summary: ImportSummary, seconds: number): Promise<string> {
  const registry = new Registry();
  const rows = gauge(registry, "cardgrowth_import_last_rows", "Rows of the last import of this kind, by outcome", ["kind", "outcome"]);
  for (const outcome of ["created", "updated", "unchanged", "rejected", "superseded"] as const) rows.set({ kind, outcome }, summary[outcome]);
  gauge(registry, "cardgrowth_import_last_batches", "Batches (transactions) the last import of this kind wrote", ["kind"]).set({ kind }, summary.batches);
  gauge(registry, "cardgrowth_import_last_duration_seconds", "How long the last import of this kind ran", ["kind"]).set({ kind }, seconds);
  gauge(registry, "cardgrowth_import_last_run_timestamp_seconds", "When the last import of this kind ended (Unix time)", ["kind"]).set({ kind }, Date.now() / 1000);
  return writeTextfile(dir, `cardgrowth_import_${kind}`, registry);
}

/** The last `rollups:verify`: how many rollup rows differ from the records (0 is the only good answer). */
export function writeRollupMetrics(dir: string, differences: number, seconds: number): Promise<string> {
  const registry = new Registry();
  gauge(registry, "cardgrowth_rollups_verify_differences", "Rollup rows that differ from the records at the last rollups:verify").set(differences);
  gauge(registry, "cardgrowth_rollups_verify_duration_seconds", "How long the last rollups:verify ran").set(seconds);
  gauge(registry, "cardgrowth_rollups_verify_last_run_timestamp_seconds", "When the last rollups:verify ended (Unix time)").set(Date.now() / 1000);
  return writeTextfile(dir, "cardgrowth_rollups", registry);
}
