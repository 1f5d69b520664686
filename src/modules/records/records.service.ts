/**
 * Application and activation records: validated as a whole batch, then written set-based in
 * one transaction, together with the derived first approval of every customer they touch.
 */
import type { Db } from "../../db/database.js";
import { compareDates } from "../../domain/dates.js";
import type { IssueCollector } from "../../errors.js";
import { checkBatchSize, checkCode, checkOrder, checkUnique, inTransaction, screen, type WriteOptions } from "../common/validate.js";
import { countWrites, type WriteOutcome } from "../common/write-result.type.js";
import { Metric } from "../performance/performance.enums.js";
import { lockRecordWrites, refreshFirstApprovals, RollupDelta } from "../rollups/rollups.service.js";
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
    const [units, managers, found] = await Promise.all([
      tx.branch.findMany({ where: { code: { in: [...new Set(input.map((r) => r.branchCode))] } }, select: { code: true } }),
      tx.accountManager.findMany({
        where: { code: { in: [...new Set(input.flatMap((r) => (r.managerCode ? [r.managerCode] : [])))] } },
        select: { code: true },
      }),
      tx.application.findMany({
        where: { externalId: { in: input.map((r) => r.externalId) } },
        select: { id: true, externalId: true, customerId: true, activation: { select: { activatedOn: true } } },
      }),
    ]);
    const unitCodes = new Set(units.map((u) => u.code));
    const managerCodes = new Set(managers.map((m) => m.code));
    const existingById = new Map(found.map((e) => [e.externalId, e]));
    const pairs = input.filter((r) => r.managerCode != null);
    // A manager is credited only with what their own unit's subtree takes in, so that manager
    // rankings add up to the unit figures they sit under.
    const outside = new Set(
      (pairs.length === 0
        ? []
        : await tx.$queryRaw<{ pair: string }[]>`
          SELECT DISTINCT r.m || '|' || r.u AS pair
          FROM unnest(${pairs.map((r) => r.managerCode!)}::text[], ${pairs.map((r) => r.branchCode)}::text[]) AS r(m, u)
          JOIN account_manager am ON am.code = r.m JOIN branch b ON b.code = r.u
          WHERE NOT EXISTS (SELECT 1 FROM branch_closure c WHERE c.ancestor_id = am.branch_id AND c.descendant_id = b.id)`
      ).map((p) => p.pair),
    );
    const screened = await screen(input, options, (rows, issues) => {
      rows.forEach((row, i) => {
        checkApplicationRow(issues, row, i);
        if (!unitCodes.has(row.branchCode)) issues.add(i, "branchCode", `unknown unit "${row.branchCode}"`);
        if (row.managerCode != null && !managerCodes.has(row.managerCode)) issues.add(i, "managerCode", `unknown account manager "${row.managerCode}"`);
        else if (row.managerCode != null && outside.has(`${row.managerCode}|${row.branchCode}`)) {
          issues.add(i, "managerCode", `"${row.managerCode}" does not belong to "${row.branchCode}" or a unit above it`);
        }
        const activatedOn = existingById.get(row.externalId)?.activation?.activatedOn;
        if (activatedOn) {
          const activated = activatedOn.toISOString().slice(0, 10);
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
    // A stable order keeps concurrent overlapping batches from deadlocking on row locks.
    const rows = screened.rows.sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0));
    const kept = new Set(rows.map((r) => r.externalId));
    const existing = found.filter((e) => kept.has(e.externalId));

    await tx.$executeRaw`
      INSERT INTO customer (external_id)
      SELECT DISTINCT unnest(${rows.map((r) => r.customerId)}::text[])
      ON CONFLICT (external_id) DO NOTHING`;
    // Every customer whose first approval this batch may move: those it names, and the
    // previous customers of applications it re-assigns.
    const named = await tx.$queryRaw<{ id: number }[]>`
      SELECT id FROM customer WHERE external_id = ANY(${[...new Set(rows.map((r) => r.customerId))]}::text[])`;
    const customerIds = [...new Set([...named.map((c) => c.id), ...existing.map((e) => e.customerId)])];
    const existingIds = existing.map((e) => e.id);

    const delta = await RollupDelta.open(tx);
    await delta.add(-1, existingIds, customerIds);
    const returned = await tx.$queryRaw<{ inserted: boolean; id: number }[]>`
      INSERT INTO application (external_id, customer_id, branch_id, manager_id, channel, received_on, keyed_on,
                               decision, decided_on, campaign_code, merchant_code, updated_at)
      SELECT r.external_id, cu.id, b.id, m.id, r.channel::"ApplicationChannel", r.received_on::date, r.keyed_on::date,
             r.decision::"Decision", r.decided_on::date, r.campaign_code, r.merchant_code, now()
      FROM unnest(${rows.map((r) => r.externalId)}::text[], ${rows.map((r) => r.customerId)}::text[],
                  ${rows.map((r) => r.branchCode)}::text[], ${rows.map((r) => r.managerCode ?? null)}::text[],
                  ${rows.map((r) => r.channel)}::text[], ${rows.map((r) => r.receivedOn)}::text[],
                  ${rows.map((r) => r.keyedOn ?? null)}::text[], ${rows.map((r) => r.decision)}::text[],
                  ${rows.map((r) => r.decidedOn ?? null)}::text[], ${rows.map((r) => r.campaignCode ?? null)}::text[],
                  ${rows.map((r) => r.merchantCode ?? null)}::text[])
           AS r(external_id, customer_ext, branch_code, manager_code, channel, received_on, keyed_on,
                decision, decided_on, campaign_code, merchant_code)
      JOIN customer cu ON cu.external_id = r.customer_ext
      JOIN branch b ON b.code = r.branch_code
      LEFT JOIN account_manager m ON m.code = r.manager_code
      ON CONFLICT (external_id) DO UPDATE SET
        customer_id = EXCLUDED.customer_id, branch_id = EXCLUDED.branch_id, manager_id = EXCLUDED.manager_id,
        channel = EXCLUDED.channel, received_on = EXCLUDED.received_on, keyed_on = EXCLUDED.keyed_on,
        decision = EXCLUDED.decision, decided_on = EXCLUDED.decided_on, campaign_code = EXCLUDED.campaign_code,
        merchant_code = EXCLUDED.merchant_code, updated_at = now()
      WHERE (application.customer_id, application.branch_id, application.manager_id, application.channel,
             application.received_on, application.keyed_on, application.decision, application.decided_on,
             application.campaign_code, application.merchant_code)
        IS DISTINCT FROM
            (EXCLUDED.customer_id, EXCLUDED.branch_id, EXCLUDED.manager_id, EXCLUDED.channel,
             EXCLUDED.received_on, EXCLUDED.keyed_on, EXCLUDED.decision, EXCLUDED.decided_on,
             EXCLUDED.campaign_code, EXCLUDED.merchant_code)
      RETURNING (xmax = 0) AS inserted, id`;
    await refreshFirstApprovals(tx, customerIds);
    await delta.add(+1, [...new Set([...existingIds, ...returned.map((r) => r.id)])], customerIds);
    await delta.apply();
    return { ...countWrites(rows.length, returned), rejected };
  });
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
        const decided = app.decidedOn!.toISOString().slice(0, 10);
        if (compareDates(row.activatedOn, decided) < 0) issues.add(i, "activatedOn", `${row.activatedOn} is before the approval on ${decided}`);
      });
      checkUnique(issues, rows, "applicationExternalId", (r) => r.applicationExternalId);
    });
    if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0, rejected };
    const apps = rows.map((r) => byId.get(r.applicationExternalId)!);
    const appIds = apps.map((a) => a.id);
    const delta = await RollupDelta.open(tx);
    await delta.add(-1, appIds, [], [Metric.ACTIVATIONS]);
    const returned = await tx.$queryRaw<{ inserted: boolean }[]>`
      INSERT INTO activation (application_id, activated_on, first_spend_on, updated_at)
      SELECT a.id, r.activated_on::date, r.first_spend_on::date, now()
      FROM unnest(${rows.map((r) => r.applicationExternalId)}::text[], ${rows.map((r) => r.activatedOn)}::text[],
                  ${rows.map((r) => r.firstSpendOn ?? null)}::text[]) AS r(external_id, activated_on, first_spend_on)
      JOIN application a ON a.external_id = r.external_id
      ON CONFLICT (application_id) DO UPDATE SET
        activated_on = EXCLUDED.activated_on, first_spend_on = EXCLUDED.first_spend_on, updated_at = now()
      WHERE (activation.activated_on, activation.first_spend_on) IS DISTINCT FROM (EXCLUDED.activated_on, EXCLUDED.first_spend_on)
      RETURNING (xmax = 0) AS inserted`;
    await delta.add(+1, appIds, [], [Metric.ACTIVATIONS]);
    await delta.apply();
    return { ...countWrites(rows.length, returned), rejected };
  });
}
