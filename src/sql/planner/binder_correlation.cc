#include "sql/planner/internal/binder_internal.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "sql/parser/parser.h"

namespace saleslake::sql::internal {

// ---------------------------------------------------------------- correlated subqueries
//
// A correlated subquery is rewritten into a LEFT JOIN of the outer plan (ctx.correlated_plan)
// with the subquery grouped by its correlation keys, so that each outer row meets at most one
// row. The keys come from the subquery's WHERE conjuncts `inner_expr = outer_expr`; every other
// use of an outer column is refused with its position.
//   EXISTS      -> join with DISTINCT keys; the matched key IS NOT NULL.
//   x IN (y)    -> join with DISTINCT (keys, y) on (outer keys, x) for a match, and with
//                  (keys, count(*), count(y)) for Trino's NULL semantics when there is none.
//   (agg(...))  -> join with (keys, aggregates); the select expression is evaluated over the
//                  joined aggregates, with count-like aggregates of a missing group set to 0.


void SplitAstConjuncts(const AstExpr& e, std::vector<const AstExpr*>& out) {
  if (e.kind == AstKind::kBinary && e.text == "and") {
    SplitAstConjuncts(*e.args[0], out);
    SplitAstConjuncts(*e.args[1], out);
  } else {
    out.push_back(&e);
  }
}

// For a binary call `b` over subquery columns (< n) and outer columns (>= n): the argument (0 or
// 1) that uses only subquery columns while the other uses only outer ones, else -1.
static int InnerSide(const Expr& b, int n) {
  if (b.kind != ExprKind::kCall || b.args.size() != 2) return -1;
  std::set<int> x, y;
  ColumnsOf(*b.args[0], x);
  ColumnsOf(*b.args[1], y);
  auto inner_only = [&](const std::set<int>& s) { return !s.empty() && *s.rbegin() < n; };
  auto outer_only = [&](const std::set<int>& s) { return !s.empty() && *s.begin() >= n; };
  if (inner_only(x) && outer_only(y)) return 0;
  if (inner_only(y) && outer_only(x)) return 1;
  return -1;
}

bool AggregateOfEmptyIsZero(const AggregateFunction& fn) {
  return fn.name == "count" || fn.name == "count_if" || fn.name == "approx_distinct";
}

Result<Binder::Correlation> Binder::BindCorrelation(const Query& q, const Scope& outer, SourcePos pos) {
  if (!q.with.empty() || q.limit || q.offset || q.body->kind != QueryBody::Kind::kSpec ||
      !q.body->spec->from)
    return ErrAt(pos, "correlated subquery is not supported in this form: it must be a single "
                      "SELECT ... FROM ... WHERE (no WITH, set operation, LIMIT or OFFSET)");
  const QuerySpec& spec = *q.body->spec;
  if (spec.has_group_by || spec.having)
    return ErrAt(pos, "correlated subquery with GROUP BY or HAVING is not supported");
  Correlation c;
  c.scope.outer = &outer;
  SL_RETURN_IF_ERROR(BindFrom(*spec.from, nullptr, &c.inner, &c.scope));
  std::vector<const AstExpr*> conjuncts;
  if (spec.where) SplitAstConjuncts(*spec.where, conjuncts);
  ExprCtx wc;
  wc.scope = &c.scope;
  wc.clause = "WHERE";
  wc.corr_outer = &outer;
  wc.corr_offset = static_cast<int>(c.scope.cols.size());
  const int n = wc.corr_offset;
  std::vector<ExprPtr> filters;
  for (const AstExpr* a : conjuncts) {
    SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*a, wc));
    SL_ASSIGN_OR_RETURN(b, ToBoolean(b, "WHERE clause"));
    std::set<int> cols;
    ColumnsOf(*b, cols);
    if (cols.empty() || *cols.rbegin() < n) {
      filters.push_back(b);
      continue;
    }
    bool is_key = false;
    const int inner_side = b->fn && b->deterministic() ? InnerSide(*b, n) : -1;
    if (inner_side >= 0 && b->fn->name == "=") {
      c.inner_keys.push_back(b->args[static_cast<size_t>(inner_side)]);
      c.outer_keys.push_back(ShiftColumns(b->args[static_cast<size_t>(1 - inner_side)], -n));
      is_key = true;
    }
    static const std::map<std::string, std::string> kFlip = {
        {"<>", "<>"}, {"<", ">"}, {">", "<"}, {"<=", ">="}, {">=", "<="}};
    if (!is_key && c.cmp_op.empty() && inner_side >= 0 && kFlip.count(b->fn->name)) {
      c.cmp_op = inner_side == 0 ? b->fn->name : kFlip.at(b->fn->name);
      c.inner_cmp = b->args[static_cast<size_t>(inner_side)];
      c.outer_cmp = ShiftColumns(b->args[static_cast<size_t>(1 - inner_side)], -n);
      is_key = true;
    }
    if (!is_key)
      return ErrAt(a->pos, "correlated subquery condition is not supported: outer columns may only "
                           "be compared with '=' to subquery columns (and in EXISTS, once with "
                           "<>, <, <=, > or >=), in conditions ANDed in its WHERE clause");
  }
  if (c.inner_keys.empty() && c.cmp_op.empty())
    return ErrAt(pos, "correlated subquery is not supported: outer columns may only be used in "
                      "'=' conditions of its WHERE clause");
  if (!filters.empty()) {
    auto f = std::make_shared<PlanNode>(PlanKind::kFilter);
    f->output = c.inner->output;
    f->predicate = filters.size() == 1 ? filters[0]
                                       : MakeNode(ExprKind::kAnd, DataType::Boolean(), pos, filters);
    f->children.push_back(c.inner);
    c.inner = f;
  }
  return c;
}

Result<AggregateCall> Binder::BindAggregateCall(const AstExpr& a, const ExprCtx& pre) {
  std::vector<ExprPtr> args;
  std::vector<DataType> types;
  for (const auto& x : a.args) {
    if (x->kind == AstKind::kStar) return ErrAt(x->pos, "'*' is only allowed in count(*)");
    SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*x, pre));
    args.push_back(b);
    types.push_back(b->type);
  }
  if (a.star && a.text != "count") return ErrAt(a.pos, a.text + "(*) is not allowed; only count(*)");
  auto fn = ResolveAggregate(a.text, types, a.distinct);
  if (!fn.ok()) return WithPos(fn.status(), a.pos);
  for (size_t i = 0; i < args.size(); ++i) {
    SL_ASSIGN_OR_RETURN(args[i], CastChecked(args[i], fn->arg_types[i]));
  }
  AggregateCall call{*fn, args, nullptr};
  if (a.filter) {
    ExprCtx fc = pre;
    fc.clause = "FILTER";
    SL_ASSIGN_OR_RETURN(ExprPtr f, BindExpr(*a.filter, fc));
    SL_ASSIGN_OR_RETURN(call.filter, ToBoolean(f, "FILTER clause"));
  }
  return call;
}

Result<ExprPtr> Binder::BindCorrelated(const AstExpr& e, const ExprCtx& ctx) {
  if (ctx.correlated_plan == nullptr || ctx.post_agg || ctx.corr_outer != nullptr)
    return ErrAt(e.pos, fmt::format("correlated subquery in {} is not supported (only in WHERE, "
                                    "and in SELECT of a query without GROUP BY)", ctx.clause));
  PlanPtr& plan = *ctx.correlated_plan;
  const QuerySpec* spec = e.subquery->body->kind == QueryBody::Kind::kSpec ? e.subquery->body->spec.get() : nullptr;
  ExprPtr x;
  if (e.kind == AstKind::kInSubquery) {
    SL_ASSIGN_OR_RETURN(x, BindExpr(*e.args[0], ctx));  // may itself add joins: bind first
  }
  SL_ASSIGN_OR_RETURN(Correlation c, BindCorrelation(*e.subquery, *ctx.scope, e.pos));
  ExprCtx sc;
  sc.scope = &c.scope;
  sc.clause = "subquery SELECT";
  std::vector<const AstExpr*> aggs;
  for (const auto& item : spec->items) {
    if (item.expr->kind == AstKind::kStar) continue;
    CollectAggregates(*item.expr, aggs, false);
    std::vector<const AstExpr*> wins;
    CollectWindows(*item.expr, wins);
    if (!wins.empty()) return ErrAt(wins[0]->pos, "window functions are not supported in a correlated subquery");
  }
  const size_t k = c.inner_keys.size();
  const int base = static_cast<int>(plan->output.size());
  auto col = [&](int i) { return MakeColumn(i, plan->output[static_cast<size_t>(i)].type); };

  if (e.kind == AstKind::kExists) {
    if (!aggs.empty())
      return ErrAt(aggs[0]->pos, "aggregates in a correlated EXISTS subquery are not supported");
    for (const auto& item : spec->items)  // checked for errors only: EXISTS ignores them
      if (item.expr->kind != AstKind::kStar) {
        SL_RETURN_IF_ERROR(BindExpr(*item.expr, sc).status());
      }
    if (!c.cmp_op.empty()) {
      // Some inner x of the outer row's group with x <op> v: decided by the group's min and max
      // of x (NULLs ignored): <> min or max differs; < and <= the min; > and >= the max.
      SL_ASSIGN_OR_RETURN(auto min_fn, ResolveAggregate("min", {c.inner_cmp->type}, false));
      SL_ASSIGN_OR_RETURN(auto max_fn, ResolveAggregate("max", {c.inner_cmp->type}, false));
      plan = MakeLeftJoin(plan,
                          MakeGroupBy(c.inner, c.inner_keys,
                                      {AggregateCall{min_fn, {c.inner_cmp}, nullptr},
                                       AggregateCall{max_fn, {c.inner_cmp}, nullptr}}),
                          c.outer_keys);
      ExprPtr lo = col(base + static_cast<int>(k)), hi = col(base + static_cast<int>(k) + 1);
      ExprPtr cond;
      if (c.cmp_op == "<>") {
        SL_ASSIGN_OR_RETURN(ExprPtr a1, Compare("<>", lo, c.outer_cmp, e.pos));
        SL_ASSIGN_OR_RETURN(ExprPtr a2, Compare("<>", hi, c.outer_cmp, e.pos));
        cond = MakeNode(ExprKind::kOr, DataType::Boolean(), e.pos, {a1, a2});
      } else {
        bool uses_min = c.cmp_op[0] == '<';
        SL_ASSIGN_OR_RETURN(cond, Compare(c.cmp_op, uses_min ? lo : hi, c.outer_cmp, e.pos));
      }
      ExprPtr exists = MakeNode(ExprKind::kCoalesce, DataType::Boolean(), e.pos,
                                {cond, MakeLiteral(Value::Boolean(false))});
      if (e.negated) return MakeNode(ExprKind::kNot, DataType::Boolean(), e.pos, {exists});
      return exists;
    }
    plan = MakeLeftJoin(plan, MakeGroupBy(c.inner, c.inner_keys, {}), c.outer_keys);
    auto n = MakeNode(ExprKind::kIsNull, DataType::Boolean(), e.pos, {col(base)});
    const_cast<Expr*>(n.get())->negated = !e.negated;
    return n;
  }

  if (!c.cmp_op.empty())
    return ErrAt(e.pos, "correlated subquery condition is not supported: outer columns may only be "
                        "compared with '=' to subquery columns outside EXISTS");
  if (spec->items.size() != 1 || spec->items[0].expr->kind == AstKind::kStar)
    return ErrAt(e.pos, fmt::format("{} subquery must return one column",
                                    e.kind == AstKind::kSubquery ? "scalar" : "IN"));
  const AstExpr& item = *spec->items[0].expr;

  if (e.kind == AstKind::kInSubquery) {
    if (!aggs.empty())
      return ErrAt(aggs[0]->pos, "aggregates in a correlated IN subquery are not supported");
    SL_ASSIGN_OR_RETURN(ExprPtr y, BindExpr(item, sc));
    auto t = CommonSuperType(x->type, y->type);
    if (!t) return ErrAt(e.pos, fmt::format("IN subquery of type {} cannot be compared with {}",
                                            y->type.ToString(), x->type.ToString()));
    x = Cast(x, *t);
    y = Cast(y, *t);
    // A match on (keys, x = y)...
    std::vector<ExprPtr> match_inner = c.inner_keys, match_outer = c.outer_keys;
    match_inner.push_back(y);
    match_outer.push_back(x);
    plan = MakeLeftJoin(plan, MakeGroupBy(c.inner, match_inner, {}), match_outer);
    ExprPtr matched = MakeNode(ExprKind::kIsNull, DataType::Boolean(), e.pos, {col(base)});
    const_cast<Expr*>(matched.get())->negated = true;
    // ...else FALSE when the group is empty, NULL when x or some y is NULL.
    SL_ASSIGN_OR_RETURN(auto count_all, ResolveAggregate("count", {}, false));
    SL_ASSIGN_OR_RETURN(auto count_y, ResolveAggregate("count", {y->type}, false));
    const int base2 = static_cast<int>(plan->output.size());
    plan = MakeLeftJoin(plan,
                        MakeGroupBy(c.inner, c.inner_keys,
                                    {AggregateCall{count_all, {}, nullptr}, AggregateCall{count_y, {y}, nullptr}}),
                        c.outer_keys);
    ExprPtr rows = col(base2 + static_cast<int>(k)), non_null = col(base2 + static_cast<int>(k) + 1);
    ExprPtr empty = MakeNode(ExprKind::kIsNull, DataType::Boolean(), e.pos, {rows});
    ExprPtr x_null = MakeNode(ExprKind::kIsNull, DataType::Boolean(), e.pos, {x});
    SL_ASSIGN_OR_RETURN(ExprPtr has_null, Compare(">", rows, non_null, e.pos));
    ExprPtr unknown = MakeNode(ExprKind::kOr, DataType::Boolean(), e.pos, {x_null, has_null});
    ExprPtr t_lit = MakeLiteral(Value::Boolean(true)), f_lit = MakeLiteral(Value::Boolean(false));
    ExprPtr null_lit = MakeLiteral(Value::Null(DataType::Boolean()));
    auto in = MakeNode(ExprKind::kCase, DataType::Boolean(), e.pos,
                       {matched, t_lit, empty, f_lit, unknown, null_lit, f_lit});
    const_cast<Expr*>(in.get())->has_else = true;
    if (e.negated) return MakeNode(ExprKind::kNot, DataType::Boolean(), e.pos, {in});
    return in;
  }

  if (aggs.empty()) {
    // A lookup: arbitrary(y) and count(*) per key; more than one row for an outer row is an
    // error when the value is evaluated, as in Trino.
    SL_ASSIGN_OR_RETURN(ExprPtr y, BindExpr(item, sc));
    SL_ASSIGN_OR_RETURN(auto arbitrary, ResolveAggregate("arbitrary", {y->type}, false));
    SL_ASSIGN_OR_RETURN(auto count_all, ResolveAggregate("count", {}, false));
    y = Cast(y, arbitrary.arg_types[0]);
    plan = MakeLeftJoin(plan,
                        MakeGroupBy(c.inner, c.inner_keys,
                                    {AggregateCall{arbitrary, {y}, nullptr}, AggregateCall{count_all, {}, nullptr}}),
                        c.outer_keys);
    ExprPtr value = col(base + static_cast<int>(k)), rows = col(base + static_cast<int>(k) + 1);
    SL_ASSIGN_OR_RETURN(ExprPtr one_row, Call("$single_row", {rows}, e.pos));
    auto n = MakeNode(ExprKind::kCase, value->type, e.pos, {one_row, value});
    return n;
  }
  // Scalar subquery with aggregates: one row per outer row.
  std::vector<AggregateCall> calls;
  std::unordered_map<const AstExpr*, int> agg_cols;
  for (const AstExpr* a : aggs) {
    SL_ASSIGN_OR_RETURN(AggregateCall call, BindAggregateCall(*a, sc));
    agg_cols[a] = base + static_cast<int>(k + calls.size());
    calls.push_back(std::move(call));
  }
  std::vector<bool> zero_if_empty;
  for (const auto& call : calls) zero_if_empty.push_back(AggregateOfEmptyIsZero(call.fn));
  plan = MakeLeftJoin(plan, MakeGroupBy(c.inner, c.inner_keys, std::move(calls)), c.outer_keys);
  // An outer row without a group sees the aggregates of an empty set: 0 for counts, else NULL.
  if (std::find(zero_if_empty.begin(), zero_if_empty.end(), true) != zero_if_empty.end()) {
    std::vector<ExprPtr> exprs;
    std::vector<std::string> names;
    for (int i = 0; i < static_cast<int>(plan->output.size()); ++i) {
      ExprPtr v = col(i);
      int a = i - base - static_cast<int>(k);
      if (a >= 0 && zero_if_empty[static_cast<size_t>(a)]) {
        SL_ASSIGN_OR_RETURN(Value zero, CastValue(Value::Int64(0), v->type));
        v = MakeNode(ExprKind::kCoalesce, v->type, e.pos, {v, MakeLiteral(zero)});
      }
      exprs.push_back(v);
      names.push_back(plan->output[static_cast<size_t>(i)].name);
    }
    plan = MakeProject(plan, std::move(exprs), std::move(names));
  }
  Scope joined;
  for (const auto& o : plan->output) joined.cols.push_back({"", o.name, o.type});
  std::vector<std::pair<std::string, int>> no_groups;
  ExprCtx pc;
  pc.scope = &joined;
  pc.clause = "subquery SELECT";
  pc.post_agg = true;
  pc.pre_scope = &c.scope;
  pc.group_keys = &no_groups;
  pc.agg_cols = &agg_cols;
  return BindExpr(item, pc);
}

}  // namespace saleslake::sql::internal
