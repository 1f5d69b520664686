/**
 * A temporary PostgreSQL primary and a streaming replica of it on this machine, for the replica
 * tests: PostgreSQL 15's own binaries (initdb, pg_ctl, pg_basebackup -R), each cluster on a free
 * port in a folder of its own under the system's temp folder. The server refuses to run as
 * root, so every command runs as the `postgres` OS user, who owns the folders. `stop` stops both
 * and removes the folders, whatever was started before a failure.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const BIN = process.env.PG_BIN_DIR ?? "/usr/lib/postgresql/15/bin";
const OS_USER = "postgres";
/** The database the primary is created with (replicated like everything else). */
const DATABASE = "cardgrowth";

export interface ReplicaCluster {
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** Runs one statement on the primary or the replica (as the superuser) and returns its rows. */
  sql<T = Record<string, unknown>>(on: "primary" | "replica", statement: string): Promise<T[]>;
  /** Resolves once the replica has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a PostgreSQL program as the postgres OS user (root may not run the server). */
function asPostgres(program: string, args: string[]) {
  const root = process.getuid?.() === 0;
  return root ? run("runuser", ["-u", OS_USER, "--", path.join(BIN, program), ...args]) : run(path.join(BIN, program), args);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startReplicaCluster(): Promise<ReplicaCluster> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "cardgrowth-replica-"));
  const primaryDir = path.join(base, "primary");
  const replicaDir = path.join(base, "replica");
  const started: string[] = [];
  const stop = async () => {
    for (const dir of started.reverse()) await asPostgres("pg_ctl", ["stop", "-D", dir, "-m", "immediate", "-w"]).catch(() => {});
    started.length = 0;
    fs.rmSync(base, { recursive: true, force: true });
  };
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  try {
    if (process.getuid?.() === 0) await run("chown", [OS_USER, base]);
    await asPostgres("initdb", ["-D", primaryDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
    // Replication from 127.0.0.1 is trusted by initdb's pg_hba.conf; wal_level is `replica` by default.
    const settings = [`listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${base}'`, "fsync = off", "full_page_writes = off", "max_wal_senders = 4"];
    fs.appendFileSync(path.join(primaryDir, "postgresql.conf"), `\n${settings.join("\n")}\n`);
    const start = async (dir: string, port: number) => {
      await asPostgres("pg_ctl", ["start", "-D", dir, "-w", "-l", path.join(base, `${path.basename(dir)}.log`), "-o", `-p ${port}`]);
      started.push(dir);
    };
    await start(primaryDir, primaryPort);
    const admin = new pg.Client({ host: "127.0.0.1", port: primaryPort, user: "postgres", database: "postgres" });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`).finally(() => admin.end());
    // -R writes standby.signal and primary_conninfo: the copy starts as a streaming replica.
    await asPostgres("pg_basebackup", ["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres", "-D", replicaDir, "-R", "-X", "stream", "-c", "fast", "--no-sync"]);
    await start(replicaDir, replicaPort);
  } catch (err) {
    await stop();
    throw err;
  }
  const urlOf = (port: number) => `postgres://postgres@127.0.0.1:${port}/${DATABASE}`;
  const primaryUrl = urlOf(primaryPort);
  const replicaUrl = urlOf(replicaPort);
  const sql = async <T,>(on: "primary" | "replica", statement: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: on === "primary" ? primaryUrl : replicaUrl });
    await client.connect();
    try {
      return (await client.query(statement)).rows as T[];
    } finally {
      await client.end();
    }
  };
  return {
    primaryUrl,
    replicaUrl,
    sql,
    async caughtUp() {
      const [{ lsn }] = await sql<{ lsn: string }>("primary", "SELECT pg_current_wal_lsn()::text AS lsn");
      for (let i = 0; i < 400; i++) {
        const [{ done }] = await sql<{ done: boolean }>("replica", `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS done`);
        if (done) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`the replica did not replay up to ${lsn} within 10 s`);
    },
    stop,
  };
}
