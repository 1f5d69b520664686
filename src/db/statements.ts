/**
 * The database's statement counter: every statement sent, on every path (Prisma's driver
 * adapter, the direct reads, COPY, raw transactions), counted and timed here, so the statement
 * count tests and /metrics see them all alike.
 */
export interface StatementStats {
  count: number;
  seconds: number;
}

/** Runs one statement (or a transaction's end), adding `count` statements and its time to `stats`. */
export async function timed<T>(stats: StatementStats, run: () => Promise<T>, count = 1): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    stats.count += count;
    stats.seconds += (performance.now() - started) / 1000;
  }
}
