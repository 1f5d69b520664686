import { describe, it, expect } from "vitest";
import { type Contender, rankStandings } from "../../src/domain/ranking.js";

const c = (code: string, actual: number, target: number | null): Contender => ({ code, actual, target });
const summary = (items: readonly Contender[]) => rankStandings(items).map((s) => `${s.rank} ${s.code}`);

describe("rankStandings", () => {
  it.each([
    ["no contenders", [], []],
    ["a single contender", [c("A", 5, 10)], ["1 A"]],
    [
      "equal rates share a rank and the next rank skips (1, 2, 2, 4)",
      [c("D", 5, 10), c("C", 4, 5), c("A", 10, 10), c("B", 8, 10)],
      ["1 A", "2 B", "2 C", "4 D"],
    ],
    [
      "units without a target come after all rated ones, with their own ties, numbering on",
      [c("F", 30, null), c("D", 50, null), c("B", 9, 10), c("E", 50, 0), c("A", 12, 10), c("C", 18, 20)],
      ["1 A", "2 B", "2 C", "4 D", "4 E", "6 F"],
    ],
    [
      "a target of 0 counts as no target, whatever the actual",
      [c("ZERO", 1000, 0), c("LOW", 1, 100)],
      ["1 LOW", "2 ZERO"],
    ],
    [
      "a rate of 0 is still a rate and beats no target",
      [c("NONE", 7, null), c("NIL", 0, 100)],
      ["1 NIL", "2 NONE"],
    ],
    [
      "1/3, 2/6 and 100/300 tie exactly",
      [c("C", 100, 300), c("B", 2, 6), c("A", 1, 3), c("D", 1, 4)],
      ["1 A", "1 B", "1 C", "4 D"],
    ],
    [
      "rates that round to the same float are still told apart",
      // 1 - 2^-53 vs 1 - 1/(2^53 - 1): both are 0.9999999999999999 as floats.
      [c("A", 9007199254740990, 9007199254740991), c("B", 9007199254740991, 9007199254740992)],
      ["1 B", "2 A"],
    ],
    [
      "ties are ordered by code with a plain string compare",
      [c("b", 1, 2), c("a9", 2, 4), c("a10", 3, 6), c("B", 4, 8)],
      ["1 B", "1 a10", "1 a9", "1 b"],
    ],
    [
      "all without a target rank by actual",
      [c("C", 10, null), c("A", 30, null), c("B", 10, 0)],
      ["1 A", "2 B", "2 C"],
    ],
    [
      "the story: 6,245 of 4,700 ranks first",
      [c("CITY-2", 4100, 4300), c("CITY-1", 6245, 4700), c("CITY-3", 3900, 3200)],
      ["1 CITY-1", "2 CITY-3", "3 CITY-2"],
    ],
  ] as const)("%s", (_name, items, expected) => {
    expect(summary(items)).toEqual(expected);
  });

  it.each([
    [c("A", 6245, 4700), 6245 / 4700],
    [c("A", 5, 0), null],
    [c("A", 5, null), null],
  ])("reports the completion rate of %o", (item, rate) => {
    expect(rankStandings([item])[0].completionRate).toBe(rate);
  });

  it("keeps the caller's fields and does not mutate the input", () => {
    const items = Object.freeze([
      Object.freeze({ code: "B", actual: 1, target: 10, name: "Sub-branch B" }),
      Object.freeze({ code: "A", actual: 9, target: 10, name: "Sub-branch A" }),
    ]);
    const standings = rankStandings(items);
    expect(standings).toEqual([
      { code: "A", actual: 9, target: 10, name: "Sub-branch A", rank: 1, completionRate: 0.9 },
      { code: "B", actual: 1, target: 10, name: "Sub-branch B", rank: 2, completionRate: 0.1 },
    ]);
    expect(items.map((i) => i.code)).toEqual(["B", "A"]);
    expect(items[0]).not.toHaveProperty("rank");
    expect(standings[0]).not.toBe(items[1]);
  });

  it("gives the same result whatever the input order", () => {
    const items = [c("A", 1, 3), c("B", 2, 6), c("C", 5, null), c("D", 5, 0), c("E", 3, 4)];
    const expected = summary(items);
    expect(summary([...items].reverse())).toEqual(expected);
    expect(summary([items[2], items[0], items[4], items[1], items[3]])).toEqual(expected);
  });
});
