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

class ProjectOp final : public Operator {
 public:
  ProjectOp(const PlanNode& node, std::unique_ptr<Operator> child, QueryContext& ctx)
      : node_(node), child_(std::move(child)), ev_(ctx.subqueries()), stats_(ctx.StatsFor(node.children[0].get())) {
    for (const auto& e : node.exprs)
      if (e->kind == ExprKind::kColumn) ++refs_[e->column];
  }
  Result<bool> Next(Batch& out) override {
    Batch in;
    SL_ASSIGN_OR_RETURN(bool more, Pull(*child_, in, stats_));
    if (!more) return false;
    ev_.Reset();
    out = Batch();
    out.num_rows = in.num_rows;
    out.columns.resize(node_.exprs.size());
    for (size_t i = 0; i < node_.exprs.size(); ++i) {
      const Expr& e = *node_.exprs[i];
      if (e.kind == ExprKind::kColumn) continue;
      SL_ASSIGN_OR_RETURN(out.columns[i], ev_.EvalOwned(e, in));
    }
    std::unordered_map<int, int> left = refs_;
    for (size_t i = 0; i < node_.exprs.size(); ++i) {
      const Expr& e = *node_.exprs[i];
      if (e.kind != ExprKind::kColumn) continue;
      ColumnVector& src = in.columns[static_cast<size_t>(e.column)];
      if (--left[e.column] == 0) {
        out.columns[i] = std::move(src);
      } else {
        CopyColumn(src, in.num_rows, out.columns[i]);
      }
    }
    return true;
  }

 private:
  const PlanNode& node_;
  std::unique_ptr<Operator> child_;
  Evaluator ev_;
  NodeStats* stats_;
  std::unordered_map<int, int> refs_;
};

}  // namespace

std::unique_ptr<Operator> MakeProjectOp(const PlanNode& node, std::unique_ptr<Operator> child,
                                        QueryContext& ctx) {
  return std::make_unique<ProjectOp>(node, std::move(child), ctx);
}

}  // namespace saleslake::sql::internal
