-- CreateTable
CREATE TABLE "live_offer" (
    "promotion_id" INTEGER NOT NULL,
    "merchant_id" INTEGER NOT NULL,
    "promotion_code" TEXT NOT NULL,
    "merchant_code" TEXT NOT NULL,
    "location" point NOT NULL,
    "valid_from" DATE NOT NULL,
    "valid_to" DATE NOT NULL,
    "open_minutes" int4multirange NOT NULL,

    CONSTRAINT "live_offer_pkey" PRIMARY KEY ("promotion_id","merchant_id")
);

-- CreateIndex
CREATE INDEX "live_offer_location_idx" ON "live_offer" USING GIST ("location");

-- CreateIndex
CREATE INDEX "live_offer_merchant_id_idx" ON "live_offer"("merchant_id");

-- Backfill: the offers usable in the data already stored, as src/figures/offer-index.ts rebuildOffers
-- computes them (a copy taken when this migration was written, as migrations are).
    INSERT INTO live_offer (promotion_id, merchant_id, promotion_code, merchant_code, location, valid_from, valid_to, open_minutes)
    SELECT e.promotion_id, e.merchant_id, p.code AS promotion_code, m.code AS merchant_code,
           point(m.longitude, m.latitude) AS location,
           greatest(p.valid_from, c.starts_on) AS valid_from, least(p.valid_to, c.ends_on) AS valid_to,
           CASE WHEN jsonb_array_length(p.schedule) = 0 THEN int4multirange(int4range(0, 10080)) ELSE (
  SELECT range_agg(v.part)
  FROM jsonb_array_elements(p.schedule) w(win)
  CROSS JOIN LATERAL (SELECT split_part(w.win->>'start', ':', 1)::int * 60 + split_part(w.win->>'start', ':', 2)::int AS st,
                             split_part(w.win->>'end', ':', 1)::int * 60 + split_part(w.win->>'end', ':', 2)::int AS en) t
  CROSS JOIN LATERAL jsonb_array_elements_text(w.win->'days') d(day)
  CROSS JOIN LATERAL (SELECT (array_position(ARRAY['MONDAY','TUESDAY','WEDNESDAY','THURSDAY','FRIDAY','SATURDAY','SUNDAY']::text[], d.day) - 1) * 1440 + t.st AS s,
                             CASE WHEN t.en > t.st THEN t.en - t.st ELSE 1440 - t.st + t.en END AS len) x
  CROSS JOIN LATERAL (VALUES (int4range(x.s, least(x.s + x.len, 10080))),
                             (CASE WHEN x.s + x.len > 10080 THEN int4range(0, x.s + x.len - 10080) END)) v(part)
  WHERE v.part IS NOT NULL) END AS open_minutes
    FROM (
    SELECT p.id AS promotion_id, e.merchant_id
    FROM (
    SELECT cm.campaign_id, cm.merchant_id FROM campaign_merchant cm
    WHERE true  
    UNION
    SELECT cc.campaign_id, m.merchant_id FROM campaign_circle cc JOIN circle_member m ON m.circle_id = cc.circle_id
    WHERE true  ) e
    JOIN promotion p ON p.campaign_id = e.campaign_id 
    WHERE (NOT EXISTS (SELECT 1 FROM promotion_merchant x WHERE x.promotion_id = p.id)
           OR EXISTS (SELECT 1 FROM promotion_merchant x WHERE x.promotion_id = p.id AND x.merchant_id = e.merchant_id))
      AND (NOT EXISTS (SELECT 1 FROM promotion_circle x WHERE x.promotion_id = p.id)
           OR EXISTS (SELECT 1 FROM promotion_circle x JOIN circle_member cm ON cm.circle_id = x.circle_id
                      WHERE x.promotion_id = p.id AND cm.merchant_id = e.merchant_id))
      AND (NOT EXISTS (SELECT 1 FROM promotion_category x WHERE x.promotion_id = p.id)
           OR EXISTS (SELECT 1 FROM promotion_category x JOIN merchant m ON m.category = x.category
                      WHERE x.promotion_id = p.id AND m.id = e.merchant_id))) e
    JOIN promotion p ON p.id = e.promotion_id
      AND (p.budget_cap_fen IS NULL OR p.spent_fen < p.budget_cap_fen) AND (p.prize_stock IS NULL OR p.prize_stock > 0)
    JOIN campaign c ON c.id = p.campaign_id AND c.status = 'ACTIVE' AND c.spent_fen < c.budget_fen
    JOIN merchant m ON m.id = e.merchant_id
;
