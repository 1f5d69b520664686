-- CreateTable
CREATE TABLE "rollup_branch_day" (
    "branch_id" INTEGER NOT NULL,
    "metric" "Metric" NOT NULL,
    "day" DATE NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "rollup_branch_day_pkey" PRIMARY KEY ("branch_id","metric","day")
);

-- CreateTable
CREATE TABLE "rollup_manager_day" (
    "manager_id" INTEGER NOT NULL,
    "metric" "Metric" NOT NULL,
    "day" DATE NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "rollup_manager_day_pkey" PRIMARY KEY ("manager_id","metric","day")
);
