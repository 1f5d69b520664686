/** Structured JSON logs (pino): cheap enough for the hot path, parseable by any log stack. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "card-growth" } });
}
