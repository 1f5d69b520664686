-- AlterTable
ALTER TABLE "promotion" ADD COLUMN     "list_price_fen" BIGINT;

-- CreateIndex
CREATE INDEX "redemption_merchant_id_local_date_idx" ON "redemption"("merchant_id", "local_date");
