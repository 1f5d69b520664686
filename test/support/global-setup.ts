/**
 * Creates and migrates the integration-test database once per run. It is dropped and made
 * anew each time, so it must be ours: the name has to contain "test".
 */
import type { TestProject } from "vitest/node";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { openPostgres } from "../../src/db/database.js";
import { applyMigrations } from "../../src/db/migrations.js";

export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cardgrowth_test";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
  const target = parseIntoClientConfig(url);
  const name = target.database ?? "";
  if (!/test/i.test(name)) {
    throw new Error(`Refusing to run integration tests against database "${name}": its name must contain "test".`);
  }
  const admin = new pg.Client({ ...target, database: "postgres" });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const db = await openPostgres(url, 2);
  try {
    await applyMigrations(db.adapterFactory);
  } finally {
    await db.close();
  }
  project.provide("databaseUrl", url);
}
