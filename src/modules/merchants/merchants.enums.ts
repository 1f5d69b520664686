import { registerEnumType } from "type-graphql";
import { CircleKind, VisitOutcome } from "../../generated/prisma/enums.js";

export { CircleKind, VisitOutcome };

registerEnumType(CircleKind, {
  name: "CircleKind",
  description: "Kind of business circle (商圈): a commercial complex, a single merchant, a large supermarket or a street.",
});
registerEnumType(VisitOutcome, { name: "VisitOutcome", description: "What came of a staff visit (走访) to a merchant." });
