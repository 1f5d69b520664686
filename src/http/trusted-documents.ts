import type { RequestHandler } from "express";
import type { Config } from "../config.js";
import { requestedHash, type TrustedReference } from "../graphql/trusted-documents.js";
import type { Claims } from "../modules/auth/auth.service.js";
import { sendError } from "./errors.js";

type Body = TrustedReference & { query?: unknown };

/**
 * Swaps a trusted document's hash for its text (POST bodies), and refuses free-text documents
 * from callers who must use trusted ones.
 */
export function trustedDocuments(config: Config, manifest: ReadonlyMap<string, string>): RequestHandler {
  return (req, res, next) => {
    const claims = res.locals.claims as Claims | null;
    const mustTrust = config.TRUSTED_DOCUMENTS === "all" || (config.TRUSTED_DOCUMENTS === "anonymous" && claims === null);
    const body = (req.method === "POST" && req.body && typeof req.body === "object" ? req.body : null) as Body | null;
    const hash = body ? requestedHash(body) : undefined;
    if (body && hash !== undefined) {
      // A trusted document carries a few variables: the anonymous body limit applies whoever sends it.
      if (((res.locals.bodyBytes as number | undefined) ?? 0) > config.ANONYMOUS_BODY_LIMIT_BYTES) {
        return sendError(res, 413, "PAYLOAD_TOO_LARGE", `A trusted document's request body may be at most ${config.ANONYMOUS_BODY_LIMIT_BYTES} bytes`);
      }
      const document = manifest.get(hash.toLowerCase());
      if (document === undefined) return sendError(res, 400, "PERSISTED_QUERY_NOT_FOUND", "Unknown document id: not a trusted document");
      body.query = document;
      delete body.documentId;
      if (body.extensions) delete body.extensions.persistedQuery;
      return next();
    }
    if (mustTrust && req.method !== "OPTIONS") {
      return sendError(res, 400, "TRUSTED_DOCUMENT_REQUIRED", "Only trusted documents are accepted here: send documentId instead of query");
    }
    next();
  };
}
