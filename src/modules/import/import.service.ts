/**
 * Streaming import: reads a CSV or NDJSON file record by record (constant memory whatever its
 * size), checks each record's cells, and hands batches to the same services the GraphQL
 * mutations use, in "skip bad rows" mode. Each batch is one transaction, and every write is an
 * idempotent upsert, so an import that is killed at any point and run again ends with exactly
 * the data of one clean run. A batch's audit entry commits with the batch.
 *
 * With `bulk` (applications), chunks of rows are encoded to a file as they are read and
 * streamed into the database with COPY, one chunk being read while the one before is written;
 * the same rules, report, summary, audit entries and effect as the batch path.
 */
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import readline from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CsvError, parse as parseCsv } from "csv-parse";
import { createHash } from "node:crypto";
import path from "node:path";
import type { Db } from "../../db/database.js";
import { AppError, type FieldIssue } from "../../errors.js";
import type { ChangeFeed } from "../../live/change.js";
import { recordAudit, refusedEntry, type AuditStamp } from "../audit/audit.service.js";
import type { WriteCounts } from "../common/write-result.type.js";
import { IMPORT_KINDS, type ImportKind, type ImportKindName } from "./import.kinds.js";

export type ImportFormat = "csv" | "ndjson";

export interface ImportOptions {
  kind: ImportKindName;
  file: string;
  format?: ImportFormat;
  /** Rows per batch; the kind's own default (IMPORT_KINDS) when not given, BULK_CHUNK_ROWS with `bulk`. */
  batchSize?: number;
  /**
   * The bulk path (applications only): rows are streamed into the database with COPY as they
   * are read, a chunk of `batchSize` rows per transaction, instead of being held as a batch.
   * Same checks, report, summary, audit entries, change feed and idempotency as the batch path.
   */
  bulk?: boolean;
  dryRun?: boolean;
  /** Where bad rows are reported, one JSON object per line: { line, field, reason }. */
  reportPath: string;
  onProgress?(progress: ImportProgress): void;
  /** Who runs the import: each written batch goes to the audit trail under this subject (role INGEST). */
  auditSubject?: string;
  /** Where each committed batch's changes are published (the API instances' live updates; with REDIS_URL, through Redis). */
  feed?: ChangeFeed;
}

export interface ImportProgress {
  rows: number;
  rejected: number;
  bytesRead: number;
  totalBytes: number;
}

export interface ImportSummary extends ImportProgress {
  /** Rows replaced by a later row with the same key in the same batch. */
  superseded: number;
  created: number;
  updated: number;
  unchanged: number;
  batches: number;
  dryRun: boolean;
  reportPath: string;
}

export interface RowIssue {
  line: number;
  field: string;
  reason: string;
}

/** A report's line: one JSON object per issue. */
const issueLine = (issue: RowIssue) => `${JSON.stringify(issue)}\n`;

/**
 * The file cannot be read as a file of its format: before any row (bad header, …), or past some
 * line (CSV that no longer parses, say a quote never closed). Batches before that line are
 * written, as when an import is killed; run it again once the file is fixed.
 */
export class ImportFileError extends Error {}

/**
 * The longest record read (bytes of a CSV record or an NDJSON line): far above any
 * real row (a plan's rules cell is a few KB), and small enough that a quote never closed, or a
 * file with no line breaks, stops the import at once instead of being read into one field (a
 * 300 MB field took the import to 2 GB).
 */
const MAX_RECORD = 1_000_000;

/**
 * Rows per transaction on the bulk path. Measured on the 1 M bench (load 3-4): a 1 M file in
 * one 1,000,000-row chunk took 88 s, in four 250,000-row chunks 98 s: a larger chunk folds more
 * rows into each rollup row it updates, which outweighed reading a chunk while the one before
 * is written. Larger files still get that overlap, a chunk at a time.
 */
export const BULK_CHUNK_ROWS = 1_000_000;

function formatOf(file: string): ImportFormat {
  if (/\.csv$/i.test(file)) return "csv";
  if (/\.(ndjson|jsonl)$/i.test(file)) return "ndjson";
  throw new ImportFileError(`cannot tell the format of "${file}": name it .csv, .ndjson or .jsonl, or pass --format`);
}

interface SourceRecord {
  line: number;
  record: unknown;
  /** A record the reader could not even parse (broken JSON). */
  error?: string;
}

async function* readRecords(file: string, format: ImportFormat, columns: readonly string[], onBytes: (n: number) => void): AsyncGenerator<SourceRecord> {
  const input = fs.createReadStream(file);
  input.on("data", (chunk) => onBytes(chunk.length));
  if (format === "csv") {
    const parser = input.pipe(
      parseCsv({
        bom: true,
        trim: true,
        skip_empty_lines: true,
        info: true,
        max_record_size: MAX_RECORD,
        columns: (header: string[]) => {
          const unknown = header.filter((h) => !columns.includes(h));
          if (unknown.length) throw new ImportFileError(`unknown column(s) ${unknown.join(", ")}; expected some of ${columns.join(", ")}`);
          return header;
        },
      }),
    );
    let last = 1;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
        last = info.lines;
        yield { line: last, record };
      }
    } catch (err) {
      if (err instanceof CsvError) throw new ImportFileError(`the CSV cannot be read after line ${last}: ${err.message}`);
      throw err;
    }
    return;
  }
  let line = 0;
  // readline keeps no limit of its own: the bytes since the last line break are counted here.
  let run = 0;
  const overlong = new Error("overlong line");
  input.on("data", (chunk) => {
    if (typeof chunk === "string") return; // never: the stream has no encoding, so it reads Buffers
    const end = chunk.lastIndexOf(10);
    run = end < 0 ? run + chunk.length : chunk.length - end - 1;
    if (run > MAX_RECORD) input.destroy(overlong);
  });
  try {
    for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
      line += 1;
      if (text.trim() === "") continue;
      try {
        yield { line, record: JSON.parse(text) };
      } catch (err) {
        yield { line, record: null, error: `not valid JSON: ${err instanceof Error ? err.message : err}` };
      }
    }
  } catch (err) {
    // Named here, not where the stream stopped: the lines readline had split by then still came first.
    if (err === overlong) throw new ImportFileError(`the file cannot be read after line ${line}: a line is longer than ${MAX_RECORD} bytes`);
    throw err;
  }
}

/** A cell's path as the API's issues name fields: `rules[0].kind`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

/** The records of the file whose cells pass the kind's columns, with their lines; the others are reported as they come. */
async function* checkedRows(
  kind: ImportKind,
  file: string,
  format: ImportFormat,
  summary: ImportSummary,
  reportIssue: (issue: RowIssue) => void,
): AsyncGenerator<{ line: number; row: unknown }> {
  const columns = Object.keys(kind.columns.shape);
  for await (const source of readRecords(file, format, columns, (n) => (summary.bytesRead += n))) {
    summary.rows += 1;
    if (source.error) {
      reportIssue({ line: source.line, field: "(record)", reason: source.error });
      summary.rejected += 1;
      continue;
    }
    const checked = kind.columns.safeParse(source.record);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const field = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : fieldPath(issue.path) || "(record)";
        reportIssue({ line: source.line, field, reason: issue.code === "unrecognized_keys" ? "unknown field" : issue.message });
      }
      summary.rejected += 1;
      continue;
    }
    yield { line: source.line, row: checked.data };
  }
}

export async function runImport(db: Db, options: ImportOptions): Promise<ImportSummary> {
  const kind = IMPORT_KINDS[options.kind] as ImportKind;
  if (options.bulk && !kind.bulk) {
    throw new ImportFileError(`--bulk imports applications only, not ${options.kind}`);
  }
  const format = options.format ?? formatOf(options.file);
  const batchSize = options.batchSize ?? (options.bulk ? BULK_CHUNK_ROWS : kind.batchSize);
  const totalBytes = fs.statSync(options.file).size;
  const report = fs.createWriteStream(options.reportPath);
  const summary: ImportSummary = {
    rows: 0, rejected: 0, bytesRead: 0, totalBytes, superseded: 0, created: 0, updated: 0, unchanged: 0, batches: 0,
    dryRun: options.dryRun ?? false, reportPath: options.reportPath,
  };
  const reportIssue = (issue: RowIssue) => {
    report.write(issueLine(issue));
  };
  /** Who writes a batch of these keys and lines, for the audit trail; none on a dry run, which records nothing. */
  const stampOf = (keysHash: string, firstLine: number, lastLine: number, rows: number): AuditStamp | undefined => {
    if (!options.auditSubject || options.dryRun) return undefined;
    return {
      subject: options.auditSubject,
      role: "INGEST",
      operation: `import:${options.kind}`,
      // The same rows give the same key, so a replayed batch shows up as such in the trail.
      idempotencyKey: keysHash.slice(0, 32),
      target: `lines ${firstLine}-${lastLine} of ${path.basename(options.file)}`,
      details: { rows },
    };
  };
  /** Adds a committed batch's counts to the summary. */
  const count = (outcome: WriteCounts, rejectedRows: number) => {
    summary.created += outcome.created;
    summary.updated += outcome.updated;
    summary.unchanged += outcome.unchanged;
    summary.rejected += rejectedRows;
    summary.batches += 1;
    options.onProgress?.(summary);
  };
  /** Runs a batch's write; a write that fails leaves its refusal in the trail on its own. */
  const audited = async <T>(audit: AuditStamp | undefined, write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } catch (err) {
      // Rolled back: nothing was written, so the entry that says so is written on its own.
      const [code, issues] = err instanceof AppError ? [err.code, err.issues] : ["INTERNAL_SERVER_ERROR", undefined];
      if (audit) await recordAudit(db, [refusedEntry(audit, code, issues)]).catch(() => {});
      throw err;
    }
  };

  const rows = checkedRows(kind, options.file, format, summary, reportIssue);
  try {
    if (options.bulk) await runBulk(rows);
    else await runBatches(rows);
  } finally {
    await new Promise<void>((resolve) => report.end(resolve));
  }
  return summary;

  async function runBatches(checked: AsyncIterable<{ line: number; row: unknown }>): Promise<void> {
    type Batch = { line: number; row: unknown }[];
    const write = async (rows: Batch) => {
      const keys = createHash("sha256").update(rows.map((b) => kind.keyOf(b.row)).join("\n")).digest("hex");
      const audit = stampOf(keys, rows[0].line, rows[rows.length - 1].line, rows.length);
      // The batch's entry is written in the batch's transaction: committed rows always have it.
      const outcome = await audited(audit, () =>
        kind.write(db, rows.map((b) => b.row), batchSize, { skipInvalid: true, dryRun: options.dryRun, audit, feed: options.feed }),
      );
      const badLines = new Set<number>();
      for (const issue of outcome.rejected) {
        const line = rows[issue.index!].line;
        badLines.add(line);
        reportIssue({ line, field: issue.field, reason: issue.reason });
      }
      count(outcome, badLines.size);
    };
    // One batch is written while the next is read and checked: the database and the parser then
    // work at the same time (on different cores) instead of taking turns. Batches still land in
    // file order, one at a time.
    let batch: Batch = [];
    let batchKeys = new Map<string, number>();
    // Typed by assertion: flush() sets it, and the checker would narrow it to null below.
    let writing = null as Promise<void> | null;
    const flush = async () => {
      if (writing) await writing;
      writing = batch.length ? write(batch) : null;
      writing?.catch(() => {}); // handled where it is awaited
      batch = [];
      batchKeys = new Map();
    };
    try {
      for await (const checkedRow of checked) {
        // A later row with the same key corrects an earlier one, as it would in a later batch:
        // the result must not depend on where batches happen to split the file.
        const key = kind.keyOf(checkedRow.row);
        const earlier = batchKeys.get(key);
        if (earlier !== undefined) {
          batch[earlier] = checkedRow;
          summary.superseded += 1;
          continue;
        }
        batchKeys.set(key, batch.length);
        batch.push(checkedRow);
        if (batch.length >= batchSize) await flush();
      }
    } catch (err) {
      // The file broke off: the batch already on its way lands before the command says why it
      // stopped, so what was written is settled; if that write failed, its error is the one told.
      if (writing) await writing;
      throw err;
    }
    await flush();
    if (writing) await writing;
  }

  /**
   * Chunks of `batchSize` checked rows. Each is read and encoded (kind.bulk.encode) into a file
   * of its own while the one before is written to the database: parsing and checking (this
   * process, one core) overlap the database's work (another), and nothing of a row stays in
   * memory. Each chunk is then streamed into one transaction from its file, and the file removed.
   * Duplicate keys within a chunk are resolved in the database, by line. The chunk's rejected
   * issues arrive a page at a time while its transaction is open: they wait in a file of their
   * own, which joins the report once the chunk has committed, so however many rows a chunk
   * refuses, none of them is held here.
   */
  async function runBulk(checked: AsyncIterable<{ line: number; row: unknown }>): Promise<void> {
    const bulk = kind.bulk!;
    const source = checked[Symbol.asyncIterator]();
    let next = await source.next();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-bulk-"));
    const prepare = async (k: number) => {
      if (next.done) return null;
      const keys = createHash("sha256");
      const first = next.value.line;
      let last = first;
      let staged = 0;
      async function* chunk() {
        while (!next.done && staged < batchSize) {
          const item = next.value;
          keys.update(`${staged ? "\n" : ""}${kind.keyOf(item.row)}`);
          last = item.line;
          staged += 1;
          yield item;
          next = await source.next();
        }
      }
      const file = path.join(dir, `chunk-${k}.copy`);
      await pipeline(Readable.from(bulk.encode(chunk())), fs.createWriteStream(file));
      return { file, first, last, staged, keys: keys.digest("hex") };
    };
    try {
      let preparing = prepare(0);
      for (let k = 1; ; k++) {
        const chunk = await preparing;
        if (!chunk) break;
        preparing = prepare(k);
        preparing.catch(() => {}); // handled where it is awaited
        const audit = stampOf(chunk.keys, chunk.first, chunk.last, chunk.staged);
        // Written synchronously, a page at a time: a write that fails (a full disk) fails the
        // chunk's transaction rather than losing issues of rows it then commits without.
        const heldFile = `${chunk.file}.rejected`;
        const held = fs.openSync(heldFile, "w");
        const onRejected = (issues: readonly FieldIssue[]) => {
          fs.writeSync(held, issues.map((i) => issueLine({ line: i.index!, field: i.field, reason: i.reason })).join(""));
        };
        // The chunk's entry is written in the chunk's transaction: committed rows always have it.
        const outcome = await audited(audit, () =>
          bulk.write(db, fs.createReadStream(chunk.file), { skipInvalid: true, dryRun: options.dryRun, audit, feed: options.feed, onRejected }),
        ).finally(() => fs.closeSync(held));
        fs.rmSync(chunk.file, { force: true });
        // Whole lines only: the next chunk, read meanwhile, reports its bad cells between these writes.
        let partial = "";
        for await (const piece of fs.createReadStream(heldFile, "utf8")) {
          const text = partial + piece;
          const end = text.lastIndexOf("\n") + 1;
          partial = text.slice(end);
          if (end > 0 && !report.write(text.slice(0, end))) await once(report, "drain");
        }
        fs.rmSync(heldFile, { force: true });
        summary.superseded += outcome.superseded;
        count(outcome, outcome.rejectedRows);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
