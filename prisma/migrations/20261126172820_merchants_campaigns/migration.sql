-- CreateEnum
CREATE TYPE "CircleKind" AS ENUM ('COMPLEX', 'SINGLE', 'SUPERMARKET', 'STREET');

-- CreateEnum
CREATE TYPE "VisitOutcome" AS ENUM ('SIGNED_UP', 'FOLLOW_UP', 'DECLINED');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('DRAFT', 'SCHEDULED', 'ACTIVE', 'PAUSED', 'ENDED');

-- CreateEnum
CREATE TYPE "PromotionKind" AS ENUM ('PERCENT_OFF', 'FIXED_PRICE', 'CASHBACK', 'LUCKY_DRAW');

-- CreateTable
CREATE TABLE "merchant" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "latitude" DOUBLE PRECISION NOT NULL,
    "longitude" DOUBLE PRECISION NOT NULL,
    "branch_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "merchant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "business_circle" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "CircleKind" NOT NULL,
    "branch_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "business_circle_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "circle_member" (
    "circle_id" INTEGER NOT NULL,
    "merchant_id" INTEGER NOT NULL,

    CONSTRAINT "circle_member_pkey" PRIMARY KEY ("circle_id","merchant_id")
);

-- CreateTable
CREATE TABLE "visit" (
    "id" SERIAL NOT NULL,
    "manager_id" INTEGER NOT NULL,
    "merchant_id" INTEGER NOT NULL,
    "visited_on" DATE NOT NULL,
    "outcome" "VisitOutcome" NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "visit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "branch_id" INTEGER NOT NULL,
    "starts_on" DATE NOT NULL,
    "ends_on" DATE NOT NULL,
    "budget_fen" BIGINT NOT NULL,
    "spent_fen" BIGINT NOT NULL DEFAULT 0,
    "status" "CampaignStatus" NOT NULL DEFAULT 'DRAFT',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_circle" (
    "campaign_id" INTEGER NOT NULL,
    "circle_id" INTEGER NOT NULL,

    CONSTRAINT "campaign_circle_pkey" PRIMARY KEY ("campaign_id","circle_id")
);

-- CreateTable
CREATE TABLE "campaign_merchant" (
    "campaign_id" INTEGER NOT NULL,
    "merchant_id" INTEGER NOT NULL,

    CONSTRAINT "campaign_merchant_pkey" PRIMARY KEY ("campaign_id","merchant_id")
);

-- CreateTable
CREATE TABLE "promotion" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "campaign_id" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "kind" "PromotionKind" NOT NULL,
    "percent_off" INTEGER,
    "amount_fen" BIGINT,
    "min_spend_fen" BIGINT,
    "draw_odds" DOUBLE PRECISION,
    "prize_stock" INTEGER,
    "valid_from" DATE NOT NULL,
    "valid_to" DATE NOT NULL,
    "schedule" JSONB NOT NULL DEFAULT '[]',
    "per_card_per_day" INTEGER,
    "per_card_per_week" INTEGER,
    "per_card_per_campaign" INTEGER,
    "budget_cap_fen" BIGINT,
    "spent_fen" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "promotion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "redemption" (
    "id" SERIAL NOT NULL,
    "transaction_id" TEXT NOT NULL,
    "promotion_id" INTEGER NOT NULL,
    "merchant_id" INTEGER NOT NULL,
    "card_token" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "local_date" DATE NOT NULL,
    "local_week" TEXT NOT NULL,
    "spend_fen" BIGINT NOT NULL,
    "cost_fen" BIGINT NOT NULL,
    "won" BOOLEAN,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "redemption_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_key" (
    "key" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_key_pkey" PRIMARY KEY ("operation","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "merchant_code_key" ON "merchant"("code");

-- CreateIndex
CREATE INDEX "merchant_latitude_longitude_idx" ON "merchant"("latitude", "longitude");

-- CreateIndex
CREATE INDEX "merchant_branch_id_idx" ON "merchant"("branch_id");

-- CreateIndex
CREATE UNIQUE INDEX "business_circle_code_key" ON "business_circle"("code");

-- CreateIndex
CREATE INDEX "business_circle_branch_id_idx" ON "business_circle"("branch_id");

-- CreateIndex
CREATE INDEX "circle_member_merchant_id_idx" ON "circle_member"("merchant_id");

-- CreateIndex
CREATE INDEX "visit_merchant_id_visited_on_idx" ON "visit"("merchant_id", "visited_on");

-- CreateIndex
CREATE UNIQUE INDEX "visit_manager_id_merchant_id_visited_on_key" ON "visit"("manager_id", "merchant_id", "visited_on");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_code_key" ON "campaign"("code");

-- CreateIndex
CREATE INDEX "campaign_status_idx" ON "campaign"("status");

-- CreateIndex
CREATE INDEX "campaign_merchant_merchant_id_idx" ON "campaign_merchant"("merchant_id");

-- CreateIndex
CREATE UNIQUE INDEX "promotion_code_key" ON "promotion"("code");

-- CreateIndex
CREATE INDEX "promotion_campaign_id_idx" ON "promotion"("campaign_id");

-- CreateIndex
CREATE UNIQUE INDEX "redemption_transaction_id_key" ON "redemption"("transaction_id");

-- CreateIndex
CREATE INDEX "redemption_promotion_id_card_token_local_date_idx" ON "redemption"("promotion_id", "card_token", "local_date");

-- AddForeignKey
ALTER TABLE "merchant" ADD CONSTRAINT "merchant_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "business_circle" ADD CONSTRAINT "business_circle_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "circle_member" ADD CONSTRAINT "circle_member_circle_id_fkey" FOREIGN KEY ("circle_id") REFERENCES "business_circle"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "circle_member" ADD CONSTRAINT "circle_member_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "visit" ADD CONSTRAINT "visit_manager_id_fkey" FOREIGN KEY ("manager_id") REFERENCES "account_manager"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "visit" ADD CONSTRAINT "visit_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign" ADD CONSTRAINT "campaign_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_circle" ADD CONSTRAINT "campaign_circle_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_circle" ADD CONSTRAINT "campaign_circle_circle_id_fkey" FOREIGN KEY ("circle_id") REFERENCES "business_circle"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_merchant" ADD CONSTRAINT "campaign_merchant_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_merchant" ADD CONSTRAINT "campaign_merchant_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion" ADD CONSTRAINT "promotion_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "redemption" ADD CONSTRAINT "redemption_promotion_id_fkey" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: the rules the service checks, kept by the database too. The budget checks make
-- an overspend impossible even for a write that bypasses the service.
ALTER TABLE "merchant" ADD CONSTRAINT "merchant_location_valid" CHECK ("latitude" BETWEEN -90 AND 90 AND "longitude" BETWEEN -180 AND 180);
ALTER TABLE "campaign" ADD CONSTRAINT "campaign_dates_in_order" CHECK ("ends_on" >= "starts_on");
ALTER TABLE "campaign" ADD CONSTRAINT "campaign_budget_held" CHECK ("budget_fen" >= 0 AND "spent_fen" >= 0 AND "spent_fen" <= "budget_fen");
ALTER TABLE "promotion" ADD CONSTRAINT "promotion_dates_in_order" CHECK ("valid_to" >= "valid_from");
ALTER TABLE "promotion" ADD CONSTRAINT "promotion_percent_valid" CHECK ("percent_off" IS NULL OR "percent_off" BETWEEN 1 AND 100);
ALTER TABLE "promotion" ADD CONSTRAINT "promotion_budget_held" CHECK ("spent_fen" >= 0 AND ("budget_cap_fen" IS NULL OR "spent_fen" <= "budget_cap_fen"));
ALTER TABLE "promotion" ADD CONSTRAINT "promotion_stock_valid" CHECK ("prize_stock" IS NULL OR "prize_stock" >= 0);
