/**
 * What the dashboard shows as tables, built once from the answers to its documents
 * (src/dashboard/documents.ts) and used by both the page (web/) and the exports
 * (src/http/dashboard.ts): the screen, the CSV and the XLSX hold the same numbers because they
 * come from the same rows and the same formatting. Pure: no I/O, runs in the browser too.
 */

export type Lang = "zh" | "en";
export type Metric = "APPLICATIONS" | "APPROVALS" | "NEW_CUSTOMERS" | "ACTIVATIONS";
export const METRICS: readonly Metric[] = ["APPLICATIONS", "APPROVALS", "NEW_CUSTOMERS", "ACTIVATIONS"];

/** How a column's values are shown: counts with separators, rates as percentages, rank changes signed. */
export type Kind = "text" | "count" | "rate" | "progress" | "money" | "rank" | "change";

export interface Column {
  readonly key: string;
  readonly label: Readonly<Record<Lang, string>>;
  readonly kind: Kind;
}

export type Value = string | number | null;

export interface Table {
  readonly id: TableId | "payroll";
  readonly columns: readonly Column[];
  readonly rows: readonly Readonly<Record<string, Value>>[];
}

export const TABLE_IDS = ["metrics", "peers", "children", "managers", "campaigns", "circles"] as const;
export type TableId = (typeof TABLE_IDS)[number];

export const TABLE_TITLES: Readonly<Record<TableId, Readonly<Record<Lang, string>>>> = {
  metrics: { zh: "指标完成情况", en: "Metrics" },
  peers: { zh: "同级排名", en: "Ranking among peers" },
  children: { zh: "下级机构", en: "Child units" },
  managers: { zh: "客户经理排行", en: "Account managers" },
  campaigns: { zh: "营销活动", en: "Campaigns" },
  circles: { zh: "商圈", en: "Business circles" },
};

export const METRIC_LABELS: Readonly<Record<Metric, Readonly<Record<Lang, string>>>> = {
  APPLICATIONS: { zh: "进件", en: "Applications" },
  APPROVALS: { zh: "核准", en: "Approvals" },
  NEW_CUSTOMERS: { zh: "新增客户", en: "New customers" },
  ACTIVATIONS: { zh: "激活", en: "Activations" },
};

// ---- The answers' shapes (the fields the documents ask) --------------------------------------

export interface MetricProgress {
  metric: Metric;
  actual: number;
  target: number | null;
  completionRate: number | null;
}
export interface PerformanceData {
  period: string;
  asOf: string;
  timeProgress: number;
  metrics: MetricProgress[];
  rank: number | null;
  series: { start: string; cumulative: number }[];
}
export interface Standing {
  rank: number;
  actual: number;
  target: number | null;
  completionRate: number | null;
  branch: { code: string; name: string };
}
export interface ManagerStanding {
  rank: number;
  actual: number;
  target: number | null;
  completionRate: number | null;
  manager: { code: string; name: string; branch: { code: string; name: string } };
}
/** A unit's statement as DashboardUnit asks it: the lines that judge the unit itself (src/dashboard/earnings.ts). */
export interface UnitStatement {
  planCode: string;
  basis: string;
  asOf: string;
  lines: { ruleKind: string; metric: string; quantity: number; amount: number }[];
}
export interface UnitData {
  branch: {
    code: string;
    name: string;
    level: string;
    parent: { code: string; name: string; parent: { code: string; name: string; parent: { code: string; name: string } | null } | null } | null;
    performance: PerformanceData;
    /** The unit's own statements (TEAM pools, PENALTY lines): null when the caller may not read them. */
    incentives?: UnitStatement[] | null;
  } | null;
  children: Standing[] | null;
  childrenBefore: { rank: number; branch: { code: string } }[] | null;
}
export interface DetailsData {
  peers?: Standing[] | null;
  peersBefore?: { rank: number; branch: { code: string } }[] | null;
  managers: ManagerStanding[] | null;
  campaigns: {
    totalCount: number;
    edges: { node: {
      code: string; name: string; status: string; budget: number; spent: number; startsOn: string; endsOn: string;
      results: { applications: number; approvals: number; newCustomers: number; activations: number; redemptions: number; spentSoFar: number; budgetUsed: number | null };
    } }[];
  } | null;
  businessCircles: {
    totalCount: number;
    edges: { node: {
      code: string; name: string; kind: string; merchantCount: number;
      results: { visits: number; merchantsSigned: number; applications: number; newCustomers: number; activations: number; redemptions: number };
    } }[];
  } | null;
}

// ---- Formatting --------------------------------------------------------------------------------

/**
 * A value as the screen and the CSV show it: counts with thousands separators, completion to
 * two decimals of a percent (132.87 %), time progress to one (65.6 %), rank changes signed.
 */
export function format(kind: Kind, value: Value): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  switch (kind) {
    case "count":
    case "rank":
      return value.toLocaleString("en-US");
    case "money":
      return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    case "rate":
      return `${(value * 100).toFixed(2)} %`;
    case "progress":
      return `${(value * 100).toFixed(1)} %`;
    case "change":
      return value > 0 ? `+${value}` : String(value);
    default:
      return String(value);
  }
}

/** The number an XLSX cell holds: what the screen shows, rounded the same way, as a number. */
export function cellNumber(kind: Kind, value: number): number {
  if (kind === "rate") return Math.round(value * 10_000) / 10_000;
  if (kind === "progress") return Math.round(value * 1_000) / 1_000;
  if (kind === "money") return Math.round(value * 100) / 100;
  return value;
}

/** Ahead of pace when completion has reached time progress (shared/domain.md: 时间进度). */
export function pace(completionRate: number | null, timeProgress: number): "ahead" | "behind" | null {
  if (completionRate === null) return null;
  return completionRate >= timeProgress ? "ahead" : "behind";
}

/** Places gained since the day before (positive: up); null for a unit not ranked then. */
export function rankChange(today: number, before: number | undefined): number | null {
  return before === undefined ? null : before - today;
}

/** The unit's ancestors, top first, as far as the document asks (three levels up). */
export function ancestorsOf(branch: NonNullable<UnitData["branch"]>): { code: string; name: string }[] {
  const chain: { code: string; name: string }[] = [];
  for (let p: { code: string; name: string; parent?: unknown } | null = branch.parent; p; p = (p.parent ?? null) as typeof p) {
    chain.unshift({ code: p.code, name: p.name });
  }
  return chain;
}

// ---- Tables ------------------------------------------------------------------------------------

export const col = (key: string, zh: string, en: string, kind: Kind): Column => ({ key, label: { zh, en }, kind });

/** What a campaign and a business circle both brought in, in the same columns. */
const RESULT_COLUMNS: readonly Column[] = [
  col("applications", "进件", "Applications", "count"),
  col("newCustomers", "新增客户", "New customers", "count"),
  col("activations", "激活", "Activations", "count"),
  col("redemptions", "核销", "Redemptions", "count"),
];

const STANDING_COLUMNS: readonly Column[] = [
  col("rank", "排名", "Rank", "rank"),
  col("change", "较前一日", "Change since the day before", "change"),
  col("code", "机构代码", "Code", "text"),
  col("name", "机构", "Unit", "text"),
  col("actual", "完成", "Actual", "count"),
  col("target", "目标", "Target", "count"),
  col("completionRate", "完成率", "Completion", "rate"),
  col("timeProgress", "时间进度", "Time progress", "progress"),
];

function standings(today: Standing[] | null | undefined, before: { rank: number; branch: { code: string } }[] | null | undefined, timeProgress: number) {
  const previous = new Map((before ?? []).map((s) => [s.branch.code, s.rank]));
  return (today ?? []).map((s) => ({
    rank: s.rank,
    change: rankChange(s.rank, previous.get(s.branch.code)),
    code: s.branch.code,
    name: s.branch.name,
    actual: s.actual,
    target: s.target,
    completionRate: s.completionRate,
    timeProgress,
  }));
}

/** Every table of a unit's screen, from the answers to DashboardUnit and DashboardDetails. */
export function unitTables(unit: UnitData, details: DetailsData | null): Record<TableId, Table> {
  const performance = unit.branch?.performance;
  const timeProgress = performance?.timeProgress ?? 0;
  return {
    metrics: {
      id: "metrics",
      columns: [
        col("metric", "指标", "Metric", "text"),
        col("actual", "完成", "Actual", "count"),
        col("target", "目标", "Target", "count"),
        col("completionRate", "完成率", "Completion", "rate"),
        col("timeProgress", "时间进度", "Time progress", "progress"),
        col("pace", "进度", "Pace", "text"),
      ],
      rows: (performance?.metrics ?? []).map((m) => ({
        metric: m.metric,
        actual: m.actual,
        target: m.target,
        completionRate: m.completionRate,
        timeProgress,
        pace: pace(m.completionRate, timeProgress),
      })),
    },
    peers: { id: "peers", columns: STANDING_COLUMNS, rows: standings(details?.peers, details?.peersBefore, timeProgress) },
    children: { id: "children", columns: STANDING_COLUMNS, rows: standings(unit.children, unit.childrenBefore, timeProgress) },
    managers: managersTable(details?.managers ?? null),
    campaigns: {
      id: "campaigns",
      columns: [
        col("code", "活动代码", "Code", "text"),
        col("name", "活动", "Campaign", "text"),
        col("status", "状态", "Status", "text"),
        ...RESULT_COLUMNS,
        col("budget", "预算(元)", "Budget (yuan)", "money"),
        col("spentSoFar", "已用(元)", "Spent (yuan)", "money"),
        col("budgetUsed", "预算使用率", "Budget used", "rate"),
      ],
      rows: (details?.campaigns?.edges ?? []).map(({ node: c }) => ({
        code: c.code,
        name: c.name,
        status: c.status,
        applications: c.results.applications,
        newCustomers: c.results.newCustomers,
        activations: c.results.activations,
        redemptions: c.results.redemptions,
        budget: c.budget,
        spentSoFar: c.results.spentSoFar,
        budgetUsed: c.results.budgetUsed,
      })),
    },
    circles: {
      id: "circles",
      columns: [
        col("code", "商圈代码", "Code", "text"),
        col("name", "商圈", "Business circle", "text"),
        col("merchantCount", "商户数", "Merchants", "count"),
        col("visits", "走访", "Visits", "count"),
        col("merchantsSigned", "签约商户", "Merchants signed", "count"),
        ...RESULT_COLUMNS,
      ],
      rows: (details?.businessCircles?.edges ?? []).map(({ node: c }) => ({
        code: c.code,
        name: c.name,
        merchantCount: c.merchantCount,
        ...c.results,
      })),
    },
  };
}

export function managersTable(managers: ManagerStanding[] | null): Table {
  return {
    id: "managers",
    columns: [
      col("rank", "排名", "Rank", "rank"),
      col("code", "工号", "Code", "text"),
      col("name", "客户经理", "Account manager", "text"),
      col("unit", "所属机构", "Unit", "text"),
      col("actual", "完成", "Actual", "count"),
      col("target", "目标", "Target", "count"),
      col("completionRate", "完成率", "Completion", "rate"),
    ],
    rows: (managers ?? []).map((m) => ({
      rank: m.rank,
      code: m.manager.code,
      name: m.manager.name,
      unit: m.manager.branch.name,
      actual: m.actual,
      target: m.target,
      completionRate: m.completionRate,
    })),
  };
}

/** A cell as displayed: metric codes and pace in the reader's language, the rest by its kind. */
export function display(column: Column, value: Value, lang: Lang): string {
  if (column.key === "metric" && typeof value === "string" && value in METRIC_LABELS) return METRIC_LABELS[value as Metric][lang];
  if (column.key === "pace" && typeof value === "string") return PACE_LABELS[value as "ahead" | "behind"][lang];
  if (column.key === "pace" && value === null) return NO_TARGET[lang];
  return format(column.kind, value);
}

export const PACE_LABELS = { ahead: { zh: "快于进度", en: "ahead of pace" }, behind: { zh: "落后进度", en: "behind pace" } } as const;
export const NO_TARGET = { zh: "无目标", en: "no target" } as const;

/** The title an export carries: the table, the unit, the period and the as-of date. */
export function tableTitle(id: TableId, unitName: string, period: string, asOf: string, lang: Lang): string {
  return lang === "zh"
    ? `${unitName} · ${TABLE_TITLES[id].zh} · ${period} · 截至 ${asOf}`
    : `${unitName} · ${TABLE_TITLES[id].en} · ${period} · as of ${asOf}`;
}

/** CSV (RFC 4180) with a UTF-8 byte-order mark, so Excel opens Chinese text as such; the title is the first line. */
export function toCsv(table: Table, title: string, lang: Lang): string {
  const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [
    [title],
    table.columns.map((c) => c.label[lang]),
    ...table.rows.map((r) => table.columns.map((c) => display(c, r[c.key] ?? null, lang))),
  ];
  return `\uFEFF${lines.map((l) => l.map(quote).join(",")).join("\r\n")}\r\n`;
}

/** The day before a business date ("YYYY-MM-DD"), for the change of rank. */
export function dayBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
