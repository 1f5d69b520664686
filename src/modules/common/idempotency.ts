/**
 * Idempotency keys for create/update calls: the same key with the same input returns the first
 * result; the same key with a different input is a CONFLICT. The key is held for the whole
 * transaction, so two concurrent calls with one key run one after the other.
 */
import { createHash } from "node:crypto";
import { AppError, BadInputError } from "../../errors.js";
import type { Db } from "../../db/database.js";
import { lockIdempotencyKey } from "../../db/locks.js";
import { inTransaction, type AuditOptions, type Tx } from "../../db/transaction.js";
import type { ChangeLog } from "../../live/change.js";

/**
 * JSON with object keys sorted, so equal inputs hash equally whatever their key order (and a
 * value read back from a jsonb column, whose key order is PostgreSQL's, compares equal to the
 * one that was written).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    // Lists of codes or days are sets: a retry that lists them in another order is the same request.
    const items = value.map(canonicalJson);
    return `[${(value.every((v) => typeof v !== "object") ? items.sort() : items).join(",")}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * A create/update call in one transaction, idempotent by `input.idempotencyKey`; `run` returns
 * the code of what it wrote, and a replay returns that code without running again. A replay is
 * audited like the first call (`options.audit`): the caller asked, and got a success.
 */
export async function idempotentWrite(
  db: Db,
  operation: string,
  input: { idempotencyKey: string },
  options: AuditOptions,
  run: (tx: Tx, changes: ChangeLog) => Promise<string>,
): Promise<string> {
  const key = input.idempotencyKey;
  if (key.length < 8 || key.length > 128) throw BadInputError.single("idempotencyKey", "must be 8 to 128 characters");
  const { idempotencyKey: _, ...rest } = input as Record<string, unknown>;
  const hash = createHash("sha256").update(canonicalJson(rest)).digest("hex");
  return inTransaction(db, options, async (tx, changes) => {
    await lockIdempotencyKey(tx, operation, key);
    const seen = await tx.idempotencyKey.findUnique({ where: { operation_key: { operation, key } } });
    if (seen) {
      if (seen.requestHash !== hash) {
        throw new AppError("CONFLICT", `idempotencyKey: "${key}" was already used for a different ${operation} request`, [
          { field: "idempotencyKey", reason: "already used with a different input" },
        ]);
      }
      return (seen.response as { result: string }).result;
    }
    const result = await run(tx, changes);
    await tx.idempotencyKey.create({ data: { operation, key, requestHash: hash, response: { result } } });
    return result;
  });
}
