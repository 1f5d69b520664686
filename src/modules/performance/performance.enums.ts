import { registerEnumType } from "type-graphql";
import { Metric } from "../../generated/prisma/enums.js";

export { Metric };

registerEnumType(Metric, {
  name: "Metric",
  description: "What is counted; see the metric contract in the README.",
  valuesConfig: {
    APPLICATIONS: { description: "Applications keyed (录入) in the window." },
    APPROVALS: { description: "Applications approved in the window, by decision date." },
    NEW_CUSTOMERS: { description: "Customers whose first-ever approved application falls in the window." },
    ACTIVATIONS: { description: "Cards activated in the window." },
  },
});

export enum Granularity {
  DAY = "DAY",
  WEEK = "WEEK",
  MONTH = "MONTH",
}
registerEnumType(Granularity, { name: "Granularity", description: "Bucket size of a series; weeks are ISO weeks (Monday first)." });

export const ALL_METRICS: readonly Metric[] = [Metric.APPLICATIONS, Metric.APPROVALS, Metric.NEW_CUSTOMERS, Metric.ACTIVATIONS];
