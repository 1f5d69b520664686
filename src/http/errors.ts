import { GraphQLError } from "graphql";
import type { Response } from "express";
import type { AppError } from "../errors.js";

/**
 * A refusal before GraphQL runs (body too large, bad token, rate limit, untrusted document),
 * shaped like a GraphQL error response so clients handle every refusal the same way.
 */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.locals.refusal = code; // for the metrics (src/observability/metrics.ts)
  res.status(status).type("application/json").send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/**
 * One of our errors as a GraphQL request error with an HTTP status, for refusals raised while
 * Apollo builds the request's context (formatError keeps its code and message).
 */
export function withHttpStatus(error: AppError, status: number): GraphQLError {
  return new GraphQLError(error.message, { originalError: error, extensions: { code: error.code, http: { status } } });
}
