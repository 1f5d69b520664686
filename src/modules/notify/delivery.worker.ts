/**
 * The outbox's worker: claims due deliveries (`FOR UPDATE SKIP LOCKED`, so instances never
 * claim the same row), POSTs each signed to its group, and records every attempt's outcome.
 *
 * A claim counts the attempt and pushes `next_attempt_at` past the attempt's timeout (a lease):
 * a worker that dies mid-attempt leaves the row due again later, never lost. Signatures follow
 * Standard Webhooks (webhook-id = the event id, stable across retries; webhook-timestamp;
 * webhook-signature = v1,base64(HMAC-SHA256(secret, "id.timestamp.body"))) through the
 * `standardwebhooks` package.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Webhook } from "standardwebhooks";
import type { Config } from "../../config.js";
import type { Db } from "../../db/database.js";
import { inTransaction } from "../../db/transaction.js";
import { backoffMs, isPrivateAddress } from "../../domain/webhook.js";
import { DeliveryStatus } from "./notify.enums.js";

/** Deliveries claimed at once by one worker. */
const CLAIM_BATCH = 20;
/** How long past its timeout a claimed attempt keeps its row from other workers. */
const LEASE_MARGIN_MS = 5_000;
/** The most of a receiver's error text (or a network error) kept per attempt. */
const MAX_ERROR_TEXT = 300;
/** The most of an answer's body read: enough for a bot's JSON verdict, never a flood. */
const MAX_BODY_READ = 4_096;

type WorkerConfig = Pick<Config, "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_BACKOFF_MS" | "WEBHOOK_BACKOFF_MAX_MS" | "WEBHOOK_MAX_ATTEMPTS" | "WEBHOOK_PRIVATE_ADDRESSES">;

interface Claimed {
  id: bigint;
  event_id: string;
  webhook_id: number;
  payload: unknown;
  attempts: number;
}

/** Claims the deliveries due now and sends them; returns how many were attempted. */
export async function deliverDue(db: Db, config: WorkerConfig): Promise<number> {
  const now = new Date();
  const lease = new Date(now.getTime() + config.WEBHOOK_TIMEOUT_MS + LEASE_MARGIN_MS);
  const claimed = await db.$queryRaw<Claimed[]>`
    UPDATE webhook_delivery d
       SET attempts = d.attempts + 1, next_attempt_at = ${lease}
      FROM (SELECT id FROM webhook_delivery
             WHERE status = 'PENDING' AND next_attempt_at <= ${now}
             ORDER BY next_attempt_at, id
             LIMIT ${CLAIM_BATCH}
             FOR UPDATE SKIP LOCKED) due
     WHERE d.id = due.id
    RETURNING d.id, d.event_id, d.webhook_id, d.payload, d.attempts`;
  if (claimed.length === 0) return 0;
  const hooks = await db.groupWebhook.findMany({ where: { id: { in: [...new Set(claimed.map((c) => c.webhook_id))] } }, select: { id: true, url: true, secret: true } });
  const hookById = new Map(hooks.map((h) => [h.id, h]));
  await Promise.all(
    claimed.map(async (c) => {
      const hook = hookById.get(c.webhook_id);
      if (!hook) return; // removed meanwhile: its deliveries went with it
      const refused = config.WEBHOOK_PRIVATE_ADDRESSES === "deny" ? await privateTarget(hook.url) : null;
      const outcome = refused ?? (await post(hook.url, hook.secret, c.event_id, JSON.stringify(c.payload), config.WEBHOOK_TIMEOUT_MS));
      await record(db, c, outcome, config);
    }),
  );
  return claimed.length;
}

interface Outcome {
  at: Date;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * A refused attempt when the URL's host resolves to a private address (a name registered as
 * public that points inside, or was made to since); null when it may be sent. The name is
 * resolved again by fetch, so a resolver that answers differently within the same second can
 * still slip through: an egress firewall is the complete answer (docs/deployment.md).
 */
async function privateTarget(url: string): Promise<Outcome | null> {
  const at = new Date();
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  const addresses = isIP(host) ? [host] : await lookup(host, { all: true }).then((a) => a.map((x) => x.address), () => []);
  if (!addresses.some(isPrivateAddress)) return null;
  return { at, ok: false, statusCode: null, error: "refused: the host resolves to a loopback or private address (WEBHOOK_PRIVATE_ADDRESSES=deny)", durationMs: 0 };
}

async function post(url: string, secret: string, eventId: string, body: string, timeoutMs: number): Promise<Outcome> {
  const at = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": eventId,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(secret).sign(eventId, at, body),
      },
      body,
      // A redirect would resend the signed body somewhere nobody registered.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await readCapped(res, MAX_BODY_READ);
    const ok = res.status >= 200 && res.status < 300;
    // The receiver's own words are kept only for a refusal the bot's API states in JSON: a
    // manager chooses the URL, so an error page's text (of an internal address, say) is not
    // for the API to show back.
    const refusal = ok ? botRefusal(text) : null;
    return { at, ok: ok && refusal === null, statusCode: res.status, error: ok ? refusal : `HTTP ${res.status}`, durationMs: elapsed() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { at, ok: false, statusCode: null, error: String(reason).slice(0, MAX_ERROR_TEXT), durationMs: elapsed() };
  }
}

/** The attempt's row and the delivery's new state, together. */
async function record(db: Db, c: Claimed, o: Outcome, config: WorkerConfig): Promise<void> {
  const givenUp = !o.ok && c.attempts >= config.WEBHOOK_MAX_ATTEMPTS;
  const status = o.ok ? DeliveryStatus.DELIVERED : givenUp ? DeliveryStatus.FAILED : DeliveryStatus.PENDING;
  const retryAt = new Date(Date.now() + backoffMs(c.attempts, config.WEBHOOK_BACKOFF_MS, config.WEBHOOK_BACKOFF_MAX_MS));
  await inTransaction(db, {}, async (tx) => {
    await tx.deliveryAttempt.create({ data: { deliveryId: c.id, at: o.at, statusCode: o.statusCode, error: o.error, durationMs: o.durationMs } });
    await tx.webhookDelivery.update({
      where: { id: c.id },
      data: { status, ...(o.ok ? { deliveredAt: new Date() } : {}), ...(status === DeliveryStatus.PENDING ? { nextAttemptAt: retryAt } : {}) },
    });
  });
}

/** The first `max` bytes of an answer's body as text; the rest is not read (the stream is cancelled). */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max).toString("utf8");
}

/**
 * Group bots (WeCom, DingTalk) answer 200 with `{"errcode": n, "errmsg": …}` and refuse with a
 * non-zero errcode (a wrong key, a message too long): such an answer is a failure, in its words.
 */
export function botRefusal(body: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const { errcode, errmsg } = (parsed ?? {}) as { errcode?: unknown; errmsg?: unknown };
  if (typeof errcode !== "number" || errcode === 0) return null;
  return `errcode ${errcode}${typeof errmsg === "string" ? `: ${errmsg.slice(0, MAX_ERROR_TEXT)}` : ""}`;
}
