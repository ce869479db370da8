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

class SortOp final : public Operator {
 public:
  SortOp(const PlanNode& node, int64_t limit, QueryContext& ctx) : node_(node), limit_(limit), ctx_(ctx) {}
  Result<bool> Next(Batch& out) override {
    if (done_) return false;
    done_ = true;
    SL_ASSIGN_OR_RETURN(std::vector<Batch> batches, Collect(node_.children[0], ctx_));
    Batch all = ConcatBatches(OutputSchema(node_), batches);
    batches.clear();
    // Collect counted the buffered rows; the permutation comes on top.
    SL_RETURN_IF_ERROR(ctx_.Reserve(static_cast<int64_t>(all.num_rows * sizeof(uint32_t))));
    SL_RETURN_IF_ERROR(ctx_.Check());
    Evaluator ev(ctx_.subqueries());
    std::vector<SortColumn> keys;
    for (const auto& k : node_.sort_keys) {
      SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev.Eval(*k.expr, all));
      keys.push_back({v, k.descending, k.nulls_first});
    }
    std::vector<uint32_t> perm(all.num_rows);
    std::iota(perm.begin(), perm.end(), 0u);
    auto less = [&](uint32_t a, uint32_t b) {
      int c = CompareKeyRows(keys, a, b);
      return c != 0 ? c < 0 : a < b;
    };
    if (limit_ >= 0 && static_cast<size_t>(limit_) < perm.size()) {
      std::partial_sort(perm.begin(), perm.begin() + limit_, perm.end(), less);
      perm.resize(static_cast<size_t>(limit_));
    } else {
      std::sort(perm.begin(), perm.end(), less);
    }
    out = GatherBatch(all, perm);
    if (out.columns.empty()) out.num_rows = perm.size();
    return true;
  }

 private:
  const PlanNode& node_;
  int64_t limit_;
  QueryContext& ctx_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Operator> MakeSortOp(const PlanNode& node, int64_t limit, QueryContext& ctx) {
  return std::make_unique<SortOp>(node, limit, ctx);
}

}  // namespace saleslake::sql::internal
