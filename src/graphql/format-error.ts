/**
 * The single place where errors become responses. Our AppErrors and GraphQL's own request
 * errors keep their message and stable `extensions.code`; anything else is an internal fault
 * and is masked, so SQL, stack traces and driver messages never reach a client.
 */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import { limitCodeOf } from "./limits.js";

/** Codes that graphql-js or Apollo give to problems with the request itself: safe to show. */
const REQUEST_ERROR_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  // A subscription's text where only trusted documents are accepted (src/live/subscriptions.ts; HTTP answers it before Apollo).
  "TRUSTED_DOCUMENT_REQUIRED",
]);

/**
 * graphql-js's "Did you mean …?" hints (field, argument, type and enum value names) tell a
 * stranger what the schema holds, which production keeps to itself (no introspection).
 */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** The error we raised, whether it arrives as itself, from a resolver, or wrapped by Apollo before execution. */
function ourError(error: unknown): unknown {
  const original = unwrapResolverError(error);
  return original instanceof GraphQLError && original.originalError instanceof AppError ? original.originalError : original;
}

export function createFormatError(logger: Logger) {
  return function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const where = { ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
    const original = ourError(error);

    if (original instanceof AppError) {
      return {
        message: original.message,
        ...where,
        extensions: { code: original.code, ...(original.issues.length ? { issues: original.issues } : {}) },
      };
    }
    if (original instanceof ArgumentValidationError) {
      const issues = original.extensions.validationErrors.flatMap((v) =>
        Object.values(v.constraints ?? {}).map((reason) => ({ field: v.property, reason })),
      );
      const message = `Invalid input: ${issues.map((i) => `${i.field}: ${i.reason}`).join("; ")}`;
      return { message, ...where, extensions: { code: "BAD_USER_INPUT", issues } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === "string" && REQUEST_ERROR_CODES.has(code)) {
      const cause = error instanceof GraphQLError ? error.originalError : undefined;
      const message = formatted.message.replace(SUGGESTION, "");
      const limit = limitCodeOf(cause, formatted.message);
      if (limit) return { message, ...where, extensions: { code: limit } };
      // A bad scalar literal is a validation error to graphql-js, but it is bad input to a client.
      const fromScalar = cause instanceof GraphQLError && cause.extensions.code === "BAD_USER_INPUT";
      return { message, ...where, extensions: { code: fromScalar ? "BAD_USER_INPUT" : code } };
    }
    logger.error({ err: original, path: formatted.path }, "unexpected error while serving a request");
    return { message: "Internal server error", ...where, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
