/**
 * Which statements go to PostgreSQL as named prepared statements. A statement sent unnamed is
 * parsed and planned again on every execution; named, each connection parses it once and
 * PostgreSQL may keep its plan. For a checkout's redemption that is most of the database's work:
 * in the bench's statement log its two statements spent 2.2 ms parsing and planning against
 * 0.3 ms executing (bench/results.md, the card app's path).
 *
 * Which texts repeat is learned, as pgJDBC's `prepareThreshold` does: a text is named once it
 * has been sent `after` times, so one-off statements (an import's, a migration's) stay unnamed
 * and cost the connections nothing. Names are never taken back, since node-postgres keeps them
 * per connection, so at most `max` texts are ever named; past that, statements go unnamed as before.
 */

/** DATABASE_PREPARE_AFTER's default (src/config.ts), also for databases opened without the config (tests, benches). */
export const PREPARE_AFTER_DEFAULT = 3;

/** Gives a statement's text its prepared-statement name, or undefined to send it unnamed. */
export type StatementNamer = (text: string) => string | undefined;

/** Most texts counted while they wait to be named; counting starts over past it (names stay). */
const MAX_COUNTED = 10_000;

/**
 * Names texts sent at least `after` times (0: none is ever named), up to `max` distinct texts.
 * The names are `prefix` and a number, so they never meet the direct path's own names (direct.ts).
 */
export function statementNamer(after: number, max = 1_000, prefix = "p"): StatementNamer {
  if (after <= 0) return () => undefined;
  const names = new Map<string, string>();
  const counts = new Map<string, number>();
  return (text) => {
    const name = names.get(text);
    if (name !== undefined || names.size >= max) return name;
    const count = (counts.get(text) ?? 0) + 1;
    if (count < after) {
      if (counts.size >= MAX_COUNTED) counts.clear();
      counts.set(text, count);
      return undefined;
    }
    counts.delete(text);
    const named = `${prefix}${names.size + 1}`;
    names.set(text, named);
    return named;
  };
}
