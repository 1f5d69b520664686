/**
 * What one committed write changed, as the live feed carries it to every API instance: the
 * subscriptions (src/live/subscriptions.ts) and the group notifications' milestone detection
 * (src/modules/notify/notifier.ts). A write collects it while its transaction runs (`ChangeLog`) and
 * db/transaction.ts publishes it only after the commit, never for a dry run or a rolled-back
 * write, so no service reasons about when to publish.
 */
import { mergeChanged, type FiguresChanged } from "../figures/changed.js";

export interface Change {
  /** Whose daily counts moved (src/figures): units with their ancestors, managers, campaigns, merchants, days. */
  readonly figures: FiguresChanged;
  /** Whose plan figures (targets) changed: unit and account-manager codes. */
  readonly targets: { readonly units: readonly string[]; readonly managers: readonly string[] };
  /** Campaigns whose own state changed: money spent, status (a self-pause), budget, dates, eligibility. */
  readonly campaigns: readonly string[];
  /** The org tree changed shape: who ranks among whom may have moved. */
  readonly reorg: boolean;
  /**
   * Every figure was derived again from the records, by a tool that wrote outside the services
   * (`npm run rollups:rebuild`, the demo loader; `announceOutsideWrite`, src/live/feed.ts): any
   * figure of anyone may have moved, and the org tree may have been loaded afresh.
   */
  readonly rederived: boolean;
  /**
   * The write committed rows that none of the above names (a unit renamed, merchants, plans,
   * webhooks, a replayed batch): nothing live follows those, but response caches
   * (src/graphql/response-cache.ts) must drop what they hold. Set by inTransaction alone.
   */
  readonly other: boolean;
}

/** A part of a change, as one step of a write reports it. */
export type ChangePart = Partial<Change>;

const sortedUnion = (...lists: (readonly string[] | undefined)[]) => [...new Set(lists.flatMap((l) => l ?? []))].sort();

/** The union of several changes (none: nothing changed). */
export function mergeChanges(...parts: ChangePart[]): Change {
  return {
    figures: mergeChanged(...parts.flatMap((p) => (p.figures ? [p.figures] : []))),
    targets: { units: sortedUnion(...parts.map((p) => p.targets?.units)), managers: sortedUnion(...parts.map((p) => p.targets?.managers)) },
    campaigns: sortedUnion(...parts.map((p) => p.campaigns)),
    reorg: parts.some((p) => p.reorg === true),
    rederived: parts.some((p) => p.rederived === true),
    other: parts.some((p) => p.other === true),
  };
}

/** True when a change changed nothing anyone could see (a replayed batch, a refused one); `other` does not count. */
export function isEmptyChange(c: Change): boolean {
  const f = c.figures;
  return (
    !c.reorg &&
    !c.rederived &&
    c.campaigns.length === 0 &&
    c.targets.units.length === 0 &&
    c.targets.managers.length === 0 &&
    f.units.length + f.managers.length + f.campaigns.length + f.merchants.length + f.days.length === 0
  );
}

/** What a transaction's work reports as it goes; published after the commit (db/transaction.ts). */
export class ChangeLog {
  private readonly parts: ChangePart[] = [];

  add(part: ChangePart): void {
    this.parts.push(part);
  }

  /** Everything reported, merged; null when nothing visible changed. */
  collected(): Change | null {
    const change = mergeChanges(...this.parts);
    return isEmptyChange(change) ? null : change;
  }
}

/**
 * Publish / subscribe for committed changes. Created once per process at startup (in process,
 * or through Redis so that every API instance hears every write) and handed to the write
 * services through their options (`feed`): services never see the GraphQL context.
 */
export interface ChangeFeed {
  /** Fire and forget: a write that committed is never failed or slowed by its listeners. */
  publish(change: Change): void;
  /** Calls `listener` with each change published by any instance; returns the unsubscribe. */
  subscribe(listener: (change: Change) => void): () => void;
  /**
   * True while this process is sure to hear every committed change (in process: always; with
   * Redis: while its subscription is up). A cache trusts nothing it holds otherwise.
   */
  complete(): boolean;
  /** Calls `listener` when changes may have been missed (the subscription dropped, or came back); returns the unsubscribe. */
  onGap(listener: () => void): () => void;
  close(): Promise<void>;
}

/** A feed within one process: what a single API instance (no REDIS_URL) and the tests without Redis use. */
export class InProcessFeed implements ChangeFeed {
  private readonly listeners = new Set<(change: Change) => void>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  publish(change: Change): void {
    this.deliver(change);
  }

  /** Hands a change to this process's listeners; one failing listener does not stop the others. */
  deliver(change: Change): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  complete(): boolean {
    return true;
  }

  onGap(): () => void {
    return () => {}; // nothing between the publisher and its listeners to lose a change
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

/** A feed that drops everything: for callers that start no listeners (scripts, the demo loader). */
export const NO_FEED: ChangeFeed = { publish: () => {}, subscribe: () => () => {}, complete: () => false, onGap: () => () => {}, close: async () => {} };
