import type { RequestHandler } from "express";
import { AppError } from "../errors.js";
import type { Authenticate, Claims } from "../modules/auth/auth.service.js";
import { sendError } from "./errors.js";

/**
 * Verifies the bearer token once per request, from the header alone (no body is read yet).
 * The claims (or null: anonymous) go to res.locals.claims. A token that fails verification
 * leaves the caller anonymous for the rate limiter, which then counts the attempt against the
 * client address, and its refusal waits in res.locals.tokenRefusal for `refuseInvalidToken`:
 * a flood of forged tokens is counted like any other traffic.
 */
export function authenticate(verify: Authenticate): RequestHandler {
  return (req, res, next) => {
    verify(req.get("authorization")).then(
      (claims: Claims | null) => {
        res.locals.claims = claims;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof AppError)) return next(err);
        res.locals.claims = null;
        res.locals.tokenRefusal = err;
        next();
      },
    );
  };
}

/** After the rate limiter: HTTP 401 for a token that failed verification. */
export const refuseInvalidToken: RequestHandler = (_req, res, next) => {
  const refusal = res.locals.tokenRefusal as AppError | undefined;
  if (refusal) return sendError(res, 401, refusal.code, refusal.message);
  next();
};
