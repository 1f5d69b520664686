/**
 * Completion of a plan, actual ÷ target, as shown to managers (1.3287 → 132.87 %).
 *
 * No target means no rate: null, never a division. A target of 0 is treated the same way
 * (null, not Infinity or NaN): a zero plan gives no yardstick to be "x % complete" against,
 * and the ranking contract puts such units with the target-less ones, ordered by actual.
 */
export function completionRate(actual: number, target: number | null | undefined): number | null {
  if (target === null || target === undefined || target === 0) return null;
  return actual / target;
}
