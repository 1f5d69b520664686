import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationStatus, readMigrations, unappliedMigrations } from "../../src/db/migrations.js";
import { openPostgres } from "../../src/db/database.js";
import { direct } from "../../src/db/direct.js";
import { inTransaction } from "../../src/db/transaction.js";
import { AppError } from "../../src/errors.js";
import { openEmptyDatabase, testEngine } from "../support/database.js";
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

describe("prepared statements", () => {
  // The embedded database has one in-process connection and no statement names.
  it.runIf(testEngine() === "postgres")("a statement Prisma repeats is prepared by name on its connection, and none is with DATABASE_PREPARE_AFTER=0", async () => {
    for (const prepareAfter of [3, 0]) {
      // One connection, so the catalogue asked is the one the statements ran on.
      const db = await openPostgres(api.database.env.DATABASE_URL, 1, { prepareAfter });
      try {
        const answers = [];
        for (let i = 0; i < 4; i++) answers.push(await db.prisma.branch.findMany({ where: { code: "P" }, select: { code: true, name: true } }));
        await direct(db.prisma, "smoke_direct", "SELECT code::text FROM branch WHERE code = $1", ["P"]);
        // Named or not, the same answer.
        expect(answers).toEqual(Array(4).fill([{ code: "P", name: "Province" }]));
        const prepared = (await db.prisma.$queryRawUnsafe<{ name: string; statement: string }[]>("SELECT name, statement FROM pg_prepared_statements")).map((s) => s.name);
        if (prepareAfter > 0) expect(prepared).toEqual(expect.arrayContaining(["p1", "smoke_direct"]));
        else expect(prepared).toEqual([]);
      } finally {
        await db.close();
      }
    }
  });
});

describe("raw transactions (inTransaction's rawOnly)", () => {
  const TYPES = `SELECT 9007199254740993::int8 AS big, 12.50::numeric AS money, DATE '2021-01-02' AS day, TIMESTAMPTZ '2021-01-02 03:04:05.678+08' AS at,
    TIMESTAMP '2021-01-02 03:04:05' AS naive, '{"x":[1,"y"]}'::jsonb AS doc, 'ACTIVE'::"CampaignStatus" AS status, ARRAY[1,2]::int[] AS ints,
    ARRAY[3,4]::int8[] AS bigs, ARRAY[1.5]::numeric[] AS moneys, ARRAY[DATE '2021-01-03']::date[] AS days, true AS yes, 2.5::float8 AS half, 'text'::text AS words, NULL::int8 AS nothing`;

  it("answers as Prisma's raw queries do, on both paths, and rolls back what the work did when it throws", async () => {
    const db = api.database.prisma;
    const viaPrisma = await db.$queryRawUnsafe(TYPES);
    const viaRaw = await inTransaction(db, { rawOnly: true }, (tx) => tx.$queryRawUnsafe(TYPES));
    expect(viaRaw).toEqual(viaPrisma);
    const code = `RAW-${Date.now()}`;
    await expect(
      inTransaction(db, { rawOnly: true }, async (tx) => {
        await tx.$executeRaw`INSERT INTO branch (code, name, level, updated_at) VALUES (${code}, 'Rolled back', 'CITY', now())`;
        throw new Error("the work failed");
      }),
    ).rejects.toThrow("the work failed");
    expect(await db.branch.count({ where: { code } })).toBe(0);
  });

  it.runIf(testEngine() === "postgres")("a work that throws (a refusal) rolls back and leaves its connection in the pool", async () => {
    const db = await openPostgres(api.database.env.DATABASE_URL, 1);
    try {
      const pid = () => inTransaction(db.prisma, { rawOnly: true }, async (tx) => (await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0].pid);
      const first = await pid();
      await expect(
        inTransaction(db.prisma, { rawOnly: true }, async (tx) => {
          await tx.$queryRaw`SELECT pg_backend_pid()`;
          throw new AppError("BUDGET_EXHAUSTED", "the promotion's budget is spent");
        }),
      ).rejects.toThrow("the promotion's budget is spent");
      // A new connection would be a new backend: its start-up and cold caches on every refusal.
      expect(await pid()).toBe(first);
    } finally {
      await db.close();
    }
  });

  it.runIf(testEngine() === "postgres")("refuses a model call in a rawOnly transaction, naming the member", async () => {
    await expect(inTransaction(api.database.prisma, { rawOnly: true }, (tx) => tx.branch.count())).rejects.toThrow(/tx\.branch: this transaction runs raw SQL only/);
  });
});
