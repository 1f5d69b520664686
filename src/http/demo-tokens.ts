/**
 * The demo callers with a development token each (signToken's 8 h): what `npm start` prints,
 * the GraphQL IDE (src/http/ide.ts) and the dashboard's caller picker (src/http/dashboard.ts)
 * offer when the server checks tokens with the development key, and nothing otherwise. Signed
 * afresh for each page, so a page opened later never holds an expired token.
 */
import type { Config } from "../config.js";
import { DEMO_CALLERS, type DemoCaller } from "../demo/callers.js";
import { signToken } from "../modules/auth/auth.service.js";

/** Every demo caller (the anonymous one with a null token); none without development tokens. */
export async function demoCallersWithTokens(config: Config): Promise<{ caller: DemoCaller; token: string | null }[]> {
  if (!config.devTokens) return [];
  return Promise.all(DEMO_CALLERS.map(async (caller) => ({ caller, token: caller.claims ? await signToken(config, caller.claims) : null })));
}
