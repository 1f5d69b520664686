/**
 * Relay building blocks: global ids, the Node interface, cursors, the pagers and a generic
 * connection type. Cursors are opaque to clients but are plain keyset positions for us, so a
 * page costs one indexed range scan however deep it is; every list pages through
 * `keysetPage` (`pageByCode` for lists in code order), and only a list ranked per request
 * (promotionsNear) pages by rank (`offsetPage`).
 */
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";
import { ArgsType, Field, ID, Int, InterfaceType, ObjectType, type ClassType } from "type-graphql";
import { Max, Min } from "class-validator";
import { BadInputError } from "../../errors.js";
import { Limits, Rows } from "../../graphql/field-limits.js";

export function toGlobalId(type: string, key: string): string {
  return Buffer.from(`${type}:${key}`, "utf8").toString("base64url");
}

export function fromGlobalId(id: string): { type: string; key: string } | null {
  const decoded = Buffer.from(id, "base64url").toString("utf8");
  const at = decoded.indexOf(":");
  if (at <= 0) return null;
  return { type: decoded.slice(0, at), key: decoded.slice(at + 1) };
}

@InterfaceType({ description: "An object with a globally unique, opaque id (Relay)." })
export abstract class Node {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field() hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

export const MAX_PAGE_SIZE = 100;

@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 20, description: `Page size, 0..${MAX_PAGE_SIZE}.` })
  @Min(0)
  @Max(MAX_PAGE_SIZE)
  first!: number;

  @Field(() => String, { nullable: true, description: "Cursor of the last edge of the previous page." })
  after?: string | null;
}

export function encodeCursor(key: string): string {
  return Buffer.from(`k:${key}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | null | undefined): string | null {
  if (cursor == null) return null;
  const decoded = Buffer.from(cursor, "base64url").toString("utf8");
  if (!decoded.startsWith("k:")) throw BadInputError.single("after", "not a cursor this API issued");
  return decoded.slice(2);
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: number;
}

function pageOf<T>(edges: { cursor: string; node: T }[], totalCount: number, hasNextPage: boolean, hasPreviousPage: boolean): Page<T> {
  return {
    edges,
    totalCount,
    pageInfo: { hasNextPage, hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/** Builds a page from `first + 1` rows fetched after the cursor. */
export function toPage<T>(rows: T[], first: number, keyOf: (row: T) => string, after: string | null, totalCount: number): Page<T> {
  const edges = rows.slice(0, first).map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return pageOf(edges, totalCount, rows.length > first, after !== null);
}

/**
 * A ranked list whose order is computed per request (promotionsNear: by distance) has no
 * stable key to page after; its cursor is the edge's 1-based rank instead. This is the rank
 * to start after (0 without a cursor).
 */
export function decodeOffset(after: string | null | undefined): number {
  const offset = after ? Number(decodeCursor(after)) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw BadInputError.single("after", "not a cursor this API issued");
  return offset;
}

/**
 * The page of a ranked list: `nodes` start after rank `offset`; `hasNextPage` says whether a row
 * followed them, and `totalCount` is null when the caller did not ask for it (a ranked list
 * may count its nodes only when the selection has totalCount, see `selectsField`).
 */
export function offsetPage<T>(nodes: T[], offset: number, hasNextPage: boolean, totalCount: number | null): Omit<Page<T>, "totalCount"> & { totalCount: number | null } {
  const edges = nodes.map((node, i) => ({ cursor: encodeCursor(String(offset + i + 1)), node }));
  return { ...pageOf(edges, 0, hasNextPage, offset > 0), totalCount };
}

/**
 * Whether the field a resolver answers selects `name` directly on its result (through inline
 * fragments and named fragments too). A directive (@include/@skip) is not judged: the field
 * counts as selected, which costs at most the work it would ask for.
 */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const seen = new Set<string>();
  const within = (set: SelectionSetNode | undefined): boolean =>
    !!set &&
    set.selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === name;
      if (s.kind === Kind.INLINE_FRAGMENT) return within(s.selectionSet);
      if (seen.has(s.name.value)) return false;
      seen.add(s.name.value);
      return within(info.fragments[s.name.value]?.selectionSet);
    });
  return info.fieldNodes.some((node) => within(node.selectionSet));
}

/**
 * The one keyset pager: decodes the cursor (`position` turns its key into the list's position,
 * throwing BadInputError for a key this list never issued), fetches `first + 1` rows after it
 * and the total in parallel, and builds the page. A page costs one range scan and one count
 * however deep it is.
 */
export async function keysetPage<C, R, T>(page: {
  first: number;
  after: string | null | undefined;
  position: (key: string) => C;
  rows: (after: C | null, take: number) => Promise<R[]>;
  count: () => Promise<number>;
  node: (row: R) => T;
  key: (node: T) => string;
}): Promise<Page<T>> {
  const key = decodeCursor(page.after);
  const after = key === null ? null : page.position(key);
  const [rows, totalCount] = await Promise.all([page.rows(after, page.first + 1), page.count()]);
  return toPage(rows.map(page.node), page.first, page.key, key, totalCount);
}

/** A Prisma model that lists rows by their unique code (its `findMany` and `count`). */
interface ByCode<W, R> {
  findMany(args: { where: W; orderBy: { code: "asc" }; take: number }): Promise<R[]>;
  count(args: { where: W }): Promise<number>;
}

/** Most lists: the rows of `model` matching `where`, in code order, keyset-paged by code. */
export function pageByCode<W extends object, R, T extends { code: string }>(
  model: ByCode<W, R>,
  where: W,
  first: number,
  after: string | null | undefined,
  node: (row: R) => T,
): Promise<Page<T>> {
  return keysetPage({
    first,
    after,
    position: (code) => code,
    rows: (afterCode, take) => model.findMany({ where: (afterCode === null ? where : { ...where, code: { gt: afterCode } }) as W, orderBy: { code: "asc" }, take }),
    count: () => model.count({ where }),
    node,
    key: (n) => n.code,
  });
}

/**
 * A Relay connection type for `nodeType`, named `<name>Connection` with `<name>Edge`;
 * `totalCount` describes the count when it is not the exact number of nodes.
 */
export function Connection<T extends object>(nodeType: ClassType<T>, name: string, totalCount = "Number of nodes across all pages.") {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => nodeType) node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    // One row per edge, counted by the connection field's page size; `edges { node }` is one level.
    @Field(() => [Edge]) @Limits({ rows: Rows.ofPage, cost: 0, depth: 0 }) edges!: Edge[];
    // Comes with the page: no cost, no level of its own.
    @Field(() => PageInfo) @Limits({ cost: 0, depth: 0 }) pageInfo!: PageInfo;
    @Field(() => Int, { description: totalCount }) totalCount!: number;
  }
  return ConnectionType;
}
