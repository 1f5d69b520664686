import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";
import { engineOf, TEST_ENGINES } from "./test/support/engine.js";

const require = createRequire(import.meta.url);

/**
 * Three projects: the domain rules once, and the same integration files on each database engine
 * (PostgreSQL, and the embedded PGlite that `npm start` uses). `TEST_DATABASE=postgres` or
 * `=embedded` narrows the integration run to one engine; unset, both run.
 */
const only = process.env.TEST_DATABASE ? engineOf(process.env.TEST_DATABASE) : undefined;
const engines = TEST_ENGINES.filter((e) => !only || e === only);

export default defineConfig({
  resolve: {
    // graphql ships ESM and CommonJS copies; type-graphql must see the same one as we do,
    // or graphql-js throws "another module or realm".
    alias: { graphql: require.resolve("graphql/index.js") },
  },
  test: {
    // type-graphql reads decorator metadata through this polyfill.
    setupFiles: ["reflect-metadata"],
    // Every integration file works on its own copy of its engine's database, so files (of both
    // engines) run two at a time, one per core.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      ...engines.map((engine) => ({
        extends: true as const,
        test: {
          name: engine,
          // The files of a worker share one module graph: importing the app (type-graphql, Apollo,
          // Prisma's client) took ~4 s per file, ~120 s of a run's wall time. Each file still opens
          // its own database copy; nothing a test relies on is module state.
          isolate: false,
          include: ["test/integration/**/*.test.ts"],
          // `npm start`'s own path (a fresh embedded folder) and the folder lock run once, with the embedded project;
          // read replicas are PostgreSQL's (the embedded database has none), so their test runs with the postgres one.
          // Replicas stream from PostgreSQL only. The SIGTERM-during-a-write test needs the server to
          // answer probes while the write runs: the embedded engine runs its SQL in-process, on the
          // event loop, so a 5,000-row write holds every other request (and the signal) until it
          // ends, and the test could only race it. Draining is the same code on both engines.
          exclude:
            engine === "postgres"
              ? ["test/integration/embedded.test.ts", "test/integration/embedded-lock.test.ts", "test/integration/readme.test.ts"]
              : ["test/integration/replica.test.ts", "test/integration/shutdown.test.ts"],
          env: { TEST_DATABASE: engine },
          globalSetup: ["test/support/global-setup.ts"],
        },
      })),
    ],
  },
});
