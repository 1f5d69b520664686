// Sign-in at the bank's OpenID Connect provider (OIDC_ISSUER, served to the page as
// CONFIG.signIn): the authorization code flow with PKCE, done by oauth4webapi in the browser.
// The page is a public client: it holds no secret; the code verifier proves that the page that
// asked for the code is the one exchanging it. The access token the provider issues for the
// API (`resource`: JWT_AUDIENCE) is what the page sends as its bearer token; the API verifies it
// with the provider's keys (JWKS_URL) and decides what it may see. The session lives in this
// tab (sessionStorage) until the token expires or the user signs out.
import * as oauth from "oauth4webapi";

const SESSION = "dashboard-session";
const PENDING = "dashboard-sign-in";

/** A sign-in that did not complete: its message is shown to the user. */
export class SignInError extends Error {}

/**
 * What an OAuth error says, for the user: the provider's description, else its code.
 * @param {any} err oauth4webapi's ResponseBodyError / AuthorizationResponseError, or any error
 */
function reasonOf(err) {
  return err?.error_description ?? err?.error ?? err?.message ?? String(err);
}

function redirectUri() {
  return `${location.origin}/`;
}

async function discover(signIn) {
  const issuer = new URL(signIn.issuer);
  // Plain http only for a provider on this machine in development: the server refuses it in production.
  const insecure = { [oauth.allowInsecureRequests]: issuer.protocol === "http:" };
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }));
  return { as, client: { client_id: signIn.clientId }, insecure };
}

/** The claims of a JWT, unverified: only to pick the screen; the API verifies the token. */
function claimsOf(token) {
  const part = token.split(".")[1] ?? "";
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
}

/** The signed-in caller, in the shape of the development callers. */
function callerOf(session) {
  const claims = claimsOf(session.token);
  return { id: "oidc", label: session.name ?? claims.sub, role: claims.role, sub: claims.sub, unit: claims.unit ?? null, token: session.token, exp: claims.exp };
}

/** Goes to the provider's sign-in; the page comes back to `/` with a code. */
export async function startSignIn(signIn) {
  const { as } = await discover(signIn);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  if (!as.authorization_endpoint) throw new SignInError("the provider names no authorization endpoint");
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("client_id", signIn.clientId);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", signIn.scope);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", state);
  if (signIn.resource) url.searchParams.set("resource", signIn.resource);
  location.assign(url.href);
}

export function signOut() {
  sessionStorage.removeItem(SESSION);
}

/**
 * The caller signed in in this tab: back from the provider (the code exchanged for tokens), or
 * from an earlier sign-in whose token has not expired; null when nobody is. Leaves the address
 * as it was before the sign-in (the screen's fragment, no code).
 */
export async function currentCaller(signIn) {
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, "", `/${pending?.hash ?? ""}`);
    if (!pending) throw new SignInError("no sign-in was started in this tab");
    const { as, client, insecure } = await discover(signIn);
    let callback;
    try {
      callback = oauth.validateAuthResponse(as, client, params, pending.state);
    } catch (err) {
      throw new SignInError(reasonOf(err));
    }
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), callback, redirectUri(), pending.verifier, {
      ...insecure,
      additionalParameters: signIn.resource ? { resource: signIn.resource } : undefined,
    });
    let result;
    try {
      result = await oauth.processAuthorizationCodeResponse(as, client, response);
    } catch (err) {
      throw new SignInError(reasonOf(err));
    }
    const idToken = oauth.getValidatedIdTokenClaims(result);
    const session = { token: result.access_token, name: idToken?.name ?? idToken?.sub };
    sessionStorage.setItem(SESSION, JSON.stringify(session));
    return callerOf(session);
  }
  const stored = JSON.parse(sessionStorage.getItem(SESSION) ?? "null");
  if (!stored) return null;
  const caller = callerOf(stored);
  if (typeof caller.exp === "number" && caller.exp * 1000 <= Date.now()) {
    signOut();
    return null;
  }
  return caller;
}
