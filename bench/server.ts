/** The API server as a child process, for the benches. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_JWT_SECRET } from "./capture.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Throws when the server has exited: figures measured against a dead server mean nothing. */
  assertAlive(): void;
  stop(): Promise<void>;
}

/** Starts `node dist/src/main.js` on a free loopback port; resolves with its GraphQL URL. */
export async function startServerProcess(opts: { url: string; pool: number; env?: Record<string, string> }, nodeArgs: string[] = []): Promise<ServerProcess> {
  const main = path.resolve(here, "..", "src", "main.js");
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  const child = spawn(process.execPath, [...nodeArgs, main], {
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
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exit: string | null = null;
  let stopping = false;
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-8000);
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
  const url = await new Promise<string>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const m = /GraphQL API ready at (\S+)/.exec(output);
      if (m) {
        clearInterval(poll);
        resolve(m[1]);
      } else if (exit !== null) {
        clearInterval(poll);
        reject(new Error(`server exited (${exit}) before it was ready:\n${output.slice(-2000)}`));
      } else if (Date.now() - started > 60_000) {
        clearInterval(poll);
        reject(new Error(`server not ready after 60 s:\n${output.slice(-2000)}`));
      }
    }, 50);
  });
  if (new URL(url).hostname !== "127.0.0.1") {
    await stop();
    throw new Error(`server is not on loopback: ${url}`);
  }
  return {
    url,
    child,
    assertAlive() {
      if (exit !== null && !stopping) throw new Error(`the server (pid ${child.pid}) exited with ${exit} during the run:\n${output.slice(-3000)}`);
    },
    stop,
  };
}

