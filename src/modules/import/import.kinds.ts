/**
 * What each kind of import file holds: its columns (the GraphQL input's field names), how a
 * raw cell becomes a typed value, and which service writes a batch of it.
 */
import { z } from "zod";
import type { Db } from "../../db/database.js";
import { parseBusinessDate } from "../../domain/dates.js";
import { parsePeriod } from "../../domain/period.js";
import { ApplicationChannel, CircleKind, Decision, MerchantCategory, Metric, OrgLevel, PlanRuleKind, VisitOutcome } from "../../generated/prisma/enums.js";
import type { StreamedWriteOptions, WriteOptions } from "../common/validate.js";
import { TeamSplit } from "../incentives/incentives.enums.js";
import { upsertPlans } from "../incentives/plans.service.js";
import type { StreamedOutcome, WriteOutcome } from "../common/write-result.type.js";
import { recordVisits, upsertBusinessCircles, upsertMerchants } from "../merchants/merchants.service.js";
import { upsertAccountManagers, upsertBranches } from "../org/org.service.js";
import type { ApplicationInput } from "../records/records.input.js";
import { encodeApplicationLines, recordActivations, recordApplicationCopy, recordApplications } from "../records/records.service.js";
import { setTargets } from "../targets/targets.service.js";

/** CSV cells are strings and an empty cell means "not given"; NDJSON may use null. */
const blankToNull = (v: unknown) => (v === "" || v === undefined ? null : v);
const text = z.preprocess(blankToNull, z.string({ error: "is required" }));
const optionalText = z.preprocess(blankToNull, z.string().nullable());
const parsed = <T>(parse: (s: string) => T) =>
  z.string().transform((s, ctx) => {
    try {
      return parse(s);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  });
/**
 * parseBusinessDate, remembered: a file holds few distinct dates in millions of rows, and the
 * calendar check (luxon) was most of the cost of checking a row. Only the answers are kept, a
 * failure included, so a cached date gives exactly what a fresh parse would.
 */
const knownDates = new Map<string, { date: string } | { error: unknown }>();
function parseDateCached(s: string): string {
  let known = knownDates.get(s);
  if (!known) {
    try {
      known = { date: parseBusinessDate(s) };
    } catch (error) {
      known = { error };
    }
    if (knownDates.size >= 100_000) knownDates.clear();
    knownDates.set(s, known);
  }
  if ("error" in known) throw known.error;
  return known.date;
}
const date = z.preprocess(blankToNull, parsed(parseDateCached));
const optionalDate = z.preprocess(blankToNull, parsed(parseDateCached).nullable());
const oneOf = <T extends Record<string, string>>(values: T) => z.enum(values, { error: `must be one of ${Object.values(values).join(", ")}` });
const required = <T extends z.ZodType>(t: T) => z.preprocess(blankToNull, t);
const optional = <T extends z.ZodType>(t: T) => z.preprocess(blankToNull, t.nullable());
const int = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : blankToNull(v)),
  z.number({ error: "must be a whole number" }).int("must be a whole number").min(-2_147_483_648).max(2_147_483_647),
);

const number = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : blankToNull(v)),
  z.number({ error: "must be a number" }).refine(Number.isFinite, "must be a finite number"),
);

/** A JSON cell (CSV) or value (NDJSON): the CSV cell's text is parsed, then checked by `shape`. */
const json = <T extends z.ZodType>(shape: T) =>
  z.preprocess((v) => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return Symbol("not JSON"); // refused by `shape` with its own message
    }
  }, shape);

/** A plan's rule as PlanRuleInput has it (amounts in yuan); the plan's service checks the rest. */
const planRule = z.strictObject({
  kind: oneOf(PlanRuleKind),
  metric: oneOf(Metric).nullish(),
  amount: z.number({ error: "must be a number of yuan" }).nullish(),
  withinDays: z.number().int("must be a whole number").nullish(),
  level: oneOf(OrgLevel).nullish(),
  threshold: z.number({ error: "must be a number" }).nullish(),
  split: oneOf(TeamSplit).nullish(),
  bands: z.array(z.strictObject({ from: z.number(), to: z.number().nullish(), amount: z.number() })).nullish(),
});

export interface ImportKind {
  readonly columns: z.ZodObject;
  /** Rows per batch (one transaction) unless told otherwise. */
  readonly batchSize: number;
  /** The row's identity: a later row of a file with the same key corrects the earlier one. */
  keyOf(row: unknown): string;
  write(db: Db, rows: unknown[], batchSize: number, options: WriteOptions): Promise<WriteOutcome>;
  /** The bulk path, for the kinds that have one (`runImport`'s `bulk`). */
  readonly bulk?: BulkWriter;
}

/**
 * A chunk of checked rows becomes text (`encode`, ahead of the transaction, as the rows are
 * read), which `write` streams into the database in one transaction; its rejected issues, which
 * name rows by line, go to `onRejected` as they are found, and `superseded` counts the rows a
 * later one with the same key replaced.
 */
export interface BulkWriter {
  encode(lines: AsyncIterable<{ line: number; row: unknown }>): AsyncIterable<string>;
  write(db: Db, text: AsyncIterable<string | Buffer>, options: StreamedWriteOptions): Promise<StreamedOutcome & { superseded: number }>;
}

/** The default batch: what the API takes in one call. */
const DEFAULT_BATCH_SIZE = 5_000;

function kind<S extends z.ZodObject>(
  columns: S,
  keyOf: (row: z.infer<S>) => string,
  write: (db: Db, rows: z.infer<S>[], max: number, o: WriteOptions) => Promise<WriteOutcome>,
  batchSize = DEFAULT_BATCH_SIZE,
  bulk?: BulkWriter,
): ImportKind {
  return {
    columns,
    batchSize,
    keyOf: (row) => keyOf(row as z.infer<S>),
    write: (db, rows, max, options) => write(db, rows as z.infer<S>[], max, options),
    bulk,
  };
}

const byCode = (r: { code: string }) => r.code;

export const IMPORT_KINDS = {
  units: kind(
    z.strictObject({ code: text, name: text, level: required(oneOf(OrgLevel)), parentCode: optionalText }),
    byCode,
    upsertBranches,
  ),
  managers: kind(z.strictObject({ code: text, name: text, branchCode: text }), byCode, upsertAccountManagers),
  targets: kind(
    z.strictObject({
      branchCode: optionalText,
      managerCode: optionalText,
      period: z.preprocess(blankToNull, parsed(parsePeriod)),
      metric: required(oneOf(Metric)),
      value: int,
    }),
    (r) => `${r.branchCode ?? ""}|${r.managerCode ?? ""}|${r.period.code}|${r.metric}`,
    setTargets,
  ),
  applications: kind(
    z.strictObject({
      externalId: text,
      customerId: text,
      branchCode: text,
      managerCode: optionalText,
      channel: required(oneOf(ApplicationChannel)),
      receivedOn: date,
      keyedOn: optionalDate,
      decision: optional(oneOf(Decision)),
      decidedOn: optionalDate,
      campaignCode: optionalText,
      merchantCode: optionalText,
    }),
    (r) => r.externalId,
    recordApplications,
    // Applications are the bulk feed, written set-based whatever the batch's size: a larger
    // batch folds more rows into each rollup row it updates (the bulk of an import's cost).
    50_000,
    {
      encode: (lines) => encodeApplicationLines(lines as AsyncIterable<{ line: number; row: ApplicationInput }>),
      write: recordApplicationCopy,
    },
  ),
  activations: kind(
    z.strictObject({ applicationExternalId: text, activatedOn: date, firstSpendOn: optionalDate }),
    (r) => r.applicationExternalId,
    recordActivations,
  ),
  merchants: kind(
    z.strictObject({ code: text, name: text, category: required(oneOf(MerchantCategory)), address: text, latitude: number, longitude: number, branchCode: text }),
    byCode,
    upsertMerchants,
  ),
  circles: kind(
    z.strictObject({
      code: text,
      name: text,
      kind: required(oneOf(CircleKind)),
      branchCode: text,
      // One cell: member codes separated by "|" (CSV), or a JSON array (NDJSON).
      merchantCodes: z.preprocess((v) => (typeof v === "string" ? v.split("|").map((c) => c.trim()).filter(Boolean) : blankToNull(v) ?? []), z.array(z.string())),
    }),
    byCode,
    upsertBusinessCircles,
  ),
  visits: kind(
    z.strictObject({ managerCode: text, merchantCode: text, visitedOn: date, outcome: required(oneOf(VisitOutcome)), note: optionalText }),
    (r) => `${r.managerCode}|${r.merchantCode}|${r.visitedOn}`,
    recordVisits,
  ),
  plans: kind(
    z.strictObject({
      code: text,
      name: text,
      branchCode: text,
      period: z.preprocess(blankToNull, parsed(parsePeriod)),
      // One cell: the rules as a JSON array, in the shape of the createPlan mutation's `rules`.
      rules: json(z.array(planRule, { error: "must be a JSON array of rules, as createPlan takes them" }).min(1, "must hold at least one rule")),
    }),
    byCode,
    upsertPlans,
    // A plan is a handful of rules: its batches are small, like the API's calls.
    100,
  ),
} as const;

export type ImportKindName = keyof typeof IMPORT_KINDS;

export function isImportKind(name: string): name is ImportKindName {
  return Object.hasOwn(IMPORT_KINDS, name);
}
