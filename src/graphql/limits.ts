/**
 * Limits on what one GraphQL document may ask for, checked before anything executes.
 *
 * - Depth counts the levels a client sees: a connection's `edges { node }` is one level and
 *   `pageInfo { … }` none of its own (field-limits.ts `depth`), so a list of units with a page
 *   of each unit's managers is depth 5, not 7.
 * - Cost bounds the work a document can cause, as GitHub's node limit and Shopify's calculated
 *   cost do: an object costs 1, a scalar 0, and a list or a connection multiplies what one of
 *   its rows costs by the rows it can return (its `first`, or its declared bound; see
 *   field-limits.ts). Computed per request with graphql-query-complexity, because the rows
 *   depend on the variables and the budget on the caller: anonymous callers get a tighter one.
 * - Aliases and directives are counted by graphql-armor, tokens by graphql-js's parser.
 *
 * Each refusal carries its own stable `extensions.code` with HTTP 400, so a client can tell
 * "too deep" from "too costly" without parsing messages.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  validate,
  ValidationContext,
  visit,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import { createComplexityRule, type ComplexityEstimator } from "graphql-query-complexity";
import type { Config } from "../config.js";
import type { Context } from "./context.js";
import { limitsOf, rowsOf } from "./field-limits.js";

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

/** A refusal as graphql-js's validation reports it; formatError gives it the limit's code. */
function refusal(code: LimitCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { limit: code } });
}

const count = (n: number) => n.toLocaleString("en-US");

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
        ctx?.reportError(refusal(code, error.message));
      },
    ],
  };
}

const isIntrospection = (name: string) => name.startsWith("__");

/**
 * The deepest chain of fields in each operation, fragments flattened, introspection ignored,
 * each field counting its declared `depth` (default 1).
 */
export function depthLimit(max: number): ValidationRule {
  return (context) => {
    const schema = context.getSchema();
    // A fragment's depth does not depend on where it is spread: computing it once keeps
    // fragments that spread each other many times linear (and cycles finite).
    const fragmentDepths = new Map<string, number>();
    const depthOf = (selectionSet: SelectionSetNode | undefined, type: GraphQLNamedType | undefined): number => {
      let deepest = 0;
      for (const selection of selectionSet?.selections ?? []) {
        let depth = 0;
        if (selection.kind === Kind.FIELD) {
          if (isIntrospection(selection.name.value)) continue;
          const field = type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[selection.name.value] : undefined;
          const own = field ? (limitsOf(field).depth ?? 1) : 1;
          depth = own + depthOf(selection.selectionSet, field && getNamedType(field.type));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          depth = depthOf(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) ?? undefined : type);
        } else {
          const name = selection.name.value;
          if (!fragmentDepths.has(name)) {
            fragmentDepths.set(name, 0);
            const fragment = context.getFragment(name);
            fragmentDepths.set(name, fragment ? depthOf(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined) : 0);
          }
          depth = fragmentDepths.get(name)!;
        }
        deepest = Math.max(deepest, depth);
      }
      return deepest;
    };
    return {
      OperationDefinition(operation) {
        const root = schema.getRootType(operation.operation) ?? undefined;
        const depth = depthOf(operation.selectionSet, root);
        if (depth > max) context.reportError(refusal("QUERY_TOO_DEEP", `Query depth ${depth} exceeds ${max}`));
      },
    } satisfies ASTVisitor;
  };
}

/**
 * What a field costs: its own cost (1 for an object, 0 for a scalar, or as declared) plus
 * its selections', times the rows it can return. A list's rows each cost the object and its
 * selections; a connection costs its own page query once, then its rows (`edges` and `node`
 * being one row; `pageInfo` and `totalCount` come with the page).
 */
const estimator: ComplexityEstimator = ({ type, field, node, args, childComplexity }) => {
  if (isIntrospection(type.name) || isIntrospection(field.name)) return 0;
  const limits = limitsOf(field);
  const own = limits.cost ?? (isCompositeType(getNamedType(field.type)) ? 1 : 0);
  if (!limits.rows) return own + childComplexity;
  if ((limits.rows.kind === "page" || limits.rows.kind === "byArgument") && takesVariable(node, limits.rows.arg)) costReadArguments = true;
  const rows = rowsOf(limits.rows, args);
  return isListType(getNullableType(field.type)) ? rows * (own + childComplexity) : own + rows * childComplexity;
};

/** Whether the field's argument `name` is given by a variable, or holds one. */
function takesVariable(node: FieldNode, name: string): boolean {
  const argument = node.arguments?.find((a) => a.name.value === name);
  let found = false;
  if (argument) visit(argument.value, { Variable: () => void (found = true) });
  return found;
}

/** Selections evaluated at most while costing one document (fragments expanded); more is refused as too costly. */
const MAX_COSTED_NODES = 10_000;

/** Set by the estimator while `costOf` runs (synchronously) when a row count came from a variable's value. */
let costReadArguments = false;

/**
 * Costs that hold for any variables, per schema and parsed operation (Apollo keeps one parsed
 * document per text): costing runs graphql's validation visitor, a few per cent of a small
 * request's CPU.
 */
const knownCosts = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, number | null>>();

/**
 * The cost of an operation for its variables, or null when the document expands to more than
 * MAX_COSTED_NODES selections. A field whose arguments do not coerce is left out: execution
 * refuses it (and does not run below it) with its own error. Run as a validation rule of its
 * own so that such a field does not stop the costing of the others.
 */
export function costOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number | null {
  let known = knownCosts.get(schema);
  if (!known) knownCosts.set(schema, (known = new WeakMap()));
  const kept = known.get(operation);
  if (kept !== undefined) return kept;
  const { cost, general } = computeCost(schema, document, operation, variables);
  // Kept only when the variables could not have changed it: none gave a row count, and
  // every one coerced (a variable or argument that does not coerce leaves its field uncosted,
  // so such a request's cost is lower than the document's).
  if (general) known.set(operation, cost);
  return cost;
}

function computeCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): { cost: number | null; general: boolean } {
  let cost = 0;
  costReadArguments = false;
  const rule = createComplexityRule({
    maximumComplexity: Number.MAX_SAFE_INTEGER,
    estimators: [estimator],
    variables,
    // An unnamed operation is the document's only one.
    operationName: operation.name?.value,
    maxQueryNodes: MAX_COSTED_NODES,
    onComplete: (complexity) => {
      cost = complexity;
    },
  });
  try {
    const errors = validate(schema, document, [rule]);
    return { cost, general: errors.length === 0 && !costReadArguments };
  } catch (err) {
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message)) return { cost: null, general: true };
    throw err;
  }
}

/** The cost budget of a request's caller. */
export function costBudget(config: Pick<Config, "MAX_QUERY_COST" | "MAX_QUERY_COST_ANONYMOUS">, context: Pick<Context, "claims">): number {
  return context.claims ? config.MAX_QUERY_COST : config.MAX_QUERY_COST_ANONYMOUS;
}

/**
 * Refuses an operation whose cost is above its caller's budget. It must come before the audit
 * plugin: it throws synchronously, so Apollo calls no later plugin's didResolveOperation, and
 * a refused mutation is neither audited nor run, like one refused by validation (no SQL).
 */
function costPlugin(config: Config): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        didResolveOperation(request) {
          // No operation: execution refuses the request before running anything.
          if (!request.operation) return Promise.resolve();
          const budget = costBudget(config, request.contextValue);
          const cost = costOf(request.schema, request.document, request.operation, request.request.variables ?? {});
          const who = request.contextValue.claims ? "" : " for an anonymous caller";
          if (cost === null || cost > budget) {
            const said = cost === null ? `more than ${count(MAX_COSTED_NODES)} fields once fragments are expanded` : `cost ${count(cost)} exceeds ${count(budget)}${who}`;
            // Shaped like Apollo's own validation errors (code, HTTP 400, the cause tagged with
            // the limit), so formatError answers it exactly as it answers the other limits.
            throw new GraphQLError(`Query ${said}`, {
              originalError: refusal("QUERY_TOO_COSTLY", `Query ${said}`),
              extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } },
            });
          }
          return Promise.resolve();
        },
      };
    },
  };
}

/** Apollo plugins, validation rules and parse options that enforce the MAX_QUERY_* limits and hide field suggestions. */
export function documentLimits(config: Config) {
  const { plugins, validationRules } = new ApolloArmor({
    maxDepth: { enabled: false },
    costLimit: { enabled: false },
    maxAliases: { n: config.MAX_QUERY_ALIASES, allowList: [], ...tagged("TOO_MANY_ALIASES") },
    maxDirectives: { n: config.MAX_QUERY_DIRECTIVES, ...tagged("TOO_MANY_DIRECTIVES") },
    // Counted by graphql-js's own parser (parseOptions below): armor's token plugin throws
    // outside Apollo's parse step, which Apollo would answer with a 500.
    maxTokens: { enabled: false },
    // "Did you mean …?" would map the schema for someone who may not read it.
    blockFieldSuggestion: { enabled: true },
  }).protect();
  return {
    // graphql-armor is typed against Apollo's CommonJS declarations; the objects are the same.
    plugins: [costPlugin(config), ...(plugins as unknown as ApolloServerPlugin<Context>[])],
    validationRules: [depthLimit(config.MAX_QUERY_DEPTH), ...validationRules],
    parseOptions: { maxTokens: config.MAX_QUERY_TOKENS },
  };
}
