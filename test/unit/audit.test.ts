import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { attemptedMutation, looksLikeMutation, mutationOf } from "../../src/modules/audit/audit.document.js";
import { cleanJson, cleanText, outcomeOf } from "../../src/modules/audit/audit.service.js";

describe("cleanText: what the trail stores of a string", () => {
  it.each([
    ["plain", "plain"],
    ["a\u0000b", "a\u2400b"],
    ["lone \uD800 high", "lone \uFFFD high"],
    ["lone \uDC00 low", "lone \uFFFD low"],
    ["pair \uD83D\uDE00 kept", "pair \uD83D\uDE00 kept"],
    ["x".repeat(200), "x".repeat(200)],
    ["x".repeat(201), `${"x".repeat(200)}…[+1 chars]`],
    // A cut never splits a surrogate pair.
    [`${"x".repeat(199)}\uD83D\uDE00`, `${"x".repeat(199)}…[+2 chars]`],
  ])("%j → %j", (input, stored) => {
    expect(cleanText(input)).toBe(stored);
  });
});

describe("cleanJson: details bounded and cleaned", () => {
  it("cleans strings and keys, bounds lists, objects and nesting", () => {
    const issues = Array.from({ length: 25 }, (_, i) => ({ index: i, field: "code", reason: `bad \u0000 ${i}` }));
    const cleaned = cleanJson({ issues, "k\u0000": 1, deep: { a: { b: { c: { d: 1 } } } }, n: Number.NaN, big: 10n }) as any;
    expect(cleaned.issues).toHaveLength(21);
    expect(cleaned.issues[0]).toEqual({ index: 0, field: "code", reason: "bad \u2400 0" });
    expect(cleaned.issues[20]).toBe("…[+5 items]");
    expect(cleaned["k\u2400"]).toBe(1);
    expect(cleaned.deep).toEqual({ a: { b: { c: "…" } } });
    expect([cleaned.n, cleaned.big]).toEqual([null, "10"]);
    const wide = cleanJson(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]))) as Record<string, unknown>;
    expect(Object.keys(wide)).toHaveLength(21);
    expect(wide["…"]).toBe("+10 keys");
  });
});

describe("outcomeOf", () => {
  it.each([
    ["FORBIDDEN", "DENIED"],
    ["UNAUTHENTICATED", "DENIED"],
    ["BAD_USER_INPUT", "REJECTED"],
    ["GRAPHQL_VALIDATION_FAILED", "REJECTED"],
    ["BUDGET_EXHAUSTED", "REJECTED"],
    ["INTERNAL_SERVER_ERROR", "FAILED"],
    [undefined, "FAILED"],
  ])("%s → %s", (code, outcome) => {
    expect(outcomeOf(code)).toBe(outcome);
  });
});

describe("the root fields a refused mutation request names", () => {
  it.each([
    ["mutation { a: setTargets(input: []) { created } b: recordVisits(input: []) { created } }", null, "setTargets,recordVisits"],
    ["mutation { ... on Mutation { setTargets(input: []) { created } } }", null, "setTargets"],
    ["mutation { ...W ...W } fragment W on Mutation { ...W setTargets(input: []) { created } __typename }", null, "setTargets"],
    ["mutation { ...Missing }", null, "unparsed"],
    ["{ branch(code: \"P\") { code } }", null, null],
    ["query Q { x } mutation M { setTargets(input: []) { created } }", "Q", null],
    ["query Q { x } mutation M { setTargets(input: []) { created } }", "M", "setTargets"],
    ["query Q { x } mutation M { setTargets(input: []) { created } }", "Nope", "setTargets"],
  ])("%s (operationName %s) → %s", (text, operationName, operation) => {
    expect(mutationOf(parse(text), operationName)).toBe(operation);
  });

  it.each([
    ["mutation { setTargets(input: [", true],
    ["  # a comment\n mutation M($a: Int) { x(", true],
    ["{ branch(code: \"mutation\") {", false],
    ["query($mutation: Int) { x(", false],
    ["{ a { mutation } ", false],
    ["mutation\u0001", true],
    ["\u0001 mutation", false],
  ])("unparsed %j looks like a mutation: %s", (text, expected) => {
    expect(looksLikeMutation(text)).toBe(expected);
  });

  it("parses a request body's query within the token limit", () => {
    expect(attemptedMutation("mutation { setTargets(input: []) { created } }", undefined, {})).toBe("setTargets");
    expect(attemptedMutation("mutation { setTargets(input: []) { created } }", undefined, { maxTokens: 5 })).toBe("unparsed");
    expect(attemptedMutation(42, undefined, {})).toBeNull();
  });
});
