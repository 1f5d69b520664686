import type { Response } from "express";

/**
 * A refusal before GraphQL runs (body too large, bad token, rate limit, untrusted document),
 * shaped like a GraphQL error response so clients handle every refusal the same way.
 */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).type("application/json").send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}
