/**
 * The live feed's pure parts: merging what a write reports, and the coalescing of one
 * subscription's ticks (the first at once, then at most one per interval, changes meanwhile
 * folded into the next).
 */
import { describe, expect, it } from "vitest";
import { ChangeLog, InProcessFeed, isEmptyChange, mergeChanges, type Change, type ChangePart } from "../../src/live/change.js";
import { Ticks } from "../../src/live/ticks.js";

const figures = (units: string[]) => ({ figures: { units, managers: [], campaigns: [], merchants: [], days: ["2021-01-05"] } });
const change = (units: string[]): Change => mergeChanges(figures(units));

describe("changes", () => {
  it.each([
    ["nothing reported", [], true],
    ["figures that moved nothing", [{ figures: { units: [], managers: [], campaigns: [], merchants: [], days: [] } }], true],
    ["a unit's figures", [figures(["A"])], false],
    ["a target", [{ targets: { units: ["A"], managers: [] } }], false],
    ["a campaign's state", [{ campaigns: ["C"] }], false],
    ["a re-org", [{ reorg: true }], false],
    ["every figure derived again", [{ rederived: true }], false],
  ] as const)("%s: empty is %s", (_, parts, empty) => {
    expect(isEmptyChange(mergeChanges(...(parts as unknown as ChangePart[])))).toBe(empty);
  });

  it("merges the parts of one write, sorted and without repeats; an empty log collects nothing", () => {
    const log = new ChangeLog();
    expect(log.collected()).toBeNull();
    log.add(figures(["P", "A"]));
    log.add({ ...figures(["P", "B"]), campaigns: ["C2", "C1"] });
    log.add({ targets: { units: ["B"], managers: ["M"] }, campaigns: ["C1"] });
    expect(log.collected()).toEqual({
      figures: { units: ["A", "B", "P"], managers: [], campaigns: [], merchants: [], days: ["2021-01-05"] },
      targets: { units: ["B"], managers: ["M"] },
      campaigns: ["C1", "C2"],
      reorg: false,
      rederived: false,
      other: false,
    });
  });
});

describe("ticks", () => {
  const INTERVAL = 100;
  const timed = async (ticks: Ticks) => {
    const started = Date.now();
    await ticks.next();
    return Date.now() - started;
  };

  it("ticks at once for the state when subscribing, then after a change that concerns it, an interval after the last", async () => {
    const feed = new InProcessFeed();
    const ticks = new Ticks(feed, (c) => c.figures.units.includes("A"), INTERVAL);
    expect(await timed(ticks)).toBeLessThan(INTERVAL / 2);
    setTimeout(() => feed.publish(change(["B"])), 10); // not this subscription's
    setTimeout(() => feed.publish(change(["A"])), 30);
    const waited = await timed(ticks);
    expect(waited).toBeGreaterThanOrEqual(INTERVAL - 5);
    expect(waited).toBeLessThan(INTERVAL * 3);
    await ticks.return();
  });

  it("folds a burst of changes into one tick per interval", async () => {
    const feed = new InProcessFeed();
    const ticks = new Ticks(feed, () => true, INTERVAL);
    await ticks.next();
    const seen: number[] = [];
    const reading = (async () => {
      for (let r = await ticks.next(); !r.done; r = await ticks.next()) seen.push(Date.now());
    })();
    const started = Date.now();
    while (Date.now() - started < INTERVAL * 5) {
      feed.publish(change(["A"]));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await new Promise((resolve) => setTimeout(resolve, INTERVAL * 2));
    await ticks.return();
    await reading;
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.length).toBeLessThanOrEqual(7);
    for (let i = 1; i < seen.length; i++) expect(seen[i] - seen[i - 1]).toBeGreaterThanOrEqual(INTERVAL - 5);
  });

  it("return() ends a next() that waits for a change, and stops listening", async () => {
    const feed = new InProcessFeed();
    let asked = 0;
    const ticks = new Ticks(feed, () => (asked++, true), INTERVAL);
    await ticks.next();
    const waiting = ticks.next();
    await ticks.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    feed.publish(change(["A"]));
    expect(asked).toBe(0);
  });
});
