/**
 * The audit trail: every write attempt, who made it and how it ended.
 *
 * A write's entry is written inside the write's own transaction (`inTransaction` takes an
 * `AuditStamp` in its options), so a committed write always has its entry, even if the server
 * dies the moment it commits, and a rolled-back one never claims success. A refused or failed
 * write commits nothing, so its entry is written on its own once the response is known (the
 * Apollo plugin, the import). What is stored is cleaned and bounded first: whatever a caller
 * sends, the insert cannot fail on it.
 */
import type { Db } from "../../db/database.js";
import { BadInputError } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import { keysetPage, type Page } from "../common/relay.js";
import { AuditEntry, AuditOutcome } from "./audit.type.js";

/**
 * Who asks for a write and what it is, as the trail will show it: a plain value handed from
 * the caller (a resolver, the import) to the write's transaction.
 */
export interface AuditStamp {
  readonly subject: string;
  readonly role: string;
  /** The mutation's field name, or "import:<kind>". */
  readonly operation: string;
  readonly target: string | null;
  readonly idempotencyKey: string | null;
  /** Known before the write (an import batch's row count); the write's own counts are added. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditRecord {
  subject: string;
  role: string;
  operation: string;
  idempotencyKey?: string | null;
  outcome: AuditOutcome;
  errorCode?: string | null;
  target?: string | null;
  details?: unknown;
}

type Tx = Prisma.TransactionClient;

/** How a refusal's `extensions.code` reads in the trail. */
export function outcomeOf(code: string | null | undefined): AuditOutcome {
  if (code === "FORBIDDEN" || code === "UNAUTHENTICATED") return AuditOutcome.DENIED;
  if (code === "INTERNAL_SERVER_ERROR" || code == null) return AuditOutcome.FAILED;
  return AuditOutcome.REJECTED;
}

/**
 * The stamp of a write by `who` (the caller's claims; null: anonymous) with this input: the
 * idempotency key (or redemption transaction id) and a short name for what it writes.
 */
export function stampFor(who: { sub: string; role: string } | null, operation: string, input: unknown): AuditStamp {
  const base = { subject: who?.sub ?? "anonymous", role: who?.role ?? "ANONYMOUS", operation };
  if (Array.isArray(input)) return { ...base, idempotencyKey: null, target: `${input.length} row(s)` };
  if (input && typeof input === "object") {
    const i = input as Record<string, unknown>;
    const key = typeof i.idempotencyKey === "string" ? i.idempotencyKey : typeof i.transactionId === "string" ? i.transactionId : null;
    const target =
      typeof i.code === "string" ? i.code : typeof i.planCode === "string" ? i.planCode : typeof i.promotionCode === "string" ? `${i.promotionCode} at ${String(i.merchantCode)}` : null;
    return { ...base, idempotencyKey: key, target };
  }
  return { ...base, idempotencyKey: null, target: null };
}

/** The entry of a stamped write that did not commit, with the refusal's code and issues. */
export function refusedEntry(stamp: AuditStamp, code: string | null | undefined, issues?: unknown): AuditRecord {
  return { ...stamp, outcome: outcomeOf(code), errorCode: code ?? null, details: issues ? { ...stamp.details, issues } : stamp.details };
}

/** A write's counts, when it reports them (batch upserts do; create/update calls return a code). */
function countsOf(outcome: unknown, skipInvalid: boolean): Record<string, number> | undefined {
  const o = outcome as { created?: unknown; updated?: number; unchanged?: number; rejected?: readonly { index?: number }[]; rejectedRows?: number } | null;
  if (typeof o?.created !== "number") return undefined;
  const counts: Record<string, number> = { created: o.created, updated: o.updated ?? 0, unchanged: o.unchanged ?? 0 };
  // Rows, not issues: one bad row may have several.
  // A streamed write counts its rows itself: its issues were handed on as they were found.
  if (skipInvalid) counts.rejected = o.rejectedRows ?? new Set((o.rejected ?? []).map((i) => i.index)).size;
  return counts;
}

/** Stamped writes whose transaction committed (with their entry): nothing more to record for them. */
const committed = new WeakSet<AuditStamp>();

/**
 * Writes a successful write's entry inside its transaction; `inTransaction` calls it last, just
 * before the commit, and then `noteCommitted`.
 */
export async function recordWrite(tx: Tx, stamp: AuditStamp, outcome: unknown, skipInvalid: boolean): Promise<void> {
  const counts = countsOf(outcome, skipInvalid);
  const details = stamp.details || counts ? { ...stamp.details, ...counts } : undefined;
  await recordAudit(tx, [{ ...stamp, outcome: AuditOutcome.SUCCEEDED, errorCode: null, details }]);
}

export function noteCommitted(stamp: AuditStamp): void {
  committed.add(stamp);
}

/** Whether this stamp's write committed, its entry with it. */
export function isCommitted(stamp: AuditStamp): boolean {
  return committed.has(stamp);
}

/** Longest text kept from a value: the trail must not become a dump. */
const MAX_TEXT = 200;
/** Most items kept of a list or an object in `details`, and how deep it may nest. */
const MAX_ITEMS = 20;
const MAX_DEPTH = 4;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text as the trail stores it. PostgreSQL's text refuses NUL, and jsonb refuses NUL and a lone
 * surrogate's escape, so either would make the whole insert fail: NUL becomes "␀", a lone
 * surrogate U+FFFD. Longer than `max`, the text is cut and says how much was cut.
 */
export function cleanText(text: string, max = MAX_TEXT): string {
  const clean = text.replace(/\u0000/g, "\u2400").replace(LONE_SURROGATE, "\uFFFD");
  if (clean.length <= max) return clean;
  // Never split a surrogate pair: half of one is exactly what jsonb refuses.
  const end = /[\uD800-\uDBFF]/.test(clean[max - 1]) ? max - 1 : max;
  return `${clean.slice(0, end)}…[+${clean.length - end} chars]`;
}

/** A JSON value cleaned like `cleanText`, with lists, objects and nesting bounded. */
export function cleanJson(value: unknown, depth = 0): Prisma.InputJsonValue | null {
  if (value == null) return null;
  if (typeof value === "string") return cleanText(value);
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object") return cleanText(String(value));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH) return "…";
  if (Array.isArray(value)) {
    const kept: (Prisma.InputJsonValue | null)[] = value.slice(0, MAX_ITEMS).map((v) => cleanJson(v, depth + 1));
    if (value.length > MAX_ITEMS) kept.push(`…[+${value.length - MAX_ITEMS} items]`);
    return kept as Prisma.InputJsonArray;
  }
  const entries = Object.entries(value);
  const kept = Object.fromEntries(entries.slice(0, MAX_ITEMS).map(([k, v]) => [cleanText(k, 64), cleanJson(v, depth + 1)]));
  if (entries.length > MAX_ITEMS) kept["…"] = `+${entries.length - MAX_ITEMS} keys`;
  return kept as Prisma.InputJsonObject;
}

const cleanOrNull = (s: string | null | undefined) => (s == null ? null : cleanText(s));

/**
 * One insert for any number of entries. Raw SQL rather than Prisma's createMany: every write's
 * transaction ends with it, and Prisma compiles a createMany's plan in its WASM query compiler
 * on every call (it caches no createMany plan), about 5 % of a redemption's server CPU.
 * Every array goes as text[] (the embedded database's adapter sends arrays of other types as text).
 */
export async function recordAudit(db: Db | Tx, entries: readonly AuditRecord[]): Promise<void> {
  if (entries.length === 0) return;
  const column = <T>(pick: (e: AuditRecord) => T) => entries.map(pick);
  const details = column((e) => {
    const cleaned = e.details === undefined ? null : cleanJson(e.details);
    return cleaned === null ? null : JSON.stringify(cleaned);
  });
  await db.$executeRaw`
    INSERT INTO audit_entry (subject, role, operation, idempotency_key, outcome, error_code, target, details)
    SELECT e.subject, e.role, e.operation, e.idempotency_key, e.outcome::"AuditOutcome", e.error_code, e.target, e.details::jsonb
    FROM unnest(${column((e) => cleanText(e.subject))}::text[], ${column((e) => cleanText(e.role, 64))}::text[],
                ${column((e) => cleanText(e.operation))}::text[], ${column((e) => cleanOrNull(e.idempotencyKey))}::text[],
                ${column((e) => e.outcome)}::text[], ${column((e) => cleanOrNull(e.errorCode))}::text[],
                ${column((e) => cleanOrNull(e.target))}::text[], ${details}::text[])
         AS e(subject, role, operation, idempotency_key, outcome, error_code, target, details)`;
}

export interface AuditFilter {
  subject?: string | null;
  operation?: string | null;
  outcome?: AuditOutcome | null;
  from?: Date | null;
  to?: Date | null;
}

function toAuditEntry(r: Prisma.AuditEntryGetPayload<object>): AuditEntry {
  return Object.assign(new AuditEntry(), {
    dbId: r.id,
    at: r.at,
    subject: r.subject,
    role: r.role,
    operation: r.operation,
    idempotencyKey: r.idempotencyKey,
    outcome: r.outcome as AuditOutcome,
    errorCode: r.errorCode,
    target: r.target,
    details: r.details === null ? null : JSON.stringify(r.details),
  });
}

/** Newest first; the cursor is the entry's id. */
export function listAudit(db: Db, filter: AuditFilter, first: number, after: string | null | undefined): Promise<Page<AuditEntry>> {
  if (filter.from && filter.to && filter.to < filter.from) throw BadInputError.single("to", "is before from");
  const where: Prisma.AuditEntryWhereInput = {
    ...(filter.subject != null ? { subject: filter.subject } : {}),
    ...(filter.operation != null ? { operation: filter.operation } : {}),
    ...(filter.outcome != null ? { outcome: filter.outcome } : {}),
    ...(filter.from || filter.to ? { at: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
  };
  return keysetPage({
    first,
    after,
    position: (key) => {
      if (!/^\d{1,19}$/.test(key)) throw BadInputError.single("after", "not a cursor this API issued");
      return BigInt(key);
    },
    rows: (afterId, take) => db.auditEntry.findMany({ where: { ...where, ...(afterId !== null ? { id: { lt: afterId } } : {}) }, orderBy: { id: "desc" }, take }),
    count: () => db.auditEntry.count({ where }),
    node: toAuditEntry,
    key: (e) => String(e.dbId),
  });
}
