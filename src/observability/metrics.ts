/**
 * The server's Prometheus metrics (prom-client), served on their own port (METRICS_PORT, see
 * src/server.ts) and never on the public one. One registry per server, so several servers in
 * one process (tests) do not share counts.
 *
 * Every label is bounded: an operation is named by its trusted document's operation name, or
 * by its one root field (`Query.ranking`, from the schema), else `other`; a client's free-text
 * operation name never becomes a label. Error codes are the stable `extensions.code` values
 * (src/errors.ts and Apollo's own).
 *
 * What a request reports travels in `res.locals` (MetricsLocals): the Apollo plugin names the
 * operation and its error codes, a refusal before Apollo names its code (src/http/errors.ts),
 * and the middleware records it all once the response is sent, timed from its first byte in.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import type { RequestHandler, Response } from "express";
import { Kind, parse, type OperationDefinitionNode } from "graphql";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/database.js";
import type { ReadReplicas } from "../db/replicas.js";
import type { Context } from "../graphql/context.js";
import type { ResponseCacheStats } from "../graphql/response-cache.js";

/** What a /graphql request leaves in `res.locals` for the metrics middleware. */
export interface MetricsLocals {
  /** The bounded operation label (operationLabel). */
  operation?: string;
  /** query, mutation or subscription; "unknown" when the document never parsed. */
  operationType?: string;
  /** The `extensions.code` of each error in the response. */
  errorCodes?: string[];
  /** Set by a refusal before Apollo ran (sendError): its code. */
  refusal?: string;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts every HTTP request in flight but health checks; mount first on the app. */
  readonly inFlightMiddleware: RequestHandler;
  /** Times and counts every /graphql request; mount first on the route. */
  readonly middleware: RequestHandler;
  /** Names the operation and collects error codes for the middleware. */
  plugin(): ApolloServerPlugin<Context>;
  /** Ties a request's context to its response, so the plugin finds where to write. */
  bind(context: Context, res: Response): void;
  /** An operation's label, as the plugin gives it (for answers sent without GraphQL running). */
  labelOf(query: string, operation: OperationDefinitionNode): string;
  /** HTTP requests (health checks aside) being answered now: shutdown waits for 0. */
  inFlight(): number;
}

export interface MetricsSources {
  readonly database: Database;
  /** The read replicas (DATABASE_REPLICA_URLS), or null. */
  readonly replicas?: ReadReplicas | null;
  /** Open subscriptions on this instance. */
  openSubscriptions(): number;
  /** Trusted documents (hash → text): their operation names are labels. */
  trustedDocuments: ReadonlyMap<string, string>;
  /** The response cache's counts (src/graphql/response-cache.ts), or null when it is off. */
  responseCache?: ResponseCacheStats | null;
}

/**
 * Where a request's context keeps its `res.locals`: a symbol property, because Apollo hands the
 * plugins a shallow copy of the context (so a WeakMap keyed by the original would miss).
 */
const LOCALS = Symbol("metrics locals");

/** Request latency buckets in seconds: from a cached read (a few ms) to a full write batch. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The operation a trusted document defines, by its exact text. */
function trustedNames(manifest: ReadonlyMap<string, string>): Map<string, string> {
  const names = new Map<string, string>();
  for (const text of manifest.values()) {
    const operation = parse(text).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (operation?.name) names.set(text, operation.name.value);
  }
  return names;
}

/**
 * The bounded label of an operation: the trusted document's name when the text is one, else
 * its root field when it selects exactly one (schema-defined, so bounded), else "other".
 */
export function operationLabel(query: string | undefined, operation: OperationDefinitionNode | null | undefined, trusted: ReadonlyMap<string, string>): string {
  const name = query === undefined ? undefined : trusted.get(query);
  if (name) return name;
  if (!operation) return "other";
  const fields = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return "other"; // fragments: not worth expanding for a label
    fields.add(selection.name.value);
  }
  fields.delete("__typename");
  const root = operation.operation === "query" ? "Query" : operation.operation === "mutation" ? "Mutation" : "Subscription";
  return fields.size === 1 ? `${root}.${[...fields][0]}` : "other";
}

export function createMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const trusted = trustedNames(sources.trustedDocuments);
  let inFlight = 0;

  const requests = new Counter({
    name: "cardgrowth_graphql_requests_total",
    help: "GraphQL requests over HTTP, by operation (trusted document name, single root field, or other), type and HTTP status",
    labelNames: ["operation", "type", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "cardgrowth_graphql_request_duration_seconds",
    help: "Time from a GraphQL request's arrival to its response's last byte",
    labelNames: ["operation", "type"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: "cardgrowth_graphql_errors_total",
    help: "Errors in GraphQL responses (and refusals before GraphQL ran), by extensions.code",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: "cardgrowth_rate_limit_refusals_total",
    help: "Requests refused by the rate limit (HTTP 429), by caller kind",
    labelNames: ["caller"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "cardgrowth_http_requests_in_flight",
    help: "HTTP requests (health checks aside) being answered now",
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });
  new Gauge({
    name: "cardgrowth_live_subscriptions_open",
    help: "Live subscriptions open on this instance",
    registers: [registry],
    collect() {
      this.set(sources.openSubscriptions());
    },
  });
  const { database } = sources;
  new Counter({
    name: "cardgrowth_db_statements_total",
    help: "SQL statements sent to the database by this process",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(database.statements.count);
    },
  });
  new Counter({
    name: "cardgrowth_db_statement_seconds_total",
    help: "Time spent in SQL statements, as Prisma measures them (divide by cardgrowth_db_statements_total for the mean)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(database.statements.seconds);
    },
  });
  new Gauge({
    name: "cardgrowth_db_pool_connections",
    help: "PostgreSQL pool connections by state (total, idle, waiting requests, max); absent on the embedded database",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const pool = database.pool?.();
      if (!pool) return;
      for (const [state, n] of Object.entries(pool)) this.set({ state }, n);
    },
  });

  const { replicas } = sources;
  if (replicas) {
    new Gauge({
      name: "cardgrowth_db_replica_lag_seconds",
      help: "Each read replica's replay lag behind the primary, from WAL positions (+Inf: not answering or not measured yet)",
      labelNames: ["replica"] as const,
      registers: [registry],
      collect() {
        for (const { name, lagSeconds } of replicas.status()) this.set({ replica: name }, lagSeconds);
      },
    });
    new Counter({
      name: "cardgrowth_db_routed_requests_total",
      help: "GraphQL requests by the database that answered them (primary, replica) and why (replica, write, lag, own_write)",
      labelNames: ["served_by", "reason"] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, n] of replicas.routed) {
          const [served_by, reason] = key.split(" ");
          this.inc({ served_by, reason }, n);
        }
      },
    });
  }
  const cache = sources.responseCache;
  if (cache) {
    const counted = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counted("cardgrowth_response_cache_hits_total", "Query answers served from the response cache", () => cache.hits);
    counted("cardgrowth_response_cache_early_hits_total", "Of those, answered by the HTTP layer before GraphQL ran", () => cache.early);
    counted("cardgrowth_response_cache_misses_total", "Cacheable query answers computed (not in the cache, or made before the last change heard)", () => cache.misses);
    counted("cardgrowth_response_cache_evictions_total", "Response cache entries dropped to stay within RESPONSE_CACHE_ENTRIES / RESPONSE_CACHE_MB", () => cache.evictions);
    new Gauge({
      name: "cardgrowth_response_cache_bytes",
      help: "Memory the response cache's entries take, by their JSON size",
      registers: [registry],
      collect() {
        this.set(cache.bytes());
      },
    });
    new Gauge({
      name: "cardgrowth_response_cache_entries",
      help: "Entries in the response cache",
      registers: [registry],
      collect() {
        this.set(cache.entries());
      },
    });
  }

  const HEALTH = new Set(["/livez", "/readyz", "/health"]);
  const inFlightMiddleware: RequestHandler = (req, res, next) => {
    if (HEALTH.has(req.path)) return next();
    inFlight += 1;
    let done = false;
    const finish = () => {
      if (!done) inFlight -= 1;
      done = true;
    };
    res.once("finish", finish);
    res.once("close", finish); // a client that hung up still ends the request
    next();
  };

  const middleware: RequestHandler = (_req, res, next) => {
    const started = process.hrtime.bigint();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const locals = res.locals as MetricsLocals;
      const labels = { operation: locals.operation ?? "other", type: locals.operationType ?? "unknown" };
      requests.inc({ ...labels, status: String(res.statusCode) });
      latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      const codes = locals.refusal ? [locals.refusal] : (locals.errorCodes ?? []);
      for (const code of new Set(codes)) errors.inc({ code });
      if (locals.refusal === "RATE_LIMITED") rateLimited.inc({ caller: res.locals.claims ? "signed_in" : "anonymous" });
    };
    res.once("finish", finish);
    res.once("close", finish);
    next();
  };

  return {
    registry,
    inFlightMiddleware,
    middleware,
    inFlight: () => inFlight,
    labelOf: (query, operation) => operationLabel(query, operation, trusted),
    bind: (context, res) => {
      (context as unknown as Record<symbol, MetricsLocals>)[LOCALS] = res.locals as MetricsLocals;
    },
    plugin: () => ({
      async requestDidStart({ contextValue }) {
        const locals = (contextValue as unknown as Record<symbol, MetricsLocals | undefined>)[LOCALS];
        if (!locals) return;
        return {
          async didResolveOperation({ request, operation }) {
            locals.operation = operationLabel(request.query, operation, trusted);
            locals.operationType = operation?.operation ?? "unknown";
          },
          async willSendResponse({ response }) {
            if (response.body.kind !== "single") return;
            locals.errorCodes = (response.body.singleResult.errors ?? []).map((e) => String(e.extensions?.code ?? "INTERNAL_SERVER_ERROR"));
          },
        };
      },
    }),
  };
}
