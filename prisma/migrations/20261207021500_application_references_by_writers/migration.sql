-- An application's customer, unit and manager are proven by its writers, not by foreign keys:
-- the one write of applications (src/figures/application-batch.ts, writeStagedApplications,
-- for the API, the import and the bulk import alike) takes each id from a join with that very
-- table in the same transaction, under the record-write lock, and nothing deletes or renumbers
-- a unit, a customer or an account manager. The keys' per-row checks cost about 16 µs of each
-- imported row (issue 16, bench/results.md), the largest single share of an import's time.
-- schema.prisma keeps the relations (Prisma needs them for its reads), and src/db/migrations.ts
-- leaves these three out of the schema-drift diff.
ALTER TABLE "application" DROP CONSTRAINT "application_customer_id_fkey";
ALTER TABLE "application" DROP CONSTRAINT "application_branch_id_fkey";
ALTER TABLE "application" DROP CONSTRAINT "application_manager_id_fkey";
