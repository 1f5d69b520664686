/**
 * What a request's raw input must be before anything runs: JSON nesting judged on the bytes,
 * and argument strings that are text (no NUL, no unpaired surrogate), found by path.
 */
import { parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { badArgumentStrings, textProblem } from "../../src/graphql/request-checks.js";
import { nestsDeeperThan } from "../../src/http/body.js";

const bytes = (s: string) => Buffer.from(s, "utf8");

describe("nestsDeeperThan", () => {
  it.each([
    ['{"a":1}', 1, false],
    ['{"a":[1]}', 1, true],
    ['{"a":[1]}', 2, false],
    ['{"a":"[[[[[[["}', 1, false], // brackets in strings do not count
    ['{"a":"\\"[[[["}', 1, false], // nor after an escaped quote
    ['{"a":"\\\\"}', 1, false], // an escaped backslash ends before the closing quote
    ['[[],[],[]]', 2, false], // siblings are not deeper
    ['{"é":["ü",{"漢":[]}]}', 4, false], // four levels; multi-byte characters are skipped byte by byte
    ['{"é":["ü",{"漢":[]}]}', 3, true],
    ["[".repeat(100_000), 64, true],
  ] as const)("%s deeper than %i: %s", (json, max, expected) => expect(nestsDeeperThan(bytes(json), max)).toBe(expected));
});

describe("textProblem", () => {
  it.each([
    ["plain", null],
    ["emoji 😀", null],
    ["nul \u0000", "NUL"],
    ["high \ud800 alone", "surrogates"],
    ["low \udc00 alone", "surrogates"],
    ["reversed \udc00\ud800", "surrogates"],
  ])("%j → %s", (value, problem) => {
    const found = textProblem(value);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe("badArgumentStrings", () => {
  const check = (doc: string, variables?: Record<string, unknown>) => {
    const document = parse(doc);
    return badArgumentStrings(document, document.definitions[0] as OperationDefinitionNode, variables).map((i) => i.field);
  };
  it("names fields by their path from the argument, in literals, variables and defaults", () => {
    expect(check(`mutation($in: [I!]!) { m(input: $in) }`, { in: [{ name: "ok" }, { name: "x\u0000", tags: ["a", "\ud800"] }] })).toEqual(["input[1].name", "input[1].tags[1]"]);
    expect(check(`{ q(code: "a\\u0000b", list: ["ok", "\\u0000"]) }`)).toEqual(["code", "list[1]"]);
    expect(check(`query($s: String = "\\u0000") { q(search: $s) }`)).toEqual(["search"]);
    expect(check(`query($s: String = "\\u0000") { q(search: $s) }`, { s: "fine" })).toEqual([]);
    expect(check(`{ q(code: "fine") @include(if: true) }`)).toEqual([]);
  });
  it("checks each request's variables when the parsed document is reused (what it learns of the document is kept)", () => {
    const document = parse(`query($in: [I!]!, $s: String = "\\u0000") { m(input: $in, code: "\\u0000", search: $s) }`);
    const operation = document.definitions[0] as OperationDefinitionNode;
    const fields = (variables: Record<string, unknown>) => badArgumentStrings(document, operation, variables).map((i) => i.field);
    expect(fields({ in: [{ name: "x\u0000" }] })).toEqual(["input[0].name", "code", "search"]);
    expect(fields({ in: [{ name: "ok" }], s: "fine" })).toEqual(["code"]);
    expect(fields({ in: [], s: "\ud800" })).toEqual(["code", "search"]);
  });
});
