-- CreateEnum
CREATE TYPE "PlanStatus" AS ENUM ('DRAFT', 'ACTIVE', 'CLOSED');

-- CreateEnum
CREATE TYPE "StatementBasis" AS ENUM ('PROVISIONAL', 'FINAL');

-- CreateEnum
CREATE TYPE "StatementStatus" AS ENUM ('CALCULATED', 'APPROVED', 'LOCKED');

-- CreateEnum
CREATE TYPE "PlanRuleKind" AS ENUM ('FIRST_ORDER', 'PER_UNIT', 'TIERED', 'TEAM', 'PENALTY');

-- CreateTable
CREATE TABLE "incentive_plan" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "branch_id" INTEGER NOT NULL,
    "period" TEXT NOT NULL,
    "status" "PlanStatus" NOT NULL DEFAULT 'DRAFT',
    "current_version_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incentive_plan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incentive_plan_version" (
    "id" SERIAL NOT NULL,
    "plan_id" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "rules" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incentive_plan_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incentive_statement" (
    "id" SERIAL NOT NULL,
    "plan_id" INTEGER NOT NULL,
    "plan_version_id" INTEGER NOT NULL,
    "manager_id" INTEGER,
    "branch_id" INTEGER,
    "sequence" INTEGER NOT NULL,
    "as_of" DATE NOT NULL,
    "basis" "StatementBasis" NOT NULL,
    "status" "StatementStatus" NOT NULL DEFAULT 'CALCULATED',
    "total_fen" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "incentive_statement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "incentive_statement_line" (
    "id" SERIAL NOT NULL,
    "statement_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "rule_index" INTEGER NOT NULL,
    "rule_kind" "PlanRuleKind" NOT NULL,
    "metric" "Metric" NOT NULL,
    "quantity" INTEGER NOT NULL,
    "rate_fen" BIGINT NOT NULL,
    "amount_fen" BIGINT NOT NULL,
    "applications" TEXT[],
    "applications_removed" TEXT[],
    "note" TEXT,
    "adjustment" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "incentive_statement_line_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "incentive_plan_code_key" ON "incentive_plan"("code");

-- CreateIndex
CREATE INDEX "incentive_plan_branch_id_period_idx" ON "incentive_plan"("branch_id", "period");

-- CreateIndex
CREATE INDEX "incentive_plan_period_idx" ON "incentive_plan"("period");

-- CreateIndex
CREATE UNIQUE INDEX "incentive_plan_version_plan_id_number_key" ON "incentive_plan_version"("plan_id", "number");

-- CreateIndex
CREATE INDEX "incentive_statement_plan_id_status_idx" ON "incentive_statement"("plan_id", "status");

-- CreateIndex
CREATE INDEX "incentive_statement_manager_id_idx" ON "incentive_statement"("manager_id");

-- CreateIndex
CREATE INDEX "incentive_statement_branch_id_idx" ON "incentive_statement"("branch_id");

-- CreateIndex
CREATE UNIQUE INDEX "incentive_statement_line_statement_id_position_key" ON "incentive_statement_line"("statement_id", "position");

-- AddForeignKey
ALTER TABLE "incentive_plan_version" ADD CONSTRAINT "incentive_plan_version_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "incentive_plan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incentive_statement" ADD CONSTRAINT "incentive_statement_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "incentive_plan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incentive_statement" ADD CONSTRAINT "incentive_statement_plan_version_id_fkey" FOREIGN KEY ("plan_version_id") REFERENCES "incentive_plan_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incentive_statement_line" ADD CONSTRAINT "incentive_statement_line_statement_id_fkey" FOREIGN KEY ("statement_id") REFERENCES "incentive_statement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A statement is either an account manager's or a unit's, never both
ALTER TABLE "incentive_statement" ADD CONSTRAINT "incentive_statement_one_recipient" CHECK (("manager_id" IS NULL) <> ("branch_id" IS NULL));
