/**
 * The audit trail: every write attempt, who made it and how it ended. Entries are written after
 * the write's own transaction has committed or rolled back, so a refused or failed write is
 * recorded too; an entry that cannot be written is logged, never turned into a failed write.
 */
import type { Db } from "../../db/database.js";
import { BadInputError } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import { decodeCursor, toPage, type Page } from "../common/relay.js";
import { AuditEntry, AuditOutcome } from "./audit.type.js";

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

/** Longest text kept from a client-supplied value: the trail must not become a dump. */
const MAX_TEXT = 200;
const clip = (s: string | null | undefined) => (s == null ? null : s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

export async function recordAudit(db: Db, entries: readonly AuditRecord[]): Promise<void> {
  if (entries.length === 0) return;
  await db.auditEntry.createMany({
    data: entries.map((e) => ({
      subject: clip(e.subject)!,
      role: e.role,
      operation: e.operation,
      idempotencyKey: clip(e.idempotencyKey),
      outcome: e.outcome,
      errorCode: e.errorCode ?? null,
      target: clip(e.target),
      details: e.details === undefined ? Prisma.JsonNull : (e.details as Prisma.InputJsonValue),
    })),
  });
}

export interface AuditFilter {
  subject?: string | null;
  operation?: string | null;
  outcome?: AuditOutcome | null;
  from?: Date | null;
  to?: Date | null;
}

/** Newest first; the cursor is the entry's id. */
export async function listAudit(db: Db, filter: AuditFilter, first: number, after: string | null | undefined): Promise<Page<AuditEntry>> {
  if (filter.from && filter.to && filter.to < filter.from) throw BadInputError.single("to", "is before from");
  const cursor = decodeCursor(after);
  if (cursor !== null && !/^\d{1,19}$/.test(cursor)) throw BadInputError.single("after", "not a cursor this API issued");
  const where: Prisma.AuditEntryWhereInput = {
    ...(filter.subject != null ? { subject: filter.subject } : {}),
    ...(filter.operation != null ? { operation: filter.operation } : {}),
    ...(filter.outcome != null ? { outcome: filter.outcome } : {}),
    ...(filter.from || filter.to ? { at: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } } : {}),
  };
  const [rows, totalCount] = await Promise.all([
    db.auditEntry.findMany({
      where: { ...where, ...(cursor !== null ? { id: { lt: BigInt(cursor) } } : {}) },
      orderBy: { id: "desc" },
      take: first + 1,
    }),
    db.auditEntry.count({ where }),
  ]);
  const entries = rows.map((r) =>
    Object.assign(new AuditEntry(), {
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
    }),
  );
  return toPage(entries, first, (e) => String(e.dbId), after ?? null, totalCount);
}
