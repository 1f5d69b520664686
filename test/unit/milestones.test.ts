import { describe, expect, it } from "vitest";
import {
  dailyReportText,
  milestonesBetween,
  milestoneText,
  percent,
  stateChanged,
  stateOf,
  type MilestoneKind,
  type MilestoneState,
  type Observation,
} from "../../src/domain/milestones.js";
import { backoffMs, isPrivateAddress, maskedUrl, webhookUrlProblem } from "../../src/domain/webhook.js";

const ALL: MilestoneKind[] = ["TARGET_REACHED", "BEHIND_PACE", "RANK_CHANGED"];
const obs = (actual: number, target: number | null, timeProgress: number, rank: number | null = null): Observation => ({
  actual,
  target,
  completionRate: target ? actual / target : null,
  timeProgress,
  rank,
});
const st = (reached: boolean, behind: boolean, rank: number | null): MilestoneState => ({ reached, behind, rank });

describe("stateOf", () => {
  it.each([
    ["at 100 %", obs(10, 10, 0.5), 0.05, st(true, false, null)],
    ["over 100 %", obs(12, 10, 0.5), 0.05, st(true, false, null)],
    ["just under", obs(9, 10, 0.5), 0.05, st(false, false, null)],
    ["behind by more than the margin", obs(4, 10, 0.5), 0.05, st(false, true, null)],
    ["behind by exactly the margin is not behind", obs(45, 100, 0.5), 0.05, st(false, false, null)],
    ["no target: nothing reached, never behind", obs(0, null, 0.9), 0.05, st(false, false, null)],
    ["a zero target is no target", obs(5, 0, 0.9), 0.05, st(false, false, null)],
  ])("%s", (_, o, margin, expected) => {
    expect(stateOf({ ...o, rank: null }, margin)).toEqual(expected);
  });

  it("carries the rank", () => {
    expect(stateOf(obs(1, 10, 0.1, 3), 0.05).rank).toBe(3);
  });
});

describe("milestonesBetween", () => {
  it.each([
    ["reaching 100 %", st(false, false, 2), st(true, false, 2), [{ kind: "TARGET_REACHED" }]],
    ["staying at 100 %: nothing new", st(true, false, 2), st(true, false, 2), []],
    ["falling behind", st(false, false, 2), st(false, true, 2), [{ kind: "BEHIND_PACE" }]],
    ["staying behind: nothing new", st(false, true, 2), st(false, true, 2), []],
    ["recovering pace: no milestone", st(false, true, 2), st(false, false, 2), []],
    ["moving up", st(false, false, 3), st(false, false, 1), [{ kind: "RANK_CHANGED", from: 3, to: 1 }]],
    ["moving down", st(false, false, 1), st(false, false, 2), [{ kind: "RANK_CHANGED", from: 1, to: 2 }]],
    ["the first rank is a baseline", st(false, false, null), st(false, false, 2), []],
    ["a period not seen yet starts from nothing reached", null, st(true, false, 1), [{ kind: "TARGET_REACHED" }]],
    ["several at once", st(true, false, 1), st(false, true, 2), [{ kind: "BEHIND_PACE" }, { kind: "RANK_CHANGED", from: 1, to: 2 }]],
  ])("%s", (_, before, after, expected) => {
    expect(milestonesBetween(before, after, ALL)).toEqual(expected);
  });

  it("only the kinds a group asked for", () => {
    expect(milestonesBetween(st(false, false, 2), st(true, true, 1), ["BEHIND_PACE"])).toEqual([{ kind: "BEHIND_PACE" }]);
    expect(milestonesBetween(st(false, false, 2), st(true, true, 1), [])).toEqual([]);
  });

  it("a state is replaced when any part of it changed", () => {
    expect(stateChanged(null, st(false, false, null))).toBe(true);
    expect(stateChanged(st(false, false, 1), st(false, false, 1))).toBe(false);
    expect(stateChanged(st(false, false, 1), st(false, false, 2))).toBe(true);
    expect(stateChanged(st(true, false, 1), st(false, false, 1))).toBe(true);
  });
});

describe("text", () => {
  it("percentages as managers read them", () => {
    expect(percent(1.3287)).toBe("132.87 %");
    expect(percent(59 / 90)).toBe("65.56 %");
    expect(percent(null)).toBe("—");
  });

  it("the story's branch reaching its plan", () => {
    const text = milestoneText({ code: "C1", name: "City branch" }, "2021-Q1", "NEW_CUSTOMERS", { kind: "TARGET_REACHED" }, obs(6245, 4700, 59 / 90, 1));
    expect(text).toBe("**City branch** (C1) · 2021-Q1 · 新客户 new customers\n🎯 Reached 100 % of the target: 6245 / 4700 (132.87 %), time progress 65.56 %");
  });

  it("a daily report lists each child in rank order, a unit without target with a dash", () => {
    const text = dailyReportText({ code: "C1", name: "City" }, "2021-02-28", "2021-Q1", 59 / 90, [
      {
        metric: "NEW_CUSTOMERS",
        rows: [
          { code: "S1", name: "One", actual: 12, target: 10, completionRate: 1.2, gain: 3, rank: 1 },
          { code: "S2", name: "Two", actual: 4, target: null, completionRate: null, gain: 0, rank: 2 },
        ],
      },
      { metric: "APPLICATIONS", rows: [] },
    ]);
    expect(text.split("\n")).toEqual([
      "**City daily report** 2021-02-28",
      "2021-Q1 · time progress 65.56 %",
      "",
      "**新客户 new customers**",
      "> #1 One (S1): 12 / 10 · 120.00 % · +3 today",
      "> #2 Two (S2): 4 / — · — · +0 today",
      "",
      "**进件 applications**",
      "> no units below",
    ]);
  });
});

describe("webhook URLs", () => {
  it.each([
    ["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", null],
    ["http://127.0.0.1:9/hook", null],
    ["ftp://example.com/x", "must be http or https, not ftp"],
    ["javascript:alert(1)", "must be http or https, not javascript"],
    ["/relative/path", "is not an absolute URL"],
    ["https://user:pw@example.com/x", "must not hold a user name or password"],
    ["https://user@example.com/x", "must not hold a user name or password"],
    ["https://example.com/x#frag", "must not have a #fragment (it is never sent)"],
    [`https://example.com/${"a".repeat(2_000)}`, "must be at most 2000 characters"],
  ])("%s → %s", (url, problem) => {
    expect(webhookUrlProblem(url, "allow")).toBe(problem);
  });

  it("shows the host and path, never the query's values, nor a path's last segment when the key rides there", () => {
    expect(maskedUrl("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc&x=1")).toBe("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***&x=***");
    expect(maskedUrl("http://127.0.0.1:9/hook")).toBe("http://127.0.0.1:9/hook");
    expect(maskedUrl("https://open.feishu.cn/open-apis/bot/v2/hook/0b6e-secret-token")).toBe("https://open.feishu.cn/open-apis/bot/v2/hook/***");
  });

  it.each([
    ["127.0.0.1", true], ["10.1.2.3", true], ["172.16.0.1", true], ["172.32.0.1", false], ["192.168.1.1", true],
    ["169.254.169.254", true], ["100.64.0.1", true], ["0.0.0.0", true], ["::1", true], ["fd00::1", true], ["fe80::1", true],
    ["::ffff:10.0.0.1", true], ["::ffff:8.8.8.8", false], ["8.8.8.8", false], ["2001:4860:4860::8888", false], ["qyapi.weixin.qq.com", false],
  ])("%s is a private address: %s", (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it.each([
    ["http://127.0.0.1:9/hook", "must not point at a loopback or private address (WEBHOOK_PRIVATE_ADDRESSES=deny)"],
    ["http://169.254.169.254/latest/meta-data/", "must not point at a loopback or private address (WEBHOOK_PRIVATE_ADDRESSES=deny)"],
    ["http://[::1]:8080/x", "must not point at a loopback or private address (WEBHOOK_PRIVATE_ADDRESSES=deny)"],
    ["http://localhost/x", "must not point at a loopback or private address (WEBHOOK_PRIVATE_ADDRESSES=deny)"],
    ["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", null],
  ])("with private addresses denied, %s → %s", (url, problem) => {
    expect(webhookUrlProblem(url, "deny")).toBe(problem);
    expect(webhookUrlProblem(url, "allow")).toBeNull();
  });
});

describe("back-off", () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [6, 32_000],
    [7, 60_000],
    [20, 60_000],
  ])("after %i failure(s): %i ms (base 1 s, cap 60 s)", (attempt, ms) => {
    expect(backoffMs(attempt, 1_000, 60_000)).toBe(ms);
  });
});
