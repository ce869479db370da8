// Rule-based rewrites of a logical plan: filter pushdown (into scans for partition / row-group
// pruning, and below joins), turning cross joins with equality filters into hash joins, column
// pruning of scans, and build-side selection from table statistics.
// Thread safety: pure function of its input.
#pragma once

#include "common/status.h"
#include "sql/planner/plan.h"

namespace saleslake::sql {

struct OptimizerOptions {
  bool pushdown = true;
  bool prune_columns = true;
  bool reorder_joins = true;
};

Result<PlanPtr> Optimize(const PlanPtr& plan, const OptimizerOptions& options = {});

}  // namespace saleslake::sql
