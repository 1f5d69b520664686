import { registerEnumType } from "type-graphql";
import { CircleKind, MerchantCategory, VisitOutcome } from "../../generated/prisma/enums.js";

export { CircleKind, MerchantCategory, VisitOutcome };

registerEnumType(MerchantCategory, {
  name: "MerchantCategory",
  description: "What a merchant sells, from a fixed list; a promotion may apply at some categories only.",
});

registerEnumType(CircleKind, {
  name: "CircleKind",
  description: "Kind of business circle (商圈): a commercial complex, a single merchant, a large supermarket or a street.",
});
registerEnumType(VisitOutcome, { name: "VisitOutcome", description: "What came of a staff visit (走访) to a merchant." });
