/**
 * Checks every request gets once its operation is known, before anything executes:
 * - the operation named by `operationName` must exist (else HTTP 400, not a failure later on);
 * - a subscription is served over WebSocket (src/live/subscriptions.ts), not run once over HTTP;
 * - no string argument, written in the document or sent as a variable, may hold a NUL
 *   character or an unpaired UTF-16 surrogate. Neither is text: PostgreSQL refuses both in
 *   text and jsonb, so without this one place each service would fail on them differently.
 *   The refusal names every such field by its path from the argument (`input[3].name`).
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError, Kind, visit, type DocumentNode, type OperationDefinitionNode, type ValueNode } from "graphql";
import { BadInputError, type FieldIssue } from "../errors.js";
import { withHttpStatus } from "../http/errors.js";
import type { Context } from "./context.js";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string is not text we accept, or null when it is. */
export function textProblem(value: string): string | null {
  if (value.includes("\u0000")) return "must not contain NUL characters (U+0000)";
  if (LONE_SURROGATE.test(value)) return "must not contain unpaired UTF-16 surrogates (it is not valid Unicode text)";
  return null;
}

/** Every argument string of the document that is not text, by its path from the argument. */
export function badArgumentStrings(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): FieldIssue[] {
  const issues = new Map<string, string>();
  const defaults = new Map(operation.variableDefinitions?.map((d) => [d.variable.name.value, d.defaultValue]) ?? []);
  const checkValue = (value: unknown, path: string): void => {
    if (typeof value === "string") {
      const problem = textProblem(value);
      if (problem) issues.set(path, problem);
    } else if (Array.isArray(value)) value.forEach((v, i) => checkValue(v, `${path}[${i}]`));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) checkValue(v, `${path}.${k}`);
  };
  const checkNode = (node: ValueNode, path: string): void => {
    if (node.kind === Kind.STRING) checkValue(node.value, path);
    else if (node.kind === Kind.LIST) node.values.forEach((v, i) => checkNode(v, `${path}[${i}]`));
    else if (node.kind === Kind.OBJECT) for (const f of node.fields) checkNode(f.value, `${path}.${f.name.value}`);
    else if (node.kind === Kind.VARIABLE) {
      const name = node.name.value;
      if (variables && Object.hasOwn(variables, name)) checkValue(variables[name], path);
      else {
        const fallback = defaults.get(name);
        if (fallback) checkNode(fallback, path);
      }
    }
  };
  visit(document, { Argument: (node) => checkNode(node.value, node.name.value) });
  return [...issues].map(([field, reason]) => ({ field, reason }));
}

export function requestChecksPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) {
            const message = request.operationName ? `Unknown operation named "${request.operationName}".` : "Must provide operation name if query contains multiple operations.";
            throw new GraphQLError(message, { extensions: { code: "OPERATION_RESOLUTION_FAILURE", http: { status: 400 } } });
          }
          if (operation.operation === "subscription") {
            throw new GraphQLError("Subscriptions are served over WebSocket (graphql-ws, the graphql-transport-ws protocol) at this same URL", {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            });
          }
          const issues = badArgumentStrings(document, operation, request.variables);
          if (issues.length) throw withHttpStatus(new BadInputError(issues), 400);
        },
      };
    },
  };
}
