/**
 * The import command: streaming files into the same services as the API, batch by batch,
 * idempotent, resumable after a crash, safe under concurrent runs.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ImportFileError, runImport, type ImportSummary } from "../../src/modules/import/import.service.js";
import { verifyRollups } from "../../src/figures/rebuild.js";
import type { FieldIssue } from "../../src/errors.js";
import { ApplicationChannel, Decision } from "../../src/generated/prisma/enums.js";
import type { ApplicationInput } from "../../src/modules/records/records.input.js";
import { encodeApplicationLines, recordApplicationCopy, type ApplicationLine } from "../../src/modules/records/records.service.js";
import { dataChecksums } from "../support/checksums.js";
import { startTestApi, type TestApi } from "../support/harness.js";

let api: TestApi;
let work: string;
const root = path.resolve(import.meta.dirname, "../..");
const examples = path.join(root, "docs/import");

beforeAll(async () => {
  api = await startTestApi();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-import-"));
});
afterAll(async () => {
  await api?.close();
  fs.rmSync(work, { recursive: true, force: true });
});
beforeEach(() => api.reset());

const db = () => api.database.prisma;

function importFile(kind: Parameters<typeof runImport>[1]["kind"], file: string, extra: Partial<Parameters<typeof runImport>[1]> = {}): Promise<ImportSummary> {
  return runImport(db(), { kind, file, reportPath: path.join(work, `${path.basename(file)}.report.ndjson`), ...extra });
}

async function importExamples() {
  for (const kind of ["units", "managers", "targets", "applications", "activations", "merchants", "circles", "visits"] as const) {
    const s = await importFile(kind, path.join(examples, `${kind}.csv`));
    expect(s.rejected, kind).toBe(0);
  }
  await importFile("applications", path.join(examples, "applications.ndjson"));
}

function report(file: string) {
  const text = fs.readFileSync(path.join(work, `${path.basename(file)}.report.ndjson`), "utf8").trim();
  return text ? text.split("\n").map((l) => JSON.parse(l) as { line: number; field: string; reason: string }) : [];
}

/** A synthetic applications file under the example units: n rows, every 7th customer returning. */
function applicationsFile(name: string, n: number): string {
  const lines = ["externalId,customerId,branchCode,managerCode,channel,receivedOn,keyedOn,decision,decidedOn,campaignCode,merchantCode"];
  for (let i = 0; i < n; i++) {
    const day = String((i % 28) + 1).padStart(2, "0");
    const decision = i % 5 === 0 ? "REJECTED" : i % 11 === 0 ? "PENDING" : "APPROVED";
    const unit = i % 2 ? "SX-LL-01-01" : "SX-LL-01";
    lines.push(`S${String(i).padStart(7, "0")},SC${i % 7 === 0 ? 1 : i},${unit},${i % 3 ? "M-SX-LL-0002" : ""},ONLINE,2021-02-${day},2021-02-${day},${decision},${decision === "PENDING" ? "" : `2021-02-${day}`},,`);
  }
  return csvFile(name, lines);
}

/** Writes a CSV file of these lines into the work folder. */
function csvFile(name: string, lines: string[]): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** The real CLI in a child process, from dist/ (built by the global setup). */
function runCli(args: string[]) {
  return spawn("node", [path.join(root, "dist/src/cli/import.js"), ...args], {
    cwd: root,
    // TMPDIR: the bulk path's chunk folder of a killed run stays behind; here it goes with `work`.
    env: { ...process.env, ...api.database.env, LOG_LEVEL: "silent", TMPDIR: work },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exitOf(child: ReturnType<typeof runCli>): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

/** Everything the child prints on a stream, collected. */
function output(stream: NodeJS.ReadableStream): { text: string } {
  const out = { text: "" };
  stream.on("data", (chunk) => (out.text += String(chunk)));
  return out;
}

describe("import", () => {
  it("loads every kind from the example files, CSV and NDJSON", async () => {
    await importExamples();
    const counts = await db().$queryRaw<{ t: string; n: number }[]>`
      SELECT 'units' t, count(*)::int n FROM branch UNION ALL SELECT 'managers', count(*)::int FROM account_manager
      UNION ALL SELECT 'targets', count(*)::int FROM target UNION ALL SELECT 'applications', count(*)::int FROM application
      UNION ALL SELECT 'activations', count(*)::int FROM activation UNION ALL SELECT 'merchants', count(*)::int FROM merchant
      UNION ALL SELECT 'circle members', count(*)::int FROM circle_member UNION ALL SELECT 'visits', count(*)::int FROM visit`;
    expect(Object.fromEntries(counts.map((c) => [c.t, c.n]))).toEqual({
      units: 4, managers: 2, targets: 3, applications: 5, activations: 2, merchants: 2, "circle members": 3, visits: 2,
    });
    const circle = await api.as("HQ").gql(`{ businessCircle(code: "LL-C-SINGLE-001") { merchantCount results(period: "2021-Q1", asOf: "2021-03-31") {
      visits merchantsSigned applications newCustomers activations } } }`);
    // The example application A2021010002 was taken at LL-M-001, the single merchant of this circle.
    expect(circle.data.businessCircle).toEqual({ merchantCount: 1, results: { visits: 2, merchantsSigned: 1, applications: 1, newCustomers: 1, activations: 1 } });
    const res = await api.as("HQ").gql(`{ branch(code: "SX-LL") { performance(period: "2021-Q1", asOf: "2021-03-31") { metrics { metric actual target } } } }`);
    expect(res.data.branch.performance.metrics).toEqual([
      { metric: "APPLICATIONS", actual: 4, target: null },
      { metric: "APPROVALS", actual: 3, target: null },
      // C000101 was approved on 2021-01-06 and again on 2021-02-07: one new customer, not two.
      { metric: "NEW_CUSTOMERS", actual: 2, target: 4700 },
      { metric: "ACTIVATIONS", actual: 2, target: null },
    ]);
  });

  it("replaying the files N times leaves identical table checksums", async () => {
    await importExamples();
    const once = await dataChecksums(db());
    for (let i = 0; i < 3; i++) await importExamples();
    expect(await dataChecksums(db())).toEqual(once);
    const again = await importFile("applications", path.join(examples, "applications.csv"));
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 3, rejected: 0 });
  });

  it("reports bad rows with their line, field and reason, and lands the good rows of every batch", async () => {
    await importFile("units", path.join(examples, "units.csv"));
    const file = csvFile("bad.csv", [
      "externalId,customerId,branchCode,channel,receivedOn,keyedOn,decision,decidedOn",
      "G1,C1,SX-LL,ONLINE,2021-01-05,2021-01-05,APPROVED,2021-01-06", // line 2: good
      "B1,C2,NOPE,ONLINE,2021-01-05,2021-01-05,APPROVED,2021-01-06", // 3: unknown unit
      "G2,C3,SX-LL,ONLINE,2021-01-05,,PENDING,", // 4: good
      "B2,C4,SX-LL,FAX,2021-01-05,2021-01-05,APPROVED,2021-01-06", // 5: bad channel
      "B3,C5,SX-LL,ONLINE,2021-02-30,,PENDING,", // 6: not a date
      "B4,C6,SX-LL,ONLINE,2021-01-05,2021-01-04,APPROVED,", // 7: keyed before received, no decision date
      "G3,C7,SX-LL,PAPER,2021-01-05,2021-01-06,REJECTED,2021-01-07", // 8: good
    ]);
    const summary = await importFile("applications", file, { batchSize: 3 });
    expect(summary).toMatchObject({ rows: 7, created: 3, rejected: 4 });
    const issues = report(file).sort((a, b) => a.line - b.line || a.field.localeCompare(b.field));
    expect(issues.map((i) => `${i.line} ${i.field}`)).toEqual(["3 branchCode", "5 channel", "6 receivedOn", "7 decidedOn", "7 keyedOn"]);
    expect(issues[2].reason).toContain("not a calendar date");
    const ids = await db().application.findMany({ select: { externalId: true }, orderBy: { externalId: "asc" } });
    expect(ids.map((a) => a.externalId)).toEqual(["G1", "G2", "G3"]);
  });

  it("a later row corrects an earlier one with the same key, wherever the batches split", async () => {
    await importFile("units", path.join(examples, "units.csv"));
    const file = csvFile("corrections.csv", [
      "externalId,customerId,branchCode,channel,receivedOn,keyedOn,decision,decidedOn",
      "K1,C1,SX-LL,ONLINE,2021-01-05,2021-01-05,APPROVED,2021-01-06",
      "K2,C2,SX-LL,ONLINE,2021-01-05,2021-01-05,APPROVED,2021-01-06",
      "K1,C1,SX-LL,ONLINE,2021-01-05,2021-01-05,REJECTED,2021-01-07", // corrects line 2
    ]);
    const results: Record<string, string>[] = [];
    for (const batchSize of [1, 2, 10]) {
      await api.database.prisma.$executeRaw`DELETE FROM application`;
      await importFile("applications", file, { batchSize });
      const rows = await db().application.findMany({ select: { externalId: true, decision: true }, orderBy: { externalId: "asc" } });
      results.push(Object.fromEntries(rows.map((r) => [r.externalId, r.decision])));
    }
    expect(results).toEqual(Array(3).fill({ K1: "REJECTED", K2: "APPROVED" }));
  });

  it("plans: created as DRAFT from NDJSON and CSV, unchanged on replay, changed as the API would, bad rows named", async () => {
    await importFile("units", path.join(examples, "units.csv"));
    expect(await importFile("plans", path.join(examples, "plans.ndjson"))).toMatchObject({ created: 1, rejected: 0 });
    expect(await importFile("plans", path.join(examples, "plans.csv"))).toMatchObject({ created: 1, rejected: 0 });
    // jsonb keeps keys in its own order: the replay must still compare equal.
    expect(await importFile("plans", path.join(examples, "plans.ndjson"))).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    const plan = `{ plan(code: "SX-LL-2021Q1-EX") { status version rules { kind amount withinDays } } }`;
    expect((await api.as("HQ").gql(plan)).data.plan).toMatchObject({
      status: "DRAFT", version: 1, rules: [{ kind: "FIRST_ORDER", amount: 20, withinDays: 30 }, { kind: "TEAM", amount: 3000, withinDays: null }],
    });

    // Once ACTIVE, a changed rule is a new version, as updatePlan makes it.
    const activated = await api.as("BRANCH_MANAGER", "SX-LL").gql(`mutation { transitionPlan(input: { idempotencyKey: "import-test-activate", code: "SX-LL-2021Q1-EX", to: ACTIVE }) { status } }`);
    expect(activated.errors).toBeUndefined();
    const changed = fs.readFileSync(path.join(examples, "plans.ndjson"), "utf8").replace('"amount":20', '"amount":25');
    expect(await importFile("plans", csvFile("changed.ndjson", [changed.trim()]))).toMatchObject({ updated: 1, rejected: 0 });
    expect((await api.as("HQ").gql(plan)).data.plan).toMatchObject({ status: "ACTIVE", version: 2, rules: [{ amount: 25 }, { amount: 3000 }] });

    const rule = `[{""kind"":""FIRST_ORDER"",""amount"":20,""withinDays"":30}]`;
    const bad = csvFile("bad-plans.csv", [
      "code,name,branchCode,period,rules",
      `P-GOOD,好方案,SX-LL-01,2021-Q1,"${rule}"`, // line 2: good
      `P-UNIT,方案,NOPE,2021-Q1,"${rule}"`, // 3: unknown unit
      `P-JSON,方案,SX-LL,2021-Q1,"[{kind"`, // 4: not JSON
      `P-BAND,方案,SX-LL,2021-Q1,"[{""kind"":""TIERED"",""metric"":""APPROVALS"",""bands"":[{""from"":0,""to"":1,""amount"":1},{""from"":0.5,""amount"":2}]}]"`, // 5: overlapping bands
      `SX-LL-2021Q1-EX,方案,SX-LL,2021-Q2,"${rule}"`, // 6: a plan's period cannot change
      `P-KIND,方案,SX-LL,2021-Q1,"[{""kind"":""BONUS""}]"`, // 7: unknown rule kind
    ]);
    expect(await importFile("plans", bad)).toMatchObject({ rows: 6, created: 1, rejected: 5 });
    const issues = report(bad).sort((a, b) => a.line - b.line);
    expect(issues.map((i) => `${i.line} ${i.field}`)).toEqual(["3 branchCode", "4 rules", "5 rules[0].bands[1].from", "6 period", "7 rules[0].kind"]);
    expect(issues[0].reason).toBe('unknown unit "NOPE"');
    expect(issues[3].reason).toContain("cannot change");
    expect(await db().incentivePlan.count()).toBe(3);
  });

  it("stops at once, naming the line, where a CSV breaks off (a quote never closed); the batches before it land", async () => {
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    const rows = fs.readFileSync(applicationsFile("broken-src.csv", 25_030), "utf8").trim().split("\n");
    // Line 32 opens a quote that nothing closes: the 25,000 lines after it would be one field.
    const file = csvFile("broken.csv", [...rows.slice(0, 31), rows[31].replace(",SX-LL", ',"SX-LL'), ...rows.slice(32)]);
    const stopped = await importFile("applications", file, { batchSize: 10 }).catch((err: unknown) => err);
    expect(stopped).toBeInstanceOf(ImportFileError);
    // The line named is the last one the import took in: the parser may have read a few more
    // ahead of it, which the break discards. Every full batch up to that line has landed.
    const [, line] = /^the CSV cannot be read after line (\d+): Max Record Size/.exec((stopped as Error).message) ?? [];
    expect(Number(line)).toBeGreaterThanOrEqual(1);
    expect(Number(line)).toBeLessThanOrEqual(31);
    expect(await db().application.count()).toBe(Math.floor((Number(line) - 1) / 10) * 10);
    expect((await verifyRollups(db())).total).toBe(0);
  });

  it("stops at once, naming the line, at an NDJSON line longer than 1,000,000 bytes; the batches before it land", async () => {
    await importFile("units", path.join(examples, "units.csv"));
    const row = (i: number) => JSON.stringify({ externalId: `J${i}`, customerId: `JC${i}`, branchCode: "SX-LL-01", channel: "ONLINE", receivedOn: "2021-02-01" });
    const lines = [...Array.from({ length: 30 }, (_, i) => row(i)), `{"externalId":"${"x".repeat(1_100_000)}"}`, ...Array.from({ length: 10 }, (_, i) => row(100 + i))];
    const file = path.join(work, "long-line.ndjson");
    fs.writeFileSync(file, `${lines.join("\n")}\n`);
    const stopped = await importFile("applications", file, { batchSize: 10 }).catch((err: unknown) => err);
    expect(stopped).toBeInstanceOf(ImportFileError);
    const [, line] = /^the file cannot be read after line (\d+): a line is longer than 1000000 bytes$/.exec((stopped as Error).message) ?? [];
    expect(Number(line)).toBeGreaterThanOrEqual(0);
    expect(Number(line)).toBeLessThanOrEqual(30);
    expect(await db().application.count()).toBe(Math.floor(Number(line) / 10) * 10);
    expect((await verifyRollups(db())).total).toBe(0);
  });

  it("refuses a file with an unknown column before reading any row", async () => {
    const file = csvFile("columns.csv", ["code,name,level,parent", "X,X,PROVINCE,"]);
    await expect(importFile("units", file)).rejects.toThrow(/unknown column\(s\) parent/);
    expect(await db().branch.count()).toBe(0);
  });

  it("a dry run checks everything and writes nothing", async () => {
    await importFile("units", path.join(examples, "units.csv"));
    const before = await dataChecksums(db());
    const summary = await importFile("managers", path.join(examples, "managers.csv"), { dryRun: true });
    expect(summary).toMatchObject({ dryRun: true, created: 2, rejected: 0 });
    expect(await dataChecksums(db())).toEqual(before);
  });

  it.each([[""], ["--bulk"]])("an import killed mid-run and run again ends with the data of one clean run %s", async (bulk) => {
    const file = applicationsFile("big.csv", 12_000);
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    await importFile("applications", file, { batchSize: 400 });
    const clean = await dataChecksums(db());

    await api.reset();
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    // The CLI opens the database itself: on the embedded engine this process lets go of the folder meanwhile.
    await api.database.released(async () => {
      const child = runCli(["applications", file, "--batch-size", "400", "--report", path.join(work, "killed.ndjson"), ...(bulk ? [bulk] : [])]);
      const exited = exitOf(child);
      // Kill it once a batch has committed (it reports progress after each) and before the last one has.
      const committed = new Promise<boolean>((resolve) => {
        child.stdout.on("data", (chunk) => String(chunk).includes("progress:") && resolve(true));
        void exited.then(() => resolve(false));
      });
      expect(await committed).toBe(true);
      child.kill("SIGKILL");
      await exited;
    });
    const partial = await db().application.count();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(12_000);
    expect(partial % 400).toBe(0); // whole batches only: each one is atomic
    // Each committed batch committed its audit entry with it; the batch cut short left none.
    const entries = await db().auditEntry.findMany({ where: { operation: "import:applications" }, orderBy: { id: "asc" } });
    expect(entries.map((e) => [e.outcome, (e.details as { created: number }).created])).toEqual(Array(partial / 400).fill(["SUCCEEDED", 400]));

    await api.database.released(async () => {
      const rerun = runCli(["applications", file, "--batch-size", "400", "--report", path.join(work, "rerun.ndjson"), ...(bulk ? [bulk] : [])]);
      expect(await exitOf(rerun)).toBe(0);
    });
    expect(await dataChecksums(db())).toEqual(clean);
    expect((await verifyRollups(db())).total).toBe(0);
  }, 180_000);

  it("an import and the recordApplications mutation given the same rows leave the same data", async () => {
    // Customers shared across rows and batches, and corrections that move applications onto
    // another customer (one first seen in that very batch) or another unit, back-dated.
    const header = "externalId,customerId,branchCode,managerCode,channel,receivedOn,keyedOn,decision,decidedOn,campaignCode,merchantCode";
    const first = Array.from({ length: 1_500 }, (_, i) => {
      const day = String((i % 28) + 1).padStart(2, "0");
      const decision = i % 4 === 0 ? "REJECTED" : i % 9 === 0 ? "PENDING" : "APPROVED";
      return `S${i},SC${i % 300},${i % 2 ? "SX-LL-01-01" : "SX-LL-01"},${i % 3 ? "M-SX-LL-0002" : ""},ONLINE,2021-02-${day},2021-02-${day},${decision},${decision === "PENDING" ? "" : `2021-02-${day}`},${i % 5 ? "" : "CAMP-1"},`;
    });
    const second = Array.from({ length: 600 }, (_, k) => {
      const i = k * 2;
      const day = String((i % 9) + 1).padStart(2, "0");
      return `S${i},SC${k % 3 ? 5_000 + k : i % 300},SX-LL-01-01,,PAPER,2021-01-${day},2021-01-${day},APPROVED,2021-01-${day},,M-${k % 4}`;
    });
    const files = [csvFile("same-1.csv", [header, ...first]), csvFile("same-2.csv", [header, ...second])];
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    for (const file of files) expect(await importFile("applications", file, { batchSize: 700 })).toMatchObject({ rejected: 0 });
    const imported = await dataChecksums(db());
    expect((await verifyRollups(db())).total).toBe(0);

    await api.reset();
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    const columns = header.split(",");
    for (const lines of [first, second]) {
      const rows = lines.map((l) => Object.fromEntries(l.split(",").flatMap((v, c) => (v === "" ? [] : [[columns[c], v]]))));
      for (let i = 0; i < rows.length; i += 1_000) {
        const res = await api.as("INGEST").gql("mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created updated unchanged } }", { in: rows.slice(i, i + 1_000) });
        expect(res.errors).toBeUndefined();
      }
    }
    expect(await dataChecksums(db())).toEqual(imported);
  });

  it("8 concurrent imports of the same file have the effect of one", async () => {
    const file = applicationsFile("concurrent.csv", 4_000);
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    await importFile("applications", file);
    const once = await dataChecksums(db());

    await api.reset();
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    const results = await api.database.released(() =>
      Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const child = runCli(["applications", file, "--batch-size", "500", "--report", path.join(work, `c${i}.ndjson`)]);
          const stderr = output(child.stderr);
          return { code: await exitOf(child), stderr: stderr.text };
        }),
      ),
    );
    if (api.database.engine === "postgres") {
      expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    } else {
      // One process per embedded folder: a run that finds it taken stops at once and says why.
      const refused = results.filter((r) => r.code !== 0);
      expect(refused.length).toBeLessThan(8);
      for (const r of refused) {
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/embedded database in .* is in use by process \d+/);
      }
    }
    expect(await dataChecksums(db())).toEqual(once);
    expect((await verifyRollups(db())).total).toBe(0);
  }, 180_000);
});

describe("import --bulk", () => {
  const header = "externalId,customerId,branchCode,managerCode,channel,receivedOn,keyedOn,decision,decidedOn,campaignCode,merchantCode";
  /** The example bank with its applications and activations: existing customers, cards and first approvals. */
  async function base() {
    for (const kind of ["units", "managers", "applications", "activations"] as const) await importFile(kind, path.join(examples, `${kind}.csv`));
    await importFile("applications", path.join(examples, "applications.ndjson"));
  }
  /** Bad rows of every kind, duplicates either way, updates, existing and new customers, first approvals moving. */
  const mixed = () =>
    csvFile("mixed.csv", [
      header,
      "A2021010003,C000103,SX-LL-01,,ONLINE,2021-01-15,2021-01-15,APPROVED,2021-01-20,,", // 2: update; C000103's first approval appears
      "N1,C000101,SX-LL-01-01,M-SX-LL-0001,ONLINE,2020-12-01,2020-12-01,APPROVED,2020-12-05,,", // 3: C000101's first approval moves to it
      "N2,NEWC1,SX-LL-01,M-SX-LL-0002,ONLINE,2021-01-03,,APPROVED,2021-01-04,,", // 4: a new customer's first approval
      "N3,NEWC1,SX-LL-01-01,,PAPER,2021-01-02,,APPROVED,2021-01-05,LL-2021Q1-CIRCLES,LL-M-001", // 5: its second
      "B1,C9,NOPE,,ONLINE,2021-01-05,,PENDING,,,", // 6: unknown unit
      "B2,C9,SX-LL-01,M-NOPE,ONLINE,2021-01-05,,PENDING,,,", // 7: unknown manager
      "B3,C9,SX-LL-01,M-SX-LL-0001,ONLINE,2021-01-05,,PENDING,,,", // 8: manager outside the unit's line
      "A2021010002,C000102,SX-LL-01-01,M-SX-LL-0001,MERCHANT_SITE,2021-01-09,2021-01-09,REJECTED,2021-01-12,,", // 9: activated card
      "A2020120001,C000101,SX-LL-01-01,M-SX-LL-0001,PAPER,2020-12-02,2020-12-20,APPROVED,2021-01-11,,", // 10: decided after activation
      "B4,C9,SX-LL-01,,ONLINE,2021-01-05,,PENDING,2021-01-06,,", // 11: its own rules
      "B5,C9,SX-LL-01,,FAX,2021-01-05,,PENDING,,,", // 12: a bad cell
      "D1,C10,SX-LL-01,,ONLINE,2021-01-05,,APPROVED,2021-01-06,,", // 13: good, replaced by...
      "D1,C10,SX-LL-01,,ONLINE,2021-01-05,,APPROVED,,,", // 14: ...a bad row: D1 is refused
      "D2,C11,SX-LL-01,,ONLINE,2021-01-05,,PENDING,2021-01-05,,", // 15: bad, replaced by...
      "D2,C11,SX-LL-01,,ONLINE,2021-01-05,,PENDING,,,", // 16: ...a good row
      "D3,C12,SX-LL-01,,ONLINE,2021-01-05,,PENDING,,,", // 17: good; a bad cell replaces nothing:
      "D3,C12,SX-LL-01,,FAX,2021-01-05,,PENDING,,,", // 18
      "A2021020004,NEWC1,SX-LL-01-01,M-SX-LL-0002,ONLINE,2021-02-01,2021-02-01,APPROVED,2021-02-03,,", // 19: moves to a new customer
      "B6,C9,NOPE2,,ONLINE,2021-01-05,,PENDING,2021-01-06,,", // 20: two issues
      "N4,C000102,SX-LL-01,,ONLINE,2021-01-05,,REJECTED,2021-01-06,,", // 21
      "A2021020005,C000101,SX-LL-01-01,,ONLINE,2021-02-05,2021-02-05,APPROVED,2021-02-07,,", // 22: unchanged
    ]);
  const sortedReport = (file: string) => report(file).sort((a, b) => a.line - b.line || a.field.localeCompare(b.field) || a.reason.localeCompare(b.reason));

  it("leaves the same checksums, summary and report as the batch path on the same file, and replays as a no-op", async () => {
    await base();
    const file = mixed();
    const batch = await importFile("applications", file);
    const batchReport = sortedReport(file);
    const batchData = await dataChecksums(db());
    expect(batchReport.map((i) => `${i.line} ${i.field}`)).toEqual([
      "6 branchCode", "7 managerCode", "8 managerCode", "9 decision", "10 decidedOn", "11 decidedOn", "12 channel", "14 decidedOn", "18 channel",
      "20 branchCode", "20 decidedOn",
    ]);

    await api.reset();
    await base();
    const bulk = await importFile("applications", file, { bulk: true });
    expect(bulk).toEqual(batch);
    expect(bulk).toMatchObject({ rows: 21, superseded: 2, rejected: 10, created: 6, updated: 2, unchanged: 1, batches: 1 });
    expect(sortedReport(file)).toEqual(batchReport);
    expect(await dataChecksums(db())).toEqual(batchData);
    expect((await verifyRollups(db())).total).toBe(0);

    const again = await importFile("applications", file, { bulk: true });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 9, rejected: 10 });
    expect(await dataChecksums(db())).toEqual(batchData);
  });

  it("in chunks, leaves the same data as the batch path in batches of the same size, audited per chunk", async () => {
    const file = applicationsFile("chunks.csv", 2_500);
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    const batch = await importFile("applications", file, { batchSize: 700 });
    const batchData = await dataChecksums(db());

    await api.reset();
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    const bulk = await importFile("applications", file, { bulk: true, batchSize: 700, auditSubject: "test:bulk" });
    expect(bulk).toEqual(batch);
    expect(bulk.batches).toBe(4);
    expect(await dataChecksums(db())).toEqual(batchData);
    expect((await verifyRollups(db())).total).toBe(0);
    const entries = await db().auditEntry.findMany({ where: { operation: "import:applications" }, orderBy: { id: "asc" } });
    expect(entries.map((e) => [e.outcome, e.target, (e.details as { rows: number; created: number }).created])).toEqual([
      ["SUCCEEDED", "lines 2-701 of chunks.csv", 700],
      ["SUCCEEDED", "lines 702-1401 of chunks.csv", 700],
      ["SUCCEEDED", "lines 1402-2101 of chunks.csv", 700],
      ["SUCCEEDED", "lines 2102-2501 of chunks.csv", 400],
    ]);
  });

  it("sends as many statements for a chunk of 3,000 rows as for one of 30", async () => {
    await importFile("units", path.join(examples, "units.csv"));
    await importFile("managers", path.join(examples, "managers.csv"));
    const small = applicationsFile("small.csv", 30);
    const large = csvFile("large.csv", fs.readFileSync(applicationsFile("large-src.csv", 3_030), "utf8").split("\n").filter((l, i) => l && (i === 0 || i > 30)));
    const counts = [];
    for (const file of [small, large]) counts.push(await api.countStatements(() => importFile("applications", file, { bulk: true })));
    expect(counts[0]).toBeGreaterThan(5);
    expect(counts[1]).toBe(counts[0]);
    expect(await db().application.count()).toBe(3_030);
  });

  it("reads a chunk's refused rows a page at a time: the same issues, counts and data as in one page", async () => {
    // Rows 1-12: every third refused by the database (an unknown unit or manager) and every
    // fourth by its own rules (decided while PENDING); 12 is both.
    const lines: ApplicationLine[] = Array.from({ length: 12 }, (_, k) => {
      const i = k + 1;
      const row: ApplicationInput = {
        externalId: `P${i}`, customerId: `PC${i % 5}`, branchCode: i % 6 === 0 ? "NOPE" : "SX-LL-01", managerCode: i % 6 === 3 ? "M-NOPE" : null,
        channel: ApplicationChannel.ONLINE, receivedOn: "2021-01-05", decision: Decision.PENDING, decidedOn: i % 4 === 0 ? "2021-01-06" : null,
      };
      return { line: i, row };
    });
    async function* source() {
      yield* lines;
    }
    const write = async (pageRows?: number) => {
      const pages: FieldIssue[][] = [];
      const outcome = await recordApplicationCopy(db(), encodeApplicationLines(source()), { skipInvalid: true, pageRows, onRejected: (issues) => void pages.push([...issues]) });
      return { outcome, pages, data: await dataChecksums(db()) };
    };
    await base();
    const whole = await write();
    await api.reset();
    await base();
    const paged = await write(2);

    expect(whole.pages).toHaveLength(1);
    expect(whole.pages[0].map((i) => `${i.index} ${i.field}`)).toEqual(["3 managerCode", "4 decidedOn", "6 branchCode", "8 decidedOn", "9 managerCode", "12 decidedOn", "12 branchCode"]);
    expect(paged.pages.map((p) => p.map((i) => i.index))).toEqual([[3, 4], [6, 8], [9, 12, 12]]);
    expect(paged.pages.flat()).toEqual(whole.pages[0]);
    expect(whole.outcome).toMatchObject({ created: 6, rejectedRows: 6 });
    expect(paged.outcome).toEqual(whole.outcome);
    expect(paged.data).toEqual(whole.data);
    expect((await verifyRollups(db())).total).toBe(0);
  });

  it("is refused for other kinds, before any row is read", async () => {
    await expect(importFile("units", path.join(examples, "units.csv"), { bulk: true })).rejects.toThrow(/--bulk imports applications only, not units/);
    expect(await db().branch.count()).toBe(0);
  });
});
