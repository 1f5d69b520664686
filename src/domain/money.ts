/**
 * Money: the API speaks yuan (numbers with at most two decimals), the database and every rule
 * count fen (integers), so no sum ever rounds. Pure functions.
 */

/** The largest amount the API accepts, in yuan: far above any budget, far below 2^53 fen. */
export const MAX_YUAN = 1e10;

/**
 * Yuan → fen, or why the amount is refused: not finite, negative (or zero when `allowZero` is
 * false), above {@link MAX_YUAN}, or with more than two decimals.
 */
export function yuanToFen(yuan: number, allowZero = true): { fen: number } | { reason: string } {
  const fen = Math.round(yuan * 100);
  if (!Number.isFinite(yuan)) return { reason: "must be a finite amount" };
  if (yuan < 0 || (!allowZero && yuan === 0)) return { reason: `${yuan} must be ${allowZero ? "zero or more" : "more than zero"}` };
  if (yuan > MAX_YUAN) return { reason: `must be at most ${MAX_YUAN} yuan` };
  // A float's binary error is far below a millionth of a fen; a third decimal is not.
  if (Math.abs(fen - yuan * 100) > 1e-6) return { reason: `${yuan} has more than two decimals` };
  return { fen };
}

/** Fen (as stored: bigint, or a number) → yuan; null stays null. */
export function fenToYuan(fen: bigint | number): number;
export function fenToYuan(fen: bigint | number | null): number | null;
export function fenToYuan(fen: bigint | number | null): number | null {
  return fen == null ? null : Number(fen) / 100;
}

/** A stored fen amount as a number for the rules (amounts stay far below 2^53); null stays null. */
export function fenNumber(fen: bigint | null): number | null {
  return fen == null ? null : Number(fen);
}
