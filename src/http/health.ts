/**
 * Health for the load balancer and the orchestrator:
 * - `/livez`: the process answers (200 whatever else is down; restart it only when this fails).
 * - `/readyz`: send it traffic? 503 while draining (src/server.ts shutdown), or when a check
 *   fails or takes longer than READINESS_TIMEOUT_MS: the database answers, its migrations are
 *   all applied, Redis answers when REDIS_URL is set. The body names each check's result, in our
 *   own words only (a driver's message can name internal hosts, and the endpoint is public).
 *   Probes share one run of the checks at a time and its result for READY_CACHE_MS, so a flood
 *   of probes costs the database what one probe a second does.
 * - `/health`: the same as /readyz (what load balancers were pointed at before /readyz existed).
 */
import { Router, type RequestHandler } from "express";
import type { Config } from "../config.js";
import type { Database } from "../db/database.js";
import { migrationNames, unappliedMigrations } from "../db/migrations.js";

/** A readiness check: resolves when fine, rejects with the reason. */
export type ReadinessCheck = () => Promise<void>;

export interface HealthDeps {
  readonly config: Config;
  readonly database: Database;
  /** True once shutdown began: readiness fails first, before anything stops. */
  draining(): boolean;
  /** Checks besides the database's, by name (e.g. redis). */
  readonly checks: Record<string, ReadinessCheck>;
}

/** How long one run of the readiness checks answers every probe. */
const READY_CACHE_MS = 1_000;

/** A failure whose message is ours, safe to show on the public port. */
class CheckFailed extends Error {}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function health({ config, database, draining, checks }: HealthDeps): Router {
  const release = migrationNames(); // the release's migrations do not change while it runs
  const all: Record<string, ReadinessCheck> = {
    database: async () => {
      await database.prisma.$queryRaw`SELECT 1`;
    },
    migrations: async () => {
      const pending = await unappliedMigrations(database.prisma, release);
      if (pending.length) throw new CheckFailed(`${pending.length} migration(s) not applied: run npm run db:migrate`);
    },
    ...checks,
  };
  type Results = readonly (readonly [string, string])[];
  let last: { at: number; results: Promise<Results> } | null = null;
  const runChecks = (): Promise<Results> =>
    Promise.all(
      Object.entries(all).map(async ([name, check]) => {
        try {
          await within(config.READINESS_TIMEOUT_MS, check());
          return [name, "ok"] as const;
        } catch (err) {
          return [name, err instanceof CheckFailed ? err.message : "failed"] as const;
        }
      }),
    );
  const ready: RequestHandler = async (_req, res) => {
    res.set("Cache-Control", "no-store");
    if (draining()) return void res.status(503).json({ status: "draining" });
    // One run at a time, and its answer for every probe within READY_CACHE_MS of its start.
    if (!last || Date.now() - last.at > READY_CACHE_MS) last = { at: Date.now(), results: runChecks() };
    const results = await last.results;
    const ok = results.every(([, r]) => r === "ok");
    res.status(ok ? 200 : 503).json({ status: ok ? "ok" : "unavailable", database: database.kind, checks: Object.fromEntries(results) });
  };
  const router = Router();
  router.get("/livez", (_req, res) => void res.set("Cache-Control", "no-store").json({ status: "ok" }));
  router.get("/readyz", ready);
  router.get("/health", ready);
  return router;
}
