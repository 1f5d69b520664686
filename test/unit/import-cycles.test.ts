/**
 * No import cycles under src/: a module graph with a cycle has no order to be read (or
 * initialised) in, and one cycle soon pulls every feature into it (issue 11 found 13 files in
 * one). Walks the imports with TypeScript's own parser, so it needs no extra tool (madge and
 * dependency-cruiser would add dozens of packages for a 60-line check) and sees exactly the
 * specifiers the compiler sees. `import type` counts too: a cycle of types still ties the
 * features together (the request context's type names no feature for that reason).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" ? [] : sourceFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The files under src/ that `file` imports, re-exports or augments (`.js` names its `.ts`). */
function importsOf(file: string, known: Set<string>): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => resolve(dirname(file), name).replace(/\.js$/, ".ts"))
    .filter((path) => known.has(path));
}

/** Every cycle found by a depth-first walk, each as the files along it (first one repeated at the end). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("imports under src/", () => {
  it("finds a cycle when there is one (the check itself works)", () => {
    const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
    expect(findCycles(graph)).toEqual([["a", "b", "c", "a"]]);
  });

  it("form no cycle", () => {
    const files = sourceFiles(ROOT);
    const known = new Set(files);
    const graph = new Map(files.map((f) => [f, importsOf(f, known)]));
    expect(graph.size).toBeGreaterThan(50);
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(ROOT, f)).join(" → "));
    expect(cycles).toEqual([]);
  });
});
