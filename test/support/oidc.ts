/**
 * A real OpenID Connect provider on this machine for the dashboard's sign-in tests: panva's
 * `oidc-provider` (the certified implementation), on port 0, with its development login and
 * consent pages. It issues JWT access tokens for the API (resource indicator = JWT_AUDIENCE),
 * signed by an RSA key it publishes at its JWKS URI, carrying the claims the API's
 * authenticator needs (`sub`, `role`, `unit`: src/modules/auth/auth.service.ts).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider, { errors } from "oidc-provider";

/** The dashboard's client id at the provider, and the API's audience. */
export const OIDC_CLIENT_ID = "card-growth-dashboard";
// A resource indicator is an absolute URI (RFC 8707).
export const OIDC_AUDIENCE = "urn:card-growth:api";
/** The scope the API's tokens carry (the page asks `openid` and this). */
export const OIDC_API_SCOPE = "dashboard";

export interface Account {
  readonly name: string;
  readonly role: string;
  readonly unit?: string;
}

export interface TestProvider {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Serves the provider, for a dashboard that comes back to `redirectUri`. */
  start(redirectUri: string): void;
  close(): Promise<void>;
}

/** Listens at once (the issuer's address is needed to start the API); answers once started. */
export async function listenOidcProvider(accounts: Readonly<Record<string, Account>>): Promise<TestProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const key = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" };
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    start(redirectUri) {
      const provider = new Provider(issuer, {
        clients: [
          { client_id: OIDC_CLIENT_ID, token_endpoint_auth_method: "none", redirect_uris: [redirectUri], grant_types: ["authorization_code"], response_types: ["code"] },
        ],
        jwks: { keys: [key as never] },
        pkce: { methods: ["S256"], required: () => true },
        claims: { openid: ["sub", "name"] },
        cookies: { keys: ["oidc-test-cookie-key-0123456789"] },
        features: {
          devInteractions: { enabled: true },
          resourceIndicators: {
            enabled: true,
            defaultResource: () => OIDC_AUDIENCE,
            useGrantedResource: () => true,
            getResourceServerInfo: (_ctx, resource) => {
              if (resource !== OIDC_AUDIENCE) throw new errors.InvalidTarget();
              return { scope: OIDC_API_SCOPE, audience: OIDC_AUDIENCE, accessTokenTTL: 3600, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } };
            },
          },
        },
        // A browser application registered with the provider may call its token endpoint from its own origin.
        clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
        ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
        findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, name: accounts[id]?.name ?? id }) }),
        // The API's claims, on the access token.
        extraTokenClaims: (_ctx, token) => {
          const account = "accountId" in token ? accounts[token.accountId as string] : undefined;
          return account ? { role: account.role, ...(account.unit ? { unit: account.unit } : {}) } : {};
        },
      });
      server.on("request", provider.callback());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
