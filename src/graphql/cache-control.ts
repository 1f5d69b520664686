/**
 * HTTP caching for the few answers that may be cached (the mobile app's nearby promotions).
 * A resolver states its hint; the response is cacheable only if every root field did and
 * nothing failed. Everything else, mutations above all, is `no-store`.
 */
import type { ApolloServerPlugin } from "@apollo/server";

export class CachePolicy {
  private hints: { maxAge: number; scope: "PUBLIC" | "PRIVATE" }[] = [];
  /** Root fields resolved, counted by the plugin, so fragments and aliases cannot hide one. */
  rootFields = 0;

  /** Called by a root resolver that may be cached for `maxAge` seconds. */
  hint(maxAge: number, scope: "PUBLIC" | "PRIVATE"): void {
    this.hints.push({ maxAge, scope });
  }

  header(): string {
    if (this.rootFields === 0 || this.hints.length !== this.rootFields) return "no-store";
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
        async executionDidStart() {
          return {
            willResolveField({ contextValue, info }) {
              if (info.path.prev === undefined) contextValue.cache.rootFields += 1;
            },
          };
        },
        async willSendResponse({ contextValue, operation, response }) {
          const body = response.body.kind === "single" ? response.body.singleResult : undefined;
          const ok = operation?.operation === "query" && body !== undefined && !body.errors?.length;
          response.http.headers.set("cache-control", ok ? contextValue.cache.header() : "no-store");
        },
      };
    },
  };
}
