import { describe, it, expect } from "vitest";
import { completionRate } from "../../src/domain/completion.js";

describe("completionRate", () => {
  it("gives the story's 132.87 % for 6,245 of 4,700", () => {
    expect(completionRate(6245, 4700)).toBeCloseTo(1.3287, 4);
  });

  it.each([
    [0, 100, 0],
    [50, 100, 0.5],
    [100, 100, 1],
    [150, 100, 1.5],
    [1, 3, 1 / 3],
  ])("completionRate(%i, %i) = %d", (actual, target, expected) => {
    expect(completionRate(actual, target)).toBe(expected);
  });

  it.each([
    [10, null],
    [10, undefined],
    [10, 0],
    [0, 0],
  ])("completionRate(%i, %s) has no rate", (actual, target) => {
    expect(completionRate(actual, target)).toBeNull();
  });
});
