/**
 * costOf (src/graphql/limits.ts) keeps a document's cost when no variable could change it, and
 * never lets a request whose variables did not coerce set the cost for the ones that do.
 */
import "reflect-metadata";
import { Kind, parse, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { costOf } from "../../src/graphql/limits.js";
import { createSchema } from "../../src/graphql/schema.js";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await createSchema();
});

const operationOf = (document: ReturnType<typeof parse>) => document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;

describe("costOf", () => {
  const RANKING = `query($code: String!, $period: Period!) { branchRanking(parentCode: $code, period: $period, metric: APPLICATIONS) { rank actual branch { code children { code } } } }`;

  it("a document whose cost reads no variable costs the same for any variables, the first request's included", () => {
    const document = parse(RANKING);
    const operation = operationOf(document);
    const fresh = costOf(schema, parse(RANKING), operationOf(parse(RANKING)), { code: "A", period: "2021-Q1" });
    expect(fresh).toBeGreaterThan(0);
    expect(costOf(schema, document, operation, { code: "A", period: "2021-Q1" })).toBe(fresh);
    expect(costOf(schema, document, operation, { code: "B", period: "2021-Q2" })).toBe(fresh);
  });

  it("variables that do not coerce cost less, and do not set the cost of the requests after them", () => {
    const document = parse(RANKING);
    const operation = operationOf(document);
    const full = costOf(schema, parse(RANKING), operationOf(parse(RANKING)), { code: "A", period: "2021-Q1" });
    // A missing required variable: nothing is costed (execution refuses the request).
    expect(costOf(schema, document, operation, {})).toBe(0);
    expect(costOf(schema, document, operation, { code: "A", period: "2021-Q1" })).toBe(full);
  });

  it("a page size written in the document is part of the document's cost, kept whatever the other variables", () => {
    const text = `query($code: String) { branches(first: 5, parentCode: $code) { edges { node { code children { code } } } } }`;
    const document = parse(text);
    const operation = operationOf(document);
    const five = costOf(schema, parse(text), operationOf(parse(text)), { code: "A" })!;
    expect(five).toBeLessThan(costOf(schema, parse(text.replace("first: 5", "first: 50")), operationOf(parse(text.replace("first: 5", "first: 50"))), {})!);
    expect(costOf(schema, document, operation, { code: "A" })).toBe(five);
    expect(costOf(schema, document, operation, { code: null })).toBe(five);
  });

  it("a page size given as a variable is costed for each request's value", () => {
    const document = parse(`query($n: Int!) { branches(first: $n) { edges { node { code children { code } } } } }`);
    const operation = operationOf(document);
    const small = costOf(schema, document, operation, { n: 1 })!;
    const large = costOf(schema, document, operation, { n: 100 })!;
    expect(large).toBeGreaterThan(small);
    expect(costOf(schema, document, operation, { n: 1 })).toBe(small);
  });
});
