import { describe, expect, it } from "vitest";
import { statementNamer } from "../../src/db/prepared.js";

describe("statementNamer", () => {
  // Each case sends the texts in order and expects the names given to each.
  const cases: { name: string; after: number; max?: number; texts: string[]; names: (string | undefined)[] }[] = [
    { name: "a text is named on its `after`th sending, and keeps its name", after: 3, texts: ["a", "a", "a", "a"], names: [undefined, undefined, "p1", "p1"] },
    { name: "texts are counted apart", after: 2, texts: ["a", "b", "a", "b", "c"], names: [undefined, undefined, "p1", "p2", undefined] },
    { name: "after 1 names at once", after: 1, texts: ["a", "b", "a"], names: ["p1", "p2", "p1"] },
    { name: "after 0 never names", after: 0, texts: ["a", "a", "a", "a"], names: [undefined, undefined, undefined, undefined] },
    { name: "past `max` texts, new ones stay unnamed and named ones keep their names", after: 1, max: 2, texts: ["a", "b", "c", "a", "c"], names: ["p1", "p2", undefined, "p1", undefined] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const name = statementNamer(c.after, c.max);
      expect(c.texts.map((t) => name(t))).toEqual(c.names);
    });
  }

  it("many one-off texts never crowd out a repeated one", () => {
    const name = statementNamer(3);
    name("hot");
    name("hot");
    for (let i = 0; i < 25_000; i++) name(`once ${i}`);
    // The counts started over at 10,000 one-offs: "hot" needs its three sendings again.
    expect([name("hot"), name("hot"), name("hot")]).toEqual([undefined, undefined, "p1"]);
  });
});
