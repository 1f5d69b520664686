import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationStatus, readMigrations, unappliedMigrations } from "../../src/db/migrations.js";
import { openEmptyDatabase } from "../support/database.js";
import { startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api?.close());

describe("smoke", () => {
  it("writes a tree and reads it back", async () => {
    const w = await api.as("INGEST").gql(`mutation($in: [BranchInput!]!) { upsertBranches(input: $in) { created updated unchanged } }`, {
      in: [
        { code: "P", name: "Province", level: "PROVINCE" },
        { code: "C1", name: "City 1", level: "CITY", parentCode: "P" },
      ],
    });
    expect(w.errors).toBeUndefined();
    expect(w.data.upsertBranches).toEqual({ created: 2, updated: 0, unchanged: 0 });
    const r = await api.as("HQ").gql(`{ branch(code: "P") { code children { code parent { code } } } }`);
    expect(r.data.branch).toEqual({ code: "P", children: [{ code: "C1", parent: { code: "P" } }] });
  });

  it("the start-up migration check agrees with the schema engine's status", async () => {
    expect(await unappliedMigrations(api.database.prisma)).toEqual([]);
    expect((await migrationStatus(api.database.adapterFactory)).pending).toEqual([]);
    const [{ n }] = await api.database.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM _prisma_migrations`;
    expect(n).toBeGreaterThan(0);
    // An empty database has none of them applied.
    const empty = await openEmptyDatabase();
    try {
      expect(await unappliedMigrations(empty.prisma)).toEqual(readMigrations().migrationDirectories.map((d) => d.path));
    } finally {
      await empty.close();
    }
  });
});
