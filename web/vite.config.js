// The dashboard page's build (`npm run build:web`): one entry, hashed file names, a manifest that
// src/http/dashboard.ts reads to find them. No public dir, no CDN: everything is bundled.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/dashboard/",
  publicDir: false,
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    modulePreload: { polyfill: false },
    rollupOptions: { input: fileURLToPath(new URL("main.js", import.meta.url)) },
    target: "es2022",
    sourcemap: false,
  },
});
