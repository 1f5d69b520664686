/**
 * Only src/figures names the rollup tables: every other module asks it for figures (reads.ts,
 * incentive-inputs.ts, …), so a rollup's meaning and its upkeep live in one place.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { OFFER_INDEX_TABLE, ROLLUP_TABLES } from "../../src/figures/tables.js";

const DERIVED = [...ROLLUP_TABLES, OFFER_INDEX_TABLE];

const SRC = join(import.meta.dirname, "../../src");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "generated" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("the figures boundary", () => {
  it("no file outside src/figures names a rollup table or the live-offer index", () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files
      .filter((f) => !relative(SRC, f).startsWith("figures/"))
      .flatMap((f) => {
        const text = readFileSync(f, "utf8");
        return DERIVED.filter((t) => text.includes(t)).map((t) => `${relative(SRC, f)}: ${t}`);
      });
    expect(offenders).toEqual([]);
  });

  it("the check would see one: the figures module itself names them", () => {
    const figures = sources(join(SRC, "figures")).map((f) => readFileSync(f, "utf8")).join("\n");
    for (const t of DERIVED) expect(figures).toContain(t);
  });
});
