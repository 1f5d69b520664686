-- CreateEnum
CREATE TYPE "AuditOutcome" AS ENUM ('SUCCEEDED', 'REJECTED', 'DENIED', 'FAILED');

-- CreateTable
CREATE TABLE "audit_entry" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "subject" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "outcome" "AuditOutcome" NOT NULL,
    "error_code" TEXT,
    "target" TEXT,
    "details" JSONB,

    CONSTRAINT "audit_entry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_entry_at_idx" ON "audit_entry"("at");

-- CreateIndex
CREATE INDEX "audit_entry_subject_at_idx" ON "audit_entry"("subject", "at");

-- CreateIndex
CREATE INDEX "audit_entry_operation_at_idx" ON "audit_entry"("operation", "at");
