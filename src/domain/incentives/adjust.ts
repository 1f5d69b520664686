/**
 * Adjustments: a locked statement never changes, so what a recalculation finds different (a late
 * application, a moved first approval, a correction) is paid, or clawed back, on the same
 * recipient's next open statement. Pure: the statement service compares the locked lines with a
 * recalculation of the same plan version and books what this returns.
 */
import { compareLines, type EarningLine, type RuleLine } from "./calculate.js";

/**
 * What changed in one recipient's line under one rule since it was locked: `quantity` is the
 * recalculated quantity − the locked one, `rateFen` the rate now (the locked one when the line
 * is gone), and `amountFen` recalculated − locked: positive is paid in addition, negative is a
 * clawback.
 */
export interface AdjustmentLine extends RuleLine {
  readonly lockedAmountFen: number;
  readonly recalculatedAmountFen: number;
  /** FIRST_ORDER: application numbers counted now but not in the locked line, ascending. */
  readonly applicationsAdded: readonly string[];
  /** FIRST_ORDER: application numbers the locked line counted that no longer count, ascending. */
  readonly applicationsRemoved: readonly string[];
}

const keyOf = (line: EarningLine): string => `${line.recipient.kind}:${line.recipient.id}:${line.ruleIndex}`;

function index(lines: readonly EarningLine[], side: string): Map<string, EarningLine> {
  const byKey = new Map<string, EarningLine>();
  for (const line of lines) {
    const key = keyOf(line);
    if (byKey.has(key)) throw new RangeError(`${side} lines hold two lines for ${line.recipient.code} under rule ${line.ruleIndex}`);
    byKey.set(key, line);
  }
  return byKey;
}

/**
 * The adjustment lines that bring what was locked to what a recalculation of the same plan
 * version gives: one per recipient and rule whose amount differs, or whose counted applications
 * differ (a swap of one customer for another nets 0 but is still shown). A line present on one
 * side only counts as 0 on the other. Ordered like earning lines: managers, then units, by code,
 * then by rule. Throws RangeError when a side holds two lines for one recipient and rule, or the
 * two sides name different kinds for one rule (they are not of the same plan version).
 */
export function adjustments(locked: readonly EarningLine[], recalculated: readonly EarningLine[]): AdjustmentLine[] {
  const before = index(locked, "locked");
  const after = index(recalculated, "recalculated");
  const out: AdjustmentLine[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(key);
    const now = after.get(key);
    const line = (now ?? was) as EarningLine;
    if (was && now && was.ruleKind !== now.ruleKind) {
      throw new RangeError(`rule ${line.ruleIndex} is ${was.ruleKind} in the locked lines and ${now.ruleKind} now: not the same plan version`);
    }
    const wasApps = new Set(was?.applications ?? []);
    const nowApps = new Set(now?.applications ?? []);
    const applicationsAdded = [...nowApps].filter((a) => !wasApps.has(a)).sort();
    const applicationsRemoved = [...wasApps].filter((a) => !nowApps.has(a)).sort();
    const lockedAmountFen = was?.amountFen ?? 0;
    const recalculatedAmountFen = now?.amountFen ?? 0;
    if (lockedAmountFen === recalculatedAmountFen && applicationsAdded.length === 0 && applicationsRemoved.length === 0) continue;
    out.push({
      recipient: line.recipient,
      ruleIndex: line.ruleIndex,
      ruleKind: line.ruleKind,
      metric: line.metric,
      quantity: (now?.quantity ?? 0) - (was?.quantity ?? 0),
      rateFen: line.rateFen,
      amountFen: recalculatedAmountFen - lockedAmountFen,
      lockedAmountFen,
      recalculatedAmountFen,
      applicationsAdded,
      applicationsRemoved,
    });
  }
  return out.sort(compareLines);
}
