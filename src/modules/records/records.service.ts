/**
 * Application and activation records: validated as a whole batch, then written set-based in
 * one transaction, together with the derived first approval of every customer they touch.
 */
import type { Db } from "../../db/database.js";
import { compareDates, fromDbDate } from "../../domain/dates.js";
import type { IssueCollector } from "../../errors.js";
import { checkBatchSize, checkCode, checkOrder, checkUnique, inTransaction, screen, type WriteOptions } from "../common/validate.js";
import { countWrites, type WriteOutcome } from "../common/write-result.type.js";
import { Prisma } from "../../generated/prisma/client.js";
import { firstApprovalsAmong, lockRecordWrites, RollupDelta } from "../rollups/rollups.service.js";
import { Decision } from "./records.enums.js";
import type { ActivationInput, ApplicationInput } from "./records.input.js";

function checkApplicationRow(issues: IssueCollector, row: ApplicationRow, i: number): void {
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

type ApplicationRow = ApplicationInput & { decision: Decision };
type Tx = Prisma.TransactionClient;

/**
 * Writes a batch of applications set-based: the batch is staged in a temporary table once, the
 * rows' lookups (unknown units and managers, managers outside the unit's line, activated cards)
 * come back in one statement for the per-row checks, and the write, the first approvals and the
 * rollup delta are a handful of statements over the staged rows whatever the batch size. Only
 * the rows that change anything (new, or differing from what is stored) are written and counted
 * in the rollups, so replaying a batch costs little more than reading it.
 */
export async function recordApplications(
  db: Db,
  batch: readonly ApplicationInput[],
  maxBatch: number,
  options: WriteOptions = {},
): Promise<WriteOutcome> {
  checkBatchSize(batch, maxBatch);
  const input: ApplicationRow[] = batch.map((r) => ({ ...r, decision: r.decision ?? Decision.PENDING }));

  return inTransaction(db, options, async (tx) => {
    await lockRecordWrites(tx);
    // For this transaction only: every statement below reaches the big tables by index for the
    // batch's rows (the working set is in memory, so a random page costs about a sequential
    // one), sorts and hashes a whole batch in memory, and is too short to gain from JIT.
    await tx.$queryRaw`SELECT set_config('random_page_cost', '1.1', true), set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`;
    await stageApplications(tx, input);
    const found = await tx.$queryRaw<{ k: "unit" | "manager" | "outside" | "activated"; key: string; value: string | null }[]>`
      SELECT 'unit' AS k, s.code AS key, NULL AS value
      FROM (SELECT DISTINCT branch_code AS code FROM app_batch) s
      WHERE NOT EXISTS (SELECT 1 FROM branch b WHERE b.code = s.code)
      UNION ALL
      SELECT 'manager', s.code, NULL
      FROM (SELECT DISTINCT manager_code AS code FROM app_batch WHERE manager_code IS NOT NULL) s
      WHERE NOT EXISTS (SELECT 1 FROM account_manager m WHERE m.code = s.code)
      UNION ALL
      -- A manager is credited only with what their own unit's subtree takes in, so that manager
      -- rankings add up to the unit figures they sit under.
      SELECT 'outside', p.m || '|' || p.u, NULL
      FROM (SELECT DISTINCT manager_code AS m, branch_code AS u FROM app_batch WHERE manager_code IS NOT NULL) p
      JOIN account_manager am ON am.code = p.m JOIN branch b ON b.code = p.u
      WHERE NOT EXISTS (SELECT 1 FROM branch_closure c WHERE c.ancestor_id = am.branch_id AND c.descendant_id = b.id)
      UNION ALL
      SELECT 'activated', a.external_id, to_char(v.activated_on, 'YYYY-MM-DD')
      FROM app_batch s JOIN application a ON a.external_id = s.external_id JOIN activation v ON v.application_id = a.id`;
    const unknownUnits = new Set(found.filter((f) => f.k === "unit").map((f) => f.key));
    const unknownManagers = new Set(found.filter((f) => f.k === "manager").map((f) => f.key));
    const outside = new Set(found.filter((f) => f.k === "outside").map((f) => f.key));
    const activatedOn = new Map(found.filter((f) => f.k === "activated").map((f) => [f.key, f.value!]));

    const screened = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        checkApplicationRow(issues, row, i);
        if (unknownUnits.has(row.branchCode)) issues.add(i, "branchCode", `unknown unit "${row.branchCode}"`);
        if (row.managerCode != null && unknownManagers.has(row.managerCode)) issues.add(i, "managerCode", `unknown account manager "${row.managerCode}"`);
        else if (row.managerCode != null && outside.has(`${row.managerCode}|${row.branchCode}`)) {
          issues.add(i, "managerCode", `"${row.managerCode}" does not belong to "${row.branchCode}" or a unit above it`);
        }
        const activated = activatedOn.get(row.externalId);
        if (activated) {
          if (row.decision !== Decision.APPROVED) issues.add(i, "decision", `must stay APPROVED: the card was activated on ${activated}`);
          else if (row.decidedOn && compareDates(row.decidedOn, activated) > 0) {
            issues.add(i, "decidedOn", `${row.decidedOn} is after the card's activation on ${activated}`);
          }
        }
      });
      checkUnique(issues, rows, "externalId", (r) => r.externalId);
    });
    const { rejected } = screened;
    if (screened.rows.length === 0) return { created: 0, updated: 0, unchanged: 0, rejected };
    if (rejected.length > 0) {
      await tx.$executeRaw`DELETE FROM app_batch WHERE idx = ANY(${[...new Set(rejected.map((r) => r.index!))]}::int[])`;
    }
    const counts = await writeStagedApplications(tx);
    return { created: counts.created, updated: counts.updated, unchanged: screened.rows.length - counts.created - counts.updated, rejected };
  });
}

/** Puts the batch into app_batch (a temporary table emptied at commit), row i with idx i. */
async function stageApplications(tx: Tx, rows: readonly ApplicationRow[]): Promise<void> {
  await tx.$executeRaw`CREATE TEMP TABLE IF NOT EXISTS app_batch (
    idx int NOT NULL, external_id text NOT NULL, customer_ext text NOT NULL, branch_code text NOT NULL, manager_code text,
    channel "ApplicationChannel" NOT NULL, received_on date NOT NULL, keyed_on date, decision "Decision" NOT NULL,
    decided_on date, campaign_code text, merchant_code text
  ) ON COMMIT DELETE ROWS`;
  // Every array goes as text[] (the embedded database's adapter sends arrays of other types as text).
  await tx.$executeRaw`
    INSERT INTO app_batch
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
async function writeStagedApplications(tx: Tx): Promise<{ created: number; updated: number }> {
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
  await tx.$executeRaw`
    INSERT INTO app_change (app_id, is_new, external_id, customer_ext, customer_id, new_customer, customer_first,
      branch_id, manager_id, channel, received_on, keyed_on, decision, decided_on, campaign_code, merchant_code,
      old_customer_id, old_branch_id, old_manager_id, old_keyed_on, old_decision, old_decided_on, old_campaign_code,
      old_merchant_code, activated_on)
    SELECT coalesce(a.id, nextval(pg_get_serial_sequence('application', 'id'))), a.id IS NULL, s.external_id,
           s.customer_ext, cu.id, cu.id IS NULL, cu.first_approved_application_id,
           b.id, m.id, s.channel, s.received_on, s.keyed_on, s.decision, s.decided_on, s.campaign_code, s.merchant_code,
           a.customer_id, a.branch_id, a.manager_id, a.keyed_on, a.decision, a.decided_on, a.campaign_code, a.merchant_code,
           v.activated_on
    FROM app_batch s
    LEFT JOIN customer cu ON cu.external_id = s.customer_ext
    JOIN branch b ON b.code = s.branch_code
    LEFT JOIN account_manager m ON m.code = s.manager_code
    LEFT JOIN application a ON a.external_id = s.external_id
    LEFT JOIN activation v ON v.application_id = a.id
    WHERE a.id IS NULL
       OR (a.customer_id, a.branch_id, a.manager_id, a.channel, a.received_on, a.keyed_on, a.decision, a.decided_on,
           a.campaign_code, a.merchant_code)
          IS DISTINCT FROM
          (cu.id, b.id, m.id, s.channel, s.received_on, s.keyed_on, s.decision, s.decided_on, s.campaign_code, s.merchant_code)
    ORDER BY s.external_id`;
  const [counts] = await tx.$queryRaw<{ created: number; updated: number }[]>`
    SELECT count(*) FILTER (WHERE is_new)::int AS created, count(*) FILTER (WHERE NOT is_new)::int AS updated FROM app_change`;
  if (counts.created + counts.updated === 0) return counts;

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
  await tx.$executeRaw`
    UPDATE customer c SET first_approved_application_id = bc.new_first
    FROM batch_customer bc WHERE c.id = bc.id AND bc.old_first IS DISTINCT FROM bc.new_first`;

  const delta = await RollupDelta.open(tx);
  await delta.addStagedApplications();
  await delta.apply();
  return counts;
}

export async function recordActivations(
  db: Db,
  input: readonly ActivationInput[],
  maxBatch: number,
  options: WriteOptions = {},
): Promise<WriteOutcome> {
  checkBatchSize(input, maxBatch);
  return inTransaction(db, options, async (tx) => {
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
    if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0, rejected };
    const apps = rows.map((r) => byId.get(r.applicationExternalId)!);
    const appIds = apps.map((a) => a.id);
    const delta = await RollupDelta.open(tx);
    await delta.addActivations(-1, appIds);
    const returned = await tx.$queryRaw<{ inserted: boolean }[]>`
      INSERT INTO activation (application_id, activated_on, first_spend_on, updated_at)
      SELECT r.application_id, r.activated_on::date, r.first_spend_on::date, now()
      FROM unnest(${appIds}::int[], ${rows.map((r) => r.activatedOn)}::text[],
                  ${rows.map((r) => r.firstSpendOn ?? null)}::text[]) AS r(application_id, activated_on, first_spend_on)
      ON CONFLICT (application_id) DO UPDATE SET
        activated_on = EXCLUDED.activated_on, first_spend_on = EXCLUDED.first_spend_on, updated_at = now()
      WHERE (activation.activated_on, activation.first_spend_on) IS DISTINCT FROM (EXCLUDED.activated_on, EXCLUDED.first_spend_on)
      RETURNING (xmax = 0) AS inserted`;
    await delta.addActivations(+1, appIds);
    await delta.apply();
    return { ...countWrites(rows.length, returned), rejected };
  });
}
