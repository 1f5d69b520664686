/**
 * The project's root folder (where package.json, prisma/ and dist/ are), whether the code runs
 * from src/ (tests, tsx) or from dist/src/ (npm start).
 */
import fs from "node:fs";
import path from "node:path";

function findProjectRoot(): string {
  let dir = import.meta.dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find package.json above ${import.meta.dirname}`);
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = findProjectRoot();
