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

class LimitOp final : public Operator {
 public:
  LimitOp(const PlanNode& node, std::unique_ptr<Operator> child, QueryContext& ctx)
      : node_(node), child_(std::move(child)), stats_(ctx.StatsFor(node.children[0].get())) {}
  Result<bool> Next(Batch& out) override {
    while (true) {
      if (node_.limit >= 0 && emitted_ >= node_.limit) return false;
      Batch in;
      SL_ASSIGN_OR_RETURN(bool more, Pull(*child_, in, stats_));
      if (!more) return false;
      int64_t n = static_cast<int64_t>(in.num_rows);
      int64_t skip = std::min(n, node_.offset - skipped_);
      skipped_ += skip;
      int64_t take = n - skip;
      if (node_.limit >= 0) take = std::min(take, node_.limit - emitted_);
      if (take <= 0) continue;
      emitted_ += take;
      if (skip == 0 && take == n) {
        out = std::move(in);
      } else {
        std::vector<uint32_t> rows(static_cast<size_t>(take));
        std::iota(rows.begin(), rows.end(), static_cast<uint32_t>(skip));
        out = GatherBatch(in, rows);
      }
      return true;
    }
  }

 private:
  const PlanNode& node_;
  std::unique_ptr<Operator> child_;
  NodeStats* stats_;
  int64_t skipped_ = 0, emitted_ = 0;
};

}  // namespace

std::unique_ptr<Operator> MakeLimitOp(const PlanNode& node, std::unique_ptr<Operator> child,
                                      QueryContext& ctx) {
  return std::make_unique<LimitOp>(node, std::move(child), ctx);
}

}  // namespace saleslake::sql::internal
