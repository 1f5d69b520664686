/**
 * Milestones and the daily report pushed to a unit's chat groups, end to end: webhooks
 * registered through the API, writes through the API, two API instances hearing every change
 * through Redis, and a local HTTP receiver (node:http) that verifies each Standard Webhooks
 * signature by itself (node:crypto) and dedupes by event id, as a group bot's relay would.
 *
 * The receiver records each new event's effect and then answers 500 the first time it sees an
 * event id (as if it crashed before acknowledging): the sender must retry with the same id,
 * and the retry must find the effect already done (one effect per event id).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { runImport } from "../../src/modules/import/import.service.js";
import { detectMilestones } from "../../src/modules/notify/milestones.service.js";
import { registerWebhook } from "../../src/modules/notify/webhooks.service.js";
import { startServer, type RunningServer } from "../../src/server.js";
import { apps, seed, write } from "../fixtures/scenarios.js";
import { codeOf, issuesOf, startTestApi, type TestApi } from "../support/harness.js";
import { sleep, TEST_REDIS_URL, uniqueChannel } from "../support/live.js";

const Q = "2021-Q1";
/** 10:00 in Shanghai on 2021-02-10: day 41 of the quarter's 90. */
let now = new Date("2021-02-10T02:00:00Z");
const clock = () => now;

interface Received {
  id: string;
  timestamp: string;
  body: { msgtype: string; markdown: { content: string } };
  signatureValid: boolean;
}

/** A group bot's relay: checks signatures, records one effect per event id, fails the first try of each. */
class Receiver {
  readonly requests: Received[] = [];
  readonly effects = new Map<string, Received>();
  /** Each group's secret, by the path its URL names. */
  readonly secrets = new Map<string, string>();
  private server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    req.on("end", () => {
      const id = String(req.headers["webhook-id"]);
      const timestamp = String(req.headers["webhook-timestamp"]);
      const secret = this.secrets.get(new URL(req.url!, "http://x").pathname) ?? "";
      const r: Received = { id, timestamp, body: JSON.parse(raw), signatureValid: verify(secret, id, timestamp, raw, String(req.headers["webhook-signature"])) };
      this.requests.push(r);
      // A group bot that never answers.
      if (req.url!.startsWith("/hanging/")) return;
      // A group bot that refuses the way WeCom does: 200, with its verdict in the body.
      if (req.url!.startsWith("/refusing/")) return res.writeHead(200, { "content-type": "application/json" }).end('{"errcode":93000,"errmsg":"invalid webhook url"}');
      if (!r.signatureValid) return res.writeHead(401).end("bad signature");
      if (this.effects.has(id)) return res.writeHead(200).end("duplicate: already done");
      this.effects.set(id, r);
      res.writeHead(500).end("crashed before acknowledging");
    });
  });
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  /** A group's URL, as a bot vendor gives it (its key in the query). */
  url(group: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${group}/send?key=group-bot-key`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections(); // the hanging ones too
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The effects whose content matches, in arrival order. */
  effectsMatching(pattern: RegExp): Received[] {
    return [...this.effects.values()].filter((r) => pattern.test(r.body.markdown.content));
  }
}

/** Standard Webhooks, written here from the spec: v1,base64(HMAC-SHA256(base64-decoded secret, "id.timestamp.body")). */
function verify(secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  if (!secret.startsWith("whsec_")) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac("sha256", Buffer.from(secret.slice("whsec_".length), "base64")).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(" ").some((sig) => {
    const [version, value] = sig.split(",");
    const given = Buffer.from(value ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const REGISTER = `mutation($in: RegisterWebhookInput!) { r: registerWebhook(input: $in) { secret webhook { code url milestones metrics periodKind behindMargin dailyReport branch { code } } } }`;
const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 500;

let api: TestApi;
let b: RunningServer;
const receiver = new Receiver();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "notify-test-"));

beforeAll(async () => {
  await receiver.start();
  api = await startTestApi(
    {
      REDIS_URL: TEST_REDIS_URL,
      LIVE_REDIS_CHANNEL: uniqueChannel(),
      NOTIFICATIONS: "on",
      NOTIFY_COALESCE_MS: "0",
      WEBHOOK_POLL_MS: "50",
      WEBHOOK_BACKOFF_MS: "20",
      WEBHOOK_BACKOFF_MAX_MS: "100",
      WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      DAILY_REPORT_TIME: "18:00",
    },
    { clock },
  );
  // Instance B: same database, same Redis channel, same clock; it hears every write too.
  b = await startServer(api.database, api.config, createLogger(process.env.TEST_LOG_LEVEL ?? "silent"), { clock });
  await seed(api, {
    branches: [
      { code: "P", name: "Province", level: "PROVINCE" },
      { code: "C", name: "City", level: "CITY", parentCode: "P" },
      { code: "S1", name: "Sub-branch one", level: "SUB_BRANCH", parentCode: "C" },
      { code: "S2", name: "Sub-branch two", level: "SUB_BRANCH", parentCode: "C" },
    ],
    managers: [{ code: "M1", name: "Li Na", branchCode: "S1" }],
    targets: [
      { branchCode: "S1", period: Q, metric: "APPLICATIONS", value: 10 },
      { branchCode: "S2", period: Q, metric: "APPLICATIONS", value: 10 },
      { branchCode: "C", period: Q, metric: "APPLICATIONS", value: 20 },
    ],
    // S1 4/10, S2 6/10: S2 ranks first.
    applications: [...apps("S1A", "S1", 4, "2021-02-01"), ...apps("S2A", "S2", 6, "2021-02-01")],
  });
});
afterAll(async () => {
  await b?.close();
  await api?.close();
  await receiver.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const bmCity = () => api.as({ role: "BRANCH_MANAGER", unit: "C", sub: "bm-c" });
const bmS1 = () => api.as({ role: "BRANCH_MANAGER", unit: "S1", sub: "bm-s1" });
const record = (prefix: string, unit: string, n: number, day = "2021-02-10") => write(api, "applications", apps(prefix, unit, n, day));
/** Both instances judged every change heard so far, and the outbox is sent. */
async function settle(): Promise<void> {
  await sleep(150); // Redis hands the change to both instances
  await Promise.all([api.server.notifier.flush(), b.notifier.flush()]);
}
const deliveries = () => api.database.prisma.webhookDelivery.findMany({ orderBy: { id: "asc" }, include: { attemptLog: { orderBy: { id: "asc" } } } });

describe("registration", () => {
  it("registers a group for a unit: the secret shown once, the URL's key masked, defaults filled in, audited", async () => {
    const s1 = await bmCity().gql(REGISTER, {
      in: { branchCode: "S1", code: "W-S1", name: "Sub-branch one group", url: receiver.url("s1"), metrics: ["APPLICATIONS"], behindMargin: 0.1, dailyReport: false },
    });
    expect(s1.errors).toBeUndefined();
    expect(s1.data.r.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(s1.data.r.webhook).toEqual({
      code: "W-S1",
      url: receiver.url("s1").replace("group-bot-key", "***"),
      milestones: ["TARGET_REACHED", "BEHIND_PACE", "RANK_CHANGED"],
      metrics: ["APPLICATIONS"],
      periodKind: "QUARTER",
      behindMargin: 0.1,
      dailyReport: false,
      branch: { code: "S1" },
    });
    receiver.secrets.set("/s1/send", s1.data.r.secret);
    const city = await bmCity().gql(REGISTER, { in: { branchCode: "C", code: "W-C", name: "City group", url: receiver.url("c"), metrics: ["APPLICATIONS"], milestones: [] } });
    expect(city.errors).toBeUndefined();
    expect(city.data.r.secret).not.toBe(s1.data.r.secret);
    receiver.secrets.set("/c/send", city.data.r.secret);

    // The secret is never readable again: the type has no such field.
    const read = await bmCity().gql(`{ branch(code: "S1") { webhooks { edges { node { code secret } } } } }`);
    expect(read.errors?.[0].message).toMatch(/Cannot query field "secret"/);
    const audited = await api.database.prisma.auditEntry.findMany({ where: { operation: "registerWebhook" }, select: { subject: true, target: true, outcome: true } });
    expect(audited).toEqual(expect.arrayContaining([{ subject: "bm-c", target: "W-S1", outcome: "SUCCEEDED" }, { subject: "bm-c", target: "W-C", outcome: "SUCCEEDED" }]));
    const trail = await api.database.prisma.auditEntry.findMany({ select: { target: true, details: true } });
    expect(JSON.stringify(trail)).not.toContain(s1.data.r.secret);
  });

  it("names every bad field and why, and stores nothing", async () => {
    const before = await api.database.prisma.groupWebhook.count();
    const bad = await api.as({ role: "HQ" }).gql(REGISTER, { in: { branchCode: "NOPE", code: "bad code!", name: " ", url: "ftp://example.com/x", metrics: [], behindMargin: 2 } });
    expect(issuesOf(bad)).toEqual(["- code", "- name", "- url", "- metrics", "- behindMargin", "- branchCode"]);
    const reasons = Object.fromEntries(bad.errors![0].extensions!.issues!.map((i) => [i.field, i.reason]));
    expect(reasons.url).toBe("must be http or https, not ftp");
    expect(reasons.behindMargin).toMatch(/between 0 and 1/);
    for (const [url, reason] of [
      ["http://user:secret@example.com/hook", "must not hold a user name or password"],
      ["not a url", "is not an absolute URL"],
      ["https://example.com/hook#x", "must not have a #fragment (it is never sent)"],
    ]) {
      const res = await bmCity().gql(REGISTER, { in: { branchCode: "S2", code: "W-BAD", name: "Bad", url } });
      expect(issuesOf(res)).toEqual(["- url"]);
      expect(res.errors![0].extensions!.issues![0].reason).toBe(reason);
    }
    const again = await bmCity().gql(REGISTER, { in: { branchCode: "S2", code: "W-S1", name: "Same code", url: receiver.url("s2") } });
    expect(issuesOf(again)).toEqual(["- code"]);
    // Where private addresses are denied (production's default), the bank's own network is out of reach.
    for (const url of ["http://169.254.169.254/latest/meta-data/", "http://10.0.3.7:8080/admin", "http://[::1]/x", "http://localhost:9/x"]) {
      const input = { branchCode: "S2", code: "W-INSIDE", name: "Inside", url };
      await expect(registerWebhook(api.database.prisma, input, "2021-02-10", {}, "deny")).rejects.toMatchObject({
        issues: [{ field: "url", reason: "must not point at a loopback or private address (WEBHOOK_PRIVATE_ADDRESSES=deny)" }],
      });
    }
    expect(await api.database.prisma.groupWebhook.count()).toBe(before);
  });

  it("a sub-branch manager manages their own unit's groups only: not a sibling's, not the parent's", async () => {
    const input = (branchCode: string) => ({ in: { branchCode, code: `W-BY-S1-${branchCode}`, name: "x", url: receiver.url("x") } });
    expect(codeOf(await bmS1().gql(REGISTER, input("S2")))).toBe("FORBIDDEN");
    expect(codeOf(await bmS1().gql(REGISTER, input("C")))).toBe("FORBIDDEN");
    expect(codeOf(await api.as({ role: "ACCOUNT_MANAGER", unit: "S1", sub: "M1" }).gql(REGISTER, input("S1")))).toBe("FORBIDDEN");
    expect(codeOf(await bmS1().gql(`mutation { r: updateWebhook(input: { code: "W-C", name: "taken over" }) { code } }`))).toBe("FORBIDDEN");
    expect(codeOf(await bmS1().gql(`mutation { r: removeWebhook(input: { code: "W-C" }) { code } }`))).toBe("FORBIDDEN");
    expect(codeOf(await bmS1().gql(`{ branch(code: "C") { webhooks { totalCount } } }`))).toBe("FORBIDDEN");
    const own = await bmS1().gql(`{ branch(code: "S1") { webhooks { totalCount edges { node { code } } } } }`);
    expect(own.data.branch.webhooks).toEqual({ totalCount: 1, edges: [{ node: { code: "W-S1" } }] });
    // Their own unit: registered, changed, removed.
    const mine = await bmS1().gql(REGISTER, input("S1"));
    expect(mine.errors).toBeUndefined();
    const changed = await bmS1().gql(`mutation { r: updateWebhook(input: { code: "W-BY-S1-S1", dailyReport: false, periodKind: MONTH }) { dailyReport periodKind } }`);
    expect(changed.data.r).toEqual({ dailyReport: false, periodKind: "MONTH" });
    expect((await bmS1().gql(`mutation { r: removeWebhook(input: { code: "W-BY-S1-S1" }) { code } }`)).data.r).toEqual({ code: "W-BY-S1-S1" });
    expect(await api.database.prisma.auditEntry.count({ where: { operation: { in: ["updateWebhook", "removeWebhook"] }, outcome: "SUCCEEDED" } })).toBe(2);
  });
});

describe("milestones", () => {
  it("a rank change is sent once, signed, retried after a 500, with one effect at the receiver, though two instances heard it", async () => {
    // S1 4 → 9 of 10 (0.9) passes S2 (0.6): rank 2 → 1.
    await record("S1B", "S1", 5);
    const [effect] = await until("the rank milestone", () => {
      const found = receiver.effectsMatching(/Rank 2 → 1/);
      return found.length > 0 && found;
    });
    expect(effect.body.msgtype).toBe("markdown");
    expect(effect.body.markdown.content).toBe(
      "**Sub-branch one** (S1) · 2021-Q1 · 进件 applications\n⬆️ Rank 2 → 1 among its peers: 9 / 10 (90.00 %), time progress 45.56 %",
    );
    // Retried after the 500, same event id, then acknowledged.
    const delivered = await until("the retry", async () => {
      const rows = (await deliveries()).filter((d) => d.eventId === effect.id);
      return rows.length === 1 && rows[0].status === "DELIVERED" && rows;
    });
    expect(delivered[0].attemptLog.map((a) => a.statusCode)).toEqual([500, 200]);
    // The receiver's error page is not echoed back (a manager chose the address).
    expect(delivered[0].attemptLog[0].error).toBe("HTTP 500");
    expect(receiver.requests.filter((r) => r.id === effect.id).map((r) => r.signatureValid)).toEqual([true, true]);
    await settle();
    // Two instances judged the change; one milestone was enqueued.
    expect((await deliveries()).filter((d) => d.kind === "MILESTONE")).toHaveLength(1);
    expect(receiver.effects.size).toBe(1);
  });

  it("a dry run or a refused write sends nothing; the write that reaches 100 % sends one milestone", async () => {
    const file = path.join(dir, "dry.ndjson");
    fs.writeFileSync(file, apps("DRY", "S1", 1, "2021-02-10").map((r) => JSON.stringify(r)).join("\n") + "\n");
    const dry = await runImport(api.database.prisma, { kind: "applications", file, reportPath: path.join(dir, "dry-report.ndjson"), dryRun: true, feed: api.server.feed });
    expect(dry.created).toBe(1);
    const refused = await api.as({ role: "INGEST" }).gql("mutation($in: [ApplicationInput!]!) { recordApplications(input: $in) { created } }", {
      in: [...apps("REF", "S1", 1, "2021-02-10"), ...apps("REF2", "NOPE", 1, "2021-02-10")],
    });
    expect(codeOf(refused)).toBe("BAD_USER_INPUT");
    const states = await api.database.prisma.milestoneState.findMany({ orderBy: [{ webhookId: "asc" }, { metric: "asc" }] });
    await settle();
    expect(await api.database.prisma.milestoneState.findMany({ orderBy: [{ webhookId: "asc" }, { metric: "asc" }] })).toEqual(states);
    expect((await deliveries()).filter((d) => d.kind === "MILESTONE")).toHaveLength(1);

    // S1 9 → 10 of 10.
    await record("S1C", "S1", 1);
    const [reached] = await until("the target milestone", () => {
      const found = receiver.effectsMatching(/Reached 100 %/);
      return found.length > 0 && found;
    });
    expect(reached.body.markdown.content).toBe(
      "**Sub-branch one** (S1) · 2021-Q1 · 进件 applications\n🎯 Reached 100 % of the target: 10 / 10 (100.00 %), time progress 45.56 %",
    );
    expect(reached.signatureValid).toBe(true);
    await settle();
    expect((await deliveries()).filter((d) => d.kind === "MILESTONE")).toHaveLength(2);
  });

  it("a raised target puts the unit behind pace (and back in second place): both milestones, once each", async () => {
    // S1 10 of 40 = 0.25, time progress 0.4556: behind by 0.21 > 0.1; S2's 0.6 ranks first again.
    await write(api, "targets", [{ branchCode: "S1", period: Q, metric: "APPLICATIONS", value: 40 }]);
    await until("both milestones", () => receiver.effectsMatching(/Behind time progress|Rank 1 → 2/).length === 2);
    expect(receiver.effectsMatching(/Behind time progress/)[0].body.markdown.content).toBe(
      "**Sub-branch one** (S1) · 2021-Q1 · 进件 applications\n⚠️ Behind time progress: 10 / 40 (25.00 %), time progress 45.56 %",
    );
    await settle();
    const milestones = (await deliveries()).filter((d) => d.kind === "MILESTONE");
    expect(milestones).toHaveLength(4);
    expect(new Set(milestones.map((d) => d.eventId)).size).toBe(4);
    // A group that asked for no milestones (W-C) got none.
    expect(milestones.every((d) => receiver.effects.has(d.eventId))).toBe(true);
  });

  it("the deliveries and their attempts are listed to the unit's managers", async () => {
    await until("every milestone acknowledged", async () => (await deliveries()).every((d) => d.status === "DELIVERED"));
    const res = await bmS1().gql(`{ branch(code: "S1") { webhooks(first: 5) { edges { node { code deliveries(first: 10) { totalCount edges { node {
      eventId kind status attempts content deliveredAt attemptLog { statusCode error durationMs } } } } } } } } }`);
    expect(res.errors).toBeUndefined();
    const list = res.data.branch.webhooks.edges[0].node.deliveries;
    expect(list.totalCount).toBe(4);
    const rankUp = list.edges.at(-1).node; // newest first: the first milestone is last
    expect(rankUp).toMatchObject({ kind: "MILESTONE", status: "DELIVERED", attempts: 2, attemptLog: [{ statusCode: 500, error: "HTTP 500" }, { statusCode: 200, error: null }] });
    expect(rankUp.content).toMatch(/Rank 2 → 1/);
  });
});

describe("the daily report", () => {
  it("goes out once per group per day at the configured local time, with the children's figures the API shows", async () => {
    expect(await api.server.notifier.checkDailyReport()).toBe(0); // 10:00, before 18:00
    now = new Date("2021-02-10T10:30:00Z"); // 18:30 in Shanghai
    const [first, second] = await Promise.all([api.server.notifier.checkDailyReport(), b.notifier.checkDailyReport()]);
    expect(first + second).toBe(1);
    expect(await api.server.notifier.checkDailyReport()).toBe(0);

    const [report] = await until("the daily report", () => {
      const found = receiver.effectsMatching(/daily report/);
      return found.length > 0 && found;
    });
    expect(report.id).toMatch(/^daily-\d+-2021-02-10$/);
    expect(report.signatureValid).toBe(true);

    const api_ = await bmCity().gql(`{ branch(code: "C") { name children { code name performance(period: "${Q}") {
      asOf timeProgress metric(metric: APPLICATIONS) { actual target completionRate } rank(metric: APPLICATIONS) series(metric: APPLICATIONS, granularity: DAY) { start actual } } } } }`);
    expect(api_.errors).toBeUndefined();
    const pct = (r: number | null) => (r === null ? "—" : `${(r * 100).toFixed(2)} %`);
    const children = api_.data.branch.children as { code: string; name: string; performance: any }[];
    expect(children.every((c) => c.performance.asOf === "2021-02-10")).toBe(true);
    const lines = children
      .map((c) => {
        const p = c.performance;
        const gain = p.series.find((s: { start: string }) => s.start === "2021-02-10")?.actual ?? 0;
        return { rank: p.rank, line: `> #${p.rank} ${c.name} (${c.code}): ${p.metric.actual} / ${p.metric.target ?? "—"} · ${pct(p.metric.completionRate)} · +${gain} today` };
      })
      .sort((x, y) => x.rank - y.rank)
      .map((x) => x.line);
    expect(report.body.markdown.content).toBe(
      [`**City daily report** 2021-02-10`, `2021-Q1 · time progress ${pct(children[0].performance.timeProgress)}`, "", "**进件 applications**", ...lines].join("\n"),
    );
    // The figures themselves, worked out by hand: S2 6/10 first; S1 10/40 with 6 today.
    expect(lines).toEqual(["> #1 Sub-branch two (S2): 6 / 10 · 60.00 % · +0 today", "> #2 Sub-branch one (S1): 10 / 40 · 25.00 % · +6 today"]);
    const rows = (await deliveries()).filter((d) => d.kind === "DAILY_REPORT");
    expect(rows).toHaveLength(1);
  });

  it("two detectors judging the same unseen move at once enqueue it once", async () => {
    // A write nobody hears (no feed): the move waits for a detector. S1 10 → 40 of 40.
    const file = path.join(dir, "silent.ndjson");
    fs.writeFileSync(file, apps("S1D", "S1", 30, "2021-02-10").map((r) => JSON.stringify(r)).join("\n") + "\n");
    expect((await runImport(api.database.prisma, { kind: "applications", file, reportPath: path.join(dir, "silent-report.ndjson") })).created).toBe(30);
    const before = (await deliveries()).length;
    const hooks = await api.database.prisma.groupWebhook.findMany();
    const counts = await Promise.all([1, 2, 3].map(() => detectMilestones(api.database.prisma, hooks, "2021-02-10")));
    // Reached 100 % again, and first again (1.0 against S2's 0.6).
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
    const added = (await deliveries()).slice(before);
    expect(added.map((d) => d.eventId.replace(/^milestone-\d+-/, "")).sort()).toEqual(["2021-Q1-APPLICATIONS-v5-RANK_CHANGED", "2021-Q1-APPLICATIONS-v5-TARGET_REACHED"]);
    await until("both acknowledged", async () => (await deliveries()).slice(before).every((d) => d.status === "DELIVERED"));
  });

  it("a group that is gone, hangs or refuses: each attempt's error recorded, given up after the attempts allowed; writes go on", async () => {
    // A port nobody listens on.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/hook`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dead = await bmCity().gql(REGISTER, { in: { branchCode: "S2", code: "W-DEAD", name: "Gone", url: deadUrl, metrics: ["APPLICATIONS"] } });
    expect(dead.errors).toBeUndefined();
    const refusing = await bmCity().gql(REGISTER, { in: { branchCode: "S2", code: "W-REFUSING", name: "Wrong key", url: receiver.url("refusing"), metrics: ["APPLICATIONS"] } });
    expect(refusing.errors).toBeUndefined();
    const hanging = await bmCity().gql(REGISTER, { in: { branchCode: "S2", code: "W-HANGING", name: "Never answers", url: receiver.url("hanging"), metrics: ["APPLICATIONS"] } });
    expect(hanging.errors).toBeUndefined();
    // S2 6 → 10 of 10: reached, and level with S1 (1.0 each): rank 2 → 1.
    const written = await record("S2B", "S2", 4);
    expect(written.created).toBe(4);
    // Writes go on while the groups fail or hang.
    expect((await record("S2C", "S2", 1, "2021-04-01")).created).toBe(1);
    const hook = await api.database.prisma.groupWebhook.findUniqueOrThrow({ where: { code: "W-DEAD" } });
    const failed = await until("both deliveries given up", async () => {
      const rows = (await deliveries()).filter((d) => d.webhookId === hook.id && d.kind === "MILESTONE");
      return rows.length === 2 && rows.every((d) => d.status === "FAILED") && rows;
    });
    expect(failed.map((d) => d.eventId.replace(/^milestone-\d+-/, "")).sort()).toEqual(["2021-Q1-APPLICATIONS-v2-RANK_CHANGED", "2021-Q1-APPLICATIONS-v2-TARGET_REACHED"]);
    for (const d of failed) {
      expect(d.attempts).toBe(MAX_ATTEMPTS);
      expect(d.attemptLog.map((a) => [a.statusCode, a.error])).toEqual(Array.from({ length: MAX_ATTEMPTS }, () => [null, "ECONNREFUSED"]));
    }
    // A group that never answers: each attempt ends at its timeout.
    const silent = await api.database.prisma.groupWebhook.findUniqueOrThrow({ where: { code: "W-HANGING" } });
    const timedOut = await until("the unanswered deliveries given up", async () => {
      const rows = (await deliveries()).filter((d) => d.webhookId === silent.id && d.kind === "MILESTONE");
      return rows.length === 2 && rows.every((d) => d.status === "FAILED") && rows;
    });
    for (const d of timedOut) {
      expect(d.attemptLog.map((a) => [a.statusCode, a.error])).toEqual(Array.from({ length: MAX_ATTEMPTS }, () => [null, `no answer within ${TIMEOUT_MS} ms`]));
    }
    // A 200 carrying the bot's refusal is a failure too, in the bot's words.
    const wrongKey = await api.database.prisma.groupWebhook.findUniqueOrThrow({ where: { code: "W-REFUSING" } });
    const refused = await until("the refused deliveries given up", async () => {
      const rows = (await deliveries()).filter((d) => d.webhookId === wrongKey.id && d.kind === "MILESTONE");
      return rows.length === 2 && rows.every((d) => d.status === "FAILED") && rows;
    });
    for (const d of refused) {
      expect(d.attemptLog.map((a) => [a.statusCode, a.error])).toEqual(Array.from({ length: MAX_ATTEMPTS }, () => [200, "errcode 93000: invalid webhook url"]));
    }
  });
});

describe("cost", () => {
  it("judging several groups of a parent's children costs the statements of one (the figures are read batched)", async () => {
    // Quiet instances: their workers' polling would be counted too.
    await Promise.all([api.server.notifier.close(), b.notifier.close()]);
    const hooks = await api.database.prisma.groupWebhook.findMany({ where: { code: { in: ["W-S1", "W-DEAD", "W-REFUSING"] } } });
    expect(hooks).toHaveLength(3);
    const one = await api.countStatements(() => detectMilestones(api.database.prisma, hooks.slice(0, 1), "2021-02-10"));
    const three = await api.countStatements(() => detectMilestones(api.database.prisma, hooks, "2021-02-10"));
    expect(one).toBeGreaterThan(0);
    expect(three).toBe(one);
  });
});
