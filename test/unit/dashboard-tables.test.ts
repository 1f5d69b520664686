import { describe, expect, it } from "vitest";
import { estimatedEarnings, teamStatus } from "../../src/dashboard/earnings.js";
import { dayBefore, format, pace, rankChange, toCsv, unitTables, type UnitData } from "../../src/dashboard/tables.js";

describe("dashboard formatting (the screen and the CSV alike)", () => {
  it.each([
    ["count", 6245, "6,245"],
    ["count", null, "—"],
    ["rate", 6245 / 4700, "132.87 %"],
    ["progress", 59 / 90, "65.6 %"],
    ["money", 200000, "200,000.00"],
    ["change", 2, "+2"],
    ["change", -1, "-1"],
    ["change", 0, "0"],
    ["rank", 1, "1"],
  ] as const)("%s %s → %s", (kind, value, shown) => {
    expect(format(kind, value)).toBe(shown);
  });
});

describe("pace, rank change, the day before", () => {
  it.each([
    [1.3287, 0.6556, "ahead"],
    [0.6556, 0.6556, "ahead"],
    [0.5, 0.6556, "behind"],
    [null, 0.6556, null],
  ] as const)("completion %s at time progress %s is %s", (completion, progress, expected) => {
    expect(pace(completion, progress)).toBe(expected);
  });
  it.each([
    [1, 3, 2],
    [4, 2, -2],
    [2, 2, 0],
    [5, undefined, null],
  ] as const)("rank %s, the day before %s: %s", (today, before, change) => {
    expect(rankChange(today, before)).toBe(change);
  });
  it.each([
    ["2021-03-01", "2021-02-28"],
    ["2021-01-01", "2020-12-31"],
    ["2020-03-01", "2020-02-29"],
  ])("the day before %s is %s", (date, before) => {
    expect(dayBefore(date)).toBe(before);
  });
});

describe("a table as CSV", () => {
  const unit: UnitData = {
    branch: null,
    children: [
      { rank: 1, actual: 10, target: 8, completionRate: 1.25, branch: { code: "A", name: "甲, \"一\"" } },
      { rank: 2, actual: 5, target: null, completionRate: null, branch: { code: "B", name: "乙" } },
    ],
    childrenBefore: [{ rank: 2, branch: { code: "A" } }],
  };
  it("starts with a byte-order mark and the title, quotes what needs it, and shows what the screen shows", () => {
    const csv = toCsv(unitTables(unit, null).children, "标题", "zh");
    expect(csv.split("\r\n")).toEqual([
      "\uFEFF标题",
      "排名,较前一日,机构代码,机构,完成,目标,完成率,时间进度",
      '1,+1,A,"甲, ""一""",10,8,125.00 %,0.0 %',
      "2,—,B,乙,5,—,—,0.0 %",
      "",
    ]);
  });
});

describe("earnings on the dashboard (src/dashboard/earnings.ts)", () => {
  it("sums a manager's statements in fen, as of the latest, final only when every one is", () => {
    // 1,060.00 + 235.56 = 1,295.56 (the demo's M-SX-LL-0001); 0.1 + 0.2 must not become 0.30000000000000004.
    expect(estimatedEarnings([
      { planCode: "P", basis: "FINAL", asOf: "2021-04-01", status: "CALCULATED", total: 1060 },
      { planCode: "P", basis: "FINAL", asOf: "2021-04-01", status: "CALCULATED", total: 235.56 },
    ])).toEqual({ total: 1295.56, asOf: "2021-04-01", final: true, plans: ["P"] });
    expect(estimatedEarnings([
      { planCode: "A", basis: "PROVISIONAL", asOf: "2021-02-28", status: "CALCULATED", total: 0.1 },
      { planCode: "B", basis: "FINAL", asOf: "2021-04-01", status: "APPROVED", total: 0.2 },
    ])).toEqual({ total: 0.3, asOf: "2021-04-01", final: false, plans: ["A", "B"] });
    expect(estimatedEarnings([])).toBeNull();
    expect(estimatedEarnings(null)).toBeNull();
  });

  it("reads a unit's team status from its TEAM and PENALTY lines only", () => {
    const lines = [
      { ruleKind: "TEAM", metric: "NEW_CUSTOMERS", quantity: 1, amount: 3000 },
      { ruleKind: "FIRST_ORDER", metric: "NEW_CUSTOMERS", quantity: 3, amount: 60 },
      { ruleKind: "PENALTY", metric: "APPROVALS", quantity: 1, amount: -500 },
    ];
    expect(teamStatus([{ planCode: "P", basis: "FINAL", asOf: "2021-04-01", lines }])).toEqual([
      { planCode: "P", kind: "TEAM", metric: "NEW_CUSTOMERS", amount: 3000, asOf: "2021-04-01" },
      { planCode: "P", kind: "PENALTY", metric: "APPROVALS", amount: -500, asOf: "2021-04-01" },
    ]);
    expect(teamStatus(null)).toEqual([]);
  });

  it("nets a pool taken back by a later adjustment: no pool is shown for a unit that no longer reaches its plan", () => {
    const approved = { planCode: "P", basis: "FINAL", asOf: "2021-04-01", lines: [{ ruleKind: "TEAM", metric: "NEW_CUSTOMERS", quantity: 1, amount: 5000 }] };
    const clawback = { planCode: "P", basis: "FINAL", asOf: "2021-04-05", lines: [{ ruleKind: "TEAM", metric: "NEW_CUSTOMERS", quantity: -1, amount: -5000 }] };
    expect(teamStatus([approved, clawback])).toEqual([]);
    // A penalty reduced by a correction: 500 − 200 = 300 left, as of the correction.
    const penalty = { planCode: "P", basis: "FINAL", asOf: "2021-04-01", lines: [{ ruleKind: "PENALTY", metric: "APPROVALS", quantity: 1, amount: -500 }] };
    const eased = { planCode: "P", basis: "FINAL", asOf: "2021-04-05", lines: [{ ruleKind: "PENALTY", metric: "APPROVALS", quantity: 0, amount: 200 }] };
    expect(teamStatus([penalty, eased])).toEqual([{ planCode: "P", kind: "PENALTY", metric: "APPROVALS", amount: -300, asOf: "2021-04-05" }]);
  });
});
