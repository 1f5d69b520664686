/**
 * Merchants, business circles and the visit log: validated, idempotent, atomic batch upserts
 * (the same contract as the org and record writes, so the import can reuse them) and
 * keyset-paged listings, including the per-parent pages the loaders batch.
 */
import type { Db } from "../../db/database.js";
import { inTransaction } from "../../db/transaction.js";
import { refreshOffers } from "../../figures/offer-index.js";
import type { VisitScope } from "../../domain/access.js";
import { compareDates, fromDbDate, toDbDate, type BusinessDate } from "../../domain/dates.js";
import { BadInputError, type IssueCollector } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";
import { CodeIds } from "../common/lookup.js";
import { decodeCursor, keysetPage, pageByCode, toGlobalId, type Page } from "../common/relay.js";
import { inSubtree } from "../org/org.service.js";
import { checkBatchSize, checkCode, checkName, checkUnique, likeLiteral, screen, type WriteOptions } from "../common/validate.js";
import { countWrites, type WriteOutcome } from "../common/write-result.type.js";
import type { CircleKind, MerchantCategory, VisitOutcome } from "./merchants.enums.js";
import type { BusinessCircleInput, MerchantInput, VisitInput } from "./merchants.input.js";
import { BusinessCircle, Merchant, Visit } from "./merchants.types.js";

export const MAX_ADDRESS_LENGTH = 500;
export const MAX_NOTE_LENGTH = 2000;
/** A circle is a few dozen merchants in practice; the cap only stops a runaway payload. */
export const MAX_CIRCLE_MEMBERS = 10_000;

// ---- Row → GraphQL object -----------------------------------------------------------------

type MerchantRow = { id: number; code: string; name: string; category: MerchantCategory; address: string; latitude: number; longitude: number; branchId: number };
type CircleRow = { id: number; code: string; name: string; kind: CircleKind; branchId: number };
type VisitRow = { id: number; managerId: number; merchantId: number; visitedOn: Date; outcome: VisitOutcome; note: string };

export function toMerchant(row: MerchantRow): Merchant {
  return Object.assign(new Merchant(), {
    id: toGlobalId("Merchant", row.code),
    dbId: row.id,
    code: row.code,
    name: row.name,
    category: row.category,
    address: row.address,
    latitude: row.latitude,
    longitude: row.longitude,
    branchId: row.branchId,
  });
}

export function toCircle(row: CircleRow): BusinessCircle {
  return Object.assign(new BusinessCircle(), {
    id: toGlobalId("BusinessCircle", row.code),
    dbId: row.id,
    code: row.code,
    name: row.name,
    kind: row.kind,
    branchId: row.branchId,
  });
}

export function toVisit(row: VisitRow): Visit {
  return Object.assign(new Visit(), {
    dbId: row.id,
    managerId: row.managerId,
    merchantId: row.merchantId,
    // A DATE column comes back as midnight UTC of that day.
    visitedOn: fromDbDate(row.visitedOn),
    outcome: row.outcome,
    note: row.note,
  });
}

// ---- Field checks -------------------------------------------------------------------------

/** A finite number within ±`limit` degrees (a service caller, unlike GraphQL, can pass NaN). */
function checkDegrees(issues: IssueCollector, index: number, field: string, value: number, limit: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) issues.add(index, field, "must be a finite number");
  else if (value < -limit || value > limit) issues.add(index, field, `${value} is outside -${limit}..${limit}`);
}

/** Sorted by key: concurrent overlapping batches then lock rows in one order and cannot deadlock. */
function byKey<T>(rows: T[], keyOf: (row: T) => string): T[] {
  return rows.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

const NOTHING = { created: 0, updated: 0, unchanged: 0 } as const;

// ---- Writes -------------------------------------------------------------------------------

/** Creates or updates merchants by code; a replay of the same rows counts them unchanged. */
export async function upsertMerchants(db: Db, input: readonly MerchantInput[], maxBatch: number, options: WriteOptions = {}): Promise<WriteOutcome> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx) => {
    const units = await CodeIds.load(tx, "branch", input.map((r) => r.branchCode));
    const screened = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        checkCode(issues, i, "code", row.code);
        checkName(issues, i, "name", row.name);
        checkName(issues, i, "address", row.address, MAX_ADDRESS_LENGTH);
        checkDegrees(issues, i, "latitude", row.latitude, 90);
        checkDegrees(issues, i, "longitude", row.longitude, 180);
        units.check(issues, i, "branchCode", row.branchCode);
      });
      checkUnique(issues, rows, "code", (r) => r.code);
    });
    const { rejected } = screened;
    if (screened.rows.length === 0) return { ...NOTHING, rejected };
    const rows = byKey(screened.rows, (r) => r.code);
    const returned = await tx.$queryRaw<{ id: number; inserted: boolean }[]>`
      INSERT INTO merchant (code, name, category, address, latitude, longitude, branch_id, updated_at)
      SELECT r.code, r.name, r.category, r.address, r.latitude, r.longitude, b.id, now()
      FROM unnest(${rows.map((r) => r.code)}::text[], ${rows.map((r) => r.name)}::text[], ${rows.map((r) => r.category)}::"MerchantCategory"[],
                  ${rows.map((r) => r.address)}::text[], ${rows.map((r) => r.latitude)}::float8[], ${rows.map((r) => r.longitude)}::float8[],
                  ${rows.map((r) => r.branchCode)}::text[])
           AS r(code, name, category, address, latitude, longitude, branch_code)
      JOIN branch b ON b.code = r.branch_code
      ON CONFLICT (code) DO UPDATE SET
        name = EXCLUDED.name, category = EXCLUDED.category, address = EXCLUDED.address,
        latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, branch_id = EXCLUDED.branch_id, updated_at = now()
      WHERE (merchant.name, merchant.category, merchant.address, merchant.latitude, merchant.longitude, merchant.branch_id)
        IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.category, EXCLUDED.address, EXCLUDED.latitude, EXCLUDED.longitude, EXCLUDED.branch_id)
      RETURNING id, (xmax = 0) AS inserted`;
    // A move or a new category changes where offers can be used.
    if (returned.length) await refreshOffers(tx, { merchants: returned.map((r) => r.id) });
    return { ...countWrites(rows.length, returned), rejected };
  });
}

/**
 * Creates or updates business circles by code and replaces each one's membership with its
 * `merchantCodes`. A circle counts as updated when its own fields or its member set changed,
 * unchanged when both are the same (the order of `merchantCodes` does not matter).
 */
export async function upsertBusinessCircles(
  db: Db,
  input: readonly BusinessCircleInput[],
  maxBatch: number,
  options: WriteOptions = {},
): Promise<WriteOutcome> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx) => {
    const [units, merchants] = await Promise.all([
      CodeIds.load(tx, "branch", input.map((r) => r.branchCode)),
      CodeIds.load(tx, "merchant", input.flatMap((r) => r.merchantCodes)),
    ]);
    const screened = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        checkCode(issues, i, "code", row.code);
        checkName(issues, i, "name", row.name);
        units.check(issues, i, "branchCode", row.branchCode);
        checkMembers(issues, i, row.merchantCodes, merchants);
      });
      checkUnique(issues, rows, "code", (r) => r.code);
    });
    const { rejected } = screened;
    if (screened.rows.length === 0) return { ...NOTHING, rejected };
    const rows = byKey(screened.rows, (r) => r.code);
    const codes = rows.map((r) => r.code);

    const written = await tx.$queryRaw<{ code: string; inserted: boolean }[]>`
      INSERT INTO business_circle (code, name, kind, branch_id, updated_at)
      SELECT r.code, r.name, r.kind::"CircleKind", b.id, now()
      FROM unnest(${codes}::text[], ${rows.map((r) => r.name)}::text[], ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.branchCode)}::text[])
           AS r(code, name, kind, branch_code)
      JOIN branch b ON b.code = r.branch_code
      ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, branch_id = EXCLUDED.branch_id, updated_at = now()
      WHERE (business_circle.name, business_circle.kind, business_circle.branch_id)
        IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.branch_id)
      RETURNING code, (xmax = 0) AS inserted`;

    // Membership: remove what is no longer listed, add what is new, and report which circles
    // moved. Both changes run in one statement on one snapshot; the upsert above locked every
    // circle row (even unchanged ones), so a concurrent write to the same circle waits.
    const pairs = rows.flatMap((r) => r.merchantCodes.map((m) => [r.code, m] as const));
    const moved = await tx.$queryRaw<{ code: string | null; merchant_id: number | null }[]>`
      WITH wanted AS (
        SELECT c.id AS circle_id, m.id AS merchant_id
        FROM unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[]) AS w(circle_code, merchant_code)
        JOIN business_circle c ON c.code = w.circle_code
        JOIN merchant m ON m.code = w.merchant_code
      ),
      removed AS (
        DELETE FROM circle_member cm USING business_circle c
        WHERE c.id = cm.circle_id AND c.code = ANY(${codes}::text[])
          AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.circle_id = cm.circle_id AND w.merchant_id = cm.merchant_id)
        RETURNING cm.circle_id, cm.merchant_id
      ),
      added AS (
        INSERT INTO circle_member (circle_id, merchant_id) SELECT circle_id, merchant_id FROM wanted
        ON CONFLICT DO NOTHING
        RETURNING circle_id, merchant_id
      ),
      changed AS (
        UPDATE business_circle SET updated_at = now()
        WHERE id IN (SELECT circle_id FROM removed UNION SELECT circle_id FROM added)
        RETURNING code
      )
      SELECT code, NULL::int AS merchant_id FROM changed
      UNION ALL SELECT NULL, merchant_id FROM removed
      UNION ALL SELECT NULL, merchant_id FROM added`;
    // A merchant joining or leaving a circle joins or leaves the campaigns and offers naming it.
    const members = [...new Set(moved.flatMap((m) => (m.merchant_id == null ? [] : [m.merchant_id])))];
    if (members.length) await refreshOffers(tx, { merchants: members });

    const inserted = new Set(written.filter((w) => w.inserted).map((w) => w.code));
    const updated = new Set([...written.filter((w) => !w.inserted).map((w) => w.code), ...moved.flatMap((m) => (m.code == null ? [] : [m.code]))]);
    for (const code of inserted) updated.delete(code);
    return { created: inserted.size, updated: updated.size, unchanged: rows.length - inserted.size - updated.size, rejected };
  });
}

/** Every listed merchant must exist, once; one issue per row names all the bad codes. */
function checkMembers(issues: IssueCollector, index: number, codes: readonly string[], known: CodeIds): void {
  if (codes.length > MAX_CIRCLE_MEMBERS) return issues.add(index, "merchantCodes", `holds ${codes.length} merchants; at most ${MAX_CIRCLE_MEMBERS}`);
  const unknown = [...new Set(codes.filter((c) => !known.has(c)))];
  if (unknown.length > 0) issues.add(index, "merchantCodes", `unknown merchant${unknown.length > 1 ? "s" : ""} ${unknown.map((c) => `"${c}"`).join(", ")}`);
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const c of codes) (seen.has(c) ? repeated : seen).add(c);
  if (repeated.size > 0) issues.add(index, "merchantCodes", `lists ${[...repeated].map((c) => `"${c}"`).join(", ")} more than once`);
}

/** Records visits keyed by (manager, merchant, day); a repeat with the same outcome and note is unchanged. */
export async function recordVisits(db: Db, input: readonly VisitInput[], maxBatch: number, options: WriteOptions = {}): Promise<WriteOutcome> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx) => {
    const [managers, merchants] = await Promise.all([
      CodeIds.load(tx, "account_manager", input.map((r) => r.managerCode)),
      CodeIds.load(tx, "merchant", input.map((r) => r.merchantCode)),
    ]);
    const screened = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        managers.check(issues, i, "managerCode", row.managerCode);
        merchants.check(issues, i, "merchantCode", row.merchantCode);
        if (row.note != null && row.note.length > MAX_NOTE_LENGTH) issues.add(i, "note", `must be at most ${MAX_NOTE_LENGTH} characters`);
      });
      checkUnique(issues, rows, "visitedOn", visitKey);
    });
    const { rejected } = screened;
    if (screened.rows.length === 0) return { ...NOTHING, rejected };
    const rows = byKey(screened.rows, visitKey);
    const returned = await tx.$queryRaw<{ inserted: boolean }[]>`
      INSERT INTO visit (manager_id, merchant_id, visited_on, outcome, note, updated_at)
      SELECT am.id, m.id, r.visited_on::date, r.outcome::"VisitOutcome", r.note, now()
      FROM unnest(${rows.map((r) => r.managerCode)}::text[], ${rows.map((r) => r.merchantCode)}::text[], ${rows.map((r) => r.visitedOn)}::text[],
                  ${rows.map((r) => r.outcome)}::text[], ${rows.map((r) => r.note ?? "")}::text[])
           AS r(manager_code, merchant_code, visited_on, outcome, note)
      JOIN account_manager am ON am.code = r.manager_code
      JOIN merchant m ON m.code = r.merchant_code
      ON CONFLICT (manager_id, merchant_id, visited_on) DO UPDATE SET outcome = EXCLUDED.outcome, note = EXCLUDED.note, updated_at = now()
      WHERE (visit.outcome, visit.note) IS DISTINCT FROM (EXCLUDED.outcome, EXCLUDED.note)
      RETURNING (xmax = 0) AS inserted`;
    return { ...countWrites(rows.length, returned), rejected };
  });
}

function visitKey(row: VisitInput): string {
  return `${row.managerCode}\u0000${row.merchantCode}\u0000${row.visitedOn}`;
}

// ---- Top-level listings -------------------------------------------------------------------

export interface MerchantFilter {
  branchCode?: string | null;
  circleCode?: string | null;
  search?: string | null;
}

/** Merchants by code, keyset-paged. An unknown unit or circle simply matches nothing. */
export function listMerchants(db: Db, filter: MerchantFilter, first: number, after: string | null | undefined): Promise<Page<Merchant>> {
  const where: Prisma.MerchantWhereInput = {
    ...(filter.branchCode != null ? { branch: inSubtree(filter.branchCode) } : {}),
    ...(filter.circleCode != null ? { circles: { some: { circle: { code: filter.circleCode } } } } : {}),
    ...(filter.search ? { OR: [{ code: { contains: likeLiteral(filter.search), mode: "insensitive" } }, { name: { contains: likeLiteral(filter.search), mode: "insensitive" } }] } : {}),
  };
  return pageByCode(db.merchant, where, first, after, toMerchant);
}

export interface CircleFilter {
  branchCode?: string | null;
  kind?: CircleKind | null;
}

/** Business circles by code, keyset-paged. */
export function listCircles(db: Db, filter: CircleFilter, first: number, after: string | null | undefined): Promise<Page<BusinessCircle>> {
  const where: Prisma.BusinessCircleWhereInput = {
    ...(filter.branchCode != null ? { branch: inSubtree(filter.branchCode) } : {}),
    ...(filter.kind ? { kind: filter.kind } : {}),
  };
  return pageByCode(db.businessCircle, where, first, after, toCircle);
}

export interface VisitFilter {
  branchCode?: string | null;
  merchantCode?: string | null;
  managerCode?: string | null;
  from?: BusinessDate | null;
  to?: BusinessDate | null;
}

/** Visits are listed newest first; the id breaks ties within a day so the order is total. */
export function visitCursorKey(v: Visit): string {
  return `${v.visitedOn}|${v.dbId}`;
}

/** A position in a newest-first list of visits. */
export type VisitCursor = { on: BusinessDate; id: number };

function visitPosition(key: string): VisitCursor {
  const match = /^(\d{4}-\d{2}-\d{2})\|(\d+)$/.exec(key);
  if (!match) throw BadInputError.single("after", "not a cursor of this list");
  return { on: match[1], id: Number(match[2]) };
}

export function parseVisitCursor(after: string | null | undefined): VisitCursor | null {
  const key = decodeCursor(after);
  return key === null ? null : visitPosition(key);
}

/**
 * The visits a viewer may read (domain/access.ts visitScopeOf), as a condition on `visit v`.
 * Every read of visits (the list, a merchant's page, their counts) narrows through this one
 * predicate, so the rule cannot drift between them.
 */
export function visibleVisits(scope: NonNullable<VisitScope>): Prisma.Sql {
  if ("all" in scope) return Prisma.sql`TRUE`;
  if ("managerId" in scope) return Prisma.sql`v.manager_id = ${scope.managerId}`;
  return Prisma.sql`v.manager_id IN (SELECT m.id FROM account_manager m WHERE m.branch_id = ANY(${[...scope.managerUnits]}::int[]))`;
}

const VISIT_COLUMNS = Prisma.sql`v.id, v.manager_id AS "managerId", v.merchant_id AS "merchantId", v.visited_on AS "visitedOn", v.outcome::text AS outcome, v.note`;

/** Visits newest first, keyset-paged; `branchCode` means the visiting manager's unit subtree. */
export async function listVisits(
  db: Db,
  filter: VisitFilter,
  scope: NonNullable<VisitScope>,
  first: number,
  after: string | null | undefined,
): Promise<Page<Visit>> {
  if (filter.from && filter.to && compareDates(filter.to, filter.from) < 0) {
    throw BadInputError.single("to", `${filter.to} is before from ${filter.from}`);
  }
  const where = Prisma.join(
    [
      visibleVisits(scope),
      ...(filter.managerCode != null ? [Prisma.sql`v.manager_id IN (SELECT id FROM account_manager WHERE code = ${filter.managerCode})`] : []),
      ...(filter.branchCode != null
        ? [Prisma.sql`v.manager_id IN (SELECT m.id FROM account_manager m JOIN branch_closure c ON c.descendant_id = m.branch_id
                                      JOIN branch a ON a.id = c.ancestor_id WHERE a.code = ${filter.branchCode})`]
        : []),
      ...(filter.merchantCode != null ? [Prisma.sql`v.merchant_id IN (SELECT id FROM merchant WHERE code = ${filter.merchantCode})`] : []),
      ...(filter.from ? [Prisma.sql`v.visited_on >= ${filter.from}::date`] : []),
      ...(filter.to ? [Prisma.sql`v.visited_on <= ${filter.to}::date`] : []),
    ],
    " AND ",
  );
  return keysetPage({
    first,
    after,
    position: visitPosition,
    rows: (cursor, take) => db.$queryRaw<VisitRow[]>`
      SELECT ${VISIT_COLUMNS} FROM visit v
      WHERE ${where} ${cursor ? Prisma.sql`AND (v.visited_on, v.id) < (${cursor.on}::date, ${cursor.id})` : Prisma.empty}
      ORDER BY v.visited_on DESC, v.id DESC LIMIT ${take}`,
    count: async () => (await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM visit v WHERE ${where}`)[0].n,
    node: toVisit,
    key: visitCursorKey,
  });
}

/** How many visits of each merchant the viewer may read; merchants with none have no row. */
export function visitCounts(db: Db, merchantIds: readonly number[], scope: NonNullable<VisitScope>): Promise<{ id: number; n: number }[]> {
  return db.$queryRaw<{ id: number; n: number }[]>`
    SELECT v.merchant_id AS id, count(*)::int AS n FROM visit v
    WHERE v.merchant_id = ANY(${[...merchantIds]}::int[]) AND ${visibleVisits(scope)}
    GROUP BY v.merchant_id`;
}

// ---- Per-parent pages, batched by the loaders ---------------------------------------------

/**
 * One parent's page request: the parent's id, the page size, the cursor as given (`after`, for
 * `toPage` and the loader's cache key) and as decoded by the resolver (`cursor`), so that a bad
 * cursor fails its own field before any batch is formed.
 */
export interface PageKey<C> {
  parentId: number;
  first: number;
  after: string | null | undefined;
  cursor: C | null;
}

/** `first + 1` rows after one parent's cursor; `after` is the cursor given, for `toPage`. */
export interface RawPage<T> {
  rows: T[];
  after: string | null;
}

/**
 * The members of many circles, one page each, in one statement: a LATERAL join runs each
 * circle's keyset query with its own cursor and limit. Totals come from a separate count.
 */
export async function circleMemberPages(db: Db, keys: readonly PageKey<string>[]): Promise<RawPage<Merchant>[]> {
  const afters = keys.map((k) => k.cursor);
  const rows = await db.$queryRaw<(MerchantRow & { ord: bigint })[]>`
    SELECT k.ord, m.id, m.code, m.name, m.category, m.address, m.latitude, m.longitude, m.branch_id AS "branchId"
    FROM unnest(${keys.map((k) => k.parentId)}::int[], ${afters}::text[], ${keys.map((k) => k.first + 1)}::int[])
         WITH ORDINALITY AS k(circle_id, after_code, lim, ord)
    CROSS JOIN LATERAL (
      SELECT m.* FROM circle_member cm JOIN merchant m ON m.id = cm.merchant_id
      WHERE cm.circle_id = k.circle_id AND (k.after_code IS NULL OR m.code > k.after_code)
      ORDER BY m.code LIMIT k.lim
    ) m
    ORDER BY k.ord, m.code`;
  const pages = keys.map((k): RawPage<Merchant> => ({ rows: [], after: k.after ?? null }));
  for (const r of rows) pages[Number(r.ord) - 1].rows.push(toMerchant(r));
  return pages;
}

/** The visits of many merchants, one page each (newest first), in one statement. */
export async function merchantVisitPages(db: Db, keys: readonly PageKey<VisitCursor>[], scope: NonNullable<VisitScope>): Promise<RawPage<Visit>[]> {
  const cursors = keys.map((k) => k.cursor);
  const rows = await db.$queryRaw<(VisitRow & { ord: bigint })[]>`
    SELECT k.ord, ${VISIT_COLUMNS}
    FROM unnest(${keys.map((k) => k.parentId)}::int[], ${cursors.map((c) => c?.on ?? null)}::date[],
                ${cursors.map((c) => c?.id ?? null)}::int[], ${keys.map((k) => k.first + 1)}::int[])
         WITH ORDINALITY AS k(merchant_id, after_on, after_id, lim, ord)
    CROSS JOIN LATERAL (
      SELECT v.* FROM visit v
      WHERE v.merchant_id = k.merchant_id AND (k.after_on IS NULL OR (v.visited_on, v.id) < (k.after_on, k.after_id)) AND ${visibleVisits(scope)}
      ORDER BY v.visited_on DESC, v.id DESC LIMIT k.lim
    ) v
    ORDER BY k.ord, v.visited_on DESC, v.id DESC`;
  const pages = keys.map((k): RawPage<Visit> => ({ rows: [], after: k.after ?? null }));
  for (const r of rows) pages[Number(r.ord) - 1].rows.push(toVisit(r));
  return pages;
}
