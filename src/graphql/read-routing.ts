/**
 * Which database a GraphQL request runs on, when read replicas are configured
 * (src/db/replicas.ts). The context's `db` is what every loader and service of the request uses,
 * so the decision is made once, before the context exists: a query operation gets a replica
 * (when one is fresh enough for this caller), anything else the primary. Mutations (redemptions
 * and every other write), a document that does not parse and one whose operation cannot be told
 * stay on the primary. Subscriptions' re-runs and the dashboard's exports build their contexts
 * on the primary elsewhere (src/live/subscriptions.ts, src/http/dashboard.ts): a live event
 * follows a write and must show it.
 *
 * After a signed-in caller's mutation the plugin keeps the primary's WAL position for them
 * before the response leaves, so their next read, on any instance, sees what they wrote. Every
 * response says which served it: `extensions.servedBy` ("primary" or "replica").
 */
import type { ApolloServerPlugin } from "@apollo/server";
import type { Request } from "express";
import { getOperationAST, OperationTypeNode, parse, type ParseOptions } from "graphql";
import type { ReadReplicas, Route } from "../db/replicas.js";
import type { Claims } from "../modules/auth/auth.service.js";
import type { Context } from "./context.js";

/** Documents whose operation type is remembered (by text and operation name): the dashboard's and the apps' few, and staff's recent ones. */
const REMEMBERED = 1_000;
/** Longer documents are not parsed twice for routing: the primary answers them (a write batch's inline rows, say). */
const LONGEST_ROUTED = 50_000;

/** The route a request's context was built with, kept on the context (Apollo's plugins see a shallow copy of it, which keeps symbol properties). */
const ROUTE = Symbol("read route");

export interface ReadRouting {
  /** The route of this request, by its operation and caller. */
  route(req: Request, claims: Claims | null): Promise<Route>;
  /** Ties the route to the request's context, for the plugin. */
  bind(context: Context, route: Route): void;
  /** Says who served each response; keeps a writer's WAL position. */
  plugin(): ApolloServerPlugin<Context>;
}

/** A caller's key for read-your-writes: the same as its rate-limit key (role and subject of a verified token). */
const callerOf = (claims: Claims | null) => (claims ? `${claims.role}:${claims.sub}` : null);

export function readRouting(replicas: ReadReplicas, parseOptions: ParseOptions): ReadRouting {
  const known = new Map<string, OperationTypeNode | null>();
  const operationType = (query: unknown, operationName: unknown): OperationTypeNode | null => {
    if (typeof query !== "string" || query.length > LONGEST_ROUTED) return null;
    const key = `${typeof operationName === "string" ? operationName : ""}\n${query}`;
    if (known.has(key)) {
      const type = known.get(key)!;
      known.delete(key); // least recently used first out
      known.set(key, type);
      return type;
    }
    let type: OperationTypeNode | null;
    try {
      type = getOperationAST(parse(query, parseOptions), typeof operationName === "string" ? operationName : undefined)?.operation ?? null;
    } catch {
      type = null; // Apollo reports the error; nothing is read
    }
    known.set(key, type);
    if (known.size > REMEMBERED) known.delete(known.keys().next().value!);
    return type;
  };

  return {
    async route(req, claims) {
      // Apollo takes queries by GET too (never mutations); trusted documents are in the body by now.
      const source = (req.method === "GET" ? req.query : req.body) as Record<string, unknown> | undefined;
      const type = operationType(source?.query, source?.operationName);
      return type === OperationTypeNode.QUERY ? replicas.routeRead(callerOf(claims)) : replicas.routeWrite();
    },
    bind(context, route) {
      (context as unknown as Record<symbol, Route>)[ROUTE] = route;
    },
    plugin: () => ({
      async requestDidStart({ contextValue }) {
        const route = (contextValue as unknown as Record<symbol, Route | undefined>)[ROUTE];
        if (!route) return;
        return {
          async willSendResponse({ response, operation }) {
            const caller = callerOf(contextValue.claims);
            // Before the response leaves: the caller's next request may already be on its way to another instance.
            if (operation?.operation === OperationTypeNode.MUTATION && caller !== null) await replicas.wrote(caller);
            if (response.body.kind === "single") {
              const result = response.body.singleResult;
              result.extensions = { ...result.extensions, servedBy: route.servedBy };
            }
          },
        };
      },
    }),
  };
}
