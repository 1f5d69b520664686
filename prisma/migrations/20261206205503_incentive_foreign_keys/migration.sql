-- AddForeignKey
ALTER TABLE "incentive_plan" ADD CONSTRAINT "incentive_plan_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incentive_statement" ADD CONSTRAINT "incentive_statement_manager_id_fkey" FOREIGN KEY ("manager_id") REFERENCES "account_manager"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "incentive_statement" ADD CONSTRAINT "incentive_statement_branch_id_fkey" FOREIGN KEY ("branch_id") REFERENCES "branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
