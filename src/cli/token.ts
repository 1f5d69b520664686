/**
 * npm run token -- --role HQ [--unit SX-LL] [--sub alice] [--hours 8]
 *
 * `--unit` is required for BRANCH_MANAGER and ACCOUNT_MANAGER, and an account manager's
 * `--sub` must be their account-manager code (the server checks it belongs to the unit).
 *
 * Prints a bearer token signed with JWT_SECRET (or, outside production with no key set, the
 * development key the server then uses too). For local use and tests; in production tokens
 * come from the bank's identity provider.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { ROLES, SCOPED_ROLES, type Role } from "../domain/access.js";
import { signToken } from "../modules/auth/auth.service.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { role: { type: "string" }, unit: { type: "string" }, sub: { type: "string" }, hours: { type: "string", default: "8" } },
  });
  const role = values.role?.toUpperCase() as Role | undefined;
  if (!role || !ROLES.includes(role)) {
    console.error(`usage: npm run token -- --role <${ROLES.join("|")}> [--unit <branch code>] [--sub <subject>] [--hours 8]`);
    return 2;
  }
  if (SCOPED_ROLES.includes(role) && !values.unit) {
    console.error(`--unit <branch code> is required for ${role}`);
    return 2;
  }
  if (role === "ACCOUNT_MANAGER" && !values.sub) {
    console.error("--sub <account-manager code> is required for ACCOUNT_MANAGER");
    return 2;
  }
  const config = loadConfig();
  const hours = Number(values.hours);
  if (!Number.isFinite(hours) || hours <= 0 || hours > config.JWT_MAX_TTL_HOURS) {
    console.error(`--hours must be a number of hours above 0 and at most ${config.JWT_MAX_TTL_HOURS} (JWT_MAX_TTL_HOURS)`);
    return 2;
  }
  const sub = values.sub ?? `dev-${role.toLowerCase()}`;
  console.log(await signToken(config, { sub, role, unit: values.unit ?? null }, Math.round(hours * 3600)));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
