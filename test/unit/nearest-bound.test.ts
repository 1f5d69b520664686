import { describe, expect, it } from "vitest";
import { nearestBound, offersNearCtes } from "../../src/figures/offer-index.js";

describe("nearestBound: how many nearest offers bound a nearby page", () => {
  // rows = offset + take (take is first + 1: the extra row tells whether a next page exists).
  it.each([
    [1, 21],
    [21, 21], // the card app's first page of 20
    [22, 42],
    [42, 42],
    [43, 84],
    [8 * 20 + 21, 336], // the ninth page of 20 (181 rows) → 21 · 2⁴
    [1_000_000, 21 * 2 ** 16],
  ])("a page ending %i rows in is bounded by the %i nearest", (rows, bound) => {
    expect(nearestBound(rows)).toBe(bound);
    expect(nearestBound(rows)).toBeGreaterThanOrEqual(rows);
  });

  it("keeps the statement's texts few: 17 bounds cover every page up to a million rows in", () => {
    const bounds = new Set(Array.from({ length: 1_000_000 }, (_, i) => nearestBound(i + 1)));
    expect(bounds.size).toBe(17);
  });

  it("writes the bound into the text, and refuses anything but a positive integer", () => {
    expect(offersNearCtes(42)).toContain("LIMIT 42\n");
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => offersNearCtes(bad)).toThrow(/positive integer/);
  });
});
