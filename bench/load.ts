/**
 * Closed-loop load generators: N workers, each with its own connection, each sending the next
 * request as soon as the last one answered, for a fixed time. Every loop ends by itself at its
 * deadline; each request also has a timeout.
 */
import http from "node:http";
import pg from "pg";

export interface LoadOptions {
  concurrency: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Extra request headers (the bearer token). */
  headers?: Record<string, string>;
}

export interface LoadResult {
  concurrency: number;
  /** Successful requests: rates and latencies are theirs. */
  requests: number;
  /** Requests answered (or failed) during the warm-up, not counted above: for CPU accounting. */
  warmupRequests: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

const REQUEST_TIMEOUT_MS = 60_000;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function summarize(concurrency: number, latencies: number[], errors: number, firstError: string | null, seconds: number, warmupRequests: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    concurrency,
    requests: latencies.length,
    warmupRequests,
    errors,
    firstError,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: latencies.length ? sum / latencies.length : NaN,
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/**
 * Runs `once` on `concurrency` workers: warm-up first (not recorded), then the measured window.
 * A request that started before the deadline is waited for and counted; none starts after it.
 */
async function closedLoop(
  opts: LoadOptions,
  once: (worker: number) => Promise<string | null>,
): Promise<LoadResult> {
  const run = async (seconds: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    let done = 0;
    let firstError: string | null = null;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async (_, worker) => {
        while (performance.now() < deadline) {
          const start = performance.now();
          let error: string | null;
          try {
            error = await once(worker);
          } catch (err) {
            error = err instanceof Error ? err.message : String(err);
          }
          const ms = performance.now() - start;
          done += 1;
          // A failing target (e.g. refused connections) must not turn the loop into a spin.
          if (error !== null) await new Promise((r) => setTimeout(r, 10));
          if (!record) continue;
          if (error === null) {
            latencies.push(ms);
          } else {
            errors += 1;
            firstError ??= error;
          }
        }
      }),
    );
    return { latencies, errors, firstError, seconds: (performance.now() - t0) / 1000, done };
  };
  const warm = opts.warmupSeconds > 0 ? (await run(opts.warmupSeconds, false)).done : 0;
  const m = await run(opts.durationSeconds, true);
  return summarize(opts.concurrency, m.latencies, m.errors, m.firstError, m.seconds, warm);
}

/** POSTs one GraphQL document over keep-alive HTTP connections (one per worker). */
export async function loadHttp(url: string, query: string, opts: LoadOptions): Promise<LoadResult> {
  const target = new URL(url);
  const body = Buffer.from(JSON.stringify({ query }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency, maxFreeSockets: opts.concurrency });
  const post = () =>
    new Promise<string | null>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length, ...opts.headers },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
            try {
              const json = JSON.parse(text) as { data?: unknown; errors?: { message: string }[] };
              if (json.errors?.length) return resolve(json.errors.map((e) => e.message).join("; "));
              if (json.data == null) return resolve("no data in the response");
              resolve(null);
            } catch {
              resolve(`unparsable response: ${text.slice(0, 200)}`);
            }
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timed out after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  try {
    return await closedLoop(opts, () => post());
  } finally {
    agent.destroy();
  }
}

export interface Statement {
  text: string;
  values: unknown[];
}

/** Sends the statements of one request, one after the other, on one connection per worker. */
export async function loadPg(url: string, statements: readonly Statement[], opts: LoadOptions): Promise<LoadResult> {
  const clients = Array.from({ length: opts.concurrency }, () => new pg.Client({ connectionString: url, statement_timeout: REQUEST_TIMEOUT_MS }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    return await closedLoop(opts, async (worker) => {
      const client = clients[worker];
      for (const s of statements) await client.query({ text: s.text, values: s.values, rowMode: "array" });
      return null;
    });
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}
