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

interface Contender {
  /** "won" or "refused <message>", once it has tried. */
  outcome: Promise<string>;
  /** Tells it to try now (every contender of a race is told at once). */
  go(): void;
  /** Tells a winner to release the lock and exit; resolves when it has. */
  release(): Promise<void>;
}

/**
 * One contender in a process of its own: it loads the lock module, says "ready", tries the lock
 * when told "go", prints the outcome, and a winner holds the lock until its stdin closes. Holding
 * until told (not for a fixed time) keeps the race honest on a loaded machine, where a late
 * starter could otherwise arrive after the winner had let go.
 */
function contender(): { ready: Promise<void> } & Contender {
  const script = `
    import { lockDataDir } from ${JSON.stringify(lockModule)};
    console.log("ready");
    process.stdin.once("data", () => {
      let release = null;
      try {
        release = lockDataDir(${JSON.stringify(dir)});
        console.log("won");
      } catch (err) { console.log("refused " + err.message); }
      process.stdin.on("end", () => { release?.(); process.exit(0); });
    });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let out = "";
  const lines: ((line: string) => void)[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    let nl: number;
    while ((nl = out.indexOf("\n")) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.shift()?.(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => lines.push(resolve));
  const ready = nextLine().then(() => undefined);
  const outcome = ready.then(nextLine);
  return {
    ready,
    outcome,
    go: () => child.stdin.write("go\n"),
    release: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/** n contenders, all loaded, told to go at once; resolves with their outcomes once they have all let go. */
async function race(n: number): Promise<string[]> {
  const all = Array.from({ length: n }, contender);
  await Promise.all(all.map((c) => c.ready));
  for (const c of all) c.go();
  const outcomes = await Promise.all(all.map((c) => c.outcome));
  await Promise.all(all.map((c) => c.release()));
  return outcomes;
}

/** One contender alone: its outcome, after it has let go. */
async function alone(): Promise<string> {
  const [outcome] = await race(1);
  return outcome;
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
    expect(await alone()).toMatch(new RegExp(`in use by process ${process.pid}:`));
    fs.writeFileSync(path.join(dir, ".lock"), String(await deadPid()));
    expect(await alone()).toBe("won");
  });

  it("a release removes only its own lock, not one another process has taken since", async () => {
    const other = await deadPid();
    const lock = path.join(dir, ".lock");
    const winner = contender();
    await winner.ready;
    winner.go();
    expect(await winner.outcome).toBe("won");
    // Someone removed the lock by hand and another holder (a pid standing for it) took the folder.
    fs.rmSync(lock);
    fs.symlinkSync(String(other), lock);
    await winner.release();
    expect(fs.readlinkSync(lock)).toBe(String(other));
  });
});
