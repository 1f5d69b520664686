/**
 * The rules of a group webhook's address and of its deliveries' retries. Pure.
 */

/** Longest URL accepted: group bot URLs are short; this keeps a stored row small. */
export const MAX_WEBHOOK_URL_LENGTH = 2_000;

/**
 * Why a webhook URL is refused, or null when it is fine: http or https only, a host, no user
 * or password in it (they would be stored and shown as they are: a secret belongs in the query
 * the bot's vendor gives, or in the signature).
 */
export function webhookUrlProblem(raw: string): string | null {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not an absolute URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `must be http or https, not ${url.protocol.replace(/:$/, "")}`;
  if (url.username !== "" || url.password !== "") return "must not hold a user name or password";
  if (url.hostname === "") return "must name a host";
  if (url.hash !== "") return "must not have a #fragment (it is never sent)";
  return null;
}

/**
 * The URL as the API shows it: a group bot's key usually rides in the query
 * (`?key=…`), so query values are masked; the host and path say which bot it is.
 */
export function maskedUrl(raw: string): string {
  const url = new URL(raw);
  const params = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`);
  return `${url.origin}${url.pathname}${params.length ? `?${params.join("&")}` : ""}`;
}

/**
 * How long to wait before attempt `attempt + 1` after `attempt` failures (1-based): the base
 * delay doubled at each failure, never more than `maxMs`.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
