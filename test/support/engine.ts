/** Which database engine an integration project runs on; vitest.config.ts sets TEST_DATABASE per project. */
export const TEST_ENGINES = ["postgres", "embedded"] as const;
export type TestEngine = (typeof TEST_ENGINES)[number];

export function engineOf(value: string | undefined): TestEngine {
  if (value === undefined || value === "") return "postgres";
  if ((TEST_ENGINES as readonly string[]).includes(value)) return value as TestEngine;
  throw new Error(`TEST_DATABASE must be one of ${TEST_ENGINES.join(", ")}, not "${value}"`);
}

/** Databases a PostgreSQL run makes besides its template are named `<template>__…`; its global setup drops them. */
export const COPY_MARK = "__";
