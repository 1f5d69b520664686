/**
 * The one way a write turns the codes it was given into row ids: one statement per table for
 * a whole call, and one wording for a code that names nothing (`unknown unit "NOPE"`), either
 * as an issue of the row and field that sent it (BAD_USER_INPUT) or, for a single lookup, as
 * NOT_FOUND naming the field.
 */
import type { Db } from "../../db/database.js";
import type { Tx } from "../../db/transaction.js";
import { NotFoundError, type IssueCollector } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.js";

/** The tables whose rows callers name by code, and what a row is called in messages. */
const TABLES = {
  branch: "unit",
  account_manager: "account manager",
  merchant: "merchant",
  business_circle: "business circle",
  campaign: "campaign",
  promotion: "promotion",
} as const;

export type CodeTable = keyof typeof TABLES;

/** Why a code is refused when it names no row of `table`. */
export function unknownCode(table: CodeTable, code: string): string {
  return `unknown ${TABLES[table]} "${code}"`;
}

/** The ids of the codes of a call that exist in one table. */
export class CodeIds {
  private constructor(
    readonly table: CodeTable,
    private readonly ids: ReadonlyMap<string, number>,
  ) {}

  /** Looks up every distinct code in one statement (none for no codes). */
  static async load(db: Db | Tx, table: CodeTable, codes: Iterable<string>): Promise<CodeIds> {
    const wanted = [...new Set(codes)];
    // `table` is one of the constant names above, never caller input.
    const rows = wanted.length
      ? await db.$queryRaw<{ code: string; id: number }[]>`SELECT code, id FROM ${Prisma.raw(table)} WHERE code = ANY(${wanted}::text[])`
      : [];
    return new CodeIds(table, new Map(rows.map((r) => [r.code, r.id])));
  }

  has(code: string): boolean {
    return this.ids.has(code);
  }

  get(code: string): number | undefined {
    return this.ids.get(code);
  }

  /** The id of `code`; undefined, with an issue on (index, field), when it names nothing. */
  check(issues: IssueCollector, index: number | undefined, field: string, code: string): number | undefined {
    const id = this.ids.get(code);
    if (id === undefined) issues.add(index, field, unknownCode(this.table, code));
    return id;
  }

  /** The distinct ids found. */
  values(): number[] {
    return [...new Set(this.ids.values())];
  }
}

/** The id of one code; NOT_FOUND naming `field` when it names nothing. */
export async function idOf(db: Db | Tx, table: CodeTable, code: string, field: string): Promise<number> {
  const found = await CodeIds.load(db, table, [code]);
  const id = found.get(code);
  if (id === undefined) throw new NotFoundError(TABLES[table], code, field);
  return id;
}
