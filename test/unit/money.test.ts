import { describe, expect, it } from "vitest";
import { fenNumber, fenToYuan, MAX_YUAN, yuanToFen } from "../../src/domain/money.js";

describe("yuanToFen", () => {
  it.each([
    // yuan, allowZero, result
    [0, true, { fen: 0 }],
    [1, true, { fen: 100 }],
    [0.01, true, { fen: 1 }],
    [19.99, true, { fen: 1999 }], // 19.99 * 100 is 1998.9999999999998 as a float: still two decimals
    [0.1 + 0.2, true, { fen: 30 }], // 0.30000000000000004
    [MAX_YUAN, true, { fen: MAX_YUAN * 100 }],
    [0, false, { reason: "0 must be more than zero" }],
    [-1, true, { reason: "-1 must be zero or more" }],
    [-1, false, { reason: "-1 must be more than zero" }],
    [1.005, true, { reason: "1.005 has more than two decimals" }],
    [MAX_YUAN + 1, true, { reason: `must be at most ${MAX_YUAN} yuan` }],
    [Number.NaN, true, { reason: "must be a finite amount" }],
    [Number.POSITIVE_INFINITY, true, { reason: "must be a finite amount" }],
  ] as const)("%s (zero allowed: %s) → %j", (yuan, allowZero, result) => {
    expect(yuanToFen(yuan, allowZero)).toEqual(result);
  });
});

describe("fenToYuan and fenNumber", () => {
  it.each([
    [0n, 0],
    [1n, 0.01],
    [1999n, 19.99],
    [1_000_000_000_000n, 10_000_000_000],
    [250, 2.5],
  ] as const)("%s fen → %s yuan", (fen, yuan) => {
    expect(fenToYuan(fen)).toBe(yuan);
  });

  it("keeps null", () => {
    expect([fenToYuan(null), fenNumber(null), fenNumber(2999n)]).toEqual([null, null, 2999]);
  });
});
