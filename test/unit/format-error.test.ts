import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { BadInputError, NotFoundError } from "../../src/errors.js";
import { createFormatError } from "../../src/graphql/format-error.js";
import { createLogger } from "../../src/logger.js";

const formatError = createFormatError(createLogger("silent"));

/** What Apollo hands formatError for an error thrown in a resolver. */
function fromResolver(err: Error) {
  const wrapped = new GraphQLError(err.message, { path: ["branch"], originalError: err });
  return formatError(wrapped.toJSON(), wrapped);
}

describe("formatError", () => {
  it.each([
    ["a database error", new Error('Raw query failed. ERROR: relation "branch" does not exist at SELECT * FROM branch')],
    ["a type error", new TypeError("Cannot read properties of undefined (reading 'dbId')")],
  ])("masks %s: no SQL, no internals, a stable code", (_name, err) => {
    const out = fromResolver(err);
    expect(out).toEqual({ message: "Internal server error", path: ["branch"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });

  it.each([
    [BadInputError.single("input", "must hold at least one row"), "BAD_USER_INPUT"],
    [new NotFoundError("unit", "X", "parentCode"), "NOT_FOUND"],
  ])("keeps our own errors' message and code", (err, code) => {
    const out = fromResolver(err);
    expect(out.message).toBe(err.message);
    expect(out.extensions?.code).toBe(code);
    expect(JSON.stringify(out)).not.toContain("stack");
  });

  it("keeps request errors (parse, validation) as they are", () => {
    const err = new GraphQLError("Syntax Error: Expected Name, found <EOF>.", { extensions: { code: "GRAPHQL_PARSE_FAILED" } });
    expect(formatError(err.toJSON(), err)).toMatchObject({ extensions: { code: "GRAPHQL_PARSE_FAILED" } });
  });
});

describe("formatError: no suggestions", () => {
  it.each([
    ['Value "APPLICATION" does not exist in "Metric" enum. Did you mean the enum value "APPLICATIONS" or "ACTIVATIONS"?', "GRAPHQL_VALIDATION_FAILED", 'Value "APPLICATION" does not exist in "Metric" enum.'],
    ['Cannot query field "nme" on type "Branch". Did you mean "name"?', "GRAPHQL_VALIDATION_FAILED", 'Cannot query field "nme" on type "Branch".'],
    ['Variable "$m" got invalid value "X"; Value "X" does not exist in "Metric" enum. Did you mean the enum value "APPLICATIONS"?', "BAD_USER_INPUT", 'Variable "$m" got invalid value "X"; Value "X" does not exist in "Metric" enum.'],
  ])("%s", (message, code, shown) => {
    const err = new GraphQLError(message, { extensions: { code } });
    expect(formatError(err.toJSON(), err).message).toBe(shown);
  });
});
