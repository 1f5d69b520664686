import type { RequestHandler } from "express";
import { AppError } from "../errors.js";
import type { Authenticate, Claims } from "../modules/auth/auth.service.js";
import { sendError } from "./errors.js";

/** Verifies the bearer token once per request; the claims (or null: anonymous) go to res.locals.claims. */
export function authenticate(verify: Authenticate): RequestHandler {
  return (req, res, next) => {
    verify(req.get("authorization")).then(
      (claims: Claims | null) => {
        res.locals.claims = claims;
        next();
      },
      (err: unknown) => {
        if (err instanceof AppError) return sendError(res, 401, err.code, err.message);
        next(err);
      },
    );
  };
}
