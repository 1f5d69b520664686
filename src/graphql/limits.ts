/**
 * Limits on what one GraphQL document may ask for, enforced by graphql-armor before anything
 * executes. The defaults are graphql-armor's and the OWASP GraphQL cheat sheet's (config.ts
 * MAX_QUERY_*): depth 6, 15 aliases, 50 directives, 1,000 tokens, cost 5,000. A Relay list
 * costs two levels (edges, node), so a list of lists of objects does not fit: clients ask for
 * the inner lists per item, or use the flat rankings the dashboards are built on.
 *
 * Each refusal carries its own stable `extensions.code`, so a client can tell "too deep" from
 * "too costly" without parsing messages.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { Config } from "../config.js";
import { GraphQLError as GraphQLErrorClass, type GraphQLError, type ValidationContext } from "graphql";

/** The `extensions.code` of each limit's refusal. */
export const LIMIT_CODES = ["QUERY_TOO_DEEP", "TOO_MANY_ALIASES", "TOO_MANY_DIRECTIVES", "TOO_MANY_TOKENS", "QUERY_TOO_COSTLY"] as const;
export type LimitCode = (typeof LIMIT_CODES)[number];

/** The limit a refused document broke, if a limit refused it. */
export function limitCodeOf(error: unknown, message: string): LimitCode | undefined {
  const code = (error as GraphQLError | undefined)?.extensions?.limit;
  if (LIMIT_CODES.includes(code as LimitCode)) return code as LimitCode;
  // graphql-js's parser says so in words only ("Document contains more that N tokens").
  return /Document contains more th\w+ \d+ tokens/.test(message) ? "TOO_MANY_TOKENS" : undefined;
}

function tagged(code: LimitCode) {
  return {
    exposeLimits: true,
    errorMessage: "Query validation error.",
    onAccept: [],
    // Reported to graphql-js's validation context (an HTTP 400, not a thrown 500), tagged with
    // the limit so that formatError can give it its own code after Apollo re-wraps it.
    propagateOnRejection: false,
    onReject: [
      (ctx: ValidationContext | null, error: GraphQLError) => {
        ctx?.reportError(new GraphQLErrorClass(error.message, { extensions: { limit: code } }));
      },
    ],
  };
}

/** Apollo plugins, validation rules and parse options that enforce the MAX_QUERY_* limits and hide field suggestions. */
export function armor(config: Config) {
  const { plugins, validationRules } = new ApolloArmor({
    maxDepth: { n: config.MAX_QUERY_DEPTH, ignoreIntrospection: true, flattenFragments: true, ...tagged("QUERY_TOO_DEEP") },
    maxAliases: { n: config.MAX_QUERY_ALIASES, allowList: [], ...tagged("TOO_MANY_ALIASES") },
    maxDirectives: { n: config.MAX_QUERY_DIRECTIVES, ...tagged("TOO_MANY_DIRECTIVES") },
    // Counted by graphql-js's own parser (parseOptions below): armor's token plugin throws
    // outside Apollo's parse step, which Apollo would answer with a 500.
    maxTokens: { enabled: false },
    costLimit: {
      maxCost: config.MAX_QUERY_COST,
      objectCost: 2,
      scalarCost: 1,
      depthCostFactor: 1.5,
      ignoreIntrospection: true,
      flattenFragments: true,
      ...tagged("QUERY_TOO_COSTLY"),
    },
    // "Did you mean …?" would map the schema for someone who may not read it.
    blockFieldSuggestion: { enabled: true },
  }).protect();
  // graphql-armor is typed against Apollo's CommonJS declarations; the objects are the same.
  return { plugins: plugins as unknown as ApolloServerPlugin<any>[], validationRules, parseOptions: { maxTokens: config.MAX_QUERY_TOKENS } };
}
