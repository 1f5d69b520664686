/**
 * Rollups stay exact: after a long random mix of writes — late and back-dated records,
 * corrections that move applications between units, managers and customers, activations and
 * re-orgs — a recomputation from the records finds no difference.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rebuildRollups, verifyRollups } from "../../src/figures/rebuild.js";
import { write } from "../fixtures/scenarios.js";
import { dataChecksums } from "../support/checksums.js";
import { startTestApi, type TestApi } from "../support/harness.js";
import { seededRandom } from "../support/random.js";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api?.close());

const rng = seededRandom;

const cities = ["C1", "C2", "C3"];
const subs = cities.flatMap((c) => [`${c}-S1`, `${c}-S2`]);
const outlets = subs.flatMap((s) => [`${s}-O1`, `${s}-O2`]);
const managers = ["M1", "M2", "M3", "M4", "M5", "M6"];

function day(r: () => number, from = "2020-10-01", spanDays = 180): string {
  const d = new Date(`${from}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + Math.floor(r() * spanDays));
  return d.toISOString().slice(0, 10);
}
const plus = (date: string, days: number) => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};

describe("rollups under random writes", () => {
  // Seeds 6..8 draw customers from a larger pool, so that most rows bring a customer not seen
  // before and corrections move applications onto such customers (created in the same batch).
  it.each([1, 2, 3, 4, 5, 6, 7, 8])("seed %i: verify finds zero differences, and figures match a recount from the records", async (seed) => {
    await api.reset();
    const r = rng(seed);
    const customers = seed > 5 ? 2_000 : 40;
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
    await write(api, "branches", [
      { code: "P", name: "P", level: "PROVINCE" },
      ...cities.map((c) => ({ code: c, name: c, level: "CITY", parentCode: "P" })),
      ...subs.map((s) => ({ code: s, name: s, level: "SUB_BRANCH", parentCode: s.slice(0, 2) })),
      ...outlets.map((o) => ({ code: o, name: o, level: "OUTLET", parentCode: o.slice(0, 5) })),
    ]);
    // Managers sit at the province, so every unit stays theirs through the re-orgs below.
    await write(api, "managers", managers.map((m) => ({ code: m, name: m, branchCode: "P" })));

    const apps = new Map<string, any>();
    const activated = new Set<string>();
    let next = 0;
    const newApp = (customer: string, decided: string | null, unit = pick([...outlets, ...subs])) => {
      const received = decided ? plus(decided, -Math.floor(r() * 5)) : day(r);
      const decision = decided ? pick(["APPROVED", "APPROVED", "REJECTED"]) : "PENDING";
      return { externalId: `A${next++}`, customerId: customer, branchCode: unit, managerCode: r() < 0.7 ? pick(managers) : null, channel: "ONLINE",
        receivedOn: received, keyedOn: received, decision, decidedOn: decided,
        campaignCode: r() < 0.5 ? pick(["CAMP-A", "CAMP-B"]) : null, merchantCode: r() < 0.5 ? pick(["MER-1", "MER-2", "MER-3"]) : null };
    };

    for (let round = 0; round < 25; round++) {
      const batch = new Map<string, any>();
      for (let i = 0; i < 12; i++) {
        const op = r();
        const existing = [...apps.values()].filter((a) => !activated.has(a.externalId) && !batch.has(a.externalId));
        if (op < 0.45 || existing.length === 0) {
          const a = newApp(`CU${Math.floor(r() * customers)}`, r() < 0.85 ? day(r) : null);
          batch.set(a.externalId, a);
        } else if (op < 0.75) {
          // A correction: another unit, manager, customer, decision or date.
          const a = { ...pick(existing) };
          const what = r();
          if (what < 0.25) a.branchCode = pick([...outlets, ...subs]);
          else if (what < 0.35) a.managerCode = pick([...managers, null]);
          else if (what < 0.45) [a.campaignCode, a.merchantCode] = [pick(["CAMP-A", "CAMP-B", null]), pick(["MER-1", "MER-2", null])];
          else if (what < 0.65) a.customerId = `CU${Math.floor(r() * customers)}`;
          else if (what < 0.85 && a.decidedOn) a.decision = a.decision === "APPROVED" ? "REJECTED" : "APPROVED";
          else if (a.decidedOn) a.decidedOn = a.keyedOn = a.receivedOn = day(r);
          batch.set(a.externalId, a);
        } else {
          // A late, back-dated approval for a customer who already has records.
          const a = newApp(pick(existing).customerId, day(r, "2020-10-01", 60));
          a.decision = "APPROVED";
          batch.set(a.externalId, a);
        }
      }
      await write(api, "applications", [...batch.values()]);
      for (const a of batch.values()) apps.set(a.externalId, a);

      const approved = [...apps.values()].filter((a) => a.decision === "APPROVED" && !activated.has(a.externalId));
      const activations = approved.filter(() => r() < 0.3).map((a) => ({ applicationExternalId: a.externalId, activatedOn: plus(a.decidedOn, Math.floor(r() * 20)) }));
      if (activations.length) {
        await write(api, "activations", activations);
        for (const v of activations) activated.add(v.applicationExternalId);
      }
      if (round % 3 === 2) {
        // A re-org: a sub-branch moves to another city, an outlet to another sub-branch (at times
        // the very sub-branch moving in the same call).
        const s = pick(subs);
        const o = pick(outlets);
        await write(api, "branches", [
          { code: s, name: s, level: "SUB_BRANCH", parentCode: pick(cities) },
          { code: o, name: o, level: "OUTLET", parentCode: pick(subs) },
        ]);
      }
    }

    expect(await verifyRollups(api.database.prisma)).toEqual({ differences: [], total: 0 });

    // The API's figures equal a count straight from the records.
    const recount = await api.database.prisma.$queryRaw<{ code: string; n: number }[]>`
      SELECT b.code, count(*)::int AS n FROM customer cu
      JOIN application a ON a.id = cu.first_approved_application_id
      JOIN branch_closure c ON c.descendant_id = a.branch_id JOIN branch b ON b.id = c.ancestor_id
      WHERE b.level = 'CITY' AND a.decided_on BETWEEN '2021-01-01' AND '2021-02-28' GROUP BY b.code`;
    const res = await api.as("HQ").gql(`{ branchRanking(parentCode: "P", period: "2021-Q1", metric: NEW_CUSTOMERS, asOf: "2021-02-28") { actual branch { code } } }`);
    const fromApi = Object.fromEntries(res.data.branchRanking.map((s: any) => [s.branch.code, s.actual]));
    expect(fromApi).toEqual(Object.fromEntries(cities.map((c) => [c, recount.find((x) => x.code === c)?.n ?? 0])));

    // And a rebuild from scratch lands on the very same rollups.
    const kept = await dataChecksums(api.database.prisma);
    await rebuildRollups(api.database.prisma);
    expect(await dataChecksums(api.database.prisma)).toEqual(kept);
  });

  it("verify reports a tampered rollup and rebuild repairs it", async () => {
    await api.database.prisma.$executeRaw`UPDATE rollup_branch_day SET count = count + 1 WHERE branch_id = (SELECT id FROM branch WHERE code = 'P') AND day = (SELECT min(day) FROM rollup_branch_day)`;
    const found = await verifyRollups(api.database.prisma);
    expect(found.total).toBeGreaterThan(0);
    expect(found.differences[0].table).toBe("rollup_branch_day");
    await rebuildRollups(api.database.prisma);
    expect((await verifyRollups(api.database.prisma)).total).toBe(0);
  });
});
