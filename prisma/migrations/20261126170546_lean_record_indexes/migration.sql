-- DropIndex
DROP INDEX "activation_activated_on_idx";

-- DropIndex
DROP INDEX "application_branch_id_idx";

-- DropIndex
DROP INDEX "application_decided_on_branch_id_idx";

-- DropIndex
DROP INDEX "application_keyed_on_branch_id_idx";

-- DropIndex
DROP INDEX "application_manager_id_idx";
