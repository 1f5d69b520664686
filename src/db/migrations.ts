/**
 * Prisma Migrate without the internet: Prisma's own schema engine, compiled to WebAssembly,
 * driven through our driver adapter. Same migration folder format, same `_prisma_migrations`
 * table and checksums as `prisma migrate deploy`, so the Prisma CLI can take over wherever it
 * can download its engine.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm";
import { PROJECT_ROOT } from "../project-root.js";
import { OFFER_LOCATION_INDEX } from "../figures/tables.js";
import type { Database, Db } from "./database.js";

export const schemaPath = path.join(PROJECT_ROOT, "prisma", "schema.prisma");
export const migrationsDir = path.join(PROJECT_ROOT, "prisma", "migrations");

const noFilters = { externalTables: [], externalEnums: [] };

/** The migrations of the folder, by name, in order (names only: no file is read). */
export function migrationNames(dir = migrationsDir): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort()
    : [];
}

export function readMigrations(dir = migrationsDir): MigrationList {
  const lockPath = path.join(dir, "migration_lock.toml");
  const names = migrationNames(dir);
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: names.map((name) => {
      const file = path.join(dir, name, "migration.sql");
      return {
        path: name,
        migrationFile: {
          path: "migration.sql",
          content: fs.existsSync(file)
            ? { tag: "ok" as const, value: fs.readFileSync(file, "utf8") }
            : { tag: "error" as const, value: `missing ${file}` },
        },
      };
    }),
  };
}

interface WasmApi {
  instantiate(bytes: Uint8Array, imports: Record<string, unknown>): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
type EngineModule = typeof import("@prisma/schema-engine-wasm");

/**
 * The engine's glue module is one per process (Node's module cache), and so is the WASM instance
 * it drives, even when this file is loaded twice (test runners do): the instance and a queue
 * that runs one engine at a time live on globalThis, so a second load neither re-instantiates
 * it under a running migration nor runs two engines at once.
 */
interface SharedEngine {
  module?: Promise<EngineModule>;
  queue: Promise<unknown>;
}
const shared: SharedEngine = ((globalThis as Record<symbol, SharedEngine | undefined>)[Symbol.for("cardgrowth.schema-engine")] ??= {
  queue: Promise.resolve(),
});

/**
 * The package is built for bundlers (`import * as wasm from "./x.wasm"`), which Node 20 cannot
 * import; instantiate the module ourselves the way its glue expects.
 */
function loadEngineModule(): Promise<EngineModule> {
  shared.module ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve("@prisma/schema-engine-wasm"));
    const glue = (await import(pathToFileURL(path.join(dir, "schema_engine_bg.js")).href)) as EngineModule & {
      __wbg_set_wasm(exports: unknown): void;
    };
    const bytes = fs.readFileSync(path.join(dir, "schema_engine_bg.wasm"));
    // Node's global; @types/node leaves it undeclared without the DOM lib.
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const { instance } = await wasm.instantiate(bytes, { "./schema_engine_bg.js": glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return shared.module;
}

/**
 * The engine connects through the factory (a new pool per connect) and never disposes what it
 * opened: its idle connection would stay for the pool's idle timeout (10 s), and a database with
 * a connection cannot be copied as a template (the test harness does just after migrating).
 * Hands the engine a factory that remembers what it opened, to be disposed when the engine is.
 */
function tracked(factory: SqlMigrationAwareDriverAdapterFactory): { factory: SqlMigrationAwareDriverAdapterFactory; dispose(): Promise<void> } {
  const opened: SqlDriverAdapter[] = [];
  const remember = async (adapter: Promise<SqlDriverAdapter>) => {
    opened.push(await adapter);
    return opened[opened.length - 1];
  };
  const wrapper: SqlMigrationAwareDriverAdapterFactory = Object.create(factory);
  wrapper.connect = () => remember(factory.connect());
  wrapper.connectToShadowDb = () => remember(factory.connectToShadowDb());
  return {
    factory: wrapper,
    // The engine may have disposed some already; a second dispose's complaint is no news.
    dispose: async () => void (await Promise.allSettled(opened.map((adapter) => adapter.dispose()))),
  };
}

function withEngine<T>(factory: SqlMigrationAwareDriverAdapterFactory, run: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const turn = shared.queue.then(async () => {
    const { SchemaEngine } = await loadEngineModule();
    const schema = fs.readFileSync(schemaPath, "utf8");
    const connections = tracked(factory);
    const engine = await SchemaEngine.new(
      { datamodels: [[schemaPath, schema]] },
      () => {},
      bindMigrationAwareSqlAdapterFactory(connections.factory),
    );
    try {
      return await run(engine);
    } finally {
      engine.free();
      await connections.dispose();
    }
  });
  shared.queue = turn.catch(() => undefined);
  return turn;
}

/** `prisma migrate deploy`: applies pending migrations; returns the names applied. */
export async function applyMigrations(factory: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  return withEngine(factory, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList: readMigrations(), filters: noFilters });
    return out.appliedMigrationNames;
  });
}

/** `applyMigrations` through an open database, which then learns the types they created. */
export async function migrate(database: Database): Promise<string[]> {
  const applied = await applyMigrations(database.adapterFactory);
  if (applied.length) await database.schemaChanged();
  return applied;
}

export interface MigrationStatus {
  applied: boolean;
  pending: string[];
  failed: string[];
  edited: string[];
  problem: string | null;
}

/**
 * The migrations of the folder that the database has not applied, from `_prisma_migrations`
 * alone: what a server checks at start, without loading the schema engine (`migrationStatus`,
 * which also finds edited and failed ones, is for `npm run db:status`).
 */
export async function unappliedMigrations(db: Db, names: readonly string[] = migrationNames()): Promise<string[]> {
  const applied = await db.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`.catch(() => []); // no table yet: none applied
  const done = new Set(applied.map((m) => m.migration_name));
  return names.filter((n) => !done.has(n));
}

/** `prisma migrate status`. */
export async function migrationStatus(factory: SqlMigrationAwareDriverAdapterFactory): Promise<MigrationStatus> {
  return withEngine(factory, async (engine) => {
    const out = await engine.diagnoseMigrationHistory({
      migrationsList: readMigrations(),
      optInToShadowDatabase: false,
      filters: noFilters,
    });
    const h = out.history;
    const pending = h?.diagnostic === "databaseIsBehind" ? h.unappliedMigrationNames : h?.diagnostic === "historiesDiverge" ? h.unappliedMigrationNames : [];
    const problem =
      h?.diagnostic === "migrationsDirectoryIsBehind"
        ? `database has migrations missing from the folder: ${h.unpersistedMigrationNames.join(", ")}`
        : h?.diagnostic === "historiesDiverge"
          ? `histories diverge after ${h.lastCommonMigrationName ?? "the start"}`
          : null;
    return {
      applied: pending.length === 0 && out.failedMigrationNames.length === 0 && problem === null,
      pending,
      failed: out.failedMigrationNames,
      edited: out.editedMigrationNames,
      problem,
    };
  });
}

/**
 * Indexes a migration creates in a form schema.prisma cannot state: Prisma has no INCLUDE, and
 * its engine would recreate them without it (prisma/prisma#8547). schema.prisma declares their
 * key columns; the diff's statements that drop and recreate them are left out.
 */
const INDEXES_BEYOND_PRISMA = [OFFER_LOCATION_INDEX];

/**
 * Foreign keys schema.prisma states (its relations, which Prisma's reads need) but the
 * database does without: an application's references are proven by its one writer's joins
 * (migration 20261207021500_application_references_by_writers says why). The diff's statements
 * that would add them back are left out.
 */
const FOREIGN_KEYS_BEYOND_DATABASE = ["application_customer_id_fkey", "application_branch_id_fkey", "application_manager_id_fkey"];

/**
 * The SQL that takes the migration history to the current schema.prisma, or "" when they agree
 * (`prisma migrate diff --from-migrations --to-schema`). `shadow` replays the history.
 */
export async function diffMigrationsToSchema(shadow: SqlMigrationAwareDriverAdapterFactory): Promise<string> {
  return withEngine(shadow, async (engine) => {
    const out = await engine.diff({
      from: { tag: "migrations", ...readMigrations() },
      to: { tag: "schemaDatamodel", files: [{ path: schemaPath, content: fs.readFileSync(schemaPath, "utf8") }] },
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    // The script is "-- Comment\nSTATEMENT;" blocks separated by blank lines.
    return (out.stdout ?? "")
      .split(/\n\s*\n/)
      .filter((block) => !INDEXES_BEYOND_PRISMA.some((name) => new RegExp(`^(DROP|CREATE) INDEX "${name}"`, "m").test(block)))
      .filter((block) => !FOREIGN_KEYS_BEYOND_DATABASE.some((name) => new RegExp(`ADD CONSTRAINT "${name}" FOREIGN KEY`).test(block)))
      .join("\n\n");
  });
}
