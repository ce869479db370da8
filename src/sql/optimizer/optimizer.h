// Rule-based and cost-based rewrites of a logical plan, in this order (Optimize):
// - nested plans (subqueries) optimized on their own, constants folded;
// - filters pushed down: into scans (partition and row-group pruning) and below joins, with the
//   common part of ORs split out; the binder's LEFT JOIN for a correlated EXISTS (NOT EXISTS)
//   then becomes a semi (anti) join;
// - joins reordered from table and column statistics (equality filters make hash joins, never
//   cross products), an aggregate joined on its own grouping keys first semi-joined with the
//   outer side's keys (magic sets: decorrelated Q17/Q20), build sides chosen by size;
// - columns pruned from scans and intermediate results.
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
