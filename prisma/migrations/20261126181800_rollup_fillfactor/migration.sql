-- Hand-written: rollup rows are updated in place by every write. Free room in each page lets
-- PostgreSQL update them as heap-only tuples (no index insert per update), which is most of the
-- cost of keeping rollups under a bulk import. Prisma's schema language cannot state fillfactor.
ALTER TABLE "rollup_branch_day" SET (fillfactor = 70);
ALTER TABLE "rollup_manager_day" SET (fillfactor = 70);
ALTER TABLE "rollup_campaign_day" SET (fillfactor = 70);
ALTER TABLE "rollup_merchant_day" SET (fillfactor = 70);
