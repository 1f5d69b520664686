/**
 * Prepares the database an integration project runs on, once per run:
 * - `postgres`: drops, re-creates and migrates the test database, the template each test file
 *   copies (test/support/database.ts). It is dropped each time, so it must be ours: the name has
 *   to contain "test".
 * - `embedded`: migrates a template data folder of the embedded PostgreSQL (PGlite); each test
 *   file opens its own copy of it (test/support/database.ts), since one folder serves one process.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { openEmbedded, openPostgres } from "../../src/db/database.js";
import { applyMigrations } from "../../src/db/migrations.js";
import { COPY_MARK, engineOf, type TestEngine } from "./engine.js";

export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cardgrowth_test";

declare module "vitest" {
  export interface ProvidedContext {
    engine: TestEngine;
    /** PostgreSQL: the migrated test database. */
    databaseUrl: string;
    /** Embedded: the migrated template data folder that each test file copies. */
    embeddedTemplate: string;
  }
}

/**
 * Tests that run the real commands (the import CLI, `npm start`'s server) run them from dist/,
 * and the dashboard's test loads the page built into dist/web:
 * built once per run, before any project starts, so no test rebuilds it under another's feet.
 */
function buildOnce(): Promise<unknown> {
  const key = Symbol.for("cardgrowth.test.build");
  const shared = globalThis as Record<symbol, Promise<unknown> | undefined>;
  const root = path.resolve(import.meta.dirname, "../..");
  // The dashboard page (web/, served from dist/web) is built too: its browser test loads it.
  return (shared[key] ??= promisify(execFile)("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root }).then(() =>
    promisify(execFile)("npx", ["vite", "build", "--config", "web/vite.config.js"], { cwd: root }),
  ));
}

export default async function setup(project: TestProject): Promise<(() => void) | void> {
  await buildOnce();
  const engine = engineOf(project.config.env?.TEST_DATABASE);
  project.provide("engine", engine);
  project.provide("databaseUrl", "");
  project.provide("embeddedTemplate", "");
  if (engine === "embedded") {
    const template = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-test-template-"));
    const db = await openEmbedded(template);
    try {
      await applyMigrations(db.adapterFactory);
    } finally {
      await db.close();
    }
    project.provide("embeddedTemplate", template);
    return () => fs.rmSync(template, { recursive: true, force: true });
  }

  const url = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const target = parseIntoClientConfig(url);
  const name = target.database ?? "";
  if (!/test/i.test(name)) {
    throw new Error(`Refusing to run integration tests against database "${name}": its name must contain "test".`);
  }
  // The template, and the copies a previous run may have left (each test file makes its own).
  const admin = new pg.Client({ ...target, database: "postgres" });
  await admin.connect();
  const dropAll = async () => {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [`${name}${COPY_MARK}`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  };
  try {
    await dropAll();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    await admin.end();
    throw err;
  }
  const db = await openPostgres(url, 2);
  try {
    await applyMigrations(db.adapterFactory);
  } finally {
    await db.close();
  }
  project.provide("databaseUrl", url);
  return async () => {
    await dropAll();
    await admin.end();
  };
}
