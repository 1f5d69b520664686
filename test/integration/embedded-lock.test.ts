/**
 * The embedded folder's lock, taken by real processes racing for it (the built module, as the
 * server and the import CLI load it). Two holders at once is what corrupts a PGlite folder: 8
 * concurrent imports once both got in and doubled the applications.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const lockModule = path.join(root, "dist/src/db/embedded-lock.js");

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-lock-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * One contender: waits for the common start instant (so all try within the same millisecond),
 * tries the lock, holds it for `holdMs`, releases it. Prints "won" or "refused <message>".
 */
function contender(startAt: number, holdMs = 400): Promise<string> {
  const script = `
    import { lockDataDir } from ${JSON.stringify(lockModule)};
    while (Date.now() < ${startAt}) {}
    try {
      const release = lockDataDir(${JSON.stringify(dir)});
      console.log("won");
      setTimeout(() => { release(); }, ${holdMs});
    } catch (err) { console.log("refused " + err.message); }`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on("exit", () => resolve(out.trim())));
}

async function race(n: number): Promise<string[]> {
  const startAt = Date.now() + 600; // every child started and busy-waiting by then
  return Promise.all(Array.from({ length: n }, () => contender(startAt)));
}

/** Whether the lock link is there (existsSync follows the link to its pid-named target, which never exists). */
function present(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  return new Promise((resolve) => child.on("exit", () => resolve(child.pid!)));
}

describe("one process per embedded folder", () => {
  it("8 processes racing for a free folder: exactly one gets it, every other is told who holds it (5 rounds)", async () => {
    for (let round = 0; round < 5; round++) {
      const outcomes = await race(8);
      expect(outcomes.filter((o) => o === "won"), `round ${round}: ${outcomes.join(" | ")}`).toHaveLength(1);
      for (const o of outcomes.filter((o) => o !== "won")) expect(o).toMatch(/^refused The embedded database in .* is in use by process \d+/);
      expect(present(path.join(dir, ".lock"))).toBe(false); // the winner released it on its way out
    }
  }, 60_000);

  it("a lock left by a process that died is taken over, by exactly one of 8 racers (3 rounds)", async () => {
    for (let round = 0; round < 3; round++) {
      fs.symlinkSync(String(await deadPid()), path.join(dir, ".lock"));
      const outcomes = await race(8);
      expect(outcomes.filter((o) => o === "won"), `round ${round}: ${outcomes.join(" | ")}`).toHaveLength(1);
      expect(present(path.join(dir, ".lock.break"))).toBe(false);
    }
  }, 60_000);

  it("reads the plain-file lock an older version wrote: a live holder is respected, a dead one is not", async () => {
    fs.writeFileSync(path.join(dir, ".lock"), String(process.pid)); // this test's own process: alive
    expect(await contender(Date.now())).toMatch(new RegExp(`in use by process ${process.pid}:`));
    fs.writeFileSync(path.join(dir, ".lock"), String(await deadPid()));
    expect(await contender(Date.now())).toBe("won");
  });

  it("a release removes only its own lock, not one another process has taken since", async () => {
    const other = await deadPid();
    const lock = path.join(dir, ".lock");
    const winner = contender(Date.now(), 1_000);
    for (let waited = 0; !present(lock) && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    // Someone removed the lock by hand and another holder (a pid standing for it) took the folder.
    fs.rmSync(lock);
    fs.symlinkSync(String(other), lock);
    expect(await winner).toBe("won");
    expect(fs.readlinkSync(lock)).toBe(String(other));
  });
});
