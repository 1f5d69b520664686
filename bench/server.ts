/**
 * The API server as the benches run it: the real `node dist/src/main.js` in a child process on
 * a free loopback port, with production settings and the bench's JWT secret.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_JWT_SECRET } from "./capture.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** The last characters the process wrote (stdout and stderr; 8,000 unless ProcessSpec.keepOutput says). */
  output(): string;
  /** Throws when the server has exited: figures measured against a dead server mean nothing. */
  assertAlive(): void;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** DATABASE_URL of the server. */
  url: string;
  /** DATABASE_POOL_SIZE. */
  pool: number;
}

/**
 * Starts `node dist/src/main.js` on a free loopback port; resolves with its GraphQL URL.
 * `env` adds to (or overrides) the bench's settings, e.g. REDIS_URL for the live bench.
 */
export async function startServerProcess(opts: ServerOptions, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  const main = path.resolve(here, "..", "src", "main.js");
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  return startReadyProcess({
    what: "server",
    command: process.execPath,
    args: [...nodeArgs, main],
    env: {
      ...process.env,
      DATABASE_URL: opts.url,
      PORT: "0",
      HOST: "127.0.0.1",
      NODE_ENV: "production",
      // Quiet on the happy path; a failure still says why.
      LOG_LEVEL: "error",
      MIGRATE_ON_START: "false",
      DATABASE_POOL_SIZE: String(opts.pool),
      JWT_SECRET: BENCH_JWT_SECRET,
      // The load generator is one subject sending as fast as it can: the limit must not be what is measured.
      RATE_LIMIT_PER_MINUTE: "1000000000",
      ...env,
    },
    ready: /GraphQL API ready at (\S+)/,
  });
}

export interface ProcessSpec {
  /** Named in errors: "server", "peer". */
  what: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Matched against the output; its first group is the URL the process serves. */
  ready: RegExp;
  /** How much of the output to keep (characters, the last ones): 8,000 unless told. */
  keepOutput?: number;
}

/**
 * Spawns a process that serves HTTP on loopback and resolves once its output matches
 * `spec.ready` (within 60 s), with the URL it printed. The bench's own server and the peer of
 * bench/peer.ts start this way.
 */
export async function startReadyProcess(spec: ProcessSpec): Promise<ServerProcess> {
  const child = spawn(spec.command, spec.args, { env: spec.env, cwd: spec.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let exit: string | null = null;
  let stopping = false;
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-(spec.keepOutput ?? 8000));
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  child.once("exit", (code, signal) => {
    exit = signal ? `signal ${signal}` : `code ${code}`;
  });
  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const ready = new Promise<string>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const m = spec.ready.exec(output);
      if (m) {
        clearInterval(poll);
        resolve(m[1]);
      } else if (exit !== null) {
        clearInterval(poll);
        reject(new Error(`${spec.what} exited (${exit}) before it was ready:\n${output.slice(-2000)}`));
      } else if (Date.now() - started > 60_000) {
        clearInterval(poll);
        reject(new Error(`${spec.what} not ready after 60 s:\n${output.slice(-2000)}`));
      }
    }, 50);
  });
  // One that never got ready is not left running.
  const url = await ready.catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  if (new URL(url).hostname !== "127.0.0.1") {
    await stop();
    throw new Error(`${spec.what} is not on loopback: ${url}`);
  }
  return {
    url,
    child,
    output: () => output,
    assertAlive() {
      if (exit !== null && !stopping) throw new Error(`the ${spec.what} (pid ${child.pid}) exited with ${exit} during the run:\n${output.slice(-3000)}`);
    },
    stop,
  };
}
