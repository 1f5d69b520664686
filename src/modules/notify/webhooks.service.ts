/**
 * Group webhooks: registered, changed and removed for a unit (every write audited, through
 * inTransaction), listed with their recent deliveries. The signing secret is made here, handed
 * back once by `registerWebhook`, and never read out again (the worker reads it to sign).
 *
 * A registration also records what the group would see now (milestones.service.ts
 * `recordBaseline`), so a unit already past 100 % is not announced as news the next time a
 * write touches it.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../../db/database.js";
import { inTransaction, type AuditOptions } from "../../db/transaction.js";
import type { BusinessDate } from "../../domain/dates.js";
import { webhookUrlProblem, type PrivateAddresses } from "../../domain/webhook.js";
import { BadInputError, IssueCollector, NotFoundError } from "../../errors.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { CodeIds } from "../common/lookup.js";
import { keysetPage, pageByCode, type Page } from "../common/relay.js";
import { checkCode, checkName } from "../common/validate.js";
import { recordBaseline } from "./milestones.service.js";
import { Metric, MilestoneKind, ReportPeriod, type DeliveryStatus } from "./notify.enums.js";
import type { RegisterWebhookInput, UpdateWebhookInput } from "./notify.input.js";
import { GroupWebhook, WebhookDelivery, WebhookRegistration } from "./notify.type.js";

const DEFAULT_MARGIN = 0.05;

type Settings = { [K in "name" | "url" | "milestones" | "metrics" | "behindMargin"]?: RegisterWebhookInput[K] | null };

/** Every bad setting named; `name`/`url` are checked only when given (an update leaves them out). */
function checkSettings(issues: IssueCollector, s: Settings, privateAddresses: PrivateAddresses): void {
  if (s.name != null) checkName(issues, undefined, "name", s.name);
  if (s.url != null) {
    const problem = webhookUrlProblem(s.url, privateAddresses);
    if (problem) issues.add(undefined, "url", problem);
  }
  if (s.milestones != null && new Set(s.milestones).size !== s.milestones.length) issues.add(undefined, "milestones", "names a kind twice");
  if (s.metrics != null) {
    if (s.metrics.length === 0) issues.add(undefined, "metrics", "must name at least one metric");
    else if (new Set(s.metrics).size !== s.metrics.length) issues.add(undefined, "metrics", "names a metric twice");
  }
  if (s.behindMargin != null && !(s.behindMargin >= 0 && s.behindMargin <= 1)) issues.add(undefined, "behindMargin", "must be between 0 and 1 (0.05: five points)");
}

/** A Standard Webhooks secret: "whsec_" and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

type Row = Prisma.GroupWebhookGetPayload<object>;

function toWebhook(row: Row): GroupWebhook {
  return Object.assign(new GroupWebhook(), {
    dbId: row.id,
    branchId: row.branchId,
    code: row.code,
    name: row.name,
    rawUrl: row.url,
    milestones: row.milestones as MilestoneKind[],
    metrics: row.metrics as Metric[],
    periodKind: row.periodKind as ReportPeriod,
    behindMargin: row.behindMargin,
    dailyReport: row.dailyReport,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  });
}

export async function findWebhook(db: Db, code: string): Promise<GroupWebhook | null> {
  const row = await db.groupWebhook.findUnique({ where: { code } });
  return row ? toWebhook(row) : null;
}

/** Registers a webhook; the answer carries its signing secret, shown this once. */
export async function registerWebhook(
  db: Db,
  input: RegisterWebhookInput,
  today: BusinessDate,
  options: AuditOptions = {},
  privateAddresses: PrivateAddresses = "deny",
): Promise<WebhookRegistration> {
  const secret = newSecret();
  const row = await inTransaction(db, options, async (tx) => {
    const issues = new IssueCollector();
    checkCode(issues, undefined, "code", input.code);
    checkSettings(issues, input, privateAddresses);
    const branchId = (await CodeIds.load(tx, "branch", [input.branchCode])).check(issues, undefined, "branchCode", input.branchCode);
    if (await tx.groupWebhook.findUnique({ where: { code: input.code }, select: { id: true } })) {
      issues.add(undefined, "code", `a webhook "${input.code}" already exists; change it with updateWebhook`);
    }
    issues.throwIfAny();
    const created = await tx.groupWebhook.create({
      data: {
        code: input.code,
        branchId: branchId!,
        name: input.name,
        url: input.url,
        secret,
        milestones: input.milestones ?? Object.values(MilestoneKind),
        metrics: input.metrics ?? [Metric.NEW_CUSTOMERS],
        periodKind: input.periodKind ?? ReportPeriod.QUARTER,
        behindMargin: input.behindMargin ?? DEFAULT_MARGIN,
        dailyReport: input.dailyReport ?? true,
      },
    });
    await recordBaseline(tx, created.id, today);
    return created;
  });
  return { webhook: toWebhook(row), secret };
}

export async function updateWebhook(
  db: Db,
  input: UpdateWebhookInput,
  today: BusinessDate,
  options: AuditOptions = {},
  privateAddresses: PrivateAddresses = "deny",
): Promise<GroupWebhook> {
  const row = await inTransaction(db, options, async (tx) => {
    const issues = new IssueCollector();
    checkSettings(issues, input, privateAddresses);
    const found = await tx.groupWebhook.findUnique({ where: { code: input.code } });
    if (!found) throw new NotFoundError("webhook", input.code, "code");
    issues.throwIfAny();
    const updated = await tx.groupWebhook.update({
      where: { id: found.id },
      data: {
        ...(input.name != null ? { name: input.name } : {}),
        ...(input.url != null ? { url: input.url } : {}),
        ...(input.milestones != null ? { milestones: input.milestones } : {}),
        ...(input.metrics != null ? { metrics: input.metrics } : {}),
        ...(input.periodKind != null ? { periodKind: input.periodKind } : {}),
        ...(input.behindMargin != null ? { behindMargin: input.behindMargin } : {}),
        ...(input.dailyReport != null ? { dailyReport: input.dailyReport } : {}),
      },
    });
    // New metrics or another period start from what they show now, not from nothing.
    await recordBaseline(tx, updated.id, today);
    return updated;
  });
  return toWebhook(row);
}

/** Removes a webhook with its pending deliveries and their history (the audit trail keeps who removed it). */
export async function removeWebhook(db: Db, code: string, options: AuditOptions = {}): Promise<GroupWebhook> {
  const row = await inTransaction(db, options, async (tx) => {
    const found = await tx.groupWebhook.findUnique({ where: { code } });
    if (!found) throw new NotFoundError("webhook", code, "code");
    await tx.groupWebhook.delete({ where: { id: found.id } });
    return found;
  });
  return toWebhook(row);
}

export function listWebhooks(db: Db, branchId: number, first: number, after: string | null | undefined): Promise<Page<GroupWebhook>> {
  return pageByCode(db.groupWebhook, { branchId }, first, after, toWebhook);
}

/** A webhook's deliveries, newest first, each with its attempts. */
export function listDeliveries(db: Db, webhookId: number, status: DeliveryStatus | null, first: number, after: string | null | undefined): Promise<Page<WebhookDelivery>> {
  const where: Prisma.WebhookDeliveryWhereInput = { webhookId, ...(status ? { status } : {}) };
  return keysetPage({
    first,
    after,
    position: (key) => {
      if (!/^\d+$/.test(key)) throw BadInputError.single("after", "not a cursor this API issued");
      return BigInt(key);
    },
    rows: (afterId, take) =>
      db.webhookDelivery.findMany({
        where: afterId === null ? where : { ...where, id: { lt: afterId } },
        orderBy: { id: "desc" },
        take,
        include: { attemptLog: { orderBy: { id: "asc" } } },
      }),
    count: () => db.webhookDelivery.count({ where }),
    node: (r) =>
      Object.assign(new WebhookDelivery(), {
        dbId: r.id,
        eventId: r.eventId,
        kind: r.kind,
        status: r.status,
        attempts: r.attempts,
        createdAt: r.createdAt,
        deliveredAt: r.deliveredAt,
        nextAttemptAt: r.status === "PENDING" ? r.nextAttemptAt : null,
        content: (r.payload as { markdown?: { content?: string } }).markdown?.content ?? "",
        attemptLog: r.attemptLog.map((a) => ({ at: a.at, statusCode: a.statusCode, error: a.error, durationMs: a.durationMs })),
      }),
    key: (n) => String(n.dbId),
  });
}
