/**
 * The one place that reads the environment. Everything else receives a validated `Config`.
 */
import path from "node:path";
import { IANAZone } from "luxon";
import { z } from "zod";

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default("0.0.0.0"),
  /** PostgreSQL URL. Unset: the embedded PostgreSQL (PGlite) in DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** Folder of the embedded database. */
  DATA_DIR: z.string().default(".data/pglite"),
  /** With DATABASE_URL, apply pending migrations at start (off by default: production practice). */
  MIGRATE_ON_START: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  /** The bank's time zone: business dates and "today" are taken in it. */
  BANK_TIME_ZONE: z
    .string()
    .default("Asia/Shanghai")
    .refine((zone) => IANAZone.isValidZone(zone), "must be an IANA time zone such as Asia/Shanghai"),
  /** Largest number of rows one write mutation accepts; bigger loads go through the import. */
  MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5_000),
  /**
   * How far a redemption's `at` may be from the server's clock, in seconds. The rules (schedule,
   * per-day limits) are judged at `at`, so a client must not choose it freely; back-fills and
   * tests widen it.
   */
  REDEMPTION_MAX_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).default(300),
  /** Pool size for PostgreSQL. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = Readonly<z.infer<typeof schema>> & { readonly dataDir: string };

/** Parses and validates the environment once; throws with every bad variable named. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.DATA_DIR) });
}
