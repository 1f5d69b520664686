/**
 * `npm start` with no DATABASE_URL: the embedded PostgreSQL in a data folder, migrated and
 * loaded with the demo story at first start, served over real HTTP.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";

let app: App;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-embedded-"));
  app = await startApp(loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }), createLogger("silent"));
}, 300_000);

afterAll(async () => {
  await app?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function gql(query: string) {
  const res = await fetch(app.server.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

describe("embedded default database", () => {
  it("starts on PGlite with the migrations applied and the demo story loaded", async () => {
    expect(app.database.kind).toBe("embedded");
    expect(app.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(fs.existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
  });

  it("ranks SX-LL first among Shanxi's city branches: 6,245 new customers against 4,700", async () => {
    const res = await gql(`{ branchRanking(parentCode: "SX", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") {
      rank actual target completionRate branch { code } } }`);
    expect(res.errors).toBeUndefined();
    const [first, ...rest] = res.data.branchRanking;
    expect(first).toMatchObject({ rank: 1, actual: 6245, target: 4700, branch: { code: "SX-LL" } });
    expect(first.completionRate).toBeCloseTo(1.3287, 4);
    expect(rest).toHaveLength(10);
    expect(rest.every((s: any) => s.completionRate < first.completionRate)).toBe(true);
  });
});
