/**
 * The typed staging of a batch of applications: the batch goes into a temporary table once
 * (app_batch, by unnest or COPY), the rows some stored data may refuse come back from one query,
 * a page at a time, for the caller's per-row checks, and the checked rows are written set-based
 * with their customers, first approvals and rollup delta.
 * records/ owns the rules; this file owns the staging tables, which nothing else names.
 */
import { copyIn, copyText } from "../db/copy.js";
import type { Db } from "../db/database.js";
import { Prisma } from "../generated/prisma/client.js";
import { mergeChanged, type FiguresChanged } from "./changed.js";
import { FiguresLedger } from "./ledger.js";
import { contributions, firstApprovalsAmong } from "./metrics.js";

type Tx = Prisma.TransactionClient;

/** One application as a feed sends it (codes, not ids), already shaped by records/. */
export interface StagedApplication {
  externalId: string;
  customerId: string;
  branchCode: string;
  managerCode?: string | null;
  channel: string;
  receivedOn: string;
  keyedOn?: string | null;
  decision: string;
  decidedOn?: string | null;
  campaignCode?: string | null;
  merchantCode?: string | null;
}

/** One row of a streamed file: its line (the staged idx), and whether records/ found it bad already. */
export interface StagedLine {
  line: number;
  row: StagedApplication;
  /** Refused by the row's own checks: staged anyway, since it still replaces an earlier row with its key. */
  flagged: boolean;
}

/** A staged row that some check refuses: the row as staged, and what the database knows of it. */
export interface SuspectRow {
  line: number;
  row: StagedApplication;
  flagged: boolean;
  unknownUnit: boolean;
  unknownManager: boolean;
  /** The unit is outside the manager's subtree. */
  outside: boolean;
  /** The card's activation day, when the row would break what the activation requires. */
  activatedOn: string | null;
}

/**
 * Ends a lookup by a unique key in a LATERAL subquery, so that the big tables (applications,
 * customers, activations) are probed by index once per staged row. Without it the planner,
 * which cannot tell they are cached, hashed a whole table per batch: on a 10 M-record bank a
 * 1 M-row chunk spent 2.9 s hashing 7 M customers and 2 s scanning the applications' primary
 * key, a cost that grows with the tables where probing grows with the batch.
 */
const BY_INDEX = Prisma.sql`LIMIT 1`;

/** Refused rows read back per page (`suspects`): a page's rows and issues are what an import holds of them. */
const SUSPECT_PAGE_ROWS = 10_000;

/** Rows per piece of COPY text: large enough that each piece costs little, small enough to stream. */
const COPY_PIECE_ROWS = 2_000;

/** A batch staged in this transaction; row i of the input is idx i (for a streamed file, idx is the line). */
export class ApplicationBatch {
  /** Some rows were dropped: app_refused holds them until the write. */
  private dropping = false;

  private constructor(private readonly tx: Tx) {}

  static async stage(tx: Tx, rows: readonly StagedApplication[]): Promise<ApplicationBatch> {
    await createStagingTable(tx);
    await stageApplications(tx, rows);
    return new ApplicationBatch(tx);
  }

  /**
   * The rows as app_batch's COPY text (idx = the row's line), a piece per COPY_PIECE_ROWS rows:
   * made ahead of the transaction (the bulk import writes it to a file while the previous chunk
   * is written), then handed to `copy`.
   */
  static async *encode(lines: AsyncIterable<StagedLine>): AsyncGenerator<string> {
    let piece = "";
    let n = 0;
    for await (const { line, row, flagged } of lines) {
      piece +=
        `${line}\t${copyText(row.externalId)}\t${copyText(row.customerId)}\t${copyText(row.branchCode)}\t${copyText(row.managerCode)}\t` +
        `${copyText(row.channel)}\t${copyText(row.receivedOn)}\t${copyText(row.keyedOn)}\t${copyText(row.decision)}\t${copyText(row.decidedOn)}\t` +
        `${copyText(row.campaignCode)}\t${copyText(row.merchantCode)}\t${flagged ? "t" : "f"}\n`;
      if (++n === COPY_PIECE_ROWS) {
        yield piece;
        piece = "";
        n = 0;
      }
    }
    if (piece) yield piece;
  }

  /**
   * Streams `encode`'s text into app_batch with COPY (src/db/copy.ts): nothing of a row is held
   * whatever the chunk's size. Duplicate keys stay until `dedupe`.
   */
  static async copy(db: Db, tx: Tx, text: AsyncIterable<string | Buffer>): Promise<ApplicationBatch> {
    await createStagingTable(tx);
    await copyIn(
      db,
      tx,
      `COPY app_batch (idx, external_id, customer_ext, branch_code, manager_code, channel, received_on, keyed_on, decision,
                       decided_on, campaign_code, merchant_code, flagged) FROM STDIN`,
      text,
    );
    return new ApplicationBatch(tx);
  }

  /**
   * Keeps, of the rows that share an external id, the one on the last line (a later row corrects
   * an earlier one, as in the batch path); returns how many were dropped and how many are left.
   */
  async dedupe(): Promise<{ superseded: number; rows: number }> {
    // The outer count reads app_batch as it was before the DELETE (one snapshot per statement).
    const [counts] = await this.tx.$queryRaw<{ superseded: number; rows: number }[]>`
      WITH last AS (SELECT external_id, max(idx) AS idx FROM app_batch GROUP BY external_id HAVING count(*) > 1),
      gone AS (DELETE FROM app_batch s USING last WHERE s.external_id = last.external_id AND s.idx < last.idx RETURNING 1)
      SELECT (SELECT count(*) FROM gone)::int AS superseded, ((SELECT count(*) FROM app_batch) - (SELECT count(*) FROM gone))::int AS rows`;
    return counts;
  }

  /**
   * The staged rows some check would refuse, with the facts the checks need: flagged rows, and
   * rows with an unknown unit or manager, a manager outside the unit's line, or an activated card
   * whose decision would stop being APPROVED or move past the activation: one query, per row in
   * SQL, so that only the bad rows come back (a batch's and a streamed chunk's alike), in line
   * order, `pageRows` at a time through a cursor. Nothing else bounds how many come back: a
   * 1 M-row chunk whose unit was never loaded brought every row back at once, and the import's
   * memory went from 0.3 to 1.5 GB. Rows dropped while the pages are read do not change them
   * (a cursor reads the snapshot it was declared in).
   */
  async *suspects(pageRows = SUSPECT_PAGE_ROWS): AsyncGenerator<SuspectRow[]> {
    if (!Number.isInteger(pageRows) || pageRows < 1) throw new RangeError(`pageRows must be a positive integer, not ${pageRows}`);
    await this.tx.$executeRaw`
      DECLARE batch_suspects NO SCROLL CURSOR FOR
      SELECT * FROM (
        SELECT s.idx AS line, s.external_id, s.customer_ext, s.branch_code, s.manager_code, s.channel::text AS channel,
               to_char(s.received_on, 'YYYY-MM-DD') AS received_on, to_char(s.keyed_on, 'YYYY-MM-DD') AS keyed_on,
               s.decision::text AS decision, to_char(s.decided_on, 'YYYY-MM-DD') AS decided_on, s.campaign_code, s.merchant_code, s.flagged,
               b.id IS NULL AS unknown_unit, (s.manager_code IS NOT NULL AND m.id IS NULL) AS unknown_manager,
               (b.id IS NOT NULL AND m.id IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM branch_closure c WHERE c.ancestor_id = m.branch_id AND c.descendant_id = b.id)) AS outside,
               (SELECT to_char(v.activated_on, 'YYYY-MM-DD') FROM application a JOIN activation v ON v.application_id = a.id
                WHERE a.external_id = s.external_id AND (s.decision <> 'APPROVED' OR s.decided_on > v.activated_on)) AS activated_on
        FROM app_batch s
        LEFT JOIN branch b ON b.code = s.branch_code
        LEFT JOIN account_manager m ON m.code = s.manager_code) r
      WHERE flagged OR unknown_unit OR unknown_manager OR outside OR activated_on IS NOT NULL
      ORDER BY line`;
    const fetch = Prisma.raw(`FETCH FORWARD ${pageRows} FROM batch_suspects`);
    // Closed however the reading ends, so that a later call in this transaction can declare it
    // again. After a failed statement the transaction takes nothing but its rollback (which
    // closes the cursor too), so the CLOSE's own refusal then says nothing new.
    try {
      for (;;) {
        const found = await this.tx.$queryRaw<
          { line: number; external_id: string; customer_ext: string; branch_code: string; manager_code: string | null; channel: string; received_on: string;
            keyed_on: string | null; decision: string; decided_on: string | null; campaign_code: string | null; merchant_code: string | null; flagged: boolean;
            unknown_unit: boolean; unknown_manager: boolean; outside: boolean; activated_on: string | null }[]
        >`${fetch}`;
        if (found.length > 0) {
          yield found.map((f) => ({
            line: f.line,
            row: {
              externalId: f.external_id, customerId: f.customer_ext, branchCode: f.branch_code, managerCode: f.manager_code, channel: f.channel,
              receivedOn: f.received_on, keyedOn: f.keyed_on, decision: f.decision, decidedOn: f.decided_on, campaignCode: f.campaign_code, merchantCode: f.merchant_code,
            },
            flagged: f.flagged,
            unknownUnit: f.unknown_unit,
            unknownManager: f.unknown_manager,
            outside: f.outside,
            activatedOn: f.activated_on,
          }));
        }
        if (found.length < pageRows) break;
      }
    } finally {
      await this.tx.$executeRaw`CLOSE batch_suspects`.catch(() => {});
    }
  }

  /**
   * Leaves the rows at these indexes out of the write (they were rejected). They are noted, a
   * page at a time, and leave app_batch in one statement when the write starts: app_batch has
   * no index, so a DELETE per page of refused rows would scan the whole chunk each time.
   */
  async drop(indexes: readonly number[]): Promise<void> {
    if (indexes.length === 0) return;
    if (!this.dropping) await this.tx.$executeRaw`CREATE TEMP TABLE IF NOT EXISTS app_refused (idx int NOT NULL) ON COMMIT DELETE ROWS`;
    this.dropping = true;
    await this.tx.$executeRaw`INSERT INTO app_refused (idx) SELECT unnest(${[...new Set(indexes)]}::int[])`;
  }

  /** Writes the rows left (unique external ids, known codes); returns the counts and whose figures moved. */
  async write(): Promise<{ created: number; updated: number; figuresChanged: FiguresChanged }> {
    if (this.dropping) await this.tx.$executeRaw`DELETE FROM app_batch s USING app_refused r WHERE s.idx = r.idx`;
    return writeStagedApplications(this.tx);
  }
}

/** app_batch: a temporary table emptied at commit, the same for the batch and the streamed path. */
async function createStagingTable(tx: Tx): Promise<void> {
  await tx.$executeRaw`CREATE TEMP TABLE IF NOT EXISTS app_batch (
    idx int NOT NULL, external_id text NOT NULL, customer_ext text NOT NULL, branch_code text NOT NULL, manager_code text,
    channel "ApplicationChannel" NOT NULL, received_on date NOT NULL, keyed_on date, decision "Decision" NOT NULL,
    decided_on date, campaign_code text, merchant_code text, flagged boolean NOT NULL DEFAULT false
  ) ON COMMIT DELETE ROWS`;
}

/** Puts the batch into app_batch, row i with idx i. */
async function stageApplications(tx: Tx, rows: readonly StagedApplication[]): Promise<void> {
  // Every array goes as text[] (the embedded database's adapter sends arrays of other types as text).
  await tx.$executeRaw`
    INSERT INTO app_batch (idx, external_id, customer_ext, branch_code, manager_code, channel, received_on, keyed_on, decision,
                           decided_on, campaign_code, merchant_code)
    SELECT r.idx::int, r.external_id, r.customer_ext, r.branch_code, r.manager_code, r.channel::"ApplicationChannel",
           r.received_on::date, r.keyed_on::date, r.decision::"Decision", r.decided_on::date, r.campaign_code, r.merchant_code
    FROM unnest(${rows.map((_, i) => String(i))}::text[], ${rows.map((r) => r.externalId)}::text[], ${rows.map((r) => r.customerId)}::text[],
                ${rows.map((r) => r.branchCode)}::text[], ${rows.map((r) => r.managerCode ?? null)}::text[],
                ${rows.map((r) => r.channel)}::text[], ${rows.map((r) => r.receivedOn)}::text[],
                ${rows.map((r) => r.keyedOn ?? null)}::text[], ${rows.map((r) => r.decision)}::text[],
                ${rows.map((r) => r.decidedOn ?? null)}::text[], ${rows.map((r) => r.campaignCode ?? null)}::text[],
                ${rows.map((r) => r.merchantCode ?? null)}::text[])
         AS r(idx, external_id, customer_ext, branch_code, manager_code, channel, received_on, keyed_on, decision,
              decided_on, campaign_code, merchant_code)`;
}

/**
 * Writes the checked rows of app_batch (unique external ids, known codes) with their customers,
 * first approvals and rollups. A row that would change nothing is left alone.
 *
 * New applications get their ids up front, so a customer first seen in this batch is created
 * with its first approval already set (all of its applications are in the batch); the first
 * approvals of customers seen before are re-derived from the table after the write. The rollup
 * delta then counts, for each customer, only what moved: the old first approval as it stood
 * before (−1) and the new one as it stands now (+1), when they differ or that application changed.
 */
async function writeStagedApplications(tx: Tx): Promise<{ created: number; updated: number; figuresChanged: FiguresChanged }> {
  // The rows that change something: app_id is the new id of a new application (is_new) or the
  // id of the one it replaces; old_* what that one held; customer_id is null until a customer
  // first seen here (new_customer) is created; customer_first that customer's first approval.
  await tx.$executeRaw`CREATE TEMP TABLE IF NOT EXISTS app_change (
    app_id int NOT NULL, is_new boolean NOT NULL, external_id text NOT NULL,
    customer_ext text NOT NULL, customer_id int, new_customer boolean NOT NULL, customer_first int,
    is_first boolean NOT NULL DEFAULT false,
    branch_id int NOT NULL, manager_id int, channel "ApplicationChannel" NOT NULL, received_on date NOT NULL, keyed_on date,
    decision "Decision" NOT NULL, decided_on date, campaign_code text, merchant_code text,
    old_customer_id int, old_branch_id int, old_manager_id int, old_keyed_on date, old_decision "Decision",
    old_decided_on date, old_campaign_code text, old_merchant_code text, activated_on date
  ) ON COMMIT DELETE ROWS`;
  // The sequence is named as a literal, resolved once when the statement is planned:
  // pg_get_serial_sequence() in its place ran per row (1.7 s of a 1 M-row chunk).
  await tx.$executeRaw`
    INSERT INTO app_change (app_id, is_new, external_id, customer_ext, customer_id, new_customer, customer_first,
      branch_id, manager_id, channel, received_on, keyed_on, decision, decided_on, campaign_code, merchant_code,
      old_customer_id, old_branch_id, old_manager_id, old_keyed_on, old_decision, old_decided_on, old_campaign_code,
      old_merchant_code, activated_on)
    SELECT coalesce(a.id, nextval('application_id_seq')), a.id IS NULL, s.external_id,
           s.customer_ext, cu.id, cu.id IS NULL, cu.first_approved_application_id,
           b.id, m.id, s.channel, s.received_on, s.keyed_on, s.decision, s.decided_on, s.campaign_code, s.merchant_code,
           a.customer_id, a.branch_id, a.manager_id, a.keyed_on, a.decision, a.decided_on, a.campaign_code, a.merchant_code,
           v.activated_on
    FROM app_batch s
    JOIN branch b ON b.code = s.branch_code
    LEFT JOIN account_manager m ON m.code = s.manager_code
    LEFT JOIN LATERAL (SELECT id, first_approved_application_id FROM customer WHERE external_id = s.customer_ext ${BY_INDEX}) cu ON true
    LEFT JOIN LATERAL (
      SELECT id, customer_id, branch_id, manager_id, channel, received_on, keyed_on, decision, decided_on, campaign_code, merchant_code
      FROM application WHERE external_id = s.external_id ${BY_INDEX}) a ON true
    LEFT JOIN LATERAL (SELECT activated_on FROM activation WHERE application_id = a.id ${BY_INDEX}) v ON true
    WHERE a.id IS NULL
       OR (a.customer_id, a.branch_id, a.manager_id, a.channel, a.received_on, a.keyed_on, a.decision, a.decided_on,
           a.campaign_code, a.merchant_code)
          IS DISTINCT FROM
          (cu.id, b.id, m.id, s.channel, s.received_on, s.keyed_on, s.decision, s.decided_on, s.campaign_code, s.merchant_code)
    ORDER BY s.external_id`;
  const [counts] = await tx.$queryRaw<{ created: number; updated: number }[]>`
    SELECT count(*) FILTER (WHERE is_new)::int AS created, count(*) FILTER (WHERE NOT is_new)::int AS updated FROM app_change`;
  if (counts.created + counts.updated === 0) return { ...counts, figuresChanged: mergeChanged() };

  // Customers first seen in this batch, created with their first approval.
  await tx.$executeRaw`
    WITH firsts AS (${firstApprovalsAmong(Prisma.sql`(SELECT app_id AS id, customer_ext, decision, decided_on, received_on, external_id FROM app_change WHERE new_customer)`, Prisma.sql`customer_ext`)}),
    created AS (
      INSERT INTO customer (external_id, first_approved_application_id)
      SELECT n.customer_ext, f.app_id FROM (SELECT DISTINCT customer_ext FROM app_change WHERE new_customer) n
      LEFT JOIN firsts f ON f.customer = n.customer_ext
      ORDER BY 1
      RETURNING id, external_id, first_approved_application_id)
    UPDATE app_change c SET customer_id = created.id, is_first = (c.app_id = created.first_approved_application_id) IS TRUE
    FROM created WHERE c.new_customer AND c.customer_ext = created.external_id`;
  // Customers seen before whose first approval the batch may move: those of the changed rows,
  // and the previous customers of the applications it re-assigns.
  await tx.$executeRaw`CREATE TEMP TABLE IF NOT EXISTS batch_customer (id int NOT NULL, old_first int, new_first int) ON COMMIT DELETE ROWS`;
  await tx.$executeRaw`
    INSERT INTO batch_customer (id, old_first)
    SELECT customer_id, customer_first FROM app_change WHERE NOT new_customer
    UNION
    SELECT cu.id, cu.first_approved_application_id FROM customer cu
    WHERE cu.id IN (SELECT old_customer_id FROM app_change WHERE old_customer_id IS NOT NULL)`;

  await tx.$executeRaw`
    INSERT INTO application (id, external_id, customer_id, branch_id, manager_id, channel, received_on, keyed_on,
                             decision, decided_on, campaign_code, merchant_code, updated_at)
    SELECT app_id, external_id, customer_id, branch_id, manager_id, channel, received_on, keyed_on,
           decision, decided_on, campaign_code, merchant_code, now()
    FROM app_change WHERE is_new ORDER BY external_id`;
  if (counts.updated > 0) {
    await tx.$executeRaw`
      UPDATE application a SET
        customer_id = c.customer_id, branch_id = c.branch_id, manager_id = c.manager_id, channel = c.channel,
        received_on = c.received_on, keyed_on = c.keyed_on, decision = c.decision, decided_on = c.decided_on,
        campaign_code = c.campaign_code, merchant_code = c.merchant_code, updated_at = now()
      FROM app_change c WHERE NOT c.is_new AND a.id = c.app_id`;
  }
  await tx.$executeRaw`
    UPDATE batch_customer bc SET new_first = f.app_id
    FROM (${firstApprovalsAmong(Prisma.sql`application`, Prisma.sql`customer_id`, Prisma.sql`SELECT id FROM batch_customer`)}) f
    WHERE f.customer = bc.id`;
  // A temporary table has no statistics until analyzed: guessing batch_customer at 355 k rows,
  // the planner hashed all 7.7 M customers (4.8 s) to update 62 k of them; analyzed, it hashes
  // batch_customer and the statement takes 2.2 s (a 1 M-row chunk on a 10 M-record bank).
  await tx.$executeRaw`ANALYZE batch_customer`;
  await tx.$executeRaw`
    UPDATE customer c SET first_approved_application_id = bc.new_first
    FROM batch_customer bc WHERE c.id = bc.id AND bc.old_first IS DISTINCT FROM bc.new_first`;

  const ledger = await FiguresLedger.open(tx);
  await addStagedApplications(ledger);
  return { ...counts, figuresChanged: await ledger.apply() };
}

/**
 * Adds what the staged batch moves: from app_change, −1 for what each replaced application
 * counted (its old_* columns) and +1 for what it counts now; NEW_CUSTOMERS +1 for the first
 * approval of each customer first seen in the batch (is_first); and from batch_customer, for
 * each customer seen before, −1 for its old first approval as it stood before the write and +1
 * for its new one as it stands now, wherever they differ or that application changed.
 */
async function addStagedApplications(ledger: FiguresLedger): Promise<void> {
  // What a first approval counts under (the contributions below read these of it).
  const FIRST_COLUMNS = Prisma.sql`branch_id, manager_id, campaign_code, merchant_code, decided_on`;
  const movedFirst = Prisma.sql`bc.old_first IS DISTINCT FROM bc.new_first OR ch.app_id IS NOT NULL`;
  const wasOrIs = (column: string) => Prisma.raw(`CASE WHEN ch.app_id IS NULL THEN a.${column} ELSE ch.old_${column} END`);
  // An app_change row as it was (old_* columns; its old first approval is handled below) and as it is now.
  const changeRow = (prefix: "old_" | "") => ({
    branchId: Prisma.raw(`c.${prefix}branch_id`),
    managerId: Prisma.raw(`c.${prefix}manager_id`),
    campaignCode: Prisma.raw(`c.${prefix}campaign_code`),
    merchantCode: Prisma.raw(`c.${prefix}merchant_code`),
    keyedOn: Prisma.raw(`c.${prefix}keyed_on`),
    decision: Prisma.raw(`c.${prefix}decision`),
    decidedOn: Prisma.raw(`c.${prefix}decided_on`),
    activatedOn: Prisma.sql`c.activated_on`,
  });
  await ledger.add(Prisma.sql`
    ${contributions(changeRow("old_"), Prisma.sql`app_change c`, null, -1)}
    UNION ALL
    ${contributions({ ...changeRow(""), isFirst: Prisma.sql`c.is_first` }, Prisma.sql`app_change c`, null, 1)}
    UNION ALL
    ${contributions(
      {
        branchId: wasOrIs("branch_id"),
        managerId: wasOrIs("manager_id"),
        campaignCode: wasOrIs("campaign_code"),
        merchantCode: wasOrIs("merchant_code"),
        decidedOn: wasOrIs("decided_on"),
        isFirst: Prisma.sql`true`,
      },
      Prisma.sql`batch_customer bc LEFT JOIN app_change ch ON ch.app_id = bc.old_first AND NOT ch.is_new
                 CROSS JOIN LATERAL (SELECT ${FIRST_COLUMNS} FROM application WHERE id = bc.old_first ${BY_INDEX}) a`,
      movedFirst,
      -1,
    )}
    UNION ALL
    ${contributions(
      { branchId: Prisma.sql`a.branch_id`, managerId: Prisma.sql`a.manager_id`, campaignCode: Prisma.sql`a.campaign_code`, merchantCode: Prisma.sql`a.merchant_code`, decidedOn: Prisma.sql`a.decided_on`, isFirst: Prisma.sql`true` },
      Prisma.sql`batch_customer bc LEFT JOIN app_change ch ON ch.app_id = bc.new_first
                 CROSS JOIN LATERAL (SELECT ${FIRST_COLUMNS} FROM application WHERE id = bc.new_first ${BY_INDEX}) a`,
      movedFirst,
      1,
    )}`);
}
