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

/**
 * Where a document's arguments hold strings, in document order: a literal that is not text (its
 * problem, found once), or a variable to check in each request's variables, with what its
 * default would bring when it is not sent. Literals that are text leave nothing to check.
 */
type Site = { path: string; problem: string } | { path: string; variable: string; fallback: [path: string, problem: string][] };

/**
 * Apollo keeps a parsed document for each query text it has seen, so the sites of an operation
 * are found once per document rather than by a walk over it on every request (1.9 % of an
 * uncached ranking's server CPU in a profile; +5.8 % rankings a second, commit 5c04cea).
 */
const sitesByOperation = new WeakMap<OperationDefinitionNode, Site[]>();

function sitesOf(document: DocumentNode, operation: OperationDefinitionNode): Site[] {
  const defaults = new Map(operation.variableDefinitions?.map((d) => [d.variable.name.value, d.defaultValue]) ?? []);
  // The strings of a value that are not text, to `found`; its variables, to `onVariable` (a
  // default value holds none: its problems are known now).
  const walk = (node: ValueNode, path: string, found: (path: string, problem: string) => void, onVariable?: (name: string, path: string) => void): void => {
    if (node.kind === Kind.STRING) {
      const problem = textProblem(node.value);
      if (problem) found(path, problem);
    } else if (node.kind === Kind.LIST) node.values.forEach((v, i) => walk(v, `${path}[${i}]`, found, onVariable));
    else if (node.kind === Kind.OBJECT) for (const f of node.fields) walk(f.value, `${path}.${f.name.value}`, found, onVariable);
    else if (node.kind === Kind.VARIABLE) onVariable?.(node.name.value, path);
  };
  const sites: Site[] = [];
  const literal = (path: string, problem: string) => void sites.push({ path, problem });
  const variable = (name: string, path: string) => {
    const fallback: [string, string][] = [];
    const given = defaults.get(name);
    if (given) walk(given, path, (p, problem) => void fallback.push([p, problem]));
    sites.push({ path, variable: name, fallback });
  };
  visit(document, { Argument: (node) => walk(node.value, node.name.value, literal, variable) });
  return sites;
}

/** Every argument string of the document that is not text, by its path from the argument. */
export function badArgumentStrings(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): FieldIssue[] {
  let sites = sitesByOperation.get(operation);
  if (!sites) sitesByOperation.set(operation, (sites = sitesOf(document, operation)));
  if (sites.length === 0) return [];
  const issues = new Map<string, string>();
  const checkValue = (value: unknown, path: string): void => {
    if (typeof value === "string") {
      const problem = textProblem(value);
      if (problem) issues.set(path, problem);
    } else if (Array.isArray(value)) value.forEach((v, i) => checkValue(v, `${path}[${i}]`));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) checkValue(v, `${path}.${k}`);
  };
  for (const site of sites) {
    if ("problem" in site) issues.set(site.path, site.problem);
    else if (variables && Object.hasOwn(variables, site.variable)) checkValue(variables[site.variable], site.path);
    else for (const [path, problem] of site.fallback) issues.set(path, problem);
  }
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
