import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { createSchema, printSchemaFile } from "../../src/graphql/schema.js";

describe("schema.graphql", () => {
  it("matches the schema the code builds (run `npm run schema:emit` after changing the API)", async () => {
    const committed = fs.readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8");
    expect(printSchemaFile(await createSchema())).toBe(committed);
  });

  it("keeps the contract's names and shapes", () => {
    const sdl = fs.readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8");
    for (const line of [
      "branch(code: String!): Branch",
      "enum OrgLevel",
      "enum Metric",
      "enum ApplicationChannel",
      "enum Decision",
      "rank(metric: Metric!): Int",
      "upsertBranches(input: [BranchInput!]!): WriteResult!",
      "recordApplications(input: [ApplicationInput!]!): WriteResult!",
      "decision: Decision = PENDING",
    ]) {
      expect(sdl).toContain(line);
    }
  });
});
