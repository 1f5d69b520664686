/**
 * HTTP caching for the few answers that may be cached (the mobile app's nearby promotions).
 * A resolver states its hint; the response is cacheable only if every root field did and
 * nothing failed. Everything else, mutations above all, is `no-store`.
 */
import type { ApolloServerPlugin } from "@apollo/server";

export class CachePolicy {
  private hints: { maxAge: number; scope: "PUBLIC" | "PRIVATE" }[] = [];

  /** Called by a root resolver that may be cached for `maxAge` seconds. */
  hint(maxAge: number, scope: "PUBLIC" | "PRIVATE"): void {
    this.hints.push({ maxAge, scope });
  }

  /**
   * `rootFields`: the keys of a successful answer's data. Each is one root field resolved once
   * (aliases and fragments included), so none can go unhinted; a root `__typename` has no
   * resolver to hint and makes the answer no-store.
   */
  header(rootFields: number): string {
    if (rootFields === 0 || this.hints.length !== rootFields) return "no-store";
    const all = this.hints;
    const maxAge = Math.min(...all.map((h) => h.maxAge));
    const scope = all.some((h) => h.scope === "PRIVATE") ? "private" : "public";
    return `${scope}, max-age=${maxAge}`;
  }
}

export function cacheControlPlugin(): ApolloServerPlugin<{ cache: CachePolicy }> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, operation, response }) {
          // Counted from the answer rather than a per-field hook: a hook on every field's
          // resolution cost every query's execution, cached or not.
          const body = response.body.kind === "single" ? response.body.singleResult : undefined;
          const ok = operation?.operation === "query" && body?.data != null && !body.errors?.length;
          response.http.headers.set("cache-control", ok ? contextValue.cache.header(Object.keys(body.data!).length) : "no-store");
        },
      };
    },
  };
}
