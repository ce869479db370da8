#include "sql/exec/internal/physical_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <numeric>
#include <unordered_set>

#include <fmt/format.h>

namespace saleslake::sql::internal {
namespace {

class FilterOp final : public Operator {
 public:
  FilterOp(const PlanNode& node, std::unique_ptr<Operator> child, QueryContext& ctx)
      : node_(node), child_(std::move(child)), ev_(ctx.subqueries()), stats_(ctx.StatsFor(node.children[0].get())) {}
  Result<bool> Next(Batch& out) override {
    Batch in;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, Pull(*child_, in, stats_));
      if (!more) return false;
      ev_.Reset();
      SL_RETURN_IF_ERROR(ev_.Select(*node_.predicate, in, &rows_));
      if (rows_.empty()) continue;
      if (rows_.size() == in.num_rows) {
        out = std::move(in);
      } else {
        out = GatherBatch(in, rows_);
      }
      return true;
    }
  }

 private:
  const PlanNode& node_;
  std::unique_ptr<Operator> child_;
  Evaluator ev_;
  NodeStats* stats_;
  std::vector<uint32_t> rows_;
};

}  // namespace

std::unique_ptr<Operator> MakeFilterOp(const PlanNode& node, std::unique_ptr<Operator> child,
                                       QueryContext& ctx) {
  return std::make_unique<FilterOp>(node, std::move(child), ctx);
}

}  // namespace saleslake::sql::internal
