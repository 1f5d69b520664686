/**
 * `node dist/bench/incentives.js [--records N | --10m] [--out FILE]` (after `tsc -p
 * tsconfig.bench.json`): calculating a quarter's assessment plan over the bench's province
 * (issue 14: ~1,200 units and ~5,000 account managers over 10 M records in a bounded number of
 * statements). Builds (or reuses) the synthetic bank of bench/synthetic.ts, issues a plan with
 * one rule of each kind at the province, and times through the plan services themselves:
 *
 *   1. the first calculation, provisional as of 2021-02-28: every statement created;
 *   2. the same again: nothing changes (idempotent), what a scheduled recalculation costs;
 *   3. the final calculation as of 2021-04-01: every statement rewritten;
 *   4. approval, then a final recalculation with a late record: the adjustments path.
 *
 * Each with its wall time, the SQL statements it sent (Prisma's query events), and the peak
 * RSS of this process. BENCH_DATABASE_URL (default …/cardgrowth_bench_incentives) names the
 * database; the plan is dropped and issued again on each run.
 */
import "reflect-metadata";
import { parseArgs } from "node:util";
import path from "node:path";
import { openPostgres, type Database } from "../src/db/database.js";
import { parsePeriod } from "../src/domain/period.js";
import { calculateStatements } from "../src/modules/incentives/calculation.service.js";
import { Metric, OrgLevel, PlanRuleKind, PlanStatus, TeamSplit } from "../src/modules/incentives/incentives.enums.js";
import { createPlan, transitionPlan } from "../src/modules/incentives/plans.service.js";
import { approveStatements } from "../src/modules/incentives/statements.service.js";
import { recordActivations, recordApplications } from "../src/modules/records/records.service.js";
import { describeMachine, loadAverage, writeResults } from "./report.js";
import { ensureData, ensureDatabase, fmt, migrate, PERIOD, PROVINCE_CODE, type DataSummary } from "./synthetic.js";

const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cardgrowth_bench_incentives";
const PLAN = "BENCH-P01-2021Q1";

interface Step {
  step: string;
  seconds: number;
  statements: number;
  outcome: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { records: { type: "string" }, "10m": { type: "boolean", default: false }, out: { type: "string" } },
  });
  const records = values["10m"] ? 10_000_000 : Number(values.records ?? 1_000_000);
  const url = process.env.BENCH_DATABASE_URL ?? DEFAULT_URL;
  const out = values.out ?? path.join(process.cwd(), "bench", "results.md");
  const log = (line: string) => console.log(line);
  const loadAtStart = loadAverage();

  await ensureDatabase(url, log);
  await migrate(url, log);
  const data = await ensureData(url, records, false, log);
  const db = await openPostgres(url, 4);
  const steps: Step[] = [];
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    await db.prisma.$executeRawUnsafe(`DELETE FROM incentive_plan WHERE code = '${PLAN}'`);
    await db.prisma.$executeRawUnsafe(`DELETE FROM idempotency_key WHERE key LIKE 'bench-${PLAN}-%'`);
    await createPlan(db.prisma, {
      idempotencyKey: `bench-${PLAN}-create`,
      code: PLAN,
      name: "Bench province Q1 plan",
      branchCode: PROVINCE_CODE,
      period: parsePeriod(PERIOD),
      rules: [
        { kind: PlanRuleKind.FIRST_ORDER, amount: 20, withinDays: 30 },
        { kind: PlanRuleKind.PER_UNIT, metric: Metric.ACTIVATIONS, amount: 2 },
        {
          kind: PlanRuleKind.TIERED, metric: Metric.APPROVALS,
          bands: [{ from: 0, to: 0.8, amount: 1 }, { from: 0.8, to: 1, amount: 2 }, { from: 1, to: null, amount: 3 }],
        },
        { kind: PlanRuleKind.TEAM, metric: Metric.NEW_CUSTOMERS, level: OrgLevel.SUB_BRANCH, threshold: 1, amount: 3_000, split: TeamSplit.BY_CONTRIBUTION },
        { kind: PlanRuleKind.PENALTY, metric: Metric.NEW_CUSTOMERS, level: OrgLevel.SUB_BRANCH, threshold: 0.8, amount: 500 },
      ],
    });
    await transitionPlan(db.prisma, { idempotencyKey: `bench-${PLAN}-active`, code: PLAN, to: PlanStatus.ACTIVE }, "2021-04-01");

    const measure = async (step: string, run: () => Promise<string>) => {
      const before = db.statements.count;
      const started = process.hrtime.bigint();
      const outcome = await run();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      steps.push({ step, seconds, statements: db.statements.count - before, outcome });
      log(`${step}: ${seconds.toFixed(2)} s, ${db.statements.count - before} statements (${outcome})`);
    };
    const calculate = (asOf: string) => async () => {
      const r = await calculateStatements(db.prisma, { planCode: PLAN, asOf });
      return `${r.basis}: ${fmt(r.created)} created, ${fmt(r.updated)} updated, ${fmt(r.unchanged)} unchanged, ${fmt(r.removed)} removed`;
    };
    await measure("1. first calculation, provisional as of 2021-02-28", calculate("2021-02-28"));
    await measure("2. the same again (idempotent)", calculate("2021-02-28"));
    await measure("3. final calculation as of 2021-04-01", calculate("2021-04-01"));
    await measure("4a. approve every statement", async () => {
      const r = await approveStatements(db.prisma, { idempotencyKey: `bench-${PLAN}-approve`, planCode: PLAN });
      return `${fmt(r.count)} approved`;
    });
    await lateRecord(db);
    await measure("4b. recalculation after a late record: adjustments on new statements", calculate("2021-04-01"));
    const summary = await planSummary(db);
    clearInterval(sampler);
    const machine = await describeMachine(url, loadAtStart);
    writeResults(out, `incentives:records=${records}`, render(data, steps, summary, peakRss, machine, loadAtStart, loadAverage()));
    log(`written to ${out}`);
  } finally {
    clearInterval(sampler);
    await db.close();
  }
}

/**
 * A record that lands after approval: an application of the quarter approved on its last day,
 * with its first spend the next day, at the first outlet's first manager. It makes a new customer
 * (FIRST_ORDER) and moves the outlet's sub-branch figures, so approved statements get adjustments.
 */
async function lateRecord(db: Database): Promise<void> {
  await db.prisma.$executeRawUnsafe(`DELETE FROM activation WHERE application_id IN (SELECT id FROM application WHERE external_id = 'BENCH-LATE-1')`);
  await db.prisma.$executeRawUnsafe(`DELETE FROM application WHERE external_id = 'BENCH-LATE-1'`);
  const [m] = await db.prisma.$queryRawUnsafe<{ code: string; branch: string }[]>(
    `SELECT m.code, b.code AS branch FROM account_manager m JOIN branch b ON b.id = m.branch_id ORDER BY m.id LIMIT 1`,
  );
  await recordApplications(db.prisma, [
    { externalId: "BENCH-LATE-1", customerId: "BENCH-LATE-CUSTOMER", branchCode: m.branch, managerCode: m.code, channel: "ONLINE", receivedOn: "2021-03-30", keyedOn: "2021-03-30", decision: "APPROVED", decidedOn: "2021-03-31" },
  ] as never, 10);
  await recordActivations(db.prisma, [{ applicationExternalId: "BENCH-LATE-1", activatedOn: "2021-03-31", firstSpendOn: "2021-04-01" }] as never, 10);
}

async function planSummary(db: Database) {
  const [row] = await db.prisma.$queryRawUnsafe<{ managers: number; units: number; statements: number; lines: number; applications: number; paidFen: string }[]>(
    `SELECT count(DISTINCT s.manager_id)::int AS managers, count(DISTINCT s.branch_id)::int AS units, count(DISTINCT s.id)::int AS statements,
            count(l.id)::int AS lines, coalesce(sum(cardinality(l.applications)), 0)::int AS applications,
            (SELECT coalesce(sum(total_fen), 0) FROM incentive_statement s2 JOIN incentive_plan p2 ON p2.id = s2.plan_id WHERE p2.code = '${PLAN}')::text AS "paidFen"
     FROM incentive_statement s JOIN incentive_plan p ON p.id = s.plan_id LEFT JOIN incentive_statement_line l ON l.statement_id = s.id
     WHERE p.code = '${PLAN}'`,
  );
  return row;
}

function render(
  data: DataSummary,
  steps: Step[],
  summary: Awaited<ReturnType<typeof planSummary>>,
  peakRss: number,
  machine: Awaited<ReturnType<typeof describeMachine>>,
  loadAtStart: string,
  loadAtEnd: string,
): string {
  const now = new Date().toISOString().replace("T", " ").slice(0, 16);
  return [
    `## Assessment plan: a quarter's statements for the province, ${fmt(data.records)} applications`,
    "",
    `Measured ${now} UTC by \`node dist/bench/incentives.js${data.records === 10_000_000 ? " --10m" : ` --records ${data.records}`}\`, through the plan services`,
    "(src/modules/incentives) on PostgreSQL, one process, a pool of 4.",
    `Machine: ${machine.logicalCpus} × ${machine.cpu}, ${machine.memory}, ${machine.node}; load average ${loadAtStart} at the start, ${loadAtEnd} at the end (other jobs share this 2-core machine).`,
    "",
    `Plan \`${PLAN}\` issued at ${PROVINCE_CODE} for ${PERIOD}: FIRST_ORDER ¥20 within 30 days, PER_UNIT ¥2 an activation, TIERED approvals`,
    "(¥1 / ¥2 / ¥3 by completion band), TEAM ¥3,000 per sub-branch at its plan by contribution, PENALTY ¥500 per sub-branch below 0.8.",
    `Result: ${fmt(summary.statements)} statements (${fmt(summary.managers)} account managers, ${fmt(summary.units)} units), ${fmt(summary.lines)} lines`,
    `naming ${fmt(summary.applications)} application numbers, ¥${fmt(Math.round(Number(summary.paidFen) / 100))} in all.`,
    "",
    "| step | s | SQL statements | outcome |",
    "|---|--:|--:|---|",
    ...steps.map((s) => `| ${s.step} | ${s.seconds.toFixed(2)} | ${s.statements} | ${s.outcome} |`),
    "",
    `Peak RSS of the calculating process: ${Math.round(peakRss / 1024 / 1024)} MB.`,
  ].join("\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
