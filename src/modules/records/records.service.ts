/**
 * Application and activation records: validated as a whole batch, then written set-based in
 * one transaction, together with the derived first approval of every customer they touch.
 */
import type { Db } from "../../db/database.js";
import { compareDates, fromDbDate } from "../../domain/dates.js";
import { IssueCollector } from "../../errors.js";
import { unknownCode } from "../common/lookup.js";
import { checkBatchSize, checkCode, checkOrder, checkUnique, screen, type StreamedWriteOptions, type WriteOptions } from "../common/validate.js";
import { inTransaction, type Tx } from "../../db/transaction.js";
import { countWrites, type StreamedOutcome, type WriteOutcome } from "../common/write-result.type.js";
import { ApplicationBatch, type StagedLine } from "../../figures/application-batch.js";
import { mergeChanged, type FiguresChanged } from "../../figures/changed.js";
import { FiguresLedger, lockRecordWrites } from "../../figures/ledger.js";
import { Decision } from "./records.enums.js";
import type { ActivationInput, ApplicationInput } from "./records.input.js";

/** The rules of one application row on its own (codes' form, the decision's date, the dates' order). */
export function checkApplicationRow(issues: IssueCollector, row: ApplicationRow, i: number): void {
  checkCode(issues, i, "externalId", row.externalId);
  checkCode(issues, i, "customerId", row.customerId);
  if (row.campaignCode != null) checkCode(issues, i, "campaignCode", row.campaignCode);
  if (row.merchantCode != null) checkCode(issues, i, "merchantCode", row.merchantCode);
  if (row.decision === Decision.PENDING && row.decidedOn != null) {
    issues.add(i, "decidedOn", "must be empty while the decision is PENDING");
  }
  if (row.decision !== Decision.PENDING && row.decidedOn == null) {
    issues.add(i, "decidedOn", `is required when the decision is ${row.decision}`);
  }
  checkOrder(issues, i, { field: "receivedOn", value: row.receivedOn }, { field: "keyedOn", value: row.keyedOn });
  checkOrder(issues, i, row.keyedOn ? { field: "keyedOn", value: row.keyedOn } : { field: "receivedOn", value: row.receivedOn }, {
    field: "decidedOn",
    value: row.decidedOn,
  });
}

export type ApplicationRow = ApplicationInput & { decision: Decision };

/** What the database knows of one row's codes and card, for its checks (ApplicationBatch.suspects). */
interface KnownOfRow {
  unknownUnit: boolean;
  unknownManager: boolean;
  /** The unit is outside the manager's subtree. */
  outside: boolean;
  /** The day the row's card was activated, if it was. */
  activatedOn: string | null | undefined;
}

const NOTHING_KNOWN: KnownOfRow = { unknownUnit: false, unknownManager: false, outside: false, activatedOn: null };

/**
 * Every rule of one application row, its own and those against what is stored: the one home of
 * the rules and their wording, for the batch path (recordApplications) and the streamed one
 * (recordApplicationLines).
 */
function checkApplication(issues: IssueCollector, row: ApplicationRow, i: number, known: KnownOfRow): void {
  checkApplicationRow(issues, row, i);
  if (known.unknownUnit) issues.add(i, "branchCode", unknownCode("branch", row.branchCode));
  if (row.managerCode != null && known.unknownManager) issues.add(i, "managerCode", unknownCode("account_manager", row.managerCode));
  else if (row.managerCode != null && known.outside) {
    // A manager is credited only with what their own unit's subtree takes in.
    issues.add(i, "managerCode", `"${row.managerCode}" does not belong to "${row.branchCode}" or a unit above it`);
  }
  const activated = known.activatedOn;
  if (activated) {
    if (row.decision !== Decision.APPROVED) issues.add(i, "decision", `must stay APPROVED: the card was activated on ${activated}`);
    else if (row.decidedOn && compareDates(row.decidedOn, activated) > 0) {
      issues.add(i, "decidedOn", `${row.decidedOn} is after the card's activation on ${activated}`);
    }
  }
}

/**
 * For this transaction only: settings for statements over a whole staged batch. `workMem` is
 * what one sort or hash may hold: a batch's rows, or a bulk chunk's (its sorts spilled to disk
 * at 64MB on the 1 M bench; only one import writes at a time, under the record-writes lock).
 */
async function tuneForBatch(tx: Tx, workMem: "64MB" | "256MB" = "64MB"): Promise<void> {
  // Every statement reaches the big tables by index for the batch's rows (the working set is in
  // memory, so a random page costs about a sequential one), sorts and hashes a whole batch in
  // memory, and is too short to gain from JIT. The refused rows' cursor (ApplicationBatch.suspects)
  // is read to its end, so it is planned for all of its rows, not for a fast first page.
  await tx.$queryRaw`SELECT set_config('random_page_cost', '1.1', true), set_config('work_mem', ${workMem}, true), set_config('jit', 'off', true),
                            set_config('cursor_tuple_fraction', '1', true)`;
}

/**
 * Writes a batch of applications set-based: the batch is staged in a temporary table once, the
 * rows that stored data may refuse (unknown units and managers, managers outside the unit's line, activated cards)
 * come back from one query for the per-row checks, and the write, the first approvals and the
 * rollup delta are a handful of statements over the staged rows whatever the batch size. Only
 * the rows that change anything (new, or differing from what is stored) are written and counted
 * in the rollups, so replaying a batch costs little more than reading it.
 */
export async function recordApplications(
  db: Db,
  batch: readonly ApplicationInput[],
  maxBatch: number,
  options: WriteOptions = {},
): Promise<WriteOutcome & { figuresChanged: FiguresChanged }> {
  checkBatchSize(batch, maxBatch);
  const input: ApplicationRow[] = batch.map((r) => ({ ...r, decision: r.decision ?? Decision.PENDING }));

  return inTransaction(db, options, async (tx, changes) => {
    await lockRecordWrites(tx);
    await tuneForBatch(tx);
    const batch = await ApplicationBatch.stage(tx, input);
    // Only the rows some rule against stored data may refuse come back (staged row i is input[i]);
    // keyed by the row itself, since screen() renumbers the rows it keeps between its rounds.
    const known = new Map<ApplicationRow, KnownOfRow>();
    for await (const page of batch.suspects()) for (const s of page) known.set(input[s.line], s);

    const screened = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => checkApplication(issues, row, i, known.get(row) ?? NOTHING_KNOWN));
      checkUnique(issues, rows, "externalId", (r) => r.externalId);
    });
    const { rejected } = screened;
    if (screened.rows.length === 0) return { created: 0, updated: 0, unchanged: 0, rejected, figuresChanged: mergeChanged() };
    await batch.drop(rejected.map((r) => r.index!));
    const { created, updated, figuresChanged } = await batch.write();
    changes.add({ figures: figuresChanged });
    return { created, updated, unchanged: screened.rows.length - created - updated, rejected, figuresChanged };
  });
}

/** One checked row of a file, with its line. */
export interface ApplicationLine {
  line: number;
  row: ApplicationInput;
}

/**
 * The bulk import's first half, outside any transaction: the rows of a chunk as the staging
 * table's COPY text, each with its decision defaulted and flagged when its own rules refuse it
 * (flagged rows are staged anyway: a later row still replaces an earlier one with its key; their
 * issues are worded in `recordApplicationCopy`).
 */
export function encodeApplicationLines(lines: AsyncIterable<ApplicationLine>): AsyncIterable<string> {
  return ApplicationBatch.encode(flagged(lines));
}

async function* flagged(lines: AsyncIterable<ApplicationLine>): AsyncGenerator<StagedLine> {
  const scratch = new IssueCollector();
  for await (const { line, row } of lines) {
    const full: ApplicationRow = { ...row, decision: row.decision ?? Decision.PENDING };
    checkApplicationRow(scratch, full, 0);
    yield { line, row: full, flagged: scratch.issues.length > 0 };
    scratch.issues.length = 0;
  }
}

/**
 * The bulk import's write of a chunk of applications (`encodeApplicationLines`' text), in one
 * transaction: the text is streamed into the staging table with COPY (nothing of a row is held
 * here), a later row with the same external id replaces an earlier one (in SQL, by line), the
 * rows that some rule refuses come back a page at a time and are checked by the same rules and
 * wording as recordApplications, their issues handed to `onRejected` page by page (indexed by
 * the row's line) and the rows dropped, and the rest is written by the same set-based write.
 * What is held of the chunk is one page of refused rows, however many there are; the statements
 * grow only with those pages (two per page: its FETCH and the note of its dropped rows).
 */
export async function recordApplicationCopy(
  db: Db,
  text: AsyncIterable<string | Buffer>,
  options: StreamedWriteOptions,
): Promise<StreamedOutcome & { figuresChanged: FiguresChanged; superseded: number }> {
  return inTransaction(db, options, async (tx, changes) => {
    await lockRecordWrites(tx);
    await tuneForBatch(tx, "256MB");
    const batch = await ApplicationBatch.copy(db, tx, text);
    const { superseded, rows } = await batch.dedupe();
    let rejectedRows = 0;
    for await (const page of batch.suspects(options.pageRows)) {
      const issues = new IssueCollector();
      for (const s of page) checkApplication(issues, s.row as ApplicationRow, s.line, s);
      if (issues.issues.length === 0) continue;
      const bad = [...new Set(issues.issues.map((r) => r.index!))];
      rejectedRows += bad.length;
      await options.onRejected(issues.issues);
      await batch.drop(bad);
    }
    if (rejectedRows === rows) return { created: 0, updated: 0, unchanged: 0, rejectedRows, figuresChanged: mergeChanged(), superseded };
    const { created, updated, figuresChanged } = await batch.write();
    changes.add({ figures: figuresChanged });
    return { created, updated, unchanged: rows - rejectedRows - created - updated, rejectedRows, figuresChanged, superseded };
  });
}

export async function recordActivations(
  db: Db,
  input: readonly ActivationInput[],
  maxBatch: number,
  options: WriteOptions = {},
): Promise<WriteOutcome & { figuresChanged: FiguresChanged }> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx, changes) => {
    await lockRecordWrites(tx);
    const found = await tx.application.findMany({
      where: { externalId: { in: input.map((r) => r.applicationExternalId) } },
      select: { id: true, externalId: true, decision: true, decidedOn: true },
    });
    const byId = new Map(found.map((a) => [a.externalId, a]));
    const { rows, rejected } = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        checkCode(issues, i, "applicationExternalId", row.applicationExternalId);
        checkOrder(issues, i, { field: "activatedOn", value: row.activatedOn }, { field: "firstSpendOn", value: row.firstSpendOn });
        const app = byId.get(row.applicationExternalId);
        if (!app) return issues.add(i, "applicationExternalId", `unknown application "${row.applicationExternalId}"`);
        if (app.decision !== Decision.APPROVED) {
          return issues.add(i, "applicationExternalId", `application "${row.applicationExternalId}" is ${app.decision}; only an APPROVED one can be activated`);
        }
        const decided = fromDbDate(app.decidedOn!);
        if (compareDates(row.activatedOn, decided) < 0) issues.add(i, "activatedOn", `${row.activatedOn} is before the approval on ${decided}`);
      });
      checkUnique(issues, rows, "applicationExternalId", (r) => r.applicationExternalId);
    });
    if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0, rejected, figuresChanged: mergeChanged() };
    const apps = rows.map((r) => byId.get(r.applicationExternalId)!);
    const appIds = apps.map((a) => a.id);
    const ledger = await FiguresLedger.open(tx);
    await ledger.addActivations(-1, appIds);
    const returned = await tx.$queryRaw<{ inserted: boolean }[]>`
      INSERT INTO activation (application_id, activated_on, first_spend_on, updated_at)
      SELECT r.application_id, r.activated_on::date, r.first_spend_on::date, now()
      FROM unnest(${appIds}::int[], ${rows.map((r) => r.activatedOn)}::text[],
                  ${rows.map((r) => r.firstSpendOn ?? null)}::text[]) AS r(application_id, activated_on, first_spend_on)
      ON CONFLICT (application_id) DO UPDATE SET
        activated_on = EXCLUDED.activated_on, first_spend_on = EXCLUDED.first_spend_on, updated_at = now()
      WHERE (activation.activated_on, activation.first_spend_on) IS DISTINCT FROM (EXCLUDED.activated_on, EXCLUDED.first_spend_on)
      RETURNING (xmax = 0) AS inserted`;
    await ledger.addActivations(+1, appIds);
    const figuresChanged = await ledger.apply();
    changes.add({ figures: figuresChanged });
    return { ...countWrites(rows.length, returned), rejected, figuresChanged };
  });
}
