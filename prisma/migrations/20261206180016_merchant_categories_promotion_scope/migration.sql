-- CreateEnum
CREATE TYPE "MerchantCategory" AS ENUM ('CAR_WASH', 'FUEL', 'AUTO_SERVICE', 'RESTAURANT', 'CAFE', 'SUPERMARKET', 'CONVENIENCE_STORE', 'RETAIL', 'ELECTRONICS', 'BEAUTY', 'HEALTH', 'FITNESS', 'ENTERTAINMENT', 'HOTEL', 'TRAVEL', 'OTHER');

-- AlterTable: free-text categories become the fixed list, and what names none of it becomes OTHER
-- (kept, not dropped: merchants already stored keep a category).
ALTER TABLE "merchant" ALTER COLUMN "category" TYPE "MerchantCategory" USING (
  CASE
    WHEN upper(regexp_replace(trim("category"), '[^A-Za-z]+', '_', 'g')) IN
         ('CAR_WASH', 'FUEL', 'AUTO_SERVICE', 'RESTAURANT', 'CAFE', 'SUPERMARKET', 'CONVENIENCE_STORE', 'RETAIL', 'ELECTRONICS', 'BEAUTY', 'HEALTH', 'FITNESS', 'ENTERTAINMENT', 'HOTEL', 'TRAVEL', 'OTHER')
      THEN upper(regexp_replace(trim("category"), '[^A-Za-z]+', '_', 'g'))
    WHEN lower("category") ~ '(car ?wash)' THEN 'CAR_WASH'
    WHEN lower("category") ~ '(gas|petrol|fuel)' THEN 'FUEL'
    WHEN lower("category") ~ '(auto|garage|tyre|tire)' THEN 'AUTO_SERVICE'
    WHEN lower("category") ~ '(restaurant|noodle|hotpot|food|dining)' THEN 'RESTAURANT'
    WHEN lower("category") ~ '(coffee|tea|bakery|caf)' THEN 'CAFE'
    WHEN lower("category") ~ '(grocery|convenience)' THEN 'CONVENIENCE_STORE'
    WHEN lower("category") ~ '(electronic|phone|digital)' THEN 'ELECTRONICS'
    WHEN lower("category") ~ '(beauty|cosmetic|salon|hair)' THEN 'BEAUTY'
    WHEN lower("category") ~ '(pharmac|clinic|health|medic)' THEN 'HEALTH'
    WHEN lower("category") ~ '(fitness|gym|sport)' THEN 'FITNESS'
    WHEN lower("category") ~ '(cinema|karaoke|ktv|game|theat)' THEN 'ENTERTAINMENT'
    WHEN lower("category") ~ '(cloth|shoe|jewel|child|shop|store|mall|fashion|retail)' THEN 'RETAIL'
    ELSE 'OTHER'
  END::"MerchantCategory");

-- CreateTable
CREATE TABLE "promotion_merchant" (
    "promotion_id" INTEGER NOT NULL,
    "merchant_id" INTEGER NOT NULL,

    CONSTRAINT "promotion_merchant_pkey" PRIMARY KEY ("promotion_id","merchant_id")
);

-- CreateTable
CREATE TABLE "promotion_circle" (
    "promotion_id" INTEGER NOT NULL,
    "circle_id" INTEGER NOT NULL,

    CONSTRAINT "promotion_circle_pkey" PRIMARY KEY ("promotion_id","circle_id")
);

-- CreateTable
CREATE TABLE "promotion_category" (
    "promotion_id" INTEGER NOT NULL,
    "category" "MerchantCategory" NOT NULL,

    CONSTRAINT "promotion_category_pkey" PRIMARY KEY ("promotion_id","category")
);

-- CreateIndex
CREATE INDEX "promotion_merchant_merchant_id_idx" ON "promotion_merchant"("merchant_id");

-- CreateIndex
CREATE INDEX "promotion_circle_circle_id_idx" ON "promotion_circle"("circle_id");

-- AddForeignKey
ALTER TABLE "promotion_merchant" ADD CONSTRAINT "promotion_merchant_promotion_id_fkey" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_merchant" ADD CONSTRAINT "promotion_merchant_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_circle" ADD CONSTRAINT "promotion_circle_promotion_id_fkey" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_circle" ADD CONSTRAINT "promotion_circle_circle_id_fkey" FOREIGN KEY ("circle_id") REFERENCES "business_circle"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "promotion_category" ADD CONSTRAINT "promotion_category_promotion_id_fkey" FOREIGN KEY ("promotion_id") REFERENCES "promotion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
