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

// ------------------------------------------------------------------ pruning

// Can a row with a value in [min, max] (and null_count nulls) satisfy `col op lit`?
bool MayMatch(const std::string& op, const ColumnStats& s, const Value& lit, bool col_left) {
  if (s.min.is_null() || s.max.is_null() || lit.is_null()) return true;
  if (s.min.type() != lit.type()) {
    auto lo = CastValue(s.min, lit.type());
    auto hi = CastValue(s.max, lit.type());
    if (!lo.ok() || !hi.ok() || lo->is_null() || hi->is_null()) return true;
    return MayMatch(op, ColumnStats{*lo, *hi, s.null_count}, lit, col_left);
  }
  std::string o = op;
  if (!col_left) {  // lit op col  ==  col op' lit
    if (o == "<") o = ">";
    else if (o == ">") o = "<";
    else if (o == "<=") o = ">=";
    else if (o == ">=") o = "<=";
  }
  int lo = s.min.Compare(lit), hi = s.max.Compare(lit);
  if (o == "=") return lo <= 0 && hi >= 0;
  if (o == "<") return lo < 0;
  if (o == "<=") return lo <= 0;
  if (o == ">") return hi > 0;
  if (o == ">=") return hi >= 0;
  return true;
}

// The constant a pruning comparison can use: a literal, or an uncorrelated scalar subquery whose
// value the query computed before its pipelines (e.g. `customer_id = (SELECT min(...) ...)`).
const Value* ConstantOf(const Expr& e, SubqueryCache* subqueries, Value& scratch) {
  if (e.kind == ExprKind::kLiteral) return &e.value;
  if (e.kind == ExprKind::kScalarSubquery && subqueries) {
    auto v = subqueries->Scalar(e);
    if (!v.ok()) return nullptr;  // the filter above reports the error
    scratch = std::move(*v);
    return &scratch;
  }
  return nullptr;
}

}  // namespace

bool MorselMayMatch(const PlanNode& scan, const Morsel& m, const Expr& f, SubqueryCache* subqueries) {
  auto stats_of = [&](const Expr& e) -> const ColumnStats* {
    if (e.kind != ExprKind::kColumn) return nullptr;
    int tc = scan.scan_columns[static_cast<size_t>(e.column)];
    if (tc < 0 || static_cast<size_t>(tc) >= m.stats.size()) return nullptr;
    return &m.stats[static_cast<size_t>(tc)];
  };
  if (f.kind == ExprKind::kCall && f.fn && f.args.size() == 2) {
    const std::string& op = f.fn->name;
    if (op == "=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      const Expr* a = f.args[0].get();
      const Expr* b = f.args[1].get();
      Value scratch;
      if (const ColumnStats* s = stats_of(*b)) {
        if (const Value* v = ConstantOf(*a, subqueries, scratch)) return MayMatch(op, *s, *v, false);
      } else if (const ColumnStats* s2 = stats_of(*a)) {
        if (const Value* v = ConstantOf(*b, subqueries, scratch)) return MayMatch(op, *s2, *v, true);
      }
    }
  }
  if (f.kind == ExprKind::kIsNull) {
    if (const ColumnStats* s = stats_of(*f.args[0])) {
      if (!f.negated && s->null_count == 0) return false;
      if (f.negated && m.rows >= 0 && s->null_count == m.rows) return false;
    }
  }
  if (f.kind == ExprKind::kIn && !f.negated) {
    if (const ColumnStats* s = stats_of(*f.args[0])) {
      for (size_t k = 1; k < f.args.size(); ++k) {
        if (f.args[k]->kind != ExprKind::kLiteral) return true;
        if (MayMatch("=", *s, f.args[k]->value, true)) return true;
      }
      return false;
    }
  }
  if (f.kind == ExprKind::kAnd) {
    for (const auto& a : f.args)
      if (!MorselMayMatch(scan, m, *a, subqueries)) return false;
  }
  if (f.kind == ExprKind::kOr) {
    for (const auto& a : f.args)
      if (MorselMayMatch(scan, m, *a, subqueries)) return true;
    return false;
  }
  return true;
}


Result<std::vector<Morsel>> PrunedMorsels(const PlanNode& scan, NodeStats* stats,
                                          SubqueryCache* subqueries) {
  SL_ASSIGN_OR_RETURN(std::vector<Morsel> all, scan.table->Morsels());
  if (scan.scan_filters.empty()) {
    if (stats)
      for (const Morsel& m : all) stats->morsels_read += m.part == 0;
    return all;
  }
  std::vector<Morsel> kept;
  for (auto& m : all) {
    bool keep = true;
    if (!m.stats.empty()) {
      for (const auto& f : scan.scan_filters)
        if (!MorselMayMatch(scan, m, *f, subqueries)) {
          keep = false;
          break;
        }
    }
    if (stats && m.part == 0) ++(keep ? stats->morsels_read : stats->morsels_skipped);
    if (keep) kept.push_back(std::move(m));
  }
  return kept;
}

}  // namespace saleslake::sql::internal
