/**
 * Cache hits without GraphQL: a POST whose answer the response cache holds (src/graphql/
 * response-cache.ts) is answered here, after the token, the rate limit, the body and the
 * trusted-document checks, without Apollo's pipeline (parsing, validation, the cost and input
 * checks, the plugins), which is most of a hit's cost. The bytes and headers are those Apollo
 * sent when the answer was stored; anything this path cannot answer exactly as Apollo would (a
 * GET, another Accept, extensions, a read a replica could serve) goes on to Apollo, whose plugin
 * still serves the entry.
 */
import type { RequestHandler } from "express";
import type { EarlyAnswer, ResponseCache } from "../graphql/response-cache.js";
import type { Claims } from "../modules/auth/auth.service.js";

/** Accept headers for which Apollo answers `application/json; charset=utf-8` (its chooseContentTypeForSingleResultResponse). */
const JSON_ACCEPTS = new Set([undefined, "", "*/*", "application/json"]);

/**
 * An answer's bytes and ETag, made on its first early hit and kept while it is cached: express
 * would encode and hash the same body again for every hit. The ETag is express's own (its
 * `etag fn` setting), so a hit carries the header Apollo's answer carried.
 */
const prepared = new WeakMap<EarlyAnswer, { bytes: Buffer; etag: string | undefined }>();

/** `today` is the request's business date, as the GraphQL context would give it. */
export function earlyAnswers(cache: ResponseCache, today: () => string): RequestHandler {
  return (req, res, next) => {
    const body = req.body as { query?: unknown; operationName?: unknown; variables?: unknown; extensions?: object } | undefined;
    if (
      req.method !== "POST" ||
      !JSON_ACCEPTS.has(req.get("accept")) ||
      typeof body?.query !== "string" ||
      (body.operationName != null && typeof body.operationName !== "string") ||
      (body.variables != null && (typeof body.variables !== "object" || Array.isArray(body.variables))) ||
      (body.extensions != null && Object.keys(body.extensions).length > 0)
    ) {
      return next();
    }
    const claims = res.locals.claims as Claims | null;
    const answer = cache.earlyAnswer(claims, today(), { query: body.query, operationName: body.operationName as string | undefined, variables: body.variables as Record<string, unknown> | undefined });
    if (!answer) return next();
    // What the metrics' middleware reads as the request finishes (src/observability/metrics.ts).
    res.locals.operation = answer.label;
    res.locals.operationType = "query";
    let sent = prepared.get(answer);
    if (!sent) {
      const bytes = Buffer.from(answer.body, "utf8");
      const etag = req.app.get("etag fn") as ((body: Buffer) => string | undefined) | undefined;
      sent = { bytes, etag: etag?.(bytes) };
      prepared.set(answer, sent);
    }
    res.status(200).set({ "content-type": "application/json; charset=utf-8", "cache-control": answer.cacheControl });
    if (sent.etag) res.set("ETag", sent.etag);
    res.send(sent.bytes);
  };
}
