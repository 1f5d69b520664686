/**
 * Who a newcomer tries the demo story as: one caller of each kind, with the claims of their
 * development token. The GraphQL IDE offers them (src/http/ide.ts); `npm start` prints their
 * tokens, and the README's examples name the one they run as (`# as: <label>`).
 */
import type { Role } from "../domain/access.js";
import { DEMO } from "./story.js";

export interface DemoCaller {
  /** Stable handle (the IDE's button, tests). */
  readonly id: string;
  readonly label: string;
  /** What this caller may see, in a few words. */
  readonly description: string;
  /** The token's claims; null for a caller without a token (the mobile app). */
  readonly claims: { readonly sub: string; readonly role: Role; readonly unit?: string } | null;
}

/** The story's first sub-branch of SX-LL (离石, Lishi) and the first account manager hired there. */
const SUB_BRANCH = `${DEMO.storyBranch}-01`;
const ACCOUNT_MANAGER = `M-${DEMO.storyBranch}-0001`;

export const DEMO_CALLERS: readonly DemoCaller[] = [
  { id: "hq", label: "HQ", description: "reads everything", claims: { sub: "demo-hq", role: "HQ" } },
  {
    id: "branch-manager",
    label: `${DEMO.storyBranch} branch manager`,
    description: "Lüliang city branch and its subtree; rankings of the province",
    claims: { sub: "demo-sx-ll", role: "BRANCH_MANAGER", unit: DEMO.storyBranch },
  },
  {
    id: "sub-branch-manager",
    label: `${SUB_BRANCH} sub-branch manager`,
    description: "Lishi sub-branch of Lüliang; not its sibling sub-branches",
    claims: { sub: "demo-sx-ll-01", role: "BRANCH_MANAGER", unit: SUB_BRANCH },
  },
  {
    id: "account-manager",
    label: `Account manager ${ACCOUNT_MANAGER}`,
    description: `staff of ${SUB_BRANCH}: own figures and visits, the manager ranking`,
    claims: { sub: ACCOUNT_MANAGER, role: "ACCOUNT_MANAGER", unit: SUB_BRANCH },
  },
  { id: "marketing", label: "Marketing", description: "merchants, business circles, campaigns", claims: { sub: "demo-marketing", role: "MARKETING" } },
  {
    id: "acquirer",
    label: "Acquirer",
    description: "the merchant platform (通联): reports redemptions, reads nothing",
    claims: { sub: "demo-acquirer", role: "ACQUIRER" },
  },
  { id: "anonymous", label: "No token", description: "the card app: promotionsNear only", claims: null },
];
