/**
 * Trusted documents: the operations the bank's mobile app sends, known in advance. The app
 * sends only a document's hash (`documentId: "sha256:<hex>"`, or Apollo's
 * `extensions.persistedQuery.sha256Hash`); the server runs the document it holds for that
 * hash. With TRUSTED_DOCUMENTS=anonymous (production's default) an anonymous caller can run
 * nothing else, so the public internet meets a fixed list of operations, not a query language.
 * The app only reads: a promotion's use is reported by the acquiring platform (ACQUIRER), never
 * by the app.
 *
 * The dashboard page (src/dashboard/documents.ts) sends only trusted documents too, its
 * subscriptions over WebSocket included (src/live/subscriptions.ts reads the same reference).
 *
 * `npm run documents` prints the manifest (hash → document) for the app's build.
 */
import { createHash } from "node:crypto";
import { DASHBOARD_DOCUMENTS, DASHBOARD_SUBSCRIPTIONS } from "../dashboard/documents.js";

export const TRUSTED_DOCUMENTS: readonly string[] = [
  `query PromotionsNear($latitude: Float!, $longitude: Float!, $radiusMeters: Int! = 2000, $at: DateTime, $cardToken: String, $first: Int = 20, $after: String) {
  promotionsNear(latitude: $latitude, longitude: $longitude, radiusMeters: $radiusMeters, at: $at, cardToken: $cardToken, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        distanceMeters
        availableUntil
        nextAvailableAt
        remainingForCard { perDay perWeek perCampaign }
        merchant { code name category address latitude longitude }
        promotion {
          code
          title
          validFrom
          validTo
          rule { kind headline percentOff maxDiscount fixedPrice listPrice cashback minSpend drawOdds prizeValue }
          schedule { days start end }
          limits { perDay perWeek perCampaign }
        }
      }
    }
  }
}`,
  ...Object.values(DASHBOARD_DOCUMENTS),
  ...Object.values(DASHBOARD_SUBSCRIPTIONS),
];

export function documentHash(document: string): string {
  return createHash("sha256").update(document, "utf8").digest("hex");
}

/** hash (hex) → document. */
export const TRUSTED_MANIFEST: ReadonlyMap<string, string> = new Map(TRUSTED_DOCUMENTS.map((d) => [documentHash(d), d]));

/** How a request names a trusted document: `documentId` ("sha256:<hex>") or Apollo's persistedQuery extension. */
export interface TrustedReference {
  documentId?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } } & Record<string, unknown>;
}

/** The hash a request (an HTTP body, a WebSocket subscribe payload) names, if it names one. */
export function requestedHash(request: TrustedReference): string | undefined {
  if (typeof request.documentId === "string") return request.documentId.replace(/^sha256:/, "");
  const apq = request.extensions?.persistedQuery?.sha256Hash;
  return typeof apq === "string" ? apq : undefined;
}
