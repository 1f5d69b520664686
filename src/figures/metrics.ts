/**
 * The one definition of every metric (shared/domain.md): for a record, which day it counts on
 * and whom it is credited to. Everything else (the rebuild, the verify, a write's delta) asks
 * this file for a record's contributions, so that a metric cannot mean two things.
 */
import { Prisma } from "../generated/prisma/client.js";

/**
 * A record as the metrics see it, as SQL over some FROM list. The credit columns say whom it
 * counts for: the application's unit (and so every unit above it), its account manager, the
 * campaign and the merchant it names. The day columns say when each metric counts it; a part
 * left out counts nothing (a write that moves only activations names only `activatedOn`).
 */
export interface RecordShape {
  branchId: Prisma.Sql;
  managerId: Prisma.Sql;
  campaignCode: Prisma.Sql;
  merchantCode: Prisma.Sql;
  /** APPLICATIONS: the day the application was keyed (录入); none while it is not. */
  keyedOn?: Prisma.Sql;
  /** APPROVALS: the decision day of an application whose decision is APPROVED. */
  decision?: Prisma.Sql;
  decidedOn?: Prisma.Sql;
  /** ACTIVATIONS: the day its card was activated. */
  activatedOn?: Prisma.Sql;
  /** NEW_CUSTOMERS: true for a customer's first-ever approved application, counted on its decision day. */
  isFirst?: Prisma.Sql;
}

/** Every metric's day for a record, as the rows (metric, day) of a VALUES list; a null day counts nothing. */
function countedDays(r: RecordShape): Prisma.Sql {
  const days: Prisma.Sql[] = [];
  if (r.keyedOn) days.push(Prisma.sql`('APPLICATIONS'::"Metric", ${r.keyedOn})`);
  if (r.decision && r.decidedOn) days.push(Prisma.sql`('APPROVALS'::"Metric", CASE WHEN ${r.decision} = 'APPROVED' THEN ${r.decidedOn} END)`);
  if (r.activatedOn) days.push(Prisma.sql`('ACTIVATIONS'::"Metric", ${r.activatedOn})`);
  if (r.isFirst && r.decidedOn) days.push(Prisma.sql`('NEW_CUSTOMERS'::"Metric", CASE WHEN ${r.isFirst} THEN ${r.decidedOn} END)`);
  return Prisma.join(days, ", ");
}

/**
 * Rows (branch_id, manager_id, campaign_code, merchant_code, metric, day, delta): `sign` × one
 * for each metric each record of `from` (a FROM list, narrowed by `where`) counts towards.
 */
export function contributions(r: RecordShape, from: Prisma.Sql, where: Prisma.Sql | null, sign: 1 | -1): Prisma.Sql {
  return Prisma.sql`
    SELECT ${r.branchId} AS branch_id, ${r.managerId} AS manager_id, ${r.campaignCode} AS campaign_code,
           ${r.merchantCode} AS merchant_code, m.metric, m.day, ${sign}::int AS delta
    FROM ${from} CROSS JOIN LATERAL (VALUES ${countedDays(r)}) AS m(metric, day)
    WHERE m.day IS NOT NULL AND ${r.branchId} IS NOT NULL ${where ? Prisma.sql`AND (${where})` : Prisma.empty}`;
}

/** The credit columns of an application row aliased `a`. */
export const creditOf = (a: string): Pick<RecordShape, "branchId" | "managerId" | "campaignCode" | "merchantCode"> => ({
  branchId: Prisma.raw(`${a}.branch_id`),
  managerId: Prisma.raw(`${a}.manager_id`),
  campaignCode: Prisma.raw(`${a}.campaign_code`),
  merchantCode: Prisma.raw(`${a}.merchant_code`),
});

/**
 * Whether the application `app` (an id column) is its customer's first-ever approval, the one
 * NEW_CUSTOMERS counts: `customer.first_approved_application_id`, which every application write
 * keeps in the order of {@link firstApprovalsAmong}.
 */
export const isFirstApproval = (app: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`EXISTS (SELECT 1 FROM customer cu WHERE cu.first_approved_application_id = ${app})`;

/** What every record counts towards as the tables stand now: the figures from scratch. */
export const CONTRIBUTIONS_OF_RECORDS = contributions(
  {
    ...creditOf("a"),
    keyedOn: Prisma.sql`a.keyed_on`,
    decision: Prisma.sql`a.decision`,
    decidedOn: Prisma.sql`a.decided_on`,
    activatedOn: Prisma.sql`v.activated_on`,
    isFirst: isFirstApproval(Prisma.sql`a.id`),
  },
  Prisma.sql`application a LEFT JOIN activation v ON v.application_id = a.id`,
  null,
  1,
);

/**
 * The one definition of a customer's first-ever approved application: earliest decision date,
 * then earliest receipt, then application number, so the choice is total and repeatable.
 * Over `apps` (the application table, or rows shaped like it), whose customers are in the
 * column `customer`; `customers` narrows it to some of them, a query of their keys (null: all).
 * Rows (customer, app_id).
 */
export function firstApprovalsAmong(apps: Prisma.Sql, customer: Prisma.Sql, customers: Prisma.Sql | null = null): Prisma.Sql {
  const only = customers ? Prisma.sql`AND a.${customer} IN (${customers})` : Prisma.empty;
  return Prisma.sql`
    SELECT DISTINCT ON (a.${customer}) a.${customer} AS customer, a.id AS app_id
    FROM ${apps} a WHERE a.decision = 'APPROVED' ${only}
    ORDER BY a.${customer}, a.decided_on, a.received_on, a.external_id`;
}
