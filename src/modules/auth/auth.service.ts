/**
 * Bearer tokens: verifying them (HS256 with JWT_SECRET, or the keys of a JWKS URL) and, for
 * local use, signing them. A token says who the caller is (`sub`), their `role` and, for the
 * roles scoped to a unit, that unit's code (`unit`). What the caller may then see is decided by
 * src/domain/access.ts against the org tree.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import type { Config } from "../../config.js";
import type { Db } from "../../db/database.js";
import { ROLES, SCOPED_ROLES, type Role, type Viewer } from "../../domain/access.js";
import { UnauthenticatedError } from "../../errors.js";

/** What a verified token asserts. */
export interface Claims {
  readonly sub: string;
  readonly role: Role;
  readonly unit: string | null;
}

const claimsSchema = z
  .object({
    sub: z.string().min(1).max(200),
    role: z.enum(ROLES),
    unit: z.string().min(1).max(64).optional(),
  })
  .refine((c) => !SCOPED_ROLES.includes(c.role) || c.unit !== undefined, { message: "a unit claim is required for this role", path: ["unit"] });

/** How far an identity provider's clock may run ahead of ours when a token's lifetime is judged. */
const CLOCK_LEEWAY_SECONDS = 60;

/** Verified tokens remembered per process (each entry is a few hundred bytes). */
const VERIFIED_TOKENS_KEPT = 10_000;

export type Authenticate = (authorization: string | undefined) => Promise<Claims | null>;

/** Returns the function that turns an Authorization header into claims (null: anonymous). */
export function createAuthenticator(config: Config): Authenticate {
  if (!config.JWT_SECRET && !config.JWKS_URL) {
    throw new Error("Invalid configuration:\n  JWT_SECRET: set it (or JWKS_URL) in production: tokens cannot be verified otherwise");
  }
  const key: Uint8Array | JWTVerifyGetKey = config.JWKS_URL
    ? createRemoteJWKSet(new URL(config.JWKS_URL))
    : new TextEncoder().encode(config.JWT_SECRET!);
  const options = {
    algorithms: config.JWKS_URL ? ["RS256", "ES256", "EdDSA"] : ["HS256"],
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
    requiredClaims: ["exp"],
  };
  const maxTtlSeconds = config.JWT_MAX_TTL_HOURS * 3600;
  // A client sends the same token with every request until it expires. Its signature was
  // checked the first time: the same bytes verify the same way, so only the clock is checked
  // again. WebCrypto verification was a tenth of a dashboard request's server time.
  const verified = new Map<string, { claims: Claims; exp: number; nbf: number }>();
  return async (authorization) => {
    if (authorization === undefined || authorization === "") return null;
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization);
    if (!match) throw new UnauthenticatedError('expected "Authorization: Bearer <token>"');
    const now = Date.now() / 1000;
    const known = verified.get(match[1]);
    if (known && known.nbf <= now && now < known.exp) return known.claims;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], key as Uint8Array, options));
    } catch (err) {
      // The reason helps a developer and reveals nothing about the bank's data.
      if (err instanceof joseErrors.JWTExpired) throw new UnauthenticatedError("the token has expired");
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new UnauthenticatedError(`the token's ${err.claim} claim is not accepted`);
      throw new UnauthenticatedError("the token is malformed or its signature is not valid");
    }
    // A stolen token is only good until it expires: one that claims a longer life than the
    // bank allows (exp in the year 9999) is refused, not trusted for its whole life.
    const exp = payload.exp!;
    if (exp - now > maxTtlSeconds + CLOCK_LEEWAY_SECONDS || (payload.iat !== undefined && exp - payload.iat > maxTtlSeconds)) {
      throw new UnauthenticatedError(`the token's exp claim is not accepted: a token may live at most ${config.JWT_MAX_TTL_HOURS} h (JWT_MAX_TTL_HOURS)`);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) {
      const issue = claims.error.issues[0];
      throw new UnauthenticatedError(`the token's ${issue.path.join(".") || "claims"} claim is not valid: ${issue.message}`);
    }
    const result: Claims = { sub: claims.data.sub, role: claims.data.role, unit: claims.data.unit ?? null };
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!); // oldest first
    verified.set(match[1], { claims: result, exp: payload.exp!, nbf: payload.nbf ?? 0 });
    return result;
  };
}

/** Signs a token with JWT_SECRET: for development, tests and the demo. */
export async function signToken(config: Config, claims: { sub: string; role: Role; unit?: string | null }, ttlSeconds = 8 * 3600): Promise<string> {
  if (!config.JWT_SECRET) throw new Error("tokens can be signed here only with JWT_SECRET (JWKS_URL tokens come from the identity provider)");
  const jwt = new SignJWT({ role: claims.role, ...(claims.unit ? { unit: claims.unit } : {}) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
  if (config.JWT_ISSUER) jwt.setIssuer(config.JWT_ISSUER);
  if (config.JWT_AUDIENCE) jwt.setAudience(config.JWT_AUDIENCE);
  return jwt.sign(new TextEncoder().encode(config.JWT_SECRET));
}

/**
 * The viewer behind some claims: for the unit-scoped roles, the unit's subtree and ancestors
 * and (for an account manager) the manager the token names, in one statement. A token whose
 * unit does not exist, or an account manager's whose `sub` is not a manager of that unit, is
 * refused (UnauthenticatedError): the identity provider and the org tree disagree about who
 * the caller is, so nothing they would see can be right.
 */
export async function loadViewer(db: Db, claims: Claims | null): Promise<Viewer> {
  if (!claims) return { role: "ANONYMOUS" };
  const base = { role: claims.role, sub: claims.sub, scope: null, managerId: null };
  if (!SCOPED_ROLES.includes(claims.role)) return base;
  const [row] = await db.$queryRaw<{ unit_id: number | null; subtree: number[] | null; ancestors: number[] | null; manager_id: number | null }[]>`
    SELECT b.id AS unit_id,
           (SELECT array_agg(c.descendant_id) FROM branch_closure c WHERE c.ancestor_id = b.id) AS subtree,
           (SELECT array_agg(c.ancestor_id) FROM branch_closure c WHERE c.descendant_id = b.id AND c.ancestor_id <> b.id) AS ancestors,
           (SELECT m.id FROM account_manager m WHERE m.code = ${claims.sub} AND m.branch_id = b.id AND ${claims.role} = 'ACCOUNT_MANAGER') AS manager_id
    FROM (SELECT 1) one LEFT JOIN branch b ON b.code = ${claims.unit}`;
  if (row?.unit_id == null) throw new UnauthenticatedError(`the token's unit claim names no unit ("${claims.unit}")`);
  if (claims.role === "ACCOUNT_MANAGER" && row.manager_id === null) {
    throw new UnauthenticatedError(`the token's sub claim names no account manager of unit "${claims.unit}"`);
  }
  return {
    ...base,
    scope: { unitId: row.unit_id, subtree: new Set(row.subtree ?? []), ancestors: new Set(row.ancestors ?? []) },
    managerId: row.manager_id,
  };
}
