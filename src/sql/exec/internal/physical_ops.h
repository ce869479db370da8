// The physical operators, one per file (scan_op.cc, hash_join_op.cc, ...), as BuildOperator
// (operators.cc) creates them, and the small pieces several of them share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sql/exec/internal/operators.h"

namespace saleslake::sql::internal {

// `filter`: the Filter node directly above the scan when ScanAppliesFilter(*filter, node) (the
// scan then delivers only the rows its predicate selects, and no FilterOp runs), or null.
std::unique_ptr<Operator> MakeScanOp(const PlanNode& node, std::vector<Morsel> morsels,
                                     QueryContext& ctx, bool keep_dictionaries,
                                     const PlanNode* filter = nullptr);
// True when the predicate of `filter` is exactly the conjunction of the scan filters of `scan`
// (its child): the scan's row test then computes the Filter's selection.
bool ScanAppliesFilter(const PlanNode& filter, const PlanNode& scan);
std::unique_ptr<Operator> MakeValuesOp(const PlanNode& node, QueryContext& ctx);
std::unique_ptr<Operator> MakeFilterOp(const PlanNode& node, std::unique_ptr<Operator> child,
                                       QueryContext& ctx);
std::unique_ptr<Operator> MakeProjectOp(const PlanNode& node, std::unique_ptr<Operator> child,
                                        QueryContext& ctx);
std::unique_ptr<Operator> MakeLimitOp(const PlanNode& node, std::unique_ptr<Operator> child,
                                      QueryContext& ctx);
std::unique_ptr<Operator> MakeHashAggregateOp(const PlanNode& node, QueryContext& ctx);
std::unique_ptr<Operator> MakeHashJoinOp(const PlanNode& node, std::unique_ptr<Operator> left,
                                         QueryContext& ctx);
// kRightSemi / kRightAnti joins (not pipelines: their output is the build input).
std::unique_ptr<Operator> MakeRightSemiJoinOp(const PlanNode& node, QueryContext& ctx);
// `limit` >= 0: keep only the first `limit` rows (top-N under a LIMIT).
std::unique_ptr<Operator> MakeSortOp(const PlanNode& node, int64_t limit, QueryContext& ctx);
std::unique_ptr<Operator> MakeDistinctOp(std::unique_ptr<Operator> child, NodeStats* stats,
                                         QueryContext& ctx);
std::unique_ptr<Operator> MakeConcatOp(std::unique_ptr<Operator> a, std::unique_ptr<Operator> b);
std::unique_ptr<Operator> MakeIntersectExceptOp(const PlanNode& node,
                                                std::unique_ptr<Operator> left, QueryContext& ctx);
std::unique_ptr<Operator> MakeWindowOp(const PlanNode& node, QueryContext& ctx);

// Collects all of a plan's output, in parallel when possible, preserving morsel order.
Result<std::vector<Batch>> Collect(const PlanPtr& plan, QueryContext& ctx);

// Can a morsel with stats `m.stats` hold a row that satisfies the scan filter `f` (pruning.cc)?
bool MorselMayMatch(const PlanNode& scan, const Morsel& m, const Expr& f, SubqueryCache* subqueries);

inline void EncodeKeys(const std::vector<const ColumnVector*>& cols, size_t row, std::string& key) {
  key.clear();
  for (const ColumnVector* c : cols) AppendKey(*c, row, key);
}

inline bool AnyNull(const std::vector<const ColumnVector*>& cols, size_t row) {
  for (const ColumnVector* c : cols)
    if (!c->IsValid(row)) return true;
  return false;
}

// Emits a prepared list of batches.
class BufferOp final : public Operator {
 public:
  explicit BufferOp(std::vector<Batch> batches) : batches_(std::move(batches)) {}
  Result<bool> Next(Batch& out) override {
    while (next_ < batches_.size()) {
      out = std::move(batches_[next_++]);
      if (out.num_rows > 0 || out.columns.empty()) return true;
    }
    return false;
  }

 private:
  std::vector<Batch> batches_;
  size_t next_ = 0;
};

struct SortColumn {
  const ColumnVector* col;
  bool desc;
  bool nulls_first;
};

inline int CompareKeyRows(const std::vector<SortColumn>& keys, uint32_t a, uint32_t b) {
  for (const SortColumn& k : keys) {
    bool va = k.col->IsValid(a), vb = k.col->IsValid(b);
    if (!va || !vb) {
      if (va == vb) continue;
      // NULLS FIRST/LAST is independent of ASC/DESC.
      return (!va) == k.nulls_first ? -1 : 1;
    }
    int c = CompareRows(*k.col, a, *k.col, b);
    if (c != 0) return k.desc ? -c : c;
  }
  return 0;
}

}  // namespace saleslake::sql::internal
