/**
 * What a field weighs in a document's cost and depth, declared where the field is declared
 * (`@Limits({ … })` next to `@Field` / `@FieldResolver` / `@Query`). src/graphql/limits.ts
 * reads these declarations from the built schema; test/integration/limits.test.ts fails when
 * a list or a connection has no row bound.
 *
 * This file imports nothing of the modules, so every module may import it.
 */
import type { GraphQLField } from "graphql";
import { Extensions } from "type-graphql";

/** How many rows a list or a connection can return. */
export type RowBound =
  /** At most `rows`: a fixed set (the four metrics) or, for a list the data does not cap, a stated estimate. */
  | { readonly kind: "upTo"; readonly rows: number }
  /** The page size argument (`first`), at most `max`; its default when absent. */
  | { readonly kind: "page"; readonly arg: string; readonly max: number }
  /** Depends on an enum argument: a daily series has more points than a monthly one. */
  | { readonly kind: "byArgument"; readonly arg: string; readonly rows: Readonly<Record<string, number>> }
  /** A connection's `edges`: the connection field above counts its page. */
  | { readonly kind: "ofPage" };

export interface FieldLimits {
  /** Rows the field can return; a list of objects or a connection must declare it. */
  readonly rows?: RowBound;
  /** What the field costs by itself (per row for a list); default 1 for an object, 0 for a scalar or enum. */
  readonly cost?: number;
  /** Levels the field adds to a document's depth; default 1. */
  readonly depth?: number;
}

export const Rows = {
  upTo: (rows: number): RowBound => ({ kind: "upTo", rows }),
  page: (max: number, arg = "first"): RowBound => ({ kind: "page", arg, max }),
  byArgument: (arg: string, rows: Readonly<Record<string, number>>): RowBound => ({ kind: "byArgument", arg, rows }),
  ofPage: { kind: "ofPage" } as RowBound,
} as const;

const KEY = "limits";

/** Declares a field's row bound, own cost or depth (type-graphql field extensions). */
export function Limits(limits: FieldLimits) {
  return Extensions({ [KEY]: limits });
}

/** The declared limits of a field of the built schema (empty when none were declared). */
export function limitsOf(field: Pick<GraphQLField<unknown, unknown>, "extensions">): FieldLimits {
  return ((field.extensions as Record<string, unknown> | undefined)?.[KEY] as FieldLimits | undefined) ?? {};
}

/**
 * The rows a field can return for these (coerced) arguments. A page size out of range counts
 * as its bound: the field's own validation refuses it with BAD_USER_INPUT, which says more
 * than "too costly" would.
 */
export function rowsOf(bound: RowBound, args: Record<string, unknown>): number {
  switch (bound.kind) {
    case "upTo":
      return bound.rows;
    case "ofPage":
      return 1;
    case "page": {
      const asked = args[bound.arg];
      return typeof asked === "number" && Number.isFinite(asked) ? Math.min(Math.max(Math.trunc(asked), 0), bound.max) : bound.max;
    }
    case "byArgument":
      return bound.rows[String(args[bound.arg])] ?? Math.max(...Object.values(bound.rows));
  }
}
