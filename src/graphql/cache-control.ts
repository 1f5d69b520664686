/**
 * HTTP caching for the few answers that may be cached (the mobile app's nearby promotions).
 * A resolver states its hint; the response is cacheable only if every root field did and
 * nothing failed. Everything else, mutations above all, is `no-store`.
 */
import type { ApolloServerPlugin } from "@apollo/server";

export class CachePolicy {
  private hints = new Map<number, { maxAge: number; scope: "PUBLIC" | "PRIVATE" }>();
  private count = 0;

  /** Called by a root resolver that may be cached for `maxAge` seconds. */
  hint(maxAge: number, scope: "PUBLIC" | "PRIVATE"): void {
    this.hints.set(this.count++, { maxAge, scope });
  }

  header(rootFields: number): string {
    if (rootFields === 0 || this.hints.size !== rootFields) return "no-store";
    const all = [...this.hints.values()];
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
          const body = response.body.kind === "single" ? response.body.singleResult : undefined;
          const ok = operation?.operation === "query" && body !== undefined && !body.errors?.length;
          const rootFields = operation?.selectionSet.selections.length ?? 0;
          response.http.headers.set("cache-control", ok ? contextValue.cache.header(rootFields) : "no-store");
        },
      };
    },
  };
}
