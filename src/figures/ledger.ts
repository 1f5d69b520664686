/**
 * The delta ledger: daily rollups kept exact in the writing transaction.
 *
 * A write never reasons about what it changed. It records the contributions of the rows it is
 * about to touch with sign −1 (before), writes, records the contributions of the same rows with
 * sign +1 (after), and applies the net difference to every ancestor through the closure table.
 * Late or back-dated records, corrections that move an application to another unit, manager or
 * customer, and first approvals that move all come out right by construction.
 */
import type { BusinessDate } from "../domain/dates.js";
import { Prisma } from "../generated/prisma/client.js";
import { mergeChanged, type FiguresChanged } from "./changed.js";
import { contributions, creditOf } from "./metrics.js";
import { BRANCH_ROLLUP, KEYED_ROLLUPS } from "./tables.js";

type Tx = Prisma.TransactionClient;

// Record writes are serialised by the one record-write lock (db/locks.ts, with the order of all locks).
export { lockRecordWrites } from "../db/locks.js";

/** A transaction's pending rollup changes, accumulated in a temporary table. */
export class FiguresLedger {
  private constructor(private readonly tx: Tx) {}

  static async open(tx: Tx): Promise<FiguresLedger> {
    await tx.$executeRaw`CREATE TEMP TABLE IF NOT EXISTS rollup_delta_v2 (
      branch_id int NOT NULL, manager_id int, campaign_code text, merchant_code text,
      metric "Metric" NOT NULL, day date NOT NULL, delta int NOT NULL
    ) ON COMMIT DELETE ROWS`;
    return new FiguresLedger(tx);
  }

  /** Adds rows (branch_id, manager_id, campaign_code, merchant_code, metric, day, delta), as `contributions` yields them. */
  async add(rows: Prisma.Sql): Promise<void> {
    await this.tx.$executeRaw`
      INSERT INTO rollup_delta_v2 (branch_id, manager_id, campaign_code, merchant_code, metric, day, delta) ${rows}`;
  }

  /**
   * Adds `sign` × what the activations of these applications count towards as they stand now
   * (recordActivations: −1 before its write, +1 after).
   */
  async addActivations(sign: 1 | -1, appIds: readonly number[]): Promise<void> {
    if (appIds.length === 0) return;
    await this.add(
      contributions(
        { ...creditOf("a"), activatedOn: Prisma.sql`v.activated_on` },
        Prisma.sql`activation v JOIN application a ON a.id = v.application_id`,
        Prisma.sql`v.application_id = ANY(${[...appIds]}::int[])`,
        sign,
      ),
    );
  }

  /**
   * Applies the net changes to every ancestor of each unit, and to each manager, campaign and
   * merchant; returns whose figures moved (read off the rows it wrote: no extra statement).
   */
  async apply(): Promise<FiguresChanged> {
    const changed: FiguresChanged[] = [];
    const [branches] = await this.tx.$queryRaw<{ codes: string[] | null; days: BusinessDate[] | null }[]>`
      WITH moved AS (
        INSERT INTO ${BRANCH_ROLLUP.table} AS r (branch_id, metric, day, count)
        SELECT c.ancestor_id, d.metric, d.day, sum(d.delta)::int
        FROM (SELECT branch_id, metric, day, sum(delta) AS delta FROM rollup_delta_v2 GROUP BY branch_id, metric, day) d
        JOIN branch_closure c ON c.descendant_id = d.branch_id
        GROUP BY c.ancestor_id, d.metric, d.day
        HAVING sum(d.delta) <> 0
        ORDER BY 1, 2, 3 -- in key order: neighbouring rows share pages
        ON CONFLICT (branch_id, metric, day) DO UPDATE SET count = r.count + EXCLUDED.count
        RETURNING branch_id, day)
      SELECT (SELECT array_agg(DISTINCT b.code) FROM branch b WHERE b.id IN (SELECT branch_id FROM moved)) AS codes,
             (SELECT array_agg(DISTINCT to_char(day, 'YYYY-MM-DD')) FROM moved) AS days`;
    changed.push({ units: branches.codes ?? [], managers: [], campaigns: [], merchants: [], days: branches.days ?? [] });
    for (const { name, table, key } of KEYED_ROLLUPS) {
      // Managers are named by code, like units; campaigns and merchants are keyed by code already.
      const named =
        name === "rollup_manager_day"
          ? Prisma.sql`SELECT m.code, moved.day FROM moved JOIN account_manager m ON m.id = moved.key`
          : Prisma.sql`SELECT moved.key AS code, moved.day FROM moved`;
      const [keyed] = await this.tx.$queryRaw<{ codes: string[] | null; days: BusinessDate[] | null }[]>`
        WITH moved AS (
          INSERT INTO ${table} AS r (${key}, metric, day, count)
          SELECT d.${key}, d.metric, d.day, sum(d.delta)::int
          FROM rollup_delta_v2 d WHERE d.${key} IS NOT NULL
          GROUP BY d.${key}, d.metric, d.day
          HAVING sum(d.delta) <> 0
          ORDER BY 1, 2, 3
          ON CONFLICT (${key}, metric, day) DO UPDATE SET count = r.count + EXCLUDED.count
          RETURNING ${key} AS key, day)
        SELECT array_agg(DISTINCT code) AS codes, array_agg(DISTINCT to_char(day, 'YYYY-MM-DD')) AS days FROM (${named}) n`;
      const codes = keyed.codes ?? [];
      changed.push({
        units: [],
        managers: name === "rollup_manager_day" ? codes : [],
        campaigns: name === "rollup_campaign_day" ? codes : [],
        merchants: name === "rollup_merchant_day" ? codes : [],
        days: keyed.days ?? [],
      });
    }
    await this.tx.$executeRaw`DELETE FROM rollup_delta_v2`;
    return mergeChanged(...changed);
  }
}
