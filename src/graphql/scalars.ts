/**
 * Custom scalars. Parsing happens here, at the edge, so resolvers and services only ever see
 * valid business dates and parsed periods.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";
import { parseBusinessDate, type BusinessDate } from "../domain/dates.js";
import { parsePeriod, type Period } from "../domain/period.js";

function parseWith<T>(name: string, parse: (s: string) => T) {
  const fromValue = (value: unknown): T => {
    if (typeof value !== "string") throw new GraphQLError(`${name} must be a string`, { extensions: { code: "BAD_USER_INPUT" } });
    try {
      return parse(value);
    } catch (err) {
      throw new GraphQLError(err instanceof Error ? err.message : String(err), { extensions: { code: "BAD_USER_INPUT" } });
    }
  };
  const fromLiteral = (ast: ValueNode): T => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError(`${name} must be a string`, { extensions: { code: "BAD_USER_INPUT" } });
    return fromValue(ast.value);
  };
  return { fromValue, fromLiteral };
}

const date = parseWith("Date", parseBusinessDate);
export const DateScalar = new GraphQLScalarType<BusinessDate, string>({
  name: "Date",
  description: 'A business date in the bank\'s time zone, "YYYY-MM-DD".',
  serialize: (value) => String(value),
  parseValue: date.fromValue,
  parseLiteral: date.fromLiteral,
});

const period = parseWith("Period", parsePeriod);
export const PeriodScalar = new GraphQLScalarType<Period, string>({
  name: "Period",
  description: 'A reporting period: a quarter "2021-Q1", a month "2021-02" or an ISO week "2021-W05".',
  serialize: (value) => (typeof value === "string" ? value : (value as Period).code),
  parseValue: period.fromValue,
  parseLiteral: period.fromLiteral,
});
