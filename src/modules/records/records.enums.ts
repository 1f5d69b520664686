import { registerEnumType } from "type-graphql";
import { ApplicationChannel, Decision } from "../../generated/prisma/enums.js";

export { ApplicationChannel, Decision };

registerEnumType(ApplicationChannel, {
  name: "ApplicationChannel",
  description: "Where an application was taken: a paper form, online, or at a merchant site.",
});
registerEnumType(Decision, { name: "Decision", description: "The credit decision on an application." });
