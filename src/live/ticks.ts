/**
 * The source stream of one subscription: a tick when the subscriber should be shown the state
 * again. The first tick comes at once (the state when subscribing); after that, a tick follows
 * a published change that `concerns` the subscription, at most one per `intervalMs`
 * (coalescing), counted from when the consumer asked for it, that is once the last event was
 * sent: changes arriving meanwhile fold into the next tick. A tick carries no data:
 * the subscription's resolver reads the state when it runs, so whatever a tick was delayed
 * by, the subscriber sees the latest state.
 *
 * A hand-written iterator, not an async generator: `return()` (the client completes, the
 * socket closes, the server shuts down) must end a `next()` that waits for a change, and a
 * generator would only see it at its next `yield`.
 */
import type { Change, ChangeFeed } from "./change.js";

export interface Tick {
  /** When the tick was emitted. */
  readonly at: Date;
}

/** Whether a change may alter what a subscription shows; a false "yes" costs one query, a false "no" a missed event. */
export type Concerns = (change: Change) => boolean | Promise<boolean>;

export class Ticks implements AsyncIterableIterator<Tick> {
  /** True while a tick is owed: the first one, or a change since the last. */
  private pending = true;
  private closed = false;
  /** The earliest the next tick may come: an interval after the consumer asked for it. */
  private readyAt = 0;
  private started = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    feed: ChangeFeed,
    private readonly concerns: Concerns,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.unsubscribe = feed.subscribe((change) => void this.consider(change));
  }

  private async consider(change: Change): Promise<void> {
    if (this.closed || this.pending) return; // a tick is owed already: it will read this change's state too
    try {
      if (!(await this.concerns(change))) return;
    } catch (err) {
      this.onError(err); // unsure: better one tick too many than a missed change
    }
    this.pending = true;
    this.wake?.();
  }

  private until(ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (ms !== null) this.timer = setTimeout(resolve, ms);
    }).finally(() => {
      this.wake = null;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    });
  }

  async next(): Promise<IteratorResult<Tick>> {
    // The consumer asks for the next tick once it has sent the last event (graphql-ws awaits
    // each send), so counting the interval from here spaces the events the subscriber receives,
    // however long each took to run.
    if (this.started) this.readyAt = Date.now() + this.intervalMs;
    this.started = true;
    while (!this.closed) {
      if (!this.pending) {
        await this.until(null);
        continue;
      }
      const wait = this.readyAt - Date.now();
      if (wait > 0) {
        await this.until(wait);
        continue;
      }
      this.pending = false;
      return { value: { at: new Date() }, done: false };
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<Tick>> {
    if (!this.closed) {
      this.closed = true;
      this.unsubscribe();
      this.wake?.();
    }
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<Tick>> {
    await this.return();
    throw err;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
