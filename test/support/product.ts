/**
 * The product itself in a child process, as `npm start` runs it: `node dist/src/main.js`, built
 * once per run by the global setup. For tests about what a process does (its start-up output,
 * a kill -9 right after a commit), which an in-process server cannot show.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export interface ProductProcess {
  readonly child: ChildProcess;
  /** The URL it printed. */
  readonly url: string;
  /** Everything it printed on stdout until it was ready. */
  readonly output: string;
}

/**
 * Starts the server with `env` (the whole environment it sees) and resolves once its output
 * satisfies `ready` (by default: the "ready at" line); rejects, with what it printed, if it exits first.
 */
export function startProduct(env: NodeJS.ProcessEnv, ready: (output: string) => boolean = (o) => /GraphQL API ready at \S+/.test(o)): Promise<ProductProcess> {
  const child = spawn("node", [path.join(root, "dist/src/main.js")], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  child.stderr!.on("data", (chunk) => (errors += String(chunk)));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before it was ready:\n${output}\n${errors}`)));
    child.stdout!.on("data", (chunk) => {
      output += String(chunk);
      if (ready(output)) resolve({ child, url: /GraphQL API ready at (\S+)/.exec(output)![1], output });
    });
  });
}
