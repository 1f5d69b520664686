/**
 * Live subscriptions in tests: a second API instance on the test database (instance B; the
 * harness's startTestApi is instance A), and subscribers that speak graphql-ws over a real
 * WebSocket, as a dashboard would.
 */
import { randomUUID } from "node:crypto";
import type { ExecutionResult } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { createLogger } from "../../src/logger.js";
import { startServer, type RunningServer } from "../../src/server.js";
import type { TestApi } from "./harness.js";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A Redis channel no other test run (or engine project running at the same time) shares. */
export function uniqueChannel(): string {
  return `cardgrowth-test:live:${process.pid}:${randomUUID()}`;
}

/** Instance B: another server on A's database, with A's configuration (so, with REDIS_URL, the same channel). */
export function startSecondInstance(api: TestApi): Promise<RunningServer> {
  return startServer(api.database, api.config, createLogger(process.env.TEST_LOG_LEVEL ?? "silent"));
}

export interface Closed {
  code: number;
  reason: string;
}

/** One subscription on its own connection, recording what arrives. */
export interface Follower {
  /** Every `next` payload, in order. */
  readonly events: ExecutionResult<any>[];
  /** When each event arrived (ms since the epoch). */
  readonly arrivals: number[];
  /** The `error` message's errors, when the server refused the subscription. */
  readonly refused: Promise<readonly { message: string; extensions?: { code?: string } }[]>;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<Closed>;
  /** Waits until at least `n` events have arrived (fails after `ms`). */
  waitFor(n: number, ms?: number): Promise<ExecutionResult<any>[]>;
  /** Waits until an event satisfies `test` (fails after `ms`); returns it. */
  waitUntil(test: (e: ExecutionResult<any>) => boolean, ms?: number): Promise<ExecutionResult<any>>;
  dispose(): Promise<void>;
}

export function wsUrl(server: Pick<RunningServer, "url">): string {
  return server.url.replace(/^http/, "ws");
}

/**
 * Subscribes `query` on `server` with `token` (none: anonymous). The connection is the
 * subscription's own, so a test can watch it close. `extensions` go with the subscribe message
 * (a trusted document's hash, with an empty query).
 */
export function follow(server: Pick<RunningServer, "url">, token: string | null, query: string, variables: Record<string, unknown> = {}, extensions?: Record<string, unknown>): Follower {
  const events: ExecutionResult<any>[] = [];
  const arrivals: number[] = [];
  let onRefused!: (e: readonly { message: string }[]) => void;
  const refused = new Promise<readonly { message: string }[]>((resolve) => (onRefused = resolve));
  let onClosed!: (c: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const waiters = new Set<() => void>();
  const client: Client = createClient({
    url: wsUrl(server),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    on: { closed: (e) => onClosed({ code: (e as { code: number }).code, reason: String((e as { reason: unknown }).reason) }) },
    onNonLazyError: () => {},
  });
  client.subscribe(
    { query, variables, extensions },
    {
      next: (e) => {
        events.push(e as ExecutionResult<any>);
        arrivals.push(Date.now());
        for (const w of waiters) w();
      },
      error: (e) => {
        if (Array.isArray(e)) onRefused(e as { message: string }[]);
      },
      complete: () => {},
    },
  );
  const waitUntil = (test: (e: ExecutionResult<any>) => boolean, ms = 10_000) =>
    new Promise<ExecutionResult<any>>((resolve, reject) => {
      const check = () => {
        const hit = events.find(test);
        if (!hit) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    events,
    arrivals,
    refused,
    closed,
    waitUntil,
    async waitFor(n, ms = 10_000) {
      await waitUntil(() => events.length >= n, ms);
      return events.slice(0, n);
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
