import { completionRate } from "./completion.js";

export interface Contender {
  /** Unit or staff code; orders contenders within a tie. */
  readonly code: string;
  readonly actual: number;
  readonly target: number | null;
}

export type Standing<T extends Contender> = T & {
  readonly rank: number;
  readonly completionRate: number | null;
};

const hasRate = (c: Contender): boolean => c.target !== null && c.target !== 0;

/**
 * Compares actual_a/target_a with actual_b/target_b without dividing, so equal rates such
 * as 1/3 and 2/6 tie exactly. Integers go through BigInt (no overflow); non-integers, which
 * counts and plans should never be, fall back to floating-point cross-multiplication.
 * Returns > 0 when a's rate is higher.
 */
function compareRates(a: Contender, b: Contender): number {
  const ta = a.target as number;
  const tb = b.target as number;
  const sign = Math.sign(ta) * Math.sign(tb); // keeps the order right for a negative target
  if ([a.actual, ta, b.actual, tb].every(Number.isInteger)) {
    const diff = BigInt(a.actual) * BigInt(tb) - BigInt(b.actual) * BigInt(ta);
    return (diff > 0n ? 1 : diff < 0n ? -1 : 0) * sign;
  }
  return Math.sign(a.actual * tb - b.actual * ta) * sign;
}

/** Orders two contenders by the ranking key only: 0 means they share a rank. */
function compareStanding(a: Contender, b: Contender): number {
  const aRated = hasRate(a);
  const bRated = hasRate(b);
  if (aRated !== bRated) return aRated ? -1 : 1;
  if (aRated) return -compareRates(a, b);
  return Math.sign(b.actual - a.actual);
}

/**
 * Ranks peers as the contract says: by completion rate, highest first; those without a
 * rate (no target, or target 0) after all rated ones, by actual, highest first. Ties share
 * a rank and the next rank skips (1, 2, 2, 4), numbering running on across both groups;
 * within a tie, codes ascend (plain string order, so the result does not depend on locale).
 * Returns new objects in ranked order; the input is left untouched.
 */
export function rankStandings<T extends Contender>(items: readonly T[]): Standing<T>[] {
  const sorted = [...items].sort(
    (a, b) => compareStanding(a, b) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
  const standings: Standing<T>[] = [];
  sorted.forEach((item, i) => {
    const tiedWithPrevious = i > 0 && compareStanding(sorted[i - 1], item) === 0;
    const rank = tiedWithPrevious ? standings[i - 1].rank : i + 1;
    standings.push({ ...item, rank, completionRate: completionRate(item.actual, item.target) });
  });
  return standings;
}
