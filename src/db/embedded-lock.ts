/**
 * One process per embedded data folder. PGlite does not guard its folder the way PostgreSQL's
 * postmaster.pid does, and two processes writing one folder corrupt it, so whoever opens it
 * first (the server, an import, a rollup rebuild) holds `.lock` with its pid until it closes.
 * The embedded database is local by definition, so "is that pid alive" is an exact stale test:
 * a process killed with SIGKILL does not keep the folder locked.
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

/** Takes the folder's lock or throws naming the holder; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, ".lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number.parseInt(fs.readFileSync(file, "utf8"), 10);
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by process ${holder}: stop it first, or set DATABASE_URL to share a PostgreSQL server`,
      );
    }
    fs.rmSync(file, { force: true }); // left by a process that died; two racing takers: one wins "wx"
  }
  throw new Error(`Could not lock the embedded database in ${dataDir}`);
}
