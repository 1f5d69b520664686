import { registerEnumType } from "type-graphql";
import { OrgLevel } from "../../generated/prisma/enums.js";

export { OrgLevel };

registerEnumType(OrgLevel, { name: "OrgLevel", description: "Level in the bank's org tree, top first." });

/** Depth of each level: a unit must sit strictly below its parent. */
export const LEVEL_DEPTH: Record<OrgLevel, number> = { PROVINCE: 0, CITY: 1, SUB_BRANCH: 2, OUTLET: 3 };
