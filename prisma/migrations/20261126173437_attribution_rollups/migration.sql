-- CreateTable
CREATE TABLE "rollup_campaign_day" (
    "campaign_code" TEXT NOT NULL,
    "metric" "Metric" NOT NULL,
    "day" DATE NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "rollup_campaign_day_pkey" PRIMARY KEY ("campaign_code","metric","day")
);

-- CreateTable
CREATE TABLE "rollup_merchant_day" (
    "merchant_code" TEXT NOT NULL,
    "metric" "Metric" NOT NULL,
    "day" DATE NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "rollup_merchant_day_pkey" PRIMARY KEY ("merchant_code","metric","day")
);
