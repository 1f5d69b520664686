/**
 * `npm start` with no DATABASE_URL: the embedded PostgreSQL in a data folder, migrated and
 * loaded with the demo story at first start, served over real HTTP.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { signToken } from "../../src/modules/auth/auth.service.js";

let app: App;
let config: Config;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-embedded-"));
  // No JWT_SECRET, as on a newcomer's machine: tokens are signed and checked with the development key.
  config = loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" });
  app = await startApp(config, createLogger("silent"));
}, 300_000);

afterAll(async () => {
  await app?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function gql(query: string, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(app.server.url, { method: "POST", headers, body: JSON.stringify({ query }) });
  return (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
}

describe("embedded default database", () => {
  it("starts on PGlite with the migrations applied and the demo story loaded", async () => {
    expect(app.database.kind).toBe("embedded");
    expect(app.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(fs.existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
  });

  it("ranks SX-LL first among Shanxi's city branches: 6,245 new customers against 4,700 (as SX-LL's branch manager, with a development token)", async () => {
    const query = `{ branchRanking(parentCode: "SX", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") {
      rank actual target completionRate branch { code } } }`;
    expect((await gql(query)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const res = await gql(query, await signToken(config, { sub: "demo-manager", role: "BRANCH_MANAGER", unit: "SX-LL" }));
    expect(res.errors).toBeUndefined();
    const [first, ...rest] = res.data.branchRanking;
    expect(first).toMatchObject({ rank: 1, actual: 6245, target: 4700, branch: { code: "SX-LL" } });
    expect(first.completionRate).toBeCloseTo(1.3287, 4);
    expect(rest).toHaveLength(10);
    expect(rest.every((s: any) => s.completionRate < first.completionRate)).toBe(true);
  });

  it("answers a unit's performance on the very first start (the enum arrays the migrations created are known to the driver)", async () => {
    const token = await signToken(config, { sub: "demo-manager", role: "BRANCH_MANAGER", unit: "SX-LL" });
    const res = await gql(`{ branch(code: "SX-LL") { performance(period: "2021-Q1", asOf: "2021-02-28") {
      timeProgress metrics { metric actual target } rank(metric: NEW_CUSTOMERS) } } }`, token);
    expect(res.errors).toBeUndefined();
    const performance = res.data.branch.performance;
    expect(performance.timeProgress).toBeCloseTo(59 / 90, 10);
    expect(performance.metrics.find((m: any) => m.metric === "NEW_CUSTOMERS")).toEqual({ metric: "NEW_CUSTOMERS", actual: 6245, target: 4700 });
    expect(performance.rank).toBe(1);
  });
});
