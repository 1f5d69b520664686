/**
 * One process per embedded data folder. PGlite does not guard its folder the way PostgreSQL's
 * postmaster.pid does, and two processes writing one folder corrupt it, so whoever opens it
 * first (the server, an import, a rollup rebuild) holds `.lock` until it closes.
 *
 * The lock is a symbolic link whose target is the holder's pid: creating it is one atomic
 * system call that carries its content, so no one can read a half-written lock (a plain file
 * is created empty and written after, and a racer that read it empty took it as stale: two
 * imports then shared the folder and doubled the rows). The embedded database is local by
 * definition, so "is that pid alive" is an exact stale test: a process killed with SIGKILL does
 * not keep the folder locked. Breaking a stale lock is itself serialised by `.lock.break`, so two
 * processes that both saw the dead holder cannot each remove what the other just created.
 */
import fs from "node:fs";
import path from "node:path";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** The pid a lock link names, or null when there is no link (a foreign file counts as no holder). */
function holderOf(link: string): number | null {
  try {
    const pid = Number.parseInt(fs.readlinkSync(link), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "EINVAL") return Number.parseInt(fs.readFileSync(link, "utf8"), 10) || 0; // a plain file, written by an older version
    throw err;
  }
}

/** Creates `link` naming this process; false when it exists already. */
function create(link: string): boolean {
  try {
    fs.symlinkSync(String(process.pid), link);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/** Removes `link` only while it still names `pid` (0: whatever is there that names no live process). */
function removeIfHeldBy(link: string, pid: number): void {
  if (holderOf(link) === pid) fs.rmSync(link, { force: true });
}

/**
 * Removes the folder lock when its holder is dead. Only the holder of `.lock.break` does so, and
 * it looks again under that guard, so a lock created since the caller looked is never removed.
 * A breaker that dies inside these few system calls leaves `.lock.break` naming a dead pid; the
 * next breaker clears it the same way.
 */
function breakStale(file: string, stale: number): void {
  const guard = `${file}.break`;
  if (!create(guard)) {
    const breaker = holderOf(guard);
    if (breaker !== null && (breaker === 0 || !alive(breaker))) removeIfHeldBy(guard, breaker);
    return; // someone else is breaking it (or was): look again
  }
  try {
    removeIfHeldBy(file, stale);
  } finally {
    removeIfHeldBy(guard, process.pid);
  }
}

/** Takes the folder's lock or throws naming the holder; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, ".lock");
  for (let attempt = 0; attempt < 50; attempt++) {
    if (create(file)) {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        removeIfHeldBy(file, process.pid);
      };
    }
    const holder = holderOf(file);
    if (holder === null) continue; // released between our attempt and our look
    if (holder !== 0 && alive(holder)) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by process ${holder}: stop it first, or set DATABASE_URL to share a PostgreSQL server`,
      );
    }
    breakStale(file, holder);
  }
  throw new Error(`Could not lock the embedded database in ${dataDir}: its .lock keeps changing hands`);
}
