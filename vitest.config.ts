import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql ships ESM and CommonJS copies; type-graphql must see the same one as we do,
    // or graphql-js throws "another module or realm".
    alias: { graphql: require.resolve("graphql/index.js") },
  },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // type-graphql reads decorator metadata through this polyfill.
    setupFiles: ["reflect-metadata"],
    // Integration files share one database; run files one at a time, tests inside in order.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
