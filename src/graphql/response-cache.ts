/**
 * The response cache: whole query answers kept in this process and served again, without
 * running a resolver or sending a statement, while nothing they may have read has changed.
 *
 * Never stale, by construction:
 * - Every committed write is announced on the change feed after its commit (db/transaction.ts
 *   `inTransaction`: what it changed, or `other` for rows nobody follows live), and every
 *   instance hears it (src/live/feed.ts: Redis with REDIS_URL; the embedded database belongs to
 *   one process, so there every write passes through it). Each change heard bumps `version`.
 * - An entry is stored with the version taken when its request began, before the caller's
 *   viewer was loaded (`bind`, called by the server's context function) and so before
 *   anything was read, and it is served only while the version is still that one. An answer
 *   computed while a change arrives is not stored: its version is already gone.
 * - So a cached answer is never older than the last committed write plus the event delay: the
 *   time between a commit and this instance hearing it, which is Redis pub/sub's delivery
 *   (bench/live.ts measures commit to a subscriber on another instance, an upper bound: its
 *   times include coalescing and running the subscription's document again). While the feed cannot vouch for hearing every change
 *   (its Redis subscription is down: `ChangeFeed.complete`), nothing is served or stored, and
 *   the gap bumps the version as it opens and as it closes. A change lost by its publisher (cut
 *   off from Redis while the subscribers are not) is the one case the feed cannot bound:
 *   RESPONSE_CACHE_MAX_AGE_SECONDS bounds it.
 * - What a write changes without a change published (the audit trail, webhook deliveries,
 *   milestone states, idempotency keys) is never cached: only documents whose every field is
 *   on the allow-list below are, and the list holds units, managers, their figures and
 *   rankings, all of which only `inTransaction` writes.
 * - Answers that depend on the clock: `asOf` defaults to the request's `today`, which is part
 *   of the key; nothing on the allow-list reads "now".
 *
 * The key is the request as sent (operation name, document text, variables), `today` and the
 * caller's scope: HQ reads everything, so HQ callers share; any other caller's answers are keyed
 * by role, unit and subject (two callers whose answers could differ never share an entry).
 * Answers with errors are not kept. Since the key is made of what the HTTP request carries, most
 * hits are answered by the HTTP layer before Apollo runs (`earlyAnswer`, src/http/early-answers.ts);
 * the plugin serves the rest (a GET, another Accept header).
 */
import { createHash } from "node:crypto";
import type { ApolloServerPlugin, GraphQLRequestContextResponseForOperation } from "@apollo/server";
import { HeaderMap } from "@apollo/server";
import { TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type FormattedExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { LRUCache } from "lru-cache";
import type { ChangeFeed } from "../live/change.js";
import type { Claims } from "../modules/auth/auth.service.js";
import type { Context } from "./context.js";

/**
 * The fields a cached answer may contain, by type. A field not listed (a new one included)
 * makes its document uncached: each listed field reads only what `inTransaction` writes and
 * announces (org, targets, rollups, campaigns' stored state, circles and their merchants, plans'
 * statements: every plan and statement write goes through it) and no clock but the request's
 * `today`. Left out on purpose: webhooks
 * (deliveries and milestone states are written by the notifier, unannounced), promotions
 * (their schedules are judged against the clock), audit, `node` (reaches any type).
 */
const CACHEABLE: Readonly<Record<string, ReadonlySet<string>>> = {
  Query: new Set(["branch", "branches", "accountManager", "branchRanking", "accountManagerRanking", "campaign", "campaigns", "businessCircle", "businessCircles"]),
  Branch: new Set(["id", "code", "name", "level", "parent", "children", "performance", "accountManagers", "incentives"]),
  AccountManager: new Set(["id", "code", "name", "branch", "performance", "incentives"]),
  // What the plans pay, as the dashboard shows it (DashboardUnit's team bonus, DashboardManager's earnings).
  IncentiveStatement: new Set(["planCode", "planVersion", "sequence", "recipientKind", "recipientCode", "asOf", "basis", "status", "total", "lines"]),
  StatementLine: new Set(["ruleIndex", "ruleKind", "metric", "quantity", "rate", "amount", "applications", "applicationsRemoved", "note", "adjustment"]),
  BranchConnection: new Set(["edges", "pageInfo", "totalCount"]),
  BranchEdge: new Set(["cursor", "node"]),
  AccountManagerConnection: new Set(["edges", "pageInfo", "totalCount"]),
  AccountManagerEdge: new Set(["cursor", "node"]),
  PageInfo: new Set(["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]),
  BranchStanding: new Set(["rank", "branch", "actual", "target", "completionRate"]),
  ManagerStanding: new Set(["rank", "manager", "actual", "target", "completionRate"]),
  Performance: new Set(["period", "asOf", "timeProgress", "metrics", "metric", "rank", "series"]),
  MetricProgress: new Set(["metric", "actual", "target", "completionRate"]),
  SeriesPoint: new Set(["start", "end", "actual", "cumulative"]),
  // The dashboard's details: a unit's campaigns and circles with their results (DashboardDetails).
  CampaignConnection: new Set(["edges", "pageInfo", "totalCount"]),
  CampaignEdge: new Set(["cursor", "node"]),
  Campaign: new Set(["id", "code", "name", "startsOn", "endsOn", "budget", "spent", "remaining", "status", "branch", "circleCodes", "merchantCodes", "results"]),
  CampaignResults: new Set([
    "period", "asOf", "timeProgress", "visits", "merchantsVisited", "merchantsSigned", "applications", "approvals",
    "newCustomers", "activations", "redemptions", "redemptionCost", "budget", "spentSoFar", "budgetUsed",
  ]),
  BusinessCircleConnection: new Set(["edges", "pageInfo", "totalCount"]),
  BusinessCircleEdge: new Set(["cursor", "node"]),
  BusinessCircle: new Set(["id", "code", "name", "kind", "results", "branch", "merchantCount"]),
  AttributedResults: new Set([
    "period", "asOf", "timeProgress", "visits", "merchantsVisited", "merchantsSigned", "applications", "approvals",
    "newCustomers", "activations", "redemptions", "redemptionCost",
  ]),
};

/** True when every field the document selects (fragments included) is on the allow-list. */
export function isCacheableDocument(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let cacheable = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        if (node.operation !== "query") cacheable = false;
      },
      Field(node) {
        const name = node.name.value;
        if (name === "__typename") return;
        const parent = typeInfo.getParentType()?.name;
        if (!parent || !CACHEABLE[parent]?.has(name)) {
          cacheable = false;
          return false;
        }
      },
    }),
  );
  return cacheable;
}

export interface ResponseCacheOptions {
  /** Most entries kept. */
  entries: number;
  /** Most bytes kept (each entry counted by its JSON size and key). */
  maxBytes: number;
  /** The longest an entry is kept, whatever the feed says. */
  maxAgeMs: number;
}

interface Entry {
  readonly version: number;
  readonly result: FormattedExecutionResult;
  /** The answer's bytes as Apollo sends them (JSON and a newline), for a hit served before GraphQL runs. */
  readonly body: string;
  /** Its Cache-Control header. */
  readonly cacheControl: string;
  /** Its operation's label in the metrics. */
  readonly label: string;
}

/** An answer the HTTP layer may send as it is (src/http/early-answers.ts). */
export interface EarlyAnswer {
  readonly body: string;
  readonly cacheControl: string;
  readonly label: string;
}

/** A request as its JSON body names it: what the key is made of. */
export interface CacheableRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * Whose answers may be shared: HQ reads everything (domain/access.ts), so its answers do not
 * depend on who asks; anyone else's are theirs alone.
 */
function scopeOf(claims: Claims | null): string {
  return claims === null ? "anonymous" : claims.role === "HQ" ? "HQ" : `${claims.role}\u0000${claims.unit ?? ""}\u0000${claims.sub}`;
}

/** The entry's key: caller's scope, the request's today, and the request as sent (operation name, text, variables). */
function keyFor(claims: Claims | null, today: string, request: CacheableRequest): string {
  const hash = createHash("sha256");
  for (const part of [scopeOf(claims), today, request.operationName ?? "", request.query, JSON.stringify(request.variables ?? {})]) hash.update(part).update("\u0000");
  return hash.digest("base64");
}

/** Where a request's context keeps the version taken as it began (a symbol: plugins get a shallow copy). */
const BEGAN_AT = Symbol("response cache version");

/** What the metrics report (src/observability/metrics.ts). */
export interface ResponseCacheStats {
  /** Every hit, the early ones included. */
  hits: number;
  /** Hits answered by the HTTP layer before GraphQL ran (`earlyAnswer`). */
  early: number;
  misses: number;
  evictions: number;
  bytes(): number;
  entries(): number;
}

export class ResponseCache {
  private version = 0;
  private readonly entries: LRUCache<string, Entry>;
  /** Per parsed document (Apollo keeps one object per document text): may it be cached? */
  private readonly verdicts = new WeakMap<DocumentNode, boolean>();
  private readonly unfollow: (() => void)[] = [];
  readonly stats: ResponseCacheStats;

  constructor(
    private readonly feed: ChangeFeed,
    options: ResponseCacheOptions,
  ) {
    const stats = { hits: 0, early: 0, misses: 0, evictions: 0, bytes: () => this.entries.calculatedSize, entries: () => this.entries.size };
    this.stats = stats;
    this.entries = new LRUCache<string, Entry>({
      max: options.entries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) => Buffer.byteLength(entry.body) + key.length,
      ttl: options.maxAgeMs,
      dispose: (_entry, _key, reason) => {
        if (reason === "evict") stats.evictions += 1;
      },
    });
    const bump = () => {
      this.version += 1;
    };
    this.unfollow.push(feed.subscribe(bump), feed.onGap(bump));
  }

  /** Notes the version a request begins at; call before anything is read for it (the viewer included). */
  bind(context: Context): void {
    (context as unknown as Record<symbol, number>)[BEGAN_AT] = this.version;
  }

  close(): void {
    for (const stop of this.unfollow.splice(0)) stop();
    this.entries.clear();
  }

  private cacheable(schema: GraphQLSchema, document: DocumentNode): boolean {
    let verdict = this.verdicts.get(document);
    if (verdict === undefined) this.verdicts.set(document, (verdict = isCacheableDocument(schema, document)));
    return verdict;
  }

  /** The entry's key, or null when this request's answer is not to be cached. */
  private keyOf(rc: GraphQLRequestContextResponseForOperation<Context>): string | null {
    if (rc.operation.operation !== "query" || !this.cacheable(rc.schema, rc.document)) return null;
    const { operationName, variables } = rc.request;
    return keyFor(rc.contextValue.claims, rc.contextValue.today, { query: rc.request.query ?? rc.source, operationName, variables });
  }

  /**
   * The stored answer to this request, if one is still good: what the HTTP layer sends without
   * running GraphQL. An entry exists only once the same request, from the same scope on the same
   * day, went through every check and ran (document limits, input checks, the caller's unit);
   * those depend on nothing else, so they would pass again.
   */
  earlyAnswer(claims: Claims | null, today: string, request: CacheableRequest): EarlyAnswer | null {
    if (!this.feed.complete()) return null;
    const entry = this.entries.get(keyFor(claims, today, request));
    if (!entry || entry.version !== this.version) return null;
    this.stats.hits += 1;
    this.stats.early += 1;
    return entry;
  }

  /** `label` names an operation as the metrics do, for the answers served early. */
  plugin(label: (query: string, operation: OperationDefinitionNode) => string = (_q, o) => o.name?.value ?? "other"): ApolloServerPlugin<Context> {
    return {
      requestDidStart: async ({ contextValue }) => {
        const began = (contextValue as unknown as Record<symbol, number | undefined>)[BEGAN_AT];
        if (began === undefined) return; // not an HTTP request the server bound (an export's, a subscription's)
        let pending: string | null = null;
        return {
          responseForOperation: async (rc) => {
            if (!this.feed.complete() || began !== this.version) return null;
            const key = this.keyOf(rc);
            if (key === null) return null;
            const entry = this.entries.get(key);
            if (entry && entry.version === began) {
              this.stats.hits += 1;
              return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: "single", singleResult: entry.result } };
            }
            this.stats.misses += 1;
            pending = key;
            return null;
          },
          willSendResponse: async (rc) => {
            const { response } = rc;
            if (pending === null || response.body.kind !== "single" || !rc.operation) return;
            const result = response.body.singleResult;
            // Stored only if no change was heard since the request began: else it may predate it.
            if (result.errors?.length || !result.data || began !== this.version || !this.feed.complete()) return;
            const kept = { data: result.data };
            this.entries.set(pending, {
              version: began,
              result: kept,
              // As Apollo's default stringifyResult writes it.
              body: `${JSON.stringify(kept)}\n`,
              // Set by cache-control.ts, whose plugin comes before this one.
              cacheControl: response.http.headers.get("cache-control") ?? "no-store",
              label: label(rc.request.query ?? rc.source ?? "", rc.operation),
            });
          },
        };
      },
    };
  }
}
