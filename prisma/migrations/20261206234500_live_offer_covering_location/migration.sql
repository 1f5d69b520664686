-- The nearby query's GiST index carries the columns it filters on (the dates and the weekly
-- schedule), so its nearest-neighbour scan and its count read the index alone (an index-only
-- scan) instead of a heap page per candidate: src/figures/offer-index.ts.
DROP INDEX "live_offer_location_idx";

CREATE INDEX "live_offer_location_idx" ON "live_offer" USING GIST ("location") INCLUDE ("valid_from", "valid_to", "open_minutes");
