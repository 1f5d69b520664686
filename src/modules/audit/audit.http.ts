/**
 * Refusals the HTTP layer sends before GraphQL runs that the audit trail must still show: a
 * request whose bearer token is forged, expired or malformed (HTTP 401). Such a request is
 * refused before its body is read (reading it is work an attacker would choose), so its entry
 * names the operation only when it is already known (a GET's query string), else "unparsed":
 * every failed authentication is recorded, queries included. The refusal is held back until
 * its entry is written, as the plugin's entries are written before their response goes out.
 * Rate-limited requests are not recorded: shedding load must not cost an insert per refused
 * request (and the rate limit bounds how many forged tokens reach this point).
 */
import type { RequestHandler, Response } from "express";
import type { ParseOptions } from "graphql";
import type { Db } from "../../db/database.js";
import type { Logger } from "../../logger.js";
import { attemptedMutation, UNPARSED } from "./audit.document.js";
import { outcomeOf, recordAudit } from "./audit.service.js";

const CODE = "UNAUTHENTICATED";

/** The refusal's message, from the GraphQL-shaped error body the HTTP layer sends. */
function messageOf(chunk: unknown): string | null {
  try {
    const text = Buffer.isBuffer(chunk) ? chunk.toString("utf8") : typeof chunk === "string" ? chunk : null;
    const message = text === null ? undefined : JSON.parse(text)?.errors?.[0]?.message;
    return typeof message === "string" ? message : null;
  } catch {
    return null;
  }
}

/**
 * Express middleware, first on the GraphQL route. A body not read yet when the token was
 * refused cannot say whether it was a mutation: the attempt is then recorded as "unparsed".
 */
export function auditRefusedTokens(db: Db, logger: Logger, parseOptions: ParseOptions): RequestHandler {
  return (req, res, next) => {
    const end = res.end;
    res.end = function (this: Response, ...args: unknown[]) {
      res.end = end;
      const send = () => (end as (...a: unknown[]) => Response).apply(this, args);
      if (res.statusCode !== 401) return send();
      const body = (req.method === "GET" ? req.query : req.body) as { query?: unknown; operationName?: unknown } | undefined;
      const operation = body === undefined ? UNPARSED : attemptedMutation(body?.query, body?.operationName, parseOptions);
      if (operation === null) return send();
      const entry = { subject: "anonymous", role: "ANONYMOUS", operation, outcome: outcomeOf(CODE), errorCode: CODE, details: { message: messageOf(args[0]) } };
      recordAudit(db, [entry])
        .catch((err: unknown) => logger.error({ err, entry }, "could not write the audit trail"))
        .finally(send);
      return this;
    } as Response["end"];
    next();
  };
}
