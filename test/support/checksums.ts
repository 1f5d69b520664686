/** Order-independent fingerprints of the business data, for "same data as one clean run" checks. */
import type { Db } from "../../src/db/database.js";

export async function dataChecksums(db: Db): Promise<Record<string, string>> {
  const rows = await db.$queryRaw<{ t: string; sum: string | null; n: number }[]>`
    SELECT 'branch' AS t, md5(string_agg(concat_ws('|', b.code, b.name, b.level, p.code), ',' ORDER BY b.code)) AS sum, count(*)::int AS n
      FROM branch b LEFT JOIN branch p ON p.id = b.parent_id
    UNION ALL SELECT 'manager', md5(string_agg(concat_ws('|', m.code, m.name, b.code), ',' ORDER BY m.code)), count(*)::int
      FROM account_manager m JOIN branch b ON b.id = m.branch_id
    UNION ALL SELECT 'target', md5(string_agg(concat_ws('|', b.code, m.code, t.period, t.metric, t.value), ',' ORDER BY b.code, m.code, t.period, t.metric)), count(*)::int
      FROM target t LEFT JOIN branch b ON b.id = t.branch_id LEFT JOIN account_manager m ON m.id = t.manager_id
    UNION ALL SELECT 'application', md5(string_agg(concat_ws('|', a.external_id, cu.external_id, b.code, m.code, a.channel, a.received_on,
        a.keyed_on, a.decision, a.decided_on, a.campaign_code, a.merchant_code, fa.external_id = a.external_id), ',' ORDER BY a.external_id)), count(*)::int
      FROM application a JOIN customer cu ON cu.id = a.customer_id JOIN branch b ON b.id = a.branch_id
      LEFT JOIN account_manager m ON m.id = a.manager_id LEFT JOIN application fa ON fa.id = cu.first_approved_application_id
    UNION ALL SELECT 'activation', md5(string_agg(concat_ws('|', a.external_id, v.activated_on, v.first_spend_on), ',' ORDER BY a.external_id)), count(*)::int
      FROM activation v JOIN application a ON a.id = v.application_id
    UNION ALL SELECT 'rollup_branch_day', md5(string_agg(concat_ws('|', b.code, r.metric, r.day, r.count), ',' ORDER BY b.code, r.metric, r.day)), count(*)::int
      FROM rollup_branch_day r JOIN branch b ON b.id = r.branch_id WHERE r.count <> 0
    UNION ALL SELECT 'rollup_manager_day', md5(string_agg(concat_ws('|', m.code, r.metric, r.day, r.count), ',' ORDER BY m.code, r.metric, r.day)), count(*)::int
      FROM rollup_manager_day r JOIN account_manager m ON m.id = r.manager_id WHERE r.count <> 0
    UNION ALL SELECT 'rollup_campaign_day', md5(string_agg(concat_ws('|', campaign_code, metric, day, count), ',' ORDER BY campaign_code, metric, day)), count(*)::int
      FROM rollup_campaign_day WHERE count <> 0
    UNION ALL SELECT 'rollup_merchant_day', md5(string_agg(concat_ws('|', merchant_code, metric, day, count), ',' ORDER BY merchant_code, metric, day)), count(*)::int
      FROM rollup_merchant_day WHERE count <> 0`;
  return Object.fromEntries(rows.map((r) => [r.t, `${r.n}:${r.sum ?? "-"}`]));
}
