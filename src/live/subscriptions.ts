/**
 * GraphQL subscriptions over WebSocket (graphql-ws, the graphql-transport-ws protocol) on the
 * HTTP server's own port and path (/graphql). What a subscriber meets, in order:
 *
 * - `connection_init` with `{ authorization: "Bearer <token>" }`: the token is verified by the
 *   same authenticator as HTTP, and the caller placed in the org tree the same way (a unit
 *   that does not exist is refused). No token, or a bad one, closes the socket with 4401 and
 *   the reason: anonymous callers have nothing here to follow.
 * - each `subscribe`: a trusted document by its hash (`extensions.persistedQuery.sha256Hash`,
 *   with an empty `query`, as the dashboard page sends them) or, unless TRUSTED_DOCUMENTS=all,
 *   a document's text; only subscriptions (queries and mutations go over HTTP, where the audit,
 *   rate limits and trusted documents apply), the same document limits as HTTP (tokens,
 *   depth, aliases, directives, cost for the caller), the same check of argument strings,
 *   and at most LIVE_MAX_SUBSCRIPTIONS_PER_CALLER open subscriptions per caller on this
 *   instance. Then the field's own access rule (the query's), in its `subscribe`.
 * - events: each tick (live/ticks.ts: the first at once, then coalesced) runs the document on
 *   a fresh context (fresh loaders, viewer, "today"), so an event is what the same query would
 *   answer now; it is sent only when it differs from the last one sent to that subscription.
 * - the token's `exp`: the socket is closed with 4401 "the token has expired"; a client signs
 *   in again with a fresh token. Keep-alive: a WebSocket ping every LIVE_KEEPALIVE_MS, and a
 *   peer that does not answer in as long is dropped. On shutdown every socket is closed with
 *   1001 before the HTTP server stops.
 *
 * A token travels in the first message, never in a cookie, so a page on another origin cannot
 * open a socket as a signed-in user: no Origin check is needed.
 */
import type http from "node:http";
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import { CloseCode, type Context as WsContext } from "graphql-ws";
import { useServer, type Extra } from "graphql-ws/use/ws";
import { decodeJwt } from "jose";
import { WebSocketServer, type WebSocket } from "ws";
import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import { AppError, BadInputError } from "../errors.js";
import type { Context } from "../graphql/context.js";
import { createContext } from "../graphql/create-context.js";
import type { createFormatError } from "../graphql/format-error.js";
import { costBudget, costOf, type documentLimits } from "../graphql/limits.js";
import { badArgumentStrings } from "../graphql/request-checks.js";
import { requestedHash, type TrustedReference } from "../graphql/trusted-documents.js";
import type { Logger } from "../logger.js";
import { loadViewer, type Authenticate, type Claims } from "../modules/auth/auth.service.js";
import type { ChangeFeed } from "./change.js";

/** What this server keeps about a signed-in connection. */
interface Session {
  claims: Claims;
  /** Role and subject: the key of the per-caller cap (the rate limits' key too). */
  caller: string;
  expiry: NodeJS.Timeout | null;
}

type Connection = WsContext<Record<string, unknown>, Extra & { session?: Session }>;

export interface LiveDeps {
  readonly schema: GraphQLSchema;
  readonly database: Database;
  readonly config: Config;
  readonly logger: Logger;
  readonly verifyToken: Authenticate;
  readonly feed: ChangeFeed;
  readonly limits: ReturnType<typeof documentLimits>;
  readonly formatError: ReturnType<typeof createFormatError>;
  /** The trusted documents (hash → text), src/graphql/trusted-documents.ts. */
  readonly manifest: ReadonlyMap<string, string>;
}

export interface LiveServer {
  /** Subscriptions open on this instance now (/metrics). */
  openSubscriptions(): number;
  /** Closes every socket (1001), then stops accepting new ones. */
  close(): Promise<void>;
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 123 ? text : `${bytes.subarray(0, 120).toString().replace(/\uFFFD+$/, "")}...`;
}

/** The longest a timer can wait (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long a shutdown waits for clients to answer the close before dropping them. */
const CLOSE_GRACE_MS = 1_000;

export function serveSubscriptions(httpServer: http.Server, deps: LiveDeps): LiveServer {
  const { schema, database, config, logger, verifyToken, feed, limits, formatError, manifest } = deps;
  // A subscribe message holds a small document and a few variables, like the mobile app's requests.
  const wss = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.ANONYMOUS_BODY_LIMIT_BYTES });
  /** The open connections of each caller, for the per-caller cap. */
  const byCaller = new Map<string, Set<Connection>>();
  const rules = [...specifiedRules, ...limits.validationRules];

  const refuse = (ctx: Connection, reason: string): false => {
    ctx.extra.socket.close(CloseCode.Unauthorized, closeReason(`Unauthorized: ${reason}`));
    return false;
  };

  const forget = (ctx: Connection) => {
    const session = ctx.extra.session;
    if (!session) return;
    if (session.expiry) clearTimeout(session.expiry);
    const open = byCaller.get(session.caller);
    open?.delete(ctx);
    if (open?.size === 0) byCaller.delete(session.caller);
  };

  /** Closes the socket when the token expires: a subscription lives no longer than the token that opened it. */
  const endAtExpiry = (ctx: Connection, session: Session, expSeconds: number) => {
    const arm = () => {
      const left = expSeconds * 1000 - Date.now();
      if (left <= 0) return ctx.extra.socket.close(CloseCode.Unauthorized, "Unauthorized: the token has expired; connect again with a fresh one");
      session.expiry = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
  };

  /** A refusal before execution, in the shape formatError gives the same refusal over HTTP. */
  const requestError = (message: string, code: string, cause?: unknown) =>
    new GraphQLError(message, { originalError: cause instanceof Error ? cause : undefined, extensions: { code } });

  const opened = useServer<Record<string, unknown>, { session?: Session }>(
    {
      schema,
      isProd: config.NODE_ENV === "production",
      async onConnect(ctx) {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (header !== undefined && typeof header !== "string") return refuse(ctx, "the authorization parameter must be a string");
        let claims: Claims | null;
        try {
          claims = await verifyToken(header);
          if (claims) await loadViewer(database.prisma, claims); // a unit (or manager) that does not exist is refused here
        } catch (err) {
          if (err instanceof AppError) return refuse(ctx, err.message.replace(/^Not authenticated: /, ""));
          throw err;
        }
        if (!claims) return refuse(ctx, 'sign in to subscribe: connection_init with { authorization: "Bearer <token>" }');
        const session: Session = { claims, caller: `${claims.role}:${claims.sub}`, expiry: null };
        ctx.extra.session = session;
        if (!byCaller.has(session.caller)) byCaller.set(session.caller, new Set());
        byCaller.get(session.caller)!.add(ctx);
        endAtExpiry(ctx, session, decodeJwt(header!.slice("Bearer ".length)).exp!);
        return true;
      },
      onClose: (ctx) => forget(ctx),
      async onSubscribe(ctx, _id, payload) {
        const { claims, caller } = ctx.extra.session!;
        const hash = requestedHash(payload as TrustedReference);
        const text = hash === undefined ? payload.query : manifest.get(hash.toLowerCase());
        if (text === undefined) return [requestError("Unknown document id: not a trusted document", "PERSISTED_QUERY_NOT_FOUND")];
        if (hash === undefined && config.TRUSTED_DOCUMENTS === "all") {
          return [requestError("Only trusted documents are accepted here: send extensions.persistedQuery.sha256Hash instead of query", "TRUSTED_DOCUMENT_REQUIRED")];
        }
        let document: DocumentNode;
        try {
          document = parse(text, limits.parseOptions);
        } catch (err) {
          return [requestError((err as Error).message, "GRAPHQL_PARSE_FAILED", err)];
        }
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [requestError(payload.operationName ? `Unknown operation named "${payload.operationName}".` : "Must provide operation name if query contains multiple operations.", "OPERATION_RESOLUTION_FAILURE")];
        if (operation.operation !== "subscription") {
          return [requestError(`Only subscriptions are served over WebSocket; send ${operation.operation === "query" ? "queries" : "mutations"} over HTTP (POST /graphql)`, "BAD_REQUEST")];
        }
        const invalid = validate(schema, document, rules);
        if (invalid.length) return invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, originalError: e, extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }));
        const variables = payload.variables ?? {};
        const cost = costOf(schema, document, operation, variables);
        const budget = costBudget(config, { claims });
        if (cost === null || cost > budget) {
          const said = cost === null ? "more fields than can be costed once fragments are expanded" : `cost ${cost} exceeds ${budget}`;
          return [requestError(`Query ${said}`, "GRAPHQL_VALIDATION_FAILED", new GraphQLError(`Query ${said}`, { extensions: { limit: "QUERY_TOO_COSTLY" } }))];
        }
        const issues = badArgumentStrings(document, operation, variables);
        if (issues.length) return [requestError("Invalid input", "BAD_USER_INPUT", new BadInputError(issues))];
        // Counted over the caller's connections on this instance; this one is already reserved.
        const open = [...(byCaller.get(caller) ?? [])].reduce((n, c) => n + Object.keys(c.subscriptions).length, 0);
        if (open > config.LIVE_MAX_SUBSCRIPTIONS_PER_CALLER) {
          const err = new AppError("TOO_MANY_SUBSCRIPTIONS", `Too many subscriptions: at most ${config.LIVE_MAX_SUBSCRIPTIONS_PER_CALLER} open at once per caller (LIVE_MAX_SUBSCRIPTIONS_PER_CALLER); complete one first`);
          return [requestError(err.message, err.code, err)];
        }
        return { schema, document, operationName: payload.operationName, variableValues: variables, contextValue: createContext(database.prisma, config, claims, feed) };
      },
      // Each event runs on a fresh context; graphql-js's own subscribe would reuse the first
      // one, whose loaders would answer every event from their cache.
      subscribe: (args) => liveResults(args, () => createContext(database.prisma, config, (args.contextValue as Context).claims, feed)),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
    },
    wss,
    config.LIVE_KEEPALIVE_MS,
  );
  wss.on("error", (err) => logger.error({ err }, "WebSocket server error"));

  return {
    openSubscriptions: () => {
      let open = 0;
      for (const connections of byCaller.values()) for (const c of connections) open += Object.keys(c.subscriptions).length;
      return open;
    },
    async close() {
      const sockets = [...wss.clients];
      const closed = Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s.readyState === s.CLOSED ? resolve() : s.once("close", () => resolve())))));
      for (const s of sockets) s.close(1001, "Server shutting down");
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
      for (const s of sockets) if (s.readyState !== s.CLOSED) s.terminate();
      await opened.dispose();
    },
  };
}

/**
 * A subscription's results: the field's `subscribe` (its access rule included) gives a
 * stream of ticks or a refusal; each tick runs the document on a context of its own. A
 * result equal to the last one sent is skipped: a write that changed nothing this
 * selection shows sends nothing.
 */
async function liveResults(args: ExecutionArgs, freshContext: () => Context): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream({ ...args, contextValue: freshContext() });
  if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
  const ticks = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let last: string | null = null;
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      for (;;) {
        const tick = await ticks.next();
        if (tick.done) return { value: undefined, done: true };
        const result = await execute({ ...args, rootValue: tick.value, contextValue: freshContext() });
        const shown = JSON.stringify(result);
        if (shown === last) continue;
        last = shown;
        return { value: result, done: false };
      }
    },
    async return() {
      await ticks.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return results;
    },
  };
  return results;
}

export type { WebSocket };
