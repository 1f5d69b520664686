/**
 * The one place that reads the environment. Everything else receives a validated `Config`.
 */
import { isIP } from "node:net";
import path from "node:path";
import { IANAZone } from "luxon";
import { z } from "zod";
import { PREPARE_AFTER_DEFAULT } from "./db/prepared.js";

/** WEBHOOK_MAX_ATTEMPTS's ceiling: a delivery's attempt log is a list a document's cost counts (notify.type.ts). */
export const MAX_WEBHOOK_ATTEMPTS = 20;

/** `VAR=` in a shell or an env file means "not set". */
const emptyAsUnset = (v: unknown) => (v === "" ? undefined : v);

/** The names Express (proxy-addr) gives to address ranges, usable in TRUSTED_PROXIES. */
const PROXY_RANGE_NAMES = ["loopback", "linklocal", "uniquelocal"];

/** An IP address, a CIDR range ("10.0.0.0/8") or one of PROXY_RANGE_NAMES. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address, prefix, extra] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default("0.0.0.0"),
  /** PostgreSQL URL. Unset: the embedded PostgreSQL (PGlite) in DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** Folder of the embedded database. */
  DATA_DIR: z.string().default(".data/pglite"),
  /** With DATABASE_URL, apply pending migrations at start (off by default: production practice). */
  MIGRATE_ON_START: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  /** The bank's time zone: business dates and "today" are taken in it. */
  BANK_TIME_ZONE: z
    .string()
    .default("Asia/Shanghai")
    .refine((zone) => IANAZone.isValidZone(zone), "must be an IANA time zone such as Asia/Shanghai"),
  /** Largest number of rows one write mutation accepts; bigger loads go through the import. */
  MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5_000),
  /**
   * How far a redemption's `at` may be from the server's clock, in seconds. The rules (schedule,
   * per-day limits) are judged at `at`, so a client must not choose it freely; back-fills and
   * tests widen it.
   */
  REDEMPTION_MAX_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).default(300),
  /**
   * PostgreSQL streaming replicas that may answer reads, comma-separated URLs (src/db/replicas.ts).
   * A query operation goes to one only while its replay lag is within REPLICA_MAX_LAG_MS and it
   * has replayed the caller's own last write; mutations, imports, redemptions and live
   * re-runs always use DATABASE_URL (required with it). Unset: every read on the primary.
   */
  DATABASE_REPLICA_URLS: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .optional()
      .transform((v) => (v ?? "").split(",").map((e) => e.trim()).filter((e) => e !== ""))
      .refine((list) => list.every((u) => /^postgres(ql)?:\/\/./.test(u) && URL.canParse(u)), "each entry must be a postgres:// URL"),
  ),
  /**
   * The most a replica may lag behind the primary and still answer reads, in milliseconds
   * (measured every REPLICA_CHECK_INTERVAL_MS by comparing WAL positions with the primary's).
   */
  REPLICA_MAX_LAG_MS: z.coerce.number().int().min(0).max(3_600_000).default(2_000),
  REPLICA_CHECK_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  /** Pool size for PostgreSQL. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * A statement text sent this many times becomes a named prepared statement on PostgreSQL
   * (src/db/prepared.ts); 0 sends every statement unnamed, for a pooler that cannot keep names.
   */
  DATABASE_PREPARE_AFTER: z.coerce.number().int().min(0).max(1_000).default(PREPARE_AFTER_DEFAULT),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** HS256 key that signs bearer tokens (at least 32 characters). Outside production it defaults to a fixed development key. */
  JWT_SECRET: z.preprocess(emptyAsUnset, z.string().min(32, "must be at least 32 characters").optional()),
  /** Or: a JWKS URL whose keys sign the tokens (RS256/ES256/EdDSA), e.g. the bank's identity provider. */
  JWKS_URL: z.preprocess(emptyAsUnset, z.string().url().optional()),
  /**
   * The longest life a token may claim, in hours: a token whose `exp` lies further ahead (or
   * whose `exp` − `iat` is longer) is refused, so a leaked token cannot be used for years.
   */
  JWT_MAX_TTL_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  /**
   * The bank's OpenID Connect provider, whose users sign in to the dashboard (authorization code
   * with PKCE, in the page): its issuer URL (discovery at `/.well-known/openid-configuration`).
   * Its access tokens are verified like any other, by the keys of JWKS_URL (required with it) and
   * JWT_ISSUER / JWT_AUDIENCE; they must carry the `role` and `unit` claims. Unset: the page
   * offers the demo callers in development and says sign-in is not configured in production.
   */
  OIDC_ISSUER: z.preprocess(emptyAsUnset, z.string().url().optional()),
  /** The dashboard's client id at that provider: a public client (no secret: the page holds none), redirect URI `<this server>/`. */
  OIDC_CLIENT_ID: z.preprocess(emptyAsUnset, z.string().min(1).max(200).optional()),
  /** The scopes the page asks for. */
  OIDC_SCOPE: z.string().min(1).max(500).default("openid"),
  /** When set, tokens must carry this `iss` … */
  JWT_ISSUER: z.string().min(1).optional(),
  /** … and this `aud` (the page asks the OpenID Connect provider for it as the `resource`, RFC 8707). */
  JWT_AUDIENCE: z.string().min(1).optional(),
  /** Redis shared by several API instances, for rate limits and live changes; unset: both are kept in this process. */
  REDIS_URL: z.string().url().optional(),
  /** Redis pub/sub channel on which API instances and the import share live changes (src/live/feed.ts). */
  LIVE_REDIS_CHANNEL: z.string().min(1).max(200).default("cardgrowth:live"),
  /**
   * Live subscriptions (src/live/subscriptions.ts): at most one event per subscription per
   * LIVE_COALESCE_MS, always carrying the latest state; open subscriptions per caller (role and
   * subject) on one instance; the WebSocket keep-alive ping interval.
   */
  LIVE_COALESCE_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
  LIVE_MAX_SUBSCRIPTIONS_PER_CALLER: z.coerce.number().int().min(1).max(10_000).default(20),
  LIVE_KEEPALIVE_MS: z.coerce.number().int().min(1_000).max(600_000).default(12_000),
  /**
   * Group webhooks (src/modules/notify): milestones are looked for at most once per
   * NOTIFY_COALESCE_MS after the writes that may move them (a burst of writes is judged once).
   */
  NOTIFY_COALESCE_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
  /**
   * Whether this instance sends group notifications (milestones, the daily report, the outbox's
   * deliveries). `off` for an instance that should not (one kept for imports, say); the others
   * still send every notification once.
   */
  NOTIFICATIONS: z.enum(["on", "off"]).default("on"),
  /**
   * When the daily report goes to the groups that take it: a local time "HH:MM" in
   * BANK_TIME_ZONE, or "off". Sent once per group per day, whatever the number of instances.
   */
  DAILY_REPORT_TIME: z
    .string()
    .default("18:00")
    .refine((v) => v === "off" || /^([01]\d|2[0-3]):[0-5]\d$/.test(v), 'must be a local time "HH:MM" (24 h) or "off"'),
  /**
   * Deliveries: each POST's timeout; how often the worker looks for due deliveries; the first
   * retry's delay, doubled at each failure up to WEBHOOK_BACKOFF_MAX_MS; the attempts after
   * which a delivery is given up (FAILED).
   */
  /**
   * Whether group webhooks may point at loopback, private or link-local addresses (checked when
   * a URL is registered and again, after resolving its host, before each POST). Default: `deny`
   * in production, `allow` elsewhere (the README's example and the tests use 127.0.0.1).
   */
  WEBHOOK_PRIVATE_ADDRESSES: z.enum(["allow", "deny"]).optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(10_000),
  WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(1).max(86_400_000).default(3_600_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(MAX_WEBHOOK_ATTEMPTS).default(8),
  /**
   * The card app's nearby query (promotionsNear) may be answered from an in-process cache for
   * this many seconds (0: off). Only public answers (anonymous, no cardToken) are cached, keyed
   * by the place rounded to NEARBY_CACHE_DECIMALS decimal degrees (5 ≈ 1 m), the radius, the page
   * and the local minute. Never longer than the answer's declared max-age (30 s): see
   * nearby.service.ts.
   */
  NEARBY_CACHE_SECONDS: z.coerce.number().int().min(0).max(30).default(0),
  NEARBY_CACHE_DECIMALS: z.coerce.number().int().min(3).max(7).default(5),
  /** Most answers the nearby cache holds; the least recently used go first. */
  NEARBY_CACHE_ENTRIES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /**
   * The response cache (src/graphql/response-cache.ts): most query answers kept (0: off, the
   * default), the memory they may take in MB (their JSON size), and the longest an entry is
   * kept, a safety net for a change lost on the way (a publisher cut off from Redis). An entry
   * is served only while no committed write has been heard since it was made. With
   * DATABASE_URL it needs REDIS_URL: other instances and the import write to the same database.
   */
  RESPONSE_CACHE_ENTRIES: z.coerce.number().int().min(0).max(10_000_000).default(0),
  RESPONSE_CACHE_MB: z.coerce.number().int().min(1).max(65_536).default(64),
  RESPONSE_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Requests per minute per signed-in subject. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Requests per minute per client address for anonymous callers (the mobile app). */
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /**
   * Document limits (src/graphql/limits.ts): field depth as a client sees it (fragments
   * flattened, a connection's `edges { node }` one level), aliases, directives, lexical tokens
   * (counted while parsing), and cost, the rows a document can read (an object 1, a scalar 0,
   * a list or connection × its rows): signed-in callers' budget, then anonymous callers'.
   */
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).max(100).default(7),
  MAX_QUERY_ALIASES: z.coerce.number().int().min(0).max(1_000).default(15),
  MAX_QUERY_DIRECTIVES: z.coerce.number().int().min(0).max(1_000).default(50),
  MAX_QUERY_TOKENS: z.coerce.number().int().min(10).max(1_000_000).default(1_000),
  MAX_QUERY_COST: z.coerce.number().int().min(1).max(100_000_000).default(10_000),
  MAX_QUERY_COST_ANONYMOUS: z.coerce.number().int().min(1).max(100_000_000).default(1_000),
  /** Largest request body in bytes; a full MAX_BATCH_SIZE write batch must fit. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(50_000_000).default(2_000_000),
  /**
   * Largest body of an anonymous request or of one that names a trusted document: the mobile
   * app sends a few variables, never a batch, so the public internet gets no room for more.
   */
  ANONYMOUS_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(50_000_000).default(16_384),
  /** Deepest nesting of arrays and objects in a JSON body; checked on the raw bytes before parsing. */
  MAX_JSON_DEPTH: z.coerce.number().int().min(2).max(1_000).default(64),
  /**
   * The proxies (load balancers) whose X-Forwarded-For is believed, comma-separated: IP
   * addresses, CIDR ranges, or loopback / linklocal / uniquelocal. Unset: none, the client
   * address is the connection's (anyone could otherwise pick the address rate limits key on).
   */
  TRUSTED_PROXIES: z.preprocess(
    emptyAsUnset,
    z
      .string()
      .optional()
      .transform((v) => (v ?? "").split(",").map((e) => e.trim()).filter((e) => e !== ""))
      .refine((list) => list.every(isProxyAddress), `each entry must be an IP address, a CIDR range or one of ${PROXY_RANGE_NAMES.join(", ")}`),
  ),
  /**
   * Port of the Prometheus metrics (`GET /metrics`), a listener of its own so that the public
   * port never serves them: open it to the monitoring network only. Unset: no metrics
   * listener; 0: any free port (tests). On METRICS_HOST (default: HOST).
   */
  METRICS_PORT: z.preprocess(emptyAsUnset, z.coerce.number().int().min(0).max(65535).optional()),
  METRICS_HOST: z.preprocess(emptyAsUnset, z.string().optional()),
  /**
   * The import and `rollups:verify` are processes of their own that end: with this folder set,
   * each writes its counts as Prometheus text there when it ends (`cardgrowth_import.prom`,
   * `cardgrowth_rollups.prom`), for node_exporter's textfile collector. Unset: none written.
   */
  METRICS_TEXTFILE_DIR: z.preprocess(emptyAsUnset, z.string().optional()),
  /** OTLP/HTTP endpoint of a trace collector (e.g. http://otel-collector:4318); unset: no tracing at all. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUnset, z.string().url().optional()),
  /** The service name traces carry. */
  OTEL_SERVICE_NAME: z.string().min(1).default("card-growth"),
  /** How long each /readyz check (database, migrations, Redis) may take before it counts as failed. */
  READINESS_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
  /**
   * The longest a SIGTERM/SIGINT shutdown may take (readiness failed, in-flight requests
   * finished, subscriptions closed, connections closed); past it the process exits with 1.
   * Keep it under the orchestrator's grace period (Kubernetes: 30 s).
   */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(25_000),
  /**
   * Who must send a trusted document (an allow-listed operation, by hash) instead of free text:
   * nobody, anonymous callers (the mobile app), or everyone. Default: `anonymous` in
   * production, `off` elsewhere.
   */
  TRUSTED_DOCUMENTS: z.enum(["off", "anonymous", "all"]).optional(),
  /**
   * The GraphQL IDE a browser gets at /graphql (src/http/ide.ts), served from this server.
   * Default: `on` outside production, `off` in production.
   */
  GRAPHQL_IDE: z.enum(["on", "off"]).optional(),
});

/** Signs and verifies tokens outside production when no key is configured; never accepted in production. */
export const DEV_JWT_SECRET = "development-only-key-never-use-in-production";

export type Config = Readonly<
  Omit<z.infer<typeof schema>, "TRUSTED_DOCUMENTS" | "GRAPHQL_IDE" | "WEBHOOK_PRIVATE_ADDRESSES"> & {
    readonly dataDir: string;
    readonly TRUSTED_DOCUMENTS: "off" | "anonymous" | "all";
    readonly GRAPHQL_IDE: "on" | "off";
    readonly WEBHOOK_PRIVATE_ADDRESSES: "allow" | "deny";
    /** True when tokens are checked with DEV_JWT_SECRET (nothing configured, not production). In production without a key, JWT_SECRET stays unset. */
    readonly devTokens: boolean;
  }
>;

/** Parses and validates the environment once; throws with every bad variable named. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  if (c.JWT_SECRET && c.JWKS_URL) throw new Error("Invalid configuration:\n  JWT_SECRET, JWKS_URL: set one of them, not both");
  const production = c.NODE_ENV === "production";
  if (c.OIDC_ISSUER) {
    // The page's tokens come from that provider: they can only be verified by its keys.
    const missing = [c.OIDC_CLIENT_ID ? null : "OIDC_CLIENT_ID", c.JWKS_URL ? null : "JWKS_URL"].filter((v) => v !== null);
    if (missing.length) throw new Error(`Invalid configuration:\n  ${missing.join(", ")}: required with OIDC_ISSUER`);
    if (production && new URL(c.OIDC_ISSUER).protocol !== "https:") throw new Error("Invalid configuration:\n  OIDC_ISSUER: must be https in production");
  }
  // The embedded database is one process's folder: nothing can stream from it.
  if (c.DATABASE_REPLICA_URLS.length > 0 && !c.DATABASE_URL) throw new Error("Invalid configuration:\n  DATABASE_REPLICA_URLS: requires DATABASE_URL (the embedded database has no replicas)");
  if (c.DATABASE_REPLICA_URLS.length > 0 && c.REPLICA_CHECK_INTERVAL_MS >= c.REPLICA_MAX_LAG_MS) {
    // A measure ages by the interval before the next: the bound could never be met.
    throw new Error("Invalid configuration:\n  REPLICA_CHECK_INTERVAL_MS: must be below REPLICA_MAX_LAG_MS");
  }
  if (c.RESPONSE_CACHE_ENTRIES > 0 && c.DATABASE_URL && !c.REDIS_URL) {
    // Without Redis this instance never hears the writes of other instances or of the import
    // command, so its cached answers could outlive them. The embedded database is one
    // process's (embedded-lock.ts): every write passes through it.
    throw new Error("Invalid configuration:\n  RESPONSE_CACHE_ENTRIES: needs REDIS_URL with DATABASE_URL, or this instance would not hear other processes' writes");
  }
  // In production a missing key is refused when the server starts (createAuthenticator), not
  // here: the command-line tools (migrations, imports, rollups) verify no tokens.
  const devTokens = !production && !c.JWT_SECRET && !c.JWKS_URL;
  return Object.freeze({
    ...c,
    JWT_SECRET: devTokens ? DEV_JWT_SECRET : c.JWT_SECRET,
    TRUSTED_DOCUMENTS: c.TRUSTED_DOCUMENTS ?? (production ? "anonymous" : "off"),
    GRAPHQL_IDE: c.GRAPHQL_IDE ?? (production ? "off" : "on"),
    WEBHOOK_PRIVATE_ADDRESSES: c.WEBHOOK_PRIVATE_ADDRESSES ?? (production ? "deny" : "allow"),
    devTokens,
    dataDir: path.resolve(c.DATA_DIR),
  });
}
