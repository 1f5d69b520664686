/**
 * The process's change feed (live/change.ts): in process without REDIS_URL; with it, through
 * Redis pub/sub, so that a write committed through one API instance, or by the import command
 * (a process of its own), reaches the subscribers of every instance.
 *
 * With Redis every instance, the publisher included, hears a change once, from Redis. When
 * Redis cannot take a message (down, or not connected yet), the publishing process delivers it
 * to its own listeners: its subscribers keep hearing its own writes, the other instances miss
 * them until Redis is back (a subscription then shows the next change's state, which is the
 * latest anyway). A lost message never fails the write that caused it.
 */
import { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { InProcessFeed, mergeChanges, type Change, type ChangeFeed } from "./change.js";

/** How long a starting process waits for Redis before going on (it keeps reconnecting). */
const REDIS_CONNECT_WAIT_MS = 2_000;

/**
 * The feed for this process. `listen: false` (the import command) only publishes: it opens no
 * subscriber connection.
 */
export async function createChangeFeed(config: Config, logger: Logger, options: { listen: boolean } = { listen: true }): Promise<ChangeFeed> {
  const local = new InProcessFeed((err) => logger.error({ err }, "a live-change listener failed"));
  if (!config.REDIS_URL) return local;
  return RedisFeed.open(config.REDIS_URL, config.LIVE_REDIS_CHANNEL, local, logger, options.listen);
}

/**
 * Tells every API instance (through Redis; without REDIS_URL nobody else could hear) that this
 * process wrote what no change names: the command-line tools that write outside the services'
 * transactions (the demo loader, a rollup rebuild) call it when done, so that the instances'
 * response caches drop what they hold, and their live subscribers hear that any figure may have
 * moved (`rederived`).
 */
export async function announceOutsideWrite(config: Config, logger: Logger): Promise<void> {
  if (!config.REDIS_URL) return;
  const feed = await createChangeFeed(config, logger, { listen: false });
  try {
    feed.publish(mergeChanges({ other: true, rederived: true }));
  } finally {
    await feed.close(); // quit() sends what is queued first
  }
}

class RedisFeed implements ChangeFeed {
  /** The subscription is up: every change published from now on reaches this process. */
  private subscribed = false;
  private readonly gapListeners = new Set<() => void>();

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis | null,
    private readonly channel: string,
    private readonly local: InProcessFeed,
    private readonly logger: Logger,
  ) {}

  static async open(url: string, channel: string, local: InProcessFeed, logger: Logger, listen: boolean): Promise<RedisFeed> {
    // No offline queue: a change published while Redis is away is delivered locally at once
    // instead of piling up in memory.
    const publisher = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    publisher.on("error", () => {}); // reported where it matters (publish); ioredis keeps reconnecting
    // A subscriber connection only listens (Redis allows nothing else on it); ioredis subscribes
    // again by itself after a reconnection.
    // Named after its channel, so that an operator (and a test) finds it in CLIENT LIST.
    const subscriber = listen ? new Redis(url, { lazyConnect: true, connectionName: `live:${channel}` }) : null;
    subscriber?.on("error", () => {});
    subscriber?.on("message", (from: string, message: string) => {
      if (from !== channel) return;
      let change: Change;
      try {
        change = JSON.parse(message) as Change;
      } catch {
        return logger.warn({ channel }, "ignored a live-change message that is not JSON");
      }
      local.deliver(change);
    });
    const ready = await Promise.race([
      Promise.all([publisher.connect(), subscriber?.connect().then(() => subscriber.subscribe(channel))]).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(resolve, REDIS_CONNECT_WAIT_MS, false).unref()),
    ]);
    if (!ready) logger.warn("Redis (REDIS_URL) is not answering: live changes reach only this instance's subscribers until it does");
    const feed = new RedisFeed(publisher, subscriber, channel, local, logger);
    feed.subscribed = ready && subscriber !== null;
    // What was published while the subscription was down is lost: whoever trusts the feed to
    // hear every change (the response cache) learns of the gap as it opens, and again once
    // the subscription is back (subscribed anew here rather than trusting ioredis' own
    // resubscription, which 'ready' does not wait for).
    subscriber?.on("close", () => {
      const was = feed.subscribed;
      feed.subscribed = false;
      if (was) feed.gap();
    });
    subscriber?.on("ready", () => {
      subscriber.subscribe(channel).then(
        () => {
          if (subscriber.status !== "ready") return;
          feed.subscribed = true;
          feed.gap();
        },
        () => {},
      );
    });
    return feed;
  }

  private gap(): void {
    for (const listener of [...this.gapListeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, "a live-change gap listener failed");
      }
    }
  }

  complete(): boolean {
    return this.subscribed;
  }

  onGap(listener: () => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  publish(change: Change): void {
    this.publisher.publish(this.channel, JSON.stringify(change)).catch((err: unknown) => {
      this.logger.warn({ err }, "Redis did not take a live change: delivered to this instance's subscribers only");
      this.local.deliver(change);
    });
  }

  subscribe(listener: (change: Change) => void): () => void {
    return this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    this.subscribed = false;
    this.gapListeners.clear();
    await this.local.close();
    await Promise.all(
      [this.publisher, this.subscriber].map((r) => r?.quit().catch(() => r.disconnect())),
    );
  }
}
