/** `npm run schema:emit`: writes the schema the code builds to schema.graphql. */
import "reflect-metadata";
import fs from "node:fs";
import { createSchema, printSchemaFile } from "../graphql/schema.js";

const target = process.argv[2] ?? "schema.graphql";
fs.writeFileSync(target, printSchemaFile(await createSchema()));
console.log(`Wrote ${target}`);
