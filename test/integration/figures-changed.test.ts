/**
 * Each committed write reports whose figures it changed (src/figures/changed.ts): the units
 * with their ancestors, managers, campaigns, merchants and days. The services are called
 * straight on the test database, to see what each reports (live.test.ts follows it to the
 * subscribers); the tree is seeded through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordActivations, recordApplications } from "../../src/modules/records/records.service.js";
import { upsertBranches } from "../../src/modules/org/org.service.js";
import { Decision } from "../../src/modules/records/records.enums.js";
import { seed } from "../fixtures/scenarios.js";
import { startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await seed(api, {
    branches: [
      { code: "P", name: "Province", level: "PROVINCE" },
      { code: "A", name: "City A", level: "CITY", parentCode: "P" },
      { code: "B", name: "City B", level: "CITY", parentCode: "P" },
      { code: "A1", name: "Sub A1", level: "SUB_BRANCH", parentCode: "A" },
      { code: "B1", name: "Sub B1", level: "SUB_BRANCH", parentCode: "B" },
    ],
    managers: [{ code: "M-A", name: "Manager A", branchCode: "A" }],
  });
});
afterAll(() => api?.close());

const MAX = 5_000;
const application = (externalId: string, day: string, extra: Record<string, unknown> = {}) => ({
  externalId,
  customerId: `CU-${externalId}`,
  branchCode: "A1",
  managerCode: "M-A",
  channel: "ONLINE",
  receivedOn: day,
  keyedOn: day,
  decision: Decision.APPROVED,
  decidedOn: day,
  campaignCode: "CAMP-1",
  merchantCode: "MER-1",
  ...extra,
});

describe("figuresChanged", () => {
  it("names every subject and day an application batch moved, and nothing when it moved nothing", async () => {
    const rows = [application("X-1", "2021-01-05"), application("X-2", "2021-01-06", { decidedOn: "2021-01-07", campaignCode: null, merchantCode: null })];
    const first = await recordApplications(api.database.prisma, rows as never, MAX);
    expect(first.figuresChanged).toEqual({
      units: ["A", "A1", "P"],
      managers: ["M-A"],
      campaigns: ["CAMP-1"],
      merchants: ["MER-1"],
      days: ["2021-01-05", "2021-01-06", "2021-01-07"],
    });
    const again = await recordApplications(api.database.prisma, rows as never, MAX);
    expect(again).toMatchObject({ unchanged: 2, figuresChanged: { units: [], managers: [], campaigns: [], merchants: [], days: [] } });
  });

  it("names the subjects and the day of an activation", async () => {
    const { figuresChanged } = await recordActivations(api.database.prisma, [{ applicationExternalId: "X-1", activatedOn: "2021-01-20" }], MAX);
    expect(figuresChanged).toEqual({ units: ["A", "A1", "P"], managers: ["M-A"], campaigns: ["CAMP-1"], merchants: ["MER-1"], days: ["2021-01-20"] });
  });

  it("names the units a re-org moved figures between (old and new ancestors), and the days", async () => {
    const { figuresChanged } = await upsertBranches(api.database.prisma, [{ code: "A1", name: "Sub A1", level: "SUB_BRANCH", parentCode: "B" }] as never, MAX);
    // P keeps A1's figures (it is above both cities); managers, campaigns and merchants keep theirs.
    expect(figuresChanged).toEqual({
      units: ["A", "B"],
      managers: [],
      campaigns: [],
      merchants: [],
      days: ["2021-01-05", "2021-01-06", "2021-01-07", "2021-01-20"],
    });
  });
});
