/**
 * The rules of a group webhook's address and of its deliveries' retries. Pure.
 */
import { BlockList, isIP } from "node:net";

/**
 * Whether group webhooks may reach private addresses: `deny` (production's default) keeps a
 * manager who registers a URL from making the server POST into the bank's own network
 * (loopback, private ranges, link-local, cloud metadata); `allow` where the bots' gateway itself
 * sits on a private address, behind an egress firewall.
 */
export type PrivateAddresses = "allow" | "deny";

const PRIVATE = new BlockList();
for (const [net, prefix] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 4], ["240.0.0.0", 4]] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8]] as const) PRIVATE.addSubnet(net, prefix, "ipv6");

/**
 * True for an address no group bot on the internet has: unspecified, loopback, private,
 * carrier-grade NAT, link-local (cloud metadata), benchmark, multicast and reserved ranges, IPv6
 * unique-local and link-local; an IPv4-mapped IPv6 address is judged as its IPv4 address.
 */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const version = isIP(address);
  if (version === 0) return false;
  return PRIVATE.check(address, version === 4 ? "ipv4" : "ipv6");
}

/** A URL's host as an IP address when it is one (IPv6 without its brackets), else null. */
function literalAddress(hostname: string): string | null {
  const bare = hostname.replace(/^\[(.*)\]$/, "$1");
  return isIP(bare) ? bare : null;
}

/** Longest URL accepted: group bot URLs are short; this keeps a stored row small. */
export const MAX_WEBHOOK_URL_LENGTH = 2_000;

/**
 * Why a webhook URL is refused, or null when it is fine: http or https only, a host, no user
 * or password in it (they would be stored and shown as they are: a secret belongs in the query
 * the bot's vendor gives, or in the signature).
 */
export function webhookUrlProblem(raw: string, privateAddresses: PrivateAddresses = "deny"): string | null {
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
  if (privateAddresses === "deny") {
    const literal = literalAddress(url.hostname);
    if ((literal && isPrivateAddress(literal)) || url.hostname === "localhost" || url.hostname.endsWith(".localhost")) {
      return "must not point at a loopback or private address (WEBHOOK_PRIVATE_ADDRESSES=deny)";
    }
  }
  return null;
}

/**
 * The URL as the API shows it: a group bot's key rides in the query (WeCom's `?key=…`) or, when
 * there is no query, in the path's last segment (Feishu's `/hook/<token>`, Slack's), so query
 * values, or else the last path segment, are masked; the host and the rest say which bot it is.
 */
export function maskedUrl(raw: string): string {
  const url = new URL(raw);
  const params = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`);
  const segments = url.pathname.split("/");
  if (params.length === 0 && segments.length > 2 && segments.at(-1) !== "") segments[segments.length - 1] = "***";
  return `${url.origin}${segments.join("/")}${params.length ? `?${params.join("&")}` : ""}`;
}

/**
 * How long to wait before attempt `attempt + 1` after `attempt` failures (1-based): the base
 * delay doubled at each failure, never more than `maxMs`.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
