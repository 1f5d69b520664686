/**
 * The merchant side of the synthetic bank, for the mobile query `promotionsNear`: merchants,
 * business circles, ACTIVE campaigns with their eligible circles and merchants, and promotions,
 * generated inside PostgreSQL with generate_series and the same deterministic hashes as the
 * records (bench.u), so two builds hold the same rows.
 *
 * Shape (defaults): 100,000 merchants over the 13 city branches, each city a cluster around
 * the centre of a Shanxi city (Taiyuan, Datong, … Lüliang at 37.52 N 111.14 E), denser towards
 * the centre (distance from it = R × u^0.6, R 5..10 km by the city's size); merchant ids follow
 * a ~500 m grid inside each city, so a run of consecutive ids is a neighbourhood. 3,000 business
 * circles of 5..50 neighbouring merchants; 400 ACTIVE campaigns, each in one city: 10 % wide
 * (10..30 circles, few promotions), 60 % a few circles (1..6), 30 % a list of 10..150 merchants;
 * 10,000 promotions valid within 2021-01-01..2021-03-31 (half the whole quarter, half 2..11
 * weeks of it), of all four kinds, with all-day, Saturday (or weekend) daytime, Friday night
 * across midnight and weekday lunch schedules.
 *
 * The marker is bench.meta.promotions_version (with the row counts checked): a later run reuses
 * the data; a rebuild of the records (which truncates branch and so the merchants) rebuilds it.
 */
import pg from "pg";
import { rebuildOffers } from "../src/figures/offer-index.js";
import { Prisma } from "../src/generated/prisma/client.js";
import { fmt } from "./synthetic.js";

/** Bump when the generator changes: data built by another version is rebuilt. */
export const PROMOTIONS_VERSION = 1;

export const MERCHANTS = 100_000;
export const CIRCLES = 3_000;
export const CAMPAIGNS = 400;
export const PROMOTIONS = 10_000;

/** City branch C01..C13 → a Shanxi city: centre, share of the merchants (%), cluster radius. */
export const CITIES: { code: string; name: string; lat: number; lng: number; weight: number }[] = [
  { code: "C01", name: "Taiyuan", lat: 37.8706, lng: 112.5489, weight: 22 },
  { code: "C02", name: "Datong", lat: 40.0768, lng: 113.3001, weight: 10 },
  { code: "C03", name: "Yangquan", lat: 37.857, lng: 113.5805, weight: 5 },
  { code: "C04", name: "Changzhi", lat: 36.1954, lng: 113.1163, weight: 9 },
  { code: "C05", name: "Jincheng", lat: 35.4907, lng: 112.8513, weight: 7 },
  { code: "C06", name: "Shuozhou", lat: 39.3316, lng: 112.4329, weight: 5 },
  { code: "C07", name: "Jinzhong", lat: 37.687, lng: 112.7528, weight: 8 },
  { code: "C08", name: "Yuncheng", lat: 35.0264, lng: 111.007, weight: 9 },
  { code: "C09", name: "Xinzhou", lat: 38.4167, lng: 112.7342, weight: 6 },
  { code: "C10", name: "Linfen", lat: 36.088, lng: 111.519, weight: 8 },
  { code: "C11", name: "Lüliang", lat: 37.5177, lng: 111.1441, weight: 6 },
  { code: "C12", name: "Xiaoyi", lat: 37.1446, lng: 111.7781, weight: 3 },
  { code: "C13", name: "Fenyang", lat: 37.2616, lng: 111.788, weight: 2 },
];

/** The densest cluster's centre: where the scenario asks. */
export const DENSE_CENTRE = CITIES[0];

export interface PromotionsData {
  merchants: number;
  circles: number;
  circleMembers: number;
  campaigns: number;
  campaignCircles: number;
  campaignMerchants: number;
  promotions: number;
  byKind: string;
  bySchedule: string;
  merchantsPerCity: string;
  builtAt: string;
  reused: boolean;
  buildSteps: { step: string; seconds: number }[];
}

type Log = (line: string) => void;

/** How much merchant data to build; the defaults are the sizes above. */
export interface PromotionsSize {
  merchants: number;
  circles: number;
  campaigns: number;
  promotions: number;
}

export const DEFAULT_SIZE: PromotionsSize = { merchants: MERCHANTS, circles: CIRCLES, campaigns: CAMPAIGNS, promotions: PROMOTIONS };

/** Circles and campaigns grow with the merchants and the promotions, in the default proportions. */
export function sizeFor(merchants: number, promotions: number): PromotionsSize {
  return { merchants, promotions, circles: Math.round((CIRCLES * merchants) / MERCHANTS), campaigns: Math.round((CAMPAIGNS * promotions) / PROMOTIONS) };
}

export async function ensurePromotionsData(url: string, rebuild: boolean, log: Log, size: PromotionsSize = DEFAULT_SIZE): Promise<PromotionsData> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("ALTER TABLE bench.meta ADD COLUMN IF NOT EXISTS promotions_version int");
    await client.query("ALTER TABLE bench.meta ADD COLUMN IF NOT EXISTS promotions_built_at timestamptz");
    await client.query("ALTER TABLE bench.meta ADD COLUMN IF NOT EXISTS promotions_steps jsonb");
    const meta = await client.query<{ v: number | null; at: Date | null; steps: { step: string; seconds: number }[] | null }>(
      "SELECT promotions_version AS v, promotions_built_at AS at, promotions_steps AS steps FROM bench.meta",
    );
    if (meta.rowCount === 0) throw new Error("bench.meta has no row: build the records first");
    const counts = await client.query<{ m: number; p: number }>("SELECT (SELECT count(*) FROM merchant)::int AS m, (SELECT count(*) FROM promotion WHERE code LIKE 'PR%')::int AS p");
    const row = meta.rows[0];
    let reason: string | null = null;
    if (rebuild) reason = "--rebuild-promotions";
    else if (row.v === null) reason = "no merchant data yet";
    else if (row.v !== PROMOTIONS_VERSION) reason = `merchant data from generator v${row.v}, now v${PROMOTIONS_VERSION}`;
    else if (counts.rows[0].m !== size.merchants || counts.rows[0].p !== size.promotions) {
      reason = `merchant holds ${fmt(counts.rows[0].m)} rows and promotion ${fmt(counts.rows[0].p)}, ${fmt(size.merchants)} and ${fmt(size.promotions)} expected`;
    }
    if (reason === null) {
      log(`reusing the merchants and promotions built ${row.at!.toISOString()} (--rebuild-promotions to force)`);
      if ((await client.query<{ n: number }>("SELECT count(*)::int AS n FROM live_offer")).rows[0].n === 0) await indexOffers(client, log);
      return { ...(await summarize(client)), builtAt: row.at!.toISOString(), reused: true, buildSteps: row.steps ?? [] };
    }
    log(`building merchants, circles, campaigns and promotions: ${reason}`);
    const steps = await build(client, log, size);
    await client.query("UPDATE bench.meta SET promotions_version = $1, promotions_built_at = now(), promotions_steps = $2", [PROMOTIONS_VERSION, JSON.stringify(steps)]);
    const at = (await client.query<{ at: Date }>("SELECT promotions_built_at AS at FROM bench.meta")).rows[0].at;
    return { ...(await summarize(client)), builtAt: at.toISOString(), reused: false, buildSteps: steps };
  } finally {
    await client.end();
  }
}

async function build(client: pg.Client, log: Log, size: PromotionsSize): Promise<{ step: string; seconds: number }[]> {
  const steps: { step: string; seconds: number }[] = [];
  const step = async (name: string, run: () => Promise<string | void>) => {
    const t0 = performance.now();
    const note = await run();
    const seconds = (performance.now() - t0) / 1000;
    steps.push({ step: name, seconds: Math.round(seconds * 100) / 100 });
    log(`  ${name}: ${seconds.toFixed(1)} s${note ? `  (${note})` : ""}`);
  };
  const q = (sql: string, values?: unknown[]) => client.query(sql, values);
  const n = async (sql: string) => fmt((await q(sql)).rows[0].n as number);

  await q("SET work_mem = '256MB'");
  await q("SET synchronous_commit = off");
  await q("SET jit = off");

  await step("reset merchant tables", async () => {
    await q("UPDATE bench.meta SET promotions_version = NULL");
    await q(`TRUNCATE live_offer, redemption, promotion, campaign_merchant, campaign_circle, campaign, circle_member, business_circle, visit, merchant
             RESTART IDENTITY CASCADE`);
    await q(`CREATE OR REPLACE FUNCTION bench.u(i bigint, salt bigint) RETURNS float8
             LANGUAGE sql IMMUTABLE PARALLEL SAFE
             AS $$ SELECT (hashint8extended(i, salt) & 4294967295)::float8 / 4294967296.0 $$`);
    await q("DROP TABLE IF EXISTS bench.city_geo, bench.outlet_city, bench.merchant_city, bench.circle_city, bench.campaign_plan");
    // Cities: centre, cumulative share (for picking by a uniform draw), cluster radius 5..10 km.
    await q(
      `CREATE UNLOGGED TABLE bench.city_geo AS
       WITH c AS (
         SELECT x.ord AS city_no, x.code, x.name, x.lat, x.lng, x.weight, b.id AS branch_id
         FROM jsonb_to_recordset($1::jsonb) AS x(ord int, code text, name text, lat float8, lng float8, weight int)
         JOIN branch b ON b.code = x.code AND b.level = 'CITY'
       )
       SELECT c.*, 5000 + 5000 * (weight - 2)::float8 / 20 AS radius_m,
              (sum(weight) OVER (ORDER BY city_no) - weight)::float8 / sum(weight) OVER () AS cum_lo,
              sum(weight) OVER (ORDER BY city_no)::float8 / sum(weight) OVER () AS cum_hi,
              (SELECT count(*) FROM branch o JOIN branch sb ON sb.id = o.parent_id WHERE sb.parent_id = c.branch_id AND o.level = 'OUTLET')::int AS outlets
       FROM c`,
      [JSON.stringify(CITIES.map((c, i) => ({ ord: i + 1, ...c })))],
    );
    const cities = await q("SELECT count(*)::int AS n FROM bench.city_geo WHERE outlets > 0");
    if (cities.rows[0].n !== CITIES.length) throw new Error(`expected ${CITIES.length} city branches with outlets (C01..C13), found ${cities.rows[0].n}`);
    await q(`CREATE UNLOGGED TABLE bench.outlet_city AS
             SELECT g.city_no, (row_number() OVER (PARTITION BY g.city_no ORDER BY o.id))::int AS rn, o.id
             FROM bench.city_geo g JOIN branch sb ON sb.parent_id = g.branch_id JOIN branch o ON o.parent_id = sb.id AND o.level = 'OUTLET'`);
    await q("ALTER TABLE bench.outlet_city ADD PRIMARY KEY (city_no, rn)");
  });

  await step(`merchants (${fmt(size.merchants)})`, async () => {
    // City by share; bearing uniform; distance R × u^0.6 (denser towards the centre). Ids follow
    // a ~500 m grid inside each city, so consecutive ids are neighbours (circles are runs of ids).
    await q(
      `CREATE UNLOGGED TABLE bench.merchant_city AS
       WITH g AS (
         SELECT i, bench.u(i, 201) AS uc, 2 * pi() * bench.u(i, 202) AS theta, bench.u(i, 203) AS ur FROM generate_series(1, $1::int) AS g(i)
       ), p AS (
         SELECT g.i, c.city_no, c.lat + c.radius_m * power(g.ur, 0.6) * cos(g.theta) / 111320 AS lat,
                c.lng + c.radius_m * power(g.ur, 0.6) * sin(g.theta) / (111320 * cos(radians(c.lat))) AS lng
         FROM g JOIN bench.city_geo c ON g.uc >= c.cum_lo AND g.uc < c.cum_hi
       )
       SELECT (row_number() OVER (ORDER BY city_no, floor(lat / 0.005), floor(lng / 0.005), i))::int AS id,
              (row_number() OVER (PARTITION BY city_no ORDER BY floor(lat / 0.005), floor(lng / 0.005), i))::int AS rn,
              i, city_no, round(lat::numeric, 6)::float8 AS lat, round(lng::numeric, 6)::float8 AS lng
       FROM p`,
      [size.merchants],
    );
    await q("ALTER TABLE bench.merchant_city ADD PRIMARY KEY (id)");
    await q("CREATE UNIQUE INDEX ON bench.merchant_city (city_no, rn)");
    await q(
      `INSERT INTO merchant (id, code, name, category, address, latitude, longitude, branch_id)
       SELECT m.id, 'M' || lpad(m.id::text, greatest(6, length(m.id::text)), '0'),
              c.name || ' ' || k.category || ' ' || m.id,
              k.category::"MerchantCategory",
              'No. ' || (1 + floor(bench.u(m.i, 206) * 300))::int || ', ' ||
                (ARRAY['Yingze', 'Jiefang', 'Binhe', 'Changfeng', 'Xinjian', 'Pingyang', 'Fuxi', 'Shengli', 'Wuyi', 'Renmin'])[1 + floor(bench.u(m.i, 207) * 10)::int] ||
                ' Street, ' || c.name,
              m.lat, m.lng, o.id
       FROM bench.merchant_city m
       JOIN bench.city_geo c ON c.city_no = m.city_no
       JOIN bench.outlet_city o ON o.city_no = m.city_no AND o.rn = 1 + floor(bench.u(m.i, 205) * c.outlets)::int
       CROSS JOIN LATERAL (SELECT (ARRAY['RESTAURANT', 'RESTAURANT', 'RESTAURANT', 'CAFE', 'CAFE', 'SUPERMARKET', 'CONVENIENCE_STORE',
                                         'ENTERTAINMENT', 'FUEL', 'HOTEL', 'RETAIL', 'HEALTH'])[1 + floor(bench.u(m.i, 204) * 12)::int] AS category) k
       ORDER BY m.id`,
    );
    await q("SELECT setval(pg_get_serial_sequence('merchant', 'id'), $1)", [size.merchants]);
    return `${await n("SELECT count(*)::int AS n FROM merchant")} merchants`;
  });

  await step(`business circles (${fmt(size.circles)}, 5..50 neighbouring merchants)`, async () => {
    // A circle is a run of 5..50 consecutive merchant ids in one city, from a random start.
    await q(
      `INSERT INTO business_circle (id, code, name, kind, branch_id)
       SELECT k, 'BC' || lpad(k::text, 5, '0'), g.name || ' ' || kd.kind_name || ' ' || k, kd.kind::"CircleKind", m.branch_id
       FROM generate_series(1, $1::int) AS k
       JOIN merchant m ON m.id = 1 + floor(bench.u(k, 211) * $2)::int
       JOIN bench.merchant_city mc ON mc.id = m.id
       JOIN bench.city_geo g ON g.city_no = mc.city_no
       CROSS JOIN LATERAL (SELECT CASE WHEN bench.u(k, 212) < 0.40 THEN 'COMPLEX' WHEN bench.u(k, 212) < 0.80 THEN 'STREET'
                                       WHEN bench.u(k, 212) < 0.95 THEN 'SUPERMARKET' ELSE 'SINGLE' END AS kind) k0
       CROSS JOIN LATERAL (SELECT k0.kind, CASE k0.kind WHEN 'COMPLEX' THEN 'Plaza' WHEN 'STREET' THEN 'Food street'
                                                  WHEN 'SUPERMARKET' THEN 'Hypermarket' ELSE 'Chain' END AS kind_name) kd
       ORDER BY k`,
      [size.circles, size.merchants],
    );
    await q("SELECT setval(pg_get_serial_sequence('business_circle', 'id'), $1)", [size.circles]);
    await q(
      `INSERT INTO circle_member (circle_id, merchant_id)
       SELECT k, s.start + j
       FROM generate_series(1, $1::int) AS k
       CROSS JOIN LATERAL (SELECT 1 + floor(bench.u(k, 211) * $2)::int AS start, 5 + floor(bench.u(k, 213) * 46)::int AS size) s
       CROSS JOIN LATERAL generate_series(0, s.size - 1) AS j
       JOIN bench.merchant_city a ON a.id = s.start
       JOIN bench.merchant_city b ON b.id = s.start + j AND b.city_no = a.city_no
       ORDER BY 1, 2`,
      [size.circles, size.merchants],
    );
    await q(`CREATE UNLOGGED TABLE bench.circle_city AS
             SELECT mc.city_no, (row_number() OVER (PARTITION BY mc.city_no ORDER BY c.id))::int AS rn, c.id
             FROM business_circle c JOIN bench.merchant_city mc ON mc.id = 1 + floor(bench.u(c.id, 211) * $1)::int`, [size.merchants]);
    await q("ALTER TABLE bench.circle_city ADD PRIMARY KEY (city_no, rn)");
    return `${await n("SELECT count(*)::int AS n FROM circle_member")} memberships, ${await n("SELECT count(DISTINCT merchant_id)::int AS n FROM circle_member")} merchants in a circle`;
  });

  await step(`ACTIVE campaigns (${size.campaigns}) with eligible circles and merchants`, async () => {
    // City by merchant share. Scope: 10 % wide (10..30 circles, 3..8 promotions before scaling),
    // 60 % a few circles (1..6; 10..30 promotions; a third also 1..10 merchants), 30 % a list of
    // 10..150 merchants (5..40 promotions; 30 % also one circle). `lo`..`hi`: its promotion numbers,
    // the weights scaled to exactly size.promotions.
    await q(
      `CREATE UNLOGGED TABLE bench.campaign_plan AS
       WITH k AS (
         SELECT k, c.city_no, c.branch_id, c.name AS city_name,
                CASE WHEN bench.u(k, 222) < 0.10 THEN 'WIDE' WHEN bench.u(k, 222) < 0.70 THEN 'CIRCLES' ELSE 'MERCHANTS' END AS scope
         FROM generate_series(1, $1::int) AS k JOIN bench.city_geo c ON bench.u(k, 221) >= c.cum_lo AND bench.u(k, 221) < c.cum_hi
       ), w AS (
         SELECT k.*,
                CASE scope WHEN 'WIDE' THEN 10 + floor(bench.u(k, 223) * 21) WHEN 'CIRCLES' THEN 1 + floor(bench.u(k, 223) * 6)
                           ELSE CASE WHEN bench.u(k, 223) < 0.3 THEN 1 ELSE 0 END END::int AS n_circles,
                CASE scope WHEN 'WIDE' THEN 0 WHEN 'CIRCLES' THEN CASE WHEN bench.u(k, 224) < 0.33 THEN 1 + floor(bench.u(k, 225) * 10) ELSE 0 END
                           ELSE 10 + floor(bench.u(k, 225) * 141) END::int AS n_merchants,
                CASE scope WHEN 'WIDE' THEN 3 + floor(bench.u(k, 226) * 6) WHEN 'CIRCLES' THEN 10 + floor(bench.u(k, 226) * 21)
                           ELSE 5 + floor(bench.u(k, 226) * 36) END::int AS weight
         FROM k
       )
       SELECT w.*, floor((sum(weight) OVER (ORDER BY k) - weight)::float8 * $2 / sum(weight) OVER ())::int + 1 AS lo,
              floor(sum(weight) OVER (ORDER BY k)::float8 * $2 / sum(weight) OVER ())::int AS hi
       FROM w`,
      [size.campaigns, size.promotions],
    );
    const empty = await q("SELECT count(*)::int AS n FROM bench.campaign_plan WHERE hi < lo");
    if (empty.rows[0].n > 0) throw new Error(`${empty.rows[0].n} campaigns would get no promotion`);
    await q(
      `INSERT INTO campaign (id, code, name, branch_id, starts_on, ends_on, budget_fen, spent_fen, status)
       SELECT k, 'CP' || lpad(k::text, 4, '0'),
              city_name || ' ' || (ARRAY['New Year dining', 'Spring Festival', 'Weekend treats', 'Lantern Festival', 'Night market',
                                         'Card welcome offers', 'Supermarket savings', 'Cinema nights'])[1 + floor(bench.u(k, 227) * 8)::int] || ' ' || k,
              branch_id, DATE '2021-01-01' - floor(bench.u(k, 228) * 31)::int, DATE '2021-03-31' + floor(bench.u(k, 229) * 31)::int,
              b.budget, floor(b.budget * 0.6 * bench.u(k, 231))::bigint, 'ACTIVE'
       FROM bench.campaign_plan CROSS JOIN LATERAL (SELECT ((1000 + floor(bench.u(k, 230) * 49000)) * 10000)::bigint AS budget) b
       ORDER BY k`,
    );
    await q("SELECT setval(pg_get_serial_sequence('campaign', 'id'), $1)", [size.campaigns]);
    await q(
      `INSERT INTO campaign_circle (campaign_id, circle_id)
       SELECT DISTINCT p.k, cc.id
       FROM bench.campaign_plan p
       CROSS JOIN LATERAL generate_series(1, p.n_circles) AS j
       JOIN LATERAL (SELECT count(*)::int AS n FROM bench.circle_city WHERE city_no = p.city_no) cnt ON true
       JOIN bench.circle_city cc ON cc.city_no = p.city_no AND cc.rn = 1 + floor(bench.u(p.k * 1000 + j, 232) * cnt.n)::int`,
    );
    await q(
      `INSERT INTO campaign_merchant (campaign_id, merchant_id)
       SELECT DISTINCT p.k, mc.id
       FROM bench.campaign_plan p
       CROSS JOIN LATERAL generate_series(1, p.n_merchants) AS j
       JOIN LATERAL (SELECT count(*)::int AS n FROM bench.merchant_city WHERE city_no = p.city_no) cnt ON true
       JOIN bench.merchant_city mc ON mc.city_no = p.city_no AND mc.rn = 1 + floor(bench.u(p.k * 1000 + j, 233) * cnt.n)::int`,
    );
    return `${await n("SELECT count(*)::int AS n FROM campaign_circle")} campaign circles, ${await n("SELECT count(*)::int AS n FROM campaign_merchant")} campaign merchants`;
  });

  await step(`promotions (${fmt(size.promotions)})`, async () => {
    // Kind: 35 % PERCENT_OFF, 20 % FIXED_PRICE, 30 % CASHBACK, 15 % LUCKY_DRAW (5 % of draws out of
    // prizes). Validity: half the whole quarter, half 2..11 weeks of it. Schedule: 50 % all day,
    // 15 % Saturday 09:00-21:00, 10 % weekend 10:00-22:00, 10 % Friday 22:00-02:00 (past midnight),
    // 15 % weekday lunch 11:00-14:00. 40 % have a budget cap, a few of them spent.
    await q(
      `INSERT INTO promotion (id, code, campaign_id, title, kind, percent_off, amount_fen, min_spend_fen, list_price_fen, draw_odds, prize_stock,
                              valid_from, valid_to, schedule, per_card_per_day, per_card_per_week, per_card_per_campaign, budget_cap_fen, spent_fen)
       WITH g AS (
         SELECT i, p.k AS campaign_id,
                CASE WHEN bench.u(i, 241) < 0.35 THEN 'PERCENT_OFF' WHEN bench.u(i, 241) < 0.55 THEN 'FIXED_PRICE'
                     WHEN bench.u(i, 241) < 0.85 THEN 'CASHBACK' ELSE 'LUCKY_DRAW' END AS kind,
                bench.u(i, 242) AS a, bench.u(i, 243) AS b, bench.u(i, 244) AS c,
                CASE WHEN bench.u(i, 245) < 0.5 THEN NULL ELSE DATE '2021-01-01' + floor(bench.u(i, 246) * 76)::int END AS from_day,
                bench.u(i, 247) AS s, bench.u(i, 248) AS cap
         FROM generate_series(1, $1::int) AS i JOIN bench.campaign_plan p ON i BETWEEN p.lo AND p.hi
       ), r AS (
         SELECT g.*,
                CASE kind WHEN 'PERCENT_OFF' THEN 5 * (1 + floor(a * 10))::int END AS percent_off,
                CASE kind WHEN 'PERCENT_OFF' THEN CASE WHEN b < 0.7 THEN (10 + floor(c * 41))::bigint * 100 END
                          WHEN 'FIXED_PRICE' THEN (1 + floor(a * 30))::bigint * 100
                          WHEN 'CASHBACK' THEN (5 + floor(a * 46))::bigint * 100
                          ELSE (10 + floor(a * 879))::bigint * 100 END AS amount_fen,
                CASE WHEN kind = 'LUCKY_DRAW' THEN CASE WHEN b < 0.05 THEN 0 ELSE 10 + floor(c * 991)::int END END AS prize_stock
         FROM g
       )
       SELECT i, 'PR' || lpad(i::text, greatest(5, length(i::text)), '0'), campaign_id,
              CASE kind WHEN 'PERCENT_OFF' THEN percent_off || '% off' || coalesce(', up to ¥' || amount_fen / 100, '')
                        WHEN 'FIXED_PRICE' THEN 'Pay ¥' || amount_fen / 100 || ' for a ¥' || (amount_fen + (5 + floor(b * 96))::bigint * 100) / 100 || ' set'
                        WHEN 'CASHBACK' THEN '¥' || amount_fen / 100 || ' back'
                        ELSE 'Lucky draw: win ¥' || amount_fen / 100 END || ' #' || i,
              kind::"PromotionKind", percent_off, amount_fen,
              CASE kind WHEN 'CASHBACK' THEN amount_fen * (4 + floor(b * 7))::int
                        WHEN 'LUCKY_DRAW' THEN CASE WHEN c < 0.5 THEN (20 + floor(b * 181))::bigint * 100 END END,
              CASE kind WHEN 'FIXED_PRICE' THEN amount_fen + (5 + floor(b * 96))::bigint * 100 END,
              CASE kind WHEN 'LUCKY_DRAW' THEN round((0.01 + 0.19 * a)::numeric, 3)::float8 END,
              prize_stock,
              coalesce(from_day, DATE '2021-01-01'),
              coalesce(least(DATE '2021-03-31', from_day + 14 + floor(bench.u(i, 249) * 64)::int), DATE '2021-03-31'),
              (CASE WHEN s < 0.50 THEN '[]'
                    WHEN s < 0.65 THEN '[{"days":["SATURDAY"],"start":"09:00","end":"21:00"}]'
                    WHEN s < 0.75 THEN '[{"days":["SATURDAY","SUNDAY"],"start":"10:00","end":"22:00"}]'
                    WHEN s < 0.85 THEN '[{"days":["FRIDAY"],"start":"22:00","end":"02:00"}]'
                    ELSE '[{"days":["MONDAY","TUESDAY","WEDNESDAY","THURSDAY","FRIDAY"],"start":"11:00","end":"14:00"}]' END)::jsonb,
              CASE WHEN bench.u(i, 250) < 0.5 THEN 1 END,
              CASE WHEN bench.u(i, 251) < 0.3 THEN 2 + floor(bench.u(i, 252) * 4)::int END,
              CASE WHEN bench.u(i, 253) < 0.3 THEN 1 + floor(bench.u(i, 254) * 10)::int END,
              CASE WHEN cap < 0.4 THEN (1000 + floor(bench.u(i, 255) * 49000))::bigint * 100 END,
              CASE WHEN cap < 0.02 THEN (1000 + floor(bench.u(i, 255) * 49000))::bigint * 100
                   WHEN cap < 0.4 THEN floor((1000 + floor(bench.u(i, 255) * 49000)) * 100 * 0.5 * bench.u(i, 256))::bigint
                   ELSE floor(bench.u(i, 256) * 2000000)::bigint END
       FROM r ORDER BY i`,
      [size.promotions],
    );
    await q("SELECT setval(pg_get_serial_sequence('promotion', 'id'), $1)", [size.promotions]);
    return `${await n("SELECT count(*)::int AS n FROM promotion")} promotions`;
  });

  await step("VACUUM ANALYZE", async () => {
    await q("DROP TABLE IF EXISTS bench.outlet_city, bench.circle_city, bench.campaign_plan");
    await indexOffers(client, log);
    await q("VACUUM (ANALYZE) merchant, business_circle, circle_member, campaign, campaign_circle, campaign_merchant, promotion, redemption, visit");
  });
  return steps;
}

/**
 * The live-offer index from the rows built above, as `rollups:rebuild` would (the data is
 * written in SQL, not through the services that keep the index), then its statistics.
 */
async function indexOffers(client: pg.Client, log: Log): Promise<void> {
  const t0 = performance.now();
  const viaPg = {
    $executeRaw: async (strings: TemplateStringsArray, ...values: unknown[]) => {
      const q = Prisma.sql(strings, ...values);
      return (await client.query(q.text, q.values as unknown[])).rowCount ?? 0;
    },
  };
  const rows = await rebuildOffers(viaPg as unknown as Parameters<typeof rebuildOffers>[0]);
  await client.query("VACUUM (ANALYZE) live_offer");
  log(`  live-offer index: ${fmt(rows)} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function summarize(client: pg.Client): Promise<Omit<PromotionsData, "builtAt" | "reused" | "buildSteps">> {
  const r = await client.query(`SELECT
      (SELECT count(*) FROM merchant)::int AS merchants,
      (SELECT count(*) FROM business_circle)::int AS circles,
      (SELECT count(*) FROM circle_member)::int AS members,
      (SELECT count(*) FROM campaign WHERE status = 'ACTIVE')::int AS campaigns,
      (SELECT count(*) FROM campaign_circle)::int AS cc,
      (SELECT count(*) FROM campaign_merchant)::int AS cm,
      (SELECT count(*) FROM promotion)::int AS promotions,
      (SELECT string_agg(kind || ' ' || n, ', ' ORDER BY kind) FROM (SELECT kind::text, count(*) AS n FROM promotion GROUP BY kind) k) AS by_kind,
      (SELECT string_agg(sched || ' ' || n, ', ' ORDER BY n DESC) FROM (SELECT schedule::text AS sched, count(*) AS n FROM promotion GROUP BY schedule::text) s) AS by_schedule`);
  const s = r.rows[0];
  let perCity = "";
  const exists = await client.query("SELECT to_regclass('bench.merchant_city') IS NOT NULL AS ok");
  if (exists.rows[0].ok) {
    const c = await client.query<{ code: string; n: number }>(
      "SELECT b.code, count(*)::int AS n FROM bench.merchant_city m JOIN bench.city_geo g ON g.city_no = m.city_no JOIN branch b ON b.id = g.branch_id GROUP BY b.code ORDER BY b.code",
    );
    perCity = c.rows.map((x) => `${x.code} ${CITIES.find((k) => k.code === x.code)?.name ?? ""} ${fmt(x.n)}`).join(", ");
  }
  return {
    merchants: s.merchants,
    circles: s.circles,
    circleMembers: s.members,
    campaigns: s.campaigns,
    campaignCircles: s.cc,
    campaignMerchants: s.cm,
    promotions: s.promotions,
    byKind: s.by_kind ?? "",
    bySchedule: s.by_schedule ?? "",
    merchantsPerCity: perCity,
  };
}
