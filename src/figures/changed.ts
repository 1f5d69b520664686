/**
 * What a committed write changed, for whoever follows the figures (live updates, incentives):
 * each subject whose daily count moved on at least one day, and those days.
 */
import type { BusinessDate } from "../domain/dates.js";

export interface FiguresChanged {
  /** Unit codes: every unit a moved record sits under (a unit's figures cover its subtree). */
  units: string[];
  /** Account-manager codes. */
  managers: string[];
  /** Campaign codes, as the records name them. */
  campaigns: string[];
  /** Merchant codes, as the records name them. */
  merchants: string[];
  /** The days whose counts moved, ascending. */
  days: BusinessDate[];
}

/** The union of several writes' changes (none: nothing changed), each list sorted and without repeats. */
export function mergeChanged(...all: FiguresChanged[]): FiguresChanged {
  const union = (pick: (c: FiguresChanged) => string[]) => [...new Set(all.flatMap(pick))].sort();
  return { units: union((c) => c.units), managers: union((c) => c.managers), campaigns: union((c) => c.campaigns), merchants: union((c) => c.merchants), days: union((c) => c.days) };
}
