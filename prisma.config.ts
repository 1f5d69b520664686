// Prisma CLI configuration. The CLI is only used here for `prisma generate`; migrations run
// through our own offline runner (src/cli/db.ts), which embeds Prisma's schema engine as WASM.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
