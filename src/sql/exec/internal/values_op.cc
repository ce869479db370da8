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

class ValuesOp final : public Operator {
 public:
  ValuesOp(const PlanNode& node, QueryContext& ctx) : node_(node), ev_(ctx.subqueries()) {}
  Result<bool> Next(Batch& out) override {
    if (done_) return false;
    done_ = true;
    size_t n = node_.rows.size();
    out = Batch();
    out.num_rows = n;
    for (size_t c = 0; c < node_.output.size(); ++c) {
      ColumnVector col(node_.output[c].type, std::max<size_t>(n, 1));
      col.Resize(n);
      out.columns.push_back(std::move(col));
    }
    Batch one;
    one.num_rows = 1;
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < node_.output.size(); ++c) {
        SL_ASSIGN_OR_RETURN(const ColumnVector* v, ev_.Eval(*node_.rows[r][c], one));
        SetValueAt(out.columns[c], r, GetValueAt(*v, 0));
      }
      ev_.Reset();
    }
    return true;
  }

 private:
  const PlanNode& node_;
  Evaluator ev_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Operator> MakeValuesOp(const PlanNode& node, QueryContext& ctx) {
  return std::make_unique<ValuesOp>(node, ctx);
}

}  // namespace saleslake::sql::internal
