-- NOTE: never put a semicolon inside a comment here: the PostgreSQL adapter splits scripts on them.
-- CreateEnum
CREATE TYPE "OrgLevel" AS ENUM ('PROVINCE', 'CITY', 'SUB_BRANCH', 'OUTLET');

-- CreateEnum
CREATE TYPE "Metric" AS ENUM ('APPLICATIONS', 'APPROVALS', 'NEW_CUSTOMERS', 'ACTIVATIONS');

-- CreateEnum
CREATE TYPE "ApplicationChannel" AS ENUM ('PAPER', 'ONLINE', 'MERCHANT_SITE');

-- CreateEnum
CREATE TYPE "Decision" AS ENUM ('PENDING', 'APPROVED', 'REJECTED');

-- CreateTable
CREATE TABLE "branch" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "level" "OrgLevel" NOT NULL,
    "parent_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "branch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "branch_closure" (
    "ancestor_id" INTEGER NOT NULL,
    "descendant_id" INTEGER NOT NULL,
    "depth" INTEGER NOT NULL,

    CONSTRAINT "branch_closure_pkey" PRIMARY KEY ("ancestor_id","descendant_id")
);

-- CreateTable
CREATE TABLE "account_manager" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "branch_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_manager_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customer" (
    "id" SERIAL NOT NULL,
    "external_id" TEXT NOT NULL,
    "first_approved_application_id" INTEGER,

    CONSTRAINT "customer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "application" (
    "id" SERIAL NOT NULL,
    "external_id" TEXT NOT NULL,
    "customer_id" INTEGER NOT NULL,
    "branch_id" INTEGER NOT NULL,
    "manager_id" INTEGER,
    "channel" "ApplicationChannel" NOT NULL,
    "received_on" DATE NOT NULL,
    "keyed_on" DATE,
    "decision" "Decision" NOT NULL DEFAULT 'PENDING',
    "decided_on" DATE,
    "campaign_code" TEXT,
    "merchant_code" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "application_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "activation" (
    "id" SERIAL NOT NULL,
    "application_id" INTEGER NOT NULL,
    "activated_on" DATE NOT NULL,
    "first_spend_on" DATE,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "activation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "target" (
    "id" SERIAL NOT NULL,
    "branch_id" INTEGER,
    "manager_id" INTEGER,
    "period" TEXT NOT NULL,
    "metric" "Metric" NOT NULL,
    "value" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "target_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "branch_code_key" ON "branch"("code");

-- CreateIndex
CREATE INDEX "branch_parent_id_idx" ON "branch"("parent_id");

-- CreateIndex
CREATE INDEX "branch_closure_descendant_id_idx" ON "branch_closure"("descendant_id");

-- CreateIndex
CREATE UNIQUE INDEX "account_manager_code_key" ON "account_manager"("code");

-- CreateIndex
CREATE INDEX "account_manager_branch_id_code_idx" ON "account_manager"("branch_id", "code");

-- CreateIndex
CREATE UNIQUE INDEX "customer_external_id_key" ON "customer"("external_id");

-- CreateIndex
CREATE INDEX "customer_first_approved_application_id_idx" ON "customer"("first_approved_application_id");

-- CreateIndex
CREATE UNIQUE INDEX "application_external_id_key" ON "application"("external_id");

-- CreateIndex
CREATE INDEX "application_keyed_on_branch_id_idx" ON "application"("keyed_on", "branch_id");

-- CreateIndex
CREATE INDEX "application_decided_on_branch_id_idx" ON "application"("decided_on", "branch_id");

-- CreateIndex
CREATE INDEX "application_customer_id_idx" ON "application"("customer_id");

-- CreateIndex
CREATE INDEX "application_branch_id_idx" ON "application"("branch_id");

-- CreateIndex
CREATE INDEX "application_manager_id_idx" ON "application"("manager_id");

-- CreateIndex
CREATE UNIQUE INDEX "activation_application_id_key" ON "activation"("application_id");

-- CreateIndex
CREATE INDEX "activation_activated_on_idx" ON "activation"("activated_on");

-- CreateIndex
CREATE INDEX "target_period_metric_idx" ON "target"("period", "metric");

-- CreateIndex
CREATE UNIQUE INDEX "target_branch_id_period_metric_key" ON "target"("branch_id", "period", "metric");

-- CreateIndex
CREATE UNIQUE INDEX "target_manager_id_period_metric_key" ON "target"("manager_id", "period", "metric");

-- AddForeignKey
ALTER TABLE "branch" ADD CONSTRAINT "branch_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "branch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "branch_closure" ADD CONSTRAINT "branch_closure_ancestor_id_fkey" FOREIGN KEY ("ancestor_id") REFERENCES "branch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "branch_closure" ADD CONSTRAINT "branch_closure_descendant_id_fkey" FOREIGN KEY ("descendant_id") REFERENCES "branch"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_manager" ADD CONSTRAINT "account_manager_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "application" ADD CONSTRAINT "application_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "application" ADD CONSTRAINT "application_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "application" ADD CONSTRAINT "application_manager_id_fkey" FOREIGN KEY ("manager_id") REFERENCES "account_manager"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "activation" ADD CONSTRAINT "activation_application_id_fkey" FOREIGN KEY ("application_id") REFERENCES "application"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "target" ADD CONSTRAINT "target_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "target" ADD CONSTRAINT "target_manager_id_fkey" FOREIGN KEY ("manager_id") REFERENCES "account_manager"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Hand-written: rules Prisma's schema language cannot state. The service validates the same
-- rules with friendly errors, and these keep a bad write from any other path out of the tables.
ALTER TABLE "target" ADD CONSTRAINT "target_one_owner" CHECK (("branch_id" IS NULL) <> ("manager_id" IS NULL));
ALTER TABLE "target" ADD CONSTRAINT "target_value_non_negative" CHECK ("value" >= 0);
ALTER TABLE "application" ADD CONSTRAINT "application_dates_in_order" CHECK (
  ("keyed_on" IS NULL OR "keyed_on" >= "received_on")
  AND ("decided_on" IS NULL OR "decided_on" >= COALESCE("keyed_on", "received_on"))
);
ALTER TABLE "application" ADD CONSTRAINT "application_decision_dated" CHECK (("decision" = 'PENDING') = ("decided_on" IS NULL));
ALTER TABLE "activation" ADD CONSTRAINT "activation_first_spend_after" CHECK ("first_spend_on" IS NULL OR "first_spend_on" >= "activated_on");
