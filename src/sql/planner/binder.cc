#include "sql/planner/binder.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "common/suggest.h"
#include "sql/parser/parser.h"

namespace saleslake::sql {

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string best = ClosestName(name, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

namespace {

Status ErrAt(SourcePos p, const std::string& what) {
  return Status::InvalidArgument("line " + p.ToString() + ": " + what);
}
Status WithPos(const Status& s, SourcePos p) {
  if (s.ok()) return s;
  if (s.message().rfind("line ", 0) == 0) return s;
  return Status(s.code(), "line " + p.ToString() + ": " + s.message());
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

struct ScopeCol {
  std::string table;  // alias or table name ("" for derived columns)
  std::string name;
  DataType type;
  bool hidden_for_unqualified = false;  // the right copy of a USING column
};

struct Scope {
  std::vector<ScopeCol> cols;
  const Scope* outer = nullptr;  // enclosing query's scope: only to explain correlation errors
};

struct ExprCtx {
  const Scope* scope = nullptr;
  const char* clause = "expression";
  bool post_agg = false;
  const Scope* pre_scope = nullptr;
  const std::vector<std::pair<std::string, int>>* group_keys = nullptr;
  const std::unordered_map<const AstExpr*, int>* agg_cols = nullptr;
  const std::unordered_map<const AstExpr*, int>* window_cols = nullptr;
  // Select aliases usable as a fallback (GROUP BY alias, as many engines allow).
  const std::vector<std::pair<std::string, const AstExpr*>>* select_aliases = nullptr;
  // The plan whose first columns are `scope`: a correlated subquery is decorrelated by joining
  // onto it (the plan grows columns at its end). Null where that rewrite is not possible.
  PlanPtr* correlated_plan = nullptr;
  // After GROUP BY: the grouping sets (empty = one set of all groups) and the column holding
  // each row's set index (-1 when the query does not use grouping()).
  const std::vector<std::vector<int>>* grouping_sets = nullptr;
  int grouping_id_col = -1;
  // While binding a correlated subquery's WHERE conjuncts: names not found in `scope` resolve
  // here, as columns corr_offset + i (the layout subquery columns ++ outer columns).
  const Scope* corr_outer = nullptr;
  int corr_offset = 0;
};

ExprPtr Cast(ExprPtr e, const DataType& to, bool try_cast = false) {
  if (e->type == to) return e;
  if (e->kind == ExprKind::kLiteral) {
    auto v = CastValue(e->value, to, try_cast);
    if (v.ok()) {
      auto lit = std::make_shared<Expr>(*e);
      lit->value = *v;
      lit->type = to;
      return lit;
    }
  }
  auto c = std::make_shared<Expr>();
  c->kind = ExprKind::kCast;
  c->type = to;
  c->pos = e->pos;
  c->try_cast = try_cast;
  c->args.push_back(std::move(e));
  return c;
}

// Casts a literal at bind time so that a bad literal is reported with its position.
Result<ExprPtr> CastChecked(ExprPtr e, const DataType& to) {
  if (e->type == to) return e;
  if (e->kind == ExprKind::kLiteral && !e->value.is_null()) {
    auto v = CastValue(e->value, to, false);
    if (!v.ok()) return WithPos(v.status(), e->pos);
  }
  return Cast(std::move(e), to);
}

ExprPtr MakeNode(ExprKind k, DataType t, SourcePos p, std::vector<ExprPtr> args) {
  auto e = std::make_shared<Expr>();
  e->kind = k;
  e->type = t;
  e->pos = p;
  e->args = std::move(args);
  return e;
}

void SplitConjuncts(const ExprPtr& e, std::vector<ExprPtr>& out) {
  if (e->kind == ExprKind::kAnd) {
    for (const auto& a : e->args) SplitConjuncts(a, out);
  } else {
    out.push_back(e);
  }
}

// Shifts column references by `delta` (right side of a join seen alone).
ExprPtr ShiftColumns(const ExprPtr& e, int delta) {
  if (e->kind == ExprKind::kColumn) return MakeColumn(e->column + delta, e->type, e->name);
  if (e->args.empty()) return e;
  auto c = std::make_shared<Expr>(*e);
  for (auto& a : c->args) a = ShiftColumns(a, delta);
  return c;
}

PlanPtr MakeProject(PlanPtr child, std::vector<ExprPtr> exprs, std::vector<std::string> names) {
  auto p = std::make_shared<PlanNode>(PlanKind::kProject);
  for (size_t i = 0; i < exprs.size(); ++i) p->output.push_back({names[i], exprs[i]->type});
  p->exprs = std::move(exprs);
  p->children.push_back(std::move(child));
  return p;
}

// GROUP BY keys with aggregates (output: keys, then aggregates). No aggregates = DISTINCT keys.
PlanPtr MakeGroupBy(PlanPtr child, std::vector<ExprPtr> keys, std::vector<AggregateCall> aggs) {
  auto a = std::make_shared<PlanNode>(PlanKind::kAggregate);
  for (size_t i = 0; i < keys.size(); ++i) a->output.push_back({"_key" + std::to_string(i), keys[i]->type});
  for (const auto& c : aggs) a->output.push_back({c.fn.name, c.fn.return_type});
  a->groups = std::move(keys);
  a->aggregates = std::move(aggs);
  a->children.push_back(std::move(child));
  return a;
}

// left LEFT JOIN right ON left_keys = right's first left_keys.size() columns.
PlanPtr MakeLeftJoin(PlanPtr left, PlanPtr right, std::vector<ExprPtr> left_keys) {
  auto j = std::make_shared<PlanNode>(PlanKind::kJoin);
  j->join_type = JoinType::kLeft;
  j->output = left->output;
  j->output.insert(j->output.end(), right->output.begin(), right->output.end());
  for (size_t i = 0; i < left_keys.size(); ++i)
    j->right_keys.push_back(MakeColumn(static_cast<int>(i), right->output[i].type));
  j->left_keys = std::move(left_keys);
  j->children = {std::move(left), std::move(right)};
  return j;
}

struct CteEntry {
  PlanPtr plan;
  std::vector<std::string> names;
};

class Binder {
 public:
  explicit Binder(const Catalog* catalog) : catalog_(catalog) {}

  Result<PlanPtr> BindQuery(const Query& q, const Scope* outer);
  Result<ExprPtr> BindExpr(const AstExpr& e, const ExprCtx& ctx);

 private:
  Result<PlanPtr> BindBody(const QueryBody& b, const Scope* outer);
  Result<PlanPtr> BindSpec(const QuerySpec& spec, const std::vector<OrderItem>* order_by,
                           const Scope* outer);
  Result<PlanPtr> BindValues(const std::vector<std::vector<AstExprPtr>>& rows, SourcePos pos);
  Status BindFrom(const TableRef& ref, const Scope* outer, PlanPtr* plan, Scope* scope);
  Result<PlanPtr> BindSetOp(const QueryBody& b, const Scope* outer);
  Result<ExprPtr> ResolveColumn(const AstExpr& e, const Scope& scope);
  Result<ExprPtr> BindFunction(const AstExpr& e, const ExprCtx& ctx);
  Result<ExprPtr> BindLiteral(const AstExpr& e);
  Result<ExprPtr> Call(std::string_view name, std::vector<ExprPtr> args, SourcePos pos);
  Result<ExprPtr> Compare(std::string_view op, ExprPtr a, ExprPtr b, SourcePos pos);
  Result<ExprPtr> ToBoolean(ExprPtr e, const char* clause);
  Result<PlanPtr> BindSubquery(const Query& q, const ExprCtx& ctx);
  Result<int64_t> ConstantInt(const AstExpr& e, const char* what);
  struct Correlation;
  Result<Correlation> BindCorrelation(const Query& q, const Scope& outer, SourcePos pos);
  Result<ExprPtr> BindCorrelated(const AstExpr& e, const ExprCtx& ctx);
  Result<AggregateCall> BindAggregateCall(const AstExpr& a, const ExprCtx& ctx);
  Result<ExprPtr> BindGrouping(const AstExpr& e, const ExprCtx& ctx);
  Status BindRangeOffsets(const WindowSpec& spec, SourcePos pos, WindowCall& call, const ExprCtx& ctx);

  const Catalog* catalog_;
  // Set when a column resolved to an enclosing query's scope (a correlated subquery).
  bool correlated_hit_ = false;
  std::vector<std::map<std::string, CteEntry>> ctes_;
  int view_depth_ = 0;
};

Result<int64_t> Binder::ConstantInt(const AstExpr& e, const char* what) {
  if (e.kind == AstKind::kLiteral && e.literal_kind == LiteralKind::kInteger) {
    int64_t v;
    auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
    if (r.ec == std::errc() && v >= 0) return v;
  }
  return ErrAt(e.pos, std::string(what) + " must be a non-negative integer constant");
}

Result<ExprPtr> Binder::ToBoolean(ExprPtr e, const char* clause) {
  if (e->type.id == TypeId::kBoolean) return e;
  if (e->type.id == TypeId::kNull) return Cast(e, DataType::Boolean());
  return ErrAt(e->pos, fmt::format("{} must be a boolean expression, not {}", clause,
                                   e->type.ToString()));
}

Result<ExprPtr> Binder::Call(std::string_view name, std::vector<ExprPtr> args, SourcePos pos) {
  std::vector<DataType> types;
  for (const auto& a : args) types.push_back(a->type);
  auto fn = ResolveScalar(name, types);
  if (!fn.ok()) return WithPos(fn.status(), pos);
  for (size_t i = 0; i < args.size(); ++i) {
    SL_ASSIGN_OR_RETURN(args[i], CastChecked(args[i], fn->arg_types[i]));
  }
  auto e = MakeNode(ExprKind::kCall, fn->return_type, pos, std::move(args));
  auto* m = const_cast<Expr*>(e.get());
  m->name = fn->name;
  m->fn = std::make_shared<ScalarFunction>(std::move(*fn));
  return e;
}

Result<ExprPtr> Binder::Compare(std::string_view op, ExprPtr a, ExprPtr b, SourcePos pos) {
  // A string literal compared with a date/timestamp is read as one (a common convenience).
  auto is_time = [](const DataType& t) { return t.id == TypeId::kDate || t.id == TypeId::kTimestamp; };
  if (a->kind == ExprKind::kLiteral && a->type.id == TypeId::kVarchar && is_time(b->type)) {
    SL_ASSIGN_OR_RETURN(a, CastChecked(a, b->type));
  }
  if (b->kind == ExprKind::kLiteral && b->type.id == TypeId::kVarchar && is_time(a->type)) {
    SL_ASSIGN_OR_RETURN(b, CastChecked(b, a->type));
  }
  std::string fname = op == "=" ? "$eq" : op == "<>" ? "$ne" : op == "<" ? "$lt" : op == "<=" ? "$le"
                      : op == ">" ? "$gt" : op == ">=" ? "$ge" : "$distinct";
  return Call(fname, {std::move(a), std::move(b)}, pos);
}

Result<ExprPtr> Binder::BindLiteral(const AstExpr& e) {
  auto lit = [&](Value v) {
    auto x = MakeLiteral(std::move(v));
    const_cast<Expr*>(x.get())->pos = e.pos;
    return x;
  };
  switch (e.literal_kind) {
    case LiteralKind::kNull: return lit(Value::Null(DataType::Null()));
    case LiteralKind::kTrue: return lit(Value::Boolean(true));
    case LiteralKind::kFalse: return lit(Value::Boolean(false));
    case LiteralKind::kString: return lit(Value::Varchar(e.text));
    case LiteralKind::kInteger: {
      int64_t v;
      auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
      if (r.ec != std::errc() || r.ptr != e.text.data() + e.text.size())
        return ErrAt(e.pos, "invalid numeric literal '" + e.text + "': out of BIGINT range");
      if (v >= INT32_MIN && v <= INT32_MAX) return lit(Value::Int32(static_cast<int32_t>(v)));
      return lit(Value::Int64(v));
    }
    case LiteralKind::kDecimal: {
      std::string digits;
      size_t scale = 0;
      bool dot = false;
      for (char c : e.text) {
        if (c == '.') {
          dot = true;
          continue;
        }
        if (c == '-') continue;
        digits.push_back(c);
        if (dot) ++scale;
      }
      size_t lead = digits.find_first_not_of('0');
      size_t p = lead == std::string::npos ? 1 : digits.size() - lead;
      p = std::max(p, scale);
      if (p == 0) p = 1;
      if (p > 38) {
        // Wider than DECIMAL(38): a DOUBLE, as before, but never past DOUBLE's range.
        double d = 0;
        auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), d);
        if (r.ec != std::errc() || r.ptr != e.text.data() + e.text.size())
          return ErrAt(e.pos, "invalid numeric literal '" + e.text + "': out of DOUBLE range");
        return lit(Value::Double(d));
      }
      auto v = CastValue(Value::Varchar(e.text), DataType::Decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(scale)));
      if (!v.ok()) return ErrAt(e.pos, "invalid decimal literal '" + e.text + "'");
      return lit(*v);
    }
    case LiteralKind::kDouble: {
      double d = 0;
      auto r = std::from_chars(e.text.data(), e.text.data() + e.text.size(), d);
      if (r.ec != std::errc()) return ErrAt(e.pos, "invalid DOUBLE literal '" + e.text + "'");
      return lit(Value::Double(d));
    }
    case LiteralKind::kDate: {
      auto d = ParseIsoDate(e.text);
      if (!d) return ErrAt(e.pos, "invalid DATE literal '" + e.text + "' (expected YYYY-MM-DD)");
      return lit(Value::Date(*d));
    }
    case LiteralKind::kTimestamp: {
      auto t = ParseIsoTimestamp(e.text);
      if (!t) {
        if (auto d = ParseIsoDate(e.text)) t = int64_t{*d} * kMicrosPerDay;
      }
      if (!t)
        return ErrAt(e.pos, "invalid TIMESTAMP literal '" + e.text +
                                "' (expected YYYY-MM-DD HH:MM:SS[.ffffff])");
      return lit(Value::Timestamp(*t));
    }
    case LiteralKind::kInterval: {
      std::string unit = e.interval_unit;
      if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
      std::string_view s = e.text;
      bool neg = false;
      if (!s.empty() && s[0] == '-') {
        neg = true;
        s.remove_prefix(1);
      }
      Interval iv;
      auto bad = [&]() { return ErrAt(e.pos, "invalid INTERVAL literal '" + e.text + "' " + e.interval_unit); };
      if (!e.interval_to_unit.empty()) {
        // 'Y-M' YEAR TO MONTH only
        int y = 0, m = 0;
        size_t dash = s.find('-');
        if (unit != "year" || dash == std::string_view::npos) return bad();
        auto r1 = std::from_chars(s.data(), s.data() + dash, y);
        auto r2 = std::from_chars(s.data() + dash + 1, s.data() + s.size(), m);
        if (r1.ec != std::errc() || r2.ec != std::errc()) return bad();
        iv.months = y * 12 + m;
      } else {
        double v = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty() || v > 1e9) return bad();
        if (unit == "year") iv.months = static_cast<int32_t>(v * 12);
        else if (unit == "quarter") iv.months = static_cast<int32_t>(v * 3);
        else if (unit == "month") iv.months = static_cast<int32_t>(v);
        else if (unit == "week") iv.days = static_cast<int32_t>(v * 7);
        else if (unit == "day") iv.days = static_cast<int32_t>(v);
        else if (unit == "hour") iv.micros = static_cast<int64_t>(v * 3600 * kMicrosPerSecond);
        else if (unit == "minute") iv.micros = static_cast<int64_t>(v * 60 * kMicrosPerSecond);
        else iv.micros = static_cast<int64_t>(v * kMicrosPerSecond);
      }
      if (neg) iv = Interval{-iv.months, -iv.days, -iv.micros};
      return lit(Value::FromInterval(iv));
    }
  }
  return ErrAt(e.pos, "bad literal");
}

Result<ExprPtr> Binder::ResolveColumn(const AstExpr& e, const Scope& scope) {
  std::string col = e.names.back();
  std::string table;
  if (e.names.size() >= 2) table = e.names[e.names.size() - 2];
  int found = -1;
  int matches = 0;
  for (size_t i = 0; i < scope.cols.size(); ++i) {
    const ScopeCol& c = scope.cols[i];
    if (!IEquals(c.name, col)) continue;
    if (!table.empty()) {
      if (!IEquals(c.table, table)) continue;
    } else if (c.hidden_for_unqualified) {
      continue;
    }
    if (found < 0) found = static_cast<int>(i);
    ++matches;
  }
  std::string shown = table.empty() ? col : table + "." + col;
  if (matches > 1) return ErrAt(e.pos, "column '" + shown + "' is ambiguous");
  if (found < 0) {
    // A single name may also be a whole row reference of a table: not supported.
    for (const Scope* o = scope.outer; o; o = o->outer) {
      for (const ScopeCol& c : o->cols)
        if (IEquals(c.name, col) && (table.empty() || IEquals(c.table, table))) {
          correlated_hit_ = true;
          return ErrAt(e.pos, "column '" + shown +
                                  "' refers to the outer query: a subquery may use outer columns "
                                  "only in equality conditions of its WHERE clause");
        }
    }
    std::vector<std::string> names;
    for (const ScopeCol& c : scope.cols) names.push_back(c.name);
    bool table_known = table.empty();
    for (const ScopeCol& c : scope.cols) table_known |= IEquals(c.table, table);
    if (!table_known) {
      std::vector<std::string> tables;
      for (const ScopeCol& c : scope.cols)
        if (!c.table.empty()) tables.push_back(c.table);
      return ErrAt(e.pos, "table or alias '" + table + "' is not in the FROM clause" +
                              DidYouMean(table, tables));
    }
    return ErrAt(e.pos, "column '" + shown + "' not found" + DidYouMean(col, names));
  }
  auto ref = MakeColumn(found, scope.cols[static_cast<size_t>(found)].type, scope.cols[static_cast<size_t>(found)].name);
  const_cast<Expr*>(ref.get())->pos = e.pos;
  return ref;
}

Result<PlanPtr> Binder::BindSubquery(const Query& q, const ExprCtx& ctx) {
  // correlated_hit_ reports on this subquery only (the caller then tries decorrelation).
  correlated_hit_ = false;
  return BindQuery(q, ctx.post_agg ? ctx.pre_scope : ctx.scope);
}

void CollectAggregates(const AstExpr& e, std::vector<const AstExpr*>& out, bool inside_window_args);
void CollectWindows(const AstExpr& e, std::vector<const AstExpr*>& out);

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

struct Binder::Correlation {
  PlanPtr inner;       // the subquery's FROM, filtered by its uncorrelated WHERE conjuncts
  Scope scope;         // the subquery's FROM scope
  std::vector<ExprPtr> inner_keys;  // over `inner`
  std::vector<ExprPtr> outer_keys;  // over the outer plan
};

namespace {
void SplitAstConjuncts(const AstExpr& e, std::vector<const AstExpr*>& out) {
  if (e.kind == AstKind::kBinary && e.text == "and") {
    SplitAstConjuncts(*e.args[0], out);
    SplitAstConjuncts(*e.args[1], out);
  } else {
    out.push_back(&e);
  }
}

bool AggregateOfEmptyIsZero(const AggregateFunction& fn) {
  return fn.name == "count" || fn.name == "count_if" || fn.name == "approx_distinct";
}
}  // namespace

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
    if (b->kind == ExprKind::kCall && b->fn && b->fn->name == "=" && b->args.size() == 2 &&
        b->deterministic()) {
      std::set<int> x, y;
      ColumnsOf(*b->args[0], x);
      ColumnsOf(*b->args[1], y);
      auto inner_only = [&](const std::set<int>& s) { return !s.empty() && *s.rbegin() < n; };
      auto outer_only = [&](const std::set<int>& s) { return !s.empty() && *s.begin() >= n; };
      for (int side = 0; side < 2 && !is_key; ++side) {
        const std::set<int>& in = side == 0 ? x : y;
        const std::set<int>& out = side == 0 ? y : x;
        if (inner_only(in) && outer_only(out)) {
          c.inner_keys.push_back(b->args[static_cast<size_t>(side)]);
          c.outer_keys.push_back(ShiftColumns(b->args[static_cast<size_t>(1 - side)], -n));
          is_key = true;
        }
      }
    }
    if (!is_key)
      return ErrAt(a->pos, "correlated subquery condition is not supported: outer columns may only "
                           "be compared with '=' to subquery columns, in conditions ANDed in its "
                           "WHERE clause");
  }
  if (c.inner_keys.empty())
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
    plan = MakeLeftJoin(plan, MakeGroupBy(c.inner, c.inner_keys, {}), c.outer_keys);
    auto n = MakeNode(ExprKind::kIsNull, DataType::Boolean(), e.pos, {col(base)});
    const_cast<Expr*>(n.get())->negated = !e.negated;
    return n;
  }

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

// RANGE x PRECEDING / FOLLOWING (Trino): one ORDER BY key, numeric with a numeric offset or
// DATE/TIMESTAMP with an INTERVAL offset; the offset is a non-negative constant. The executor
// gets, per row, the key value each bound reaches and finds the frame by binary search.
Status Binder::BindRangeOffsets(const WindowSpec& spec, SourcePos pos, WindowCall& call,
                                const ExprCtx& ctx) {
  bool has_offset = false;
  for (const FrameBound* b : {&spec.start, &spec.end}) has_offset |= b->offset != nullptr;
  if (!has_offset) return Status::OK();
  if (call.order_by.size() != 1)
    return ErrAt(pos, "RANGE frame with an offset requires exactly one ORDER BY key");
  const SortKey& key = call.order_by[0];
  const DataType kt = key.expr->type;
  const bool temporal = kt.id == TypeId::kDate || kt.id == TypeId::kTimestamp;
  if (!temporal && !kt.is_numeric())
    return ErrAt(key.expr->pos, fmt::format("RANGE frame with an offset needs a numeric, DATE or "
                                            "TIMESTAMP ORDER BY key, not {}", kt.ToString()));
  ExprPtr bounds[2];
  for (int i = 0; i < 2; ++i) {
    const FrameBound& b = i == 0 ? spec.start : spec.end;
    if (!b.offset) continue;
    SL_ASSIGN_OR_RETURN(ExprPtr off, BindExpr(*b.offset, ctx));
    if (off->kind != ExprKind::kLiteral || off->value.is_null())
      return ErrAt(b.offset->pos, "window frame offset must be a constant that is not NULL");
    if (temporal) {
      if (off->type.id != TypeId::kInterval)
        return ErrAt(b.offset->pos, fmt::format("RANGE offset over a {} key must be an INTERVAL, not {}",
                                                kt.ToString(), off->type.ToString()));
      Interval iv = off->value.interval_value();
      if (iv.months < 0 || iv.days < 0 || iv.micros < 0)
        return ErrAt(b.offset->pos, "window frame offset must not be negative");
    } else {
      if (!off->type.is_numeric())
        return ErrAt(b.offset->pos, fmt::format("RANGE offset over a {} key must be numeric, not {}",
                                                kt.ToString(), off->type.ToString()));
      SL_ASSIGN_OR_RETURN(Value d, CastValue(off->value, DataType::Double()));
      if (d.double_value() < 0) return ErrAt(b.offset->pos, "window frame offset must not be negative");
    }
    // PRECEDING goes towards smaller keys in ascending order, larger ones in descending order.
    bool minus = (b.kind == BoundKind::kPreceding) != key.descending;
    SL_ASSIGN_OR_RETURN(bounds[i], Call(minus ? "$sub" : "$add", {key.expr, off}, b.offset->pos));
  }
  DataType t = kt;
  for (const auto& b : bounds) {
    if (!b) continue;
    auto c = CommonSuperType(t, b->type);
    if (!c) return ErrAt(pos, "RANGE frame offset cannot be compared with the ORDER BY key");
    t = *c;
  }
  call.frame.range_key = Cast(key.expr, t);
  if (bounds[0]) call.frame.range_start = Cast(bounds[0], t);
  if (bounds[1]) call.frame.range_end = Cast(bounds[1], t);
  return Status::OK();
}

Result<ExprPtr> Binder::BindExpr(const AstExpr& e, const ExprCtx& ctx) {
  if (ctx.window_cols) {
    auto it = ctx.window_cols->find(&e);
    if (it != ctx.window_cols->end())
      return MakeColumn(it->second, ctx.scope->cols[static_cast<size_t>(it->second)].type);
  }
  if (ctx.post_agg) {
    if (ctx.agg_cols) {
      auto it = ctx.agg_cols->find(&e);
      if (it != ctx.agg_cols->end())
        return MakeColumn(it->second, ctx.scope->cols[static_cast<size_t>(it->second)].type);
    }
    // Does this expression match a GROUP BY expression?
    if (e.kind != AstKind::kLiteral) {
      ExprCtx pre;
      pre.scope = ctx.pre_scope;
      pre.clause = ctx.clause;
      auto bound = BindExpr(e, pre);
      if (bound.ok()) {
        std::string key = (*bound)->ToString();
        for (const auto& [k, col] : *ctx.group_keys)
          if (k == key) return MakeColumn(col, (*bound)->type, ctx.scope->cols[static_cast<size_t>(col)].name);
        if (e.kind == AstKind::kColumn) {
          std::string shown;
          for (size_t i = 0; i < e.names.size(); ++i) shown += (i ? "." : "") + e.names[i];
          return ErrAt(e.pos, "column '" + shown + "' must appear in the GROUP BY clause or be "
                                                   "used in an aggregate function");
        }
      } else if (e.kind == AstKind::kColumn) {
        return bound.status();
      }
    }
  }
  switch (e.kind) {
    case AstKind::kLiteral: return BindLiteral(e);
    case AstKind::kColumn: {
      auto r = ResolveColumn(e, *ctx.scope);
      if (r.ok() || ctx.corr_outer == nullptr) return r;
      auto o = ResolveColumn(e, *ctx.corr_outer);
      if (!o.ok()) return r.status();
      auto ref = MakeColumn((*o)->column + ctx.corr_offset, (*o)->type, (*o)->name);
      const_cast<Expr*>(ref.get())->pos = e.pos;
      return ref;
    }
    case AstKind::kStar: return ErrAt(e.pos, "'*' is only allowed in the SELECT list and count(*)");
    case AstKind::kUnary: {
      SL_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(*e.args[0], ctx));
      if (e.text == "not") {
        SL_ASSIGN_OR_RETURN(a, ToBoolean(a, "NOT operand"));
        return MakeNode(ExprKind::kNot, DataType::Boolean(), e.pos, {a});
      }
      return Call("$neg", {a}, e.pos);
    }
    case AstKind::kBinary: {
      SL_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(*e.args[0], ctx));
      SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*e.args[1], ctx));
      const std::string& op = e.text;
      if (op == "and" || op == "or") {
        SL_ASSIGN_OR_RETURN(a, ToBoolean(a, op == "and" ? "AND operand" : "OR operand"));
        SL_ASSIGN_OR_RETURN(b, ToBoolean(b, op == "and" ? "AND operand" : "OR operand"));
        ExprKind k = op == "and" ? ExprKind::kAnd : ExprKind::kOr;
        std::vector<ExprPtr> args;
        for (auto& x : {a, b}) {
          if (x->kind == k) {
            args.insert(args.end(), x->args.begin(), x->args.end());
          } else {
            args.push_back(x);
          }
        }
        return MakeNode(k, DataType::Boolean(), e.pos, std::move(args));
      }
      if (op == "+") return Call("$add", {a, b}, e.pos);
      if (op == "-") return Call("$sub", {a, b}, e.pos);
      if (op == "*") return Call("$mul", {a, b}, e.pos);
      if (op == "/") return Call("$div", {a, b}, e.pos);
      if (op == "%") return Call("$mod", {a, b}, e.pos);
      if (op == "||") return Call("$concat", {a, b}, e.pos);
      if (op == "is distinct from") return Compare("distinct", a, b, e.pos);
      if (op == "is not distinct from") {
        SL_ASSIGN_OR_RETURN(ExprPtr d, Compare("distinct", a, b, e.pos));
        return MakeNode(ExprKind::kNot, DataType::Boolean(), e.pos, {d});
      }
      return Compare(op, a, b, e.pos);
    }
    case AstKind::kFunction: return BindFunction(e, ctx);
    case AstKind::kCase: {
      std::vector<ExprPtr> args;
      ExprPtr operand;
      size_t i = 0;
      if (e.has_operand) {
        SL_ASSIGN_OR_RETURN(operand, BindExpr(*e.args[0], ctx));
        i = 1;
      }
      size_t end = e.args.size() - (e.has_else ? 1 : 0);
      std::vector<ExprPtr> results;
      for (; i + 1 < end + 1 && i < end; i += 2) {
        SL_ASSIGN_OR_RETURN(ExprPtr cond, BindExpr(*e.args[i], ctx));
        if (operand) {
          SL_ASSIGN_OR_RETURN(cond, Compare("=", operand, cond, e.args[i]->pos));
        } else {
          SL_ASSIGN_OR_RETURN(cond, ToBoolean(cond, "WHEN condition"));
        }
        SL_ASSIGN_OR_RETURN(ExprPtr val, BindExpr(*e.args[i + 1], ctx));
        args.push_back(cond);
        args.push_back(val);
        results.push_back(val);
      }
      if (e.has_else) {
        SL_ASSIGN_OR_RETURN(ExprPtr val, BindExpr(*e.args.back(), ctx));
        results.push_back(val);
        args.push_back(val);
      }
      DataType t = DataType::Null();
      for (const auto& r : results) {
        auto c = CommonSuperType(t, r->type);
        if (!c) return ErrAt(r->pos, fmt::format("CASE results have incompatible types {} and {}",
                                                 t.ToString(), r->type.ToString()));
        t = *c;
      }
      for (size_t k = 1; k < args.size(); k += 2) {
        SL_ASSIGN_OR_RETURN(args[k], CastChecked(args[k], t));
      }
      if (e.has_else) {
        SL_ASSIGN_OR_RETURN(args.back(), CastChecked(args.back(), t));
      }
      auto n = MakeNode(ExprKind::kCase, t, e.pos, std::move(args));
      const_cast<Expr*>(n.get())->has_else = e.has_else;
      return n;
    }
    case AstKind::kCast: {
      SL_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(*e.args[0], ctx));
      auto t = ParseDataType(e.type_name);
      if (!t.ok()) return WithPos(t.status(), e.pos);
      if (t->id == TypeId::kFloat) t = DataType::Double();
      if (a->type == *t) return a;
      if (a->kind == ExprKind::kLiteral && !e.try_cast) {
        auto v = CastValue(a->value, *t, false);
        if (!v.ok()) return WithPos(v.status(), e.pos);
      }
      auto c = Cast(a, *t, e.try_cast);
      const_cast<Expr*>(c.get())->pos = e.pos;
      return c;
    }
    case AstKind::kIn: {
      SL_ASSIGN_OR_RETURN(ExprPtr v, BindExpr(*e.args[0], ctx));
      std::vector<ExprPtr> args{v};
      DataType t = v->type;
      for (size_t i = 1; i < e.args.size(); ++i) {
        SL_ASSIGN_OR_RETURN(ExprPtr x, BindExpr(*e.args[i], ctx));
        if (x->kind == ExprKind::kLiteral && x->type.id == TypeId::kVarchar &&
            (t.id == TypeId::kDate || t.id == TypeId::kTimestamp)) {
          SL_ASSIGN_OR_RETURN(x, CastChecked(x, t));
        }
        auto c = CommonSuperType(t, x->type);
        if (!c) return ErrAt(x->pos, fmt::format("IN list value of type {} cannot be compared with {}",
                                                 x->type.ToString(), t.ToString()));
        t = *c;
        args.push_back(x);
      }
      for (auto& a : args) {
        SL_ASSIGN_OR_RETURN(a, CastChecked(a, t));
      }
      auto n = MakeNode(ExprKind::kIn, DataType::Boolean(), e.pos, std::move(args));
      const_cast<Expr*>(n.get())->negated = e.negated;
      return n;
    }
    case AstKind::kInSubquery: {
      SL_ASSIGN_OR_RETURN(ExprPtr v, BindExpr(*e.args[0], ctx));
      auto bound_sub = BindSubquery(*e.subquery, ctx);
      if (!bound_sub.ok() && correlated_hit_) return BindCorrelated(e, ctx);
      SL_ASSIGN_OR_RETURN(PlanPtr sub, std::move(bound_sub));
      if (sub->output.size() != 1)
        return ErrAt(e.pos, fmt::format("IN subquery must return one column, not {}", sub->output.size()));
      auto c = CommonSuperType(v->type, sub->output[0].type);
      if (!c) return ErrAt(e.pos, fmt::format("IN subquery of type {} cannot be compared with {}",
                                              sub->output[0].type.ToString(), v->type.ToString()));
      if (sub->output[0].type != *c) {
        sub = MakeProject(sub, {Cast(MakeColumn(0, sub->output[0].type), *c)}, {sub->output[0].name});
      }
      auto n = MakeNode(ExprKind::kInSubquery, DataType::Boolean(), e.pos, {Cast(v, *c)});
      auto* m = const_cast<Expr*>(n.get());
      m->negated = e.negated;
      m->subquery = sub;
      return n;
    }
    case AstKind::kExists: {
      auto bound_sub = BindSubquery(*e.subquery, ctx);
      if (!bound_sub.ok() && correlated_hit_) return BindCorrelated(e, ctx);
      SL_ASSIGN_OR_RETURN(PlanPtr sub, std::move(bound_sub));
      auto n = MakeNode(ExprKind::kExists, DataType::Boolean(), e.pos, {});
      const_cast<Expr*>(n.get())->subquery = sub;
      return n;
    }
    case AstKind::kSubquery: {
      auto bound_sub = BindSubquery(*e.subquery, ctx);
      if (!bound_sub.ok() && correlated_hit_) return BindCorrelated(e, ctx);
      SL_ASSIGN_OR_RETURN(PlanPtr sub, std::move(bound_sub));
      if (sub->output.size() != 1)
        return ErrAt(e.pos, fmt::format("scalar subquery must return one column, not {}", sub->output.size()));
      auto n = MakeNode(ExprKind::kScalarSubquery, sub->output[0].type, e.pos, {});
      const_cast<Expr*>(n.get())->subquery = sub;
      return n;
    }
    case AstKind::kBetween: {
      SL_ASSIGN_OR_RETURN(ExprPtr v, BindExpr(*e.args[0], ctx));
      SL_ASSIGN_OR_RETURN(ExprPtr lo, BindExpr(*e.args[1], ctx));
      SL_ASSIGN_OR_RETURN(ExprPtr hi, BindExpr(*e.args[2], ctx));
      SL_ASSIGN_OR_RETURN(ExprPtr ge, Compare(">=", v, lo, e.pos));
      SL_ASSIGN_OR_RETURN(ExprPtr le, Compare("<=", v, hi, e.pos));
      auto n = MakeNode(ExprKind::kAnd, DataType::Boolean(), e.pos, {ge, le});
      if (e.negated) return MakeNode(ExprKind::kNot, DataType::Boolean(), e.pos, {n});
      return n;
    }
    case AstKind::kLike: {
      std::vector<ExprPtr> args;
      for (const auto& a : e.args) {
        SL_ASSIGN_OR_RETURN(ExprPtr x, BindExpr(*a, ctx));
        args.push_back(x);
      }
      SL_ASSIGN_OR_RETURN(ExprPtr n, Call("$like", std::move(args), e.pos));
      if (e.negated) return MakeNode(ExprKind::kNot, DataType::Boolean(), e.pos, {n});
      return n;
    }
    case AstKind::kIsNull: {
      SL_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(*e.args[0], ctx));
      auto n = MakeNode(ExprKind::kIsNull, DataType::Boolean(), e.pos, {a});
      const_cast<Expr*>(n.get())->negated = e.negated;
      return n;
    }
    case AstKind::kExtract: {
      SL_ASSIGN_OR_RETURN(ExprPtr a, BindExpr(*e.args[0], ctx));
      static const std::map<std::string, std::string> kFields = {
          {"year", "year"}, {"quarter", "quarter"}, {"month", "month"}, {"week", "week"},
          {"day", "day"}, {"day_of_month", "day"}, {"day_of_week", "day_of_week"},
          {"dow", "day_of_week"}, {"day_of_year", "day_of_year"}, {"doy", "day_of_year"},
          {"hour", "hour"}, {"minute", "minute"}, {"second", "second"},
          {"year_of_week", "year_of_week"}, {"yow", "year_of_week"}};
      auto it = kFields.find(e.text);
      if (it == kFields.end()) return ErrAt(e.pos, "EXTRACT: unknown field '" + e.text + "'");
      return Call(it->second, {a}, e.pos);
    }
  }
  return ErrAt(e.pos, "unsupported expression");
}

// grouping(a, b, ...) (Trino): a BIGINT bit mask, the leftmost argument the highest bit, with a
// bit set when that argument is not in the row's grouping set.
Result<ExprPtr> Binder::BindGrouping(const AstExpr& e, const ExprCtx& ctx) {
  if (!ctx.post_agg || ctx.grouping_sets == nullptr)
    return ErrAt(e.pos, "grouping() is only allowed in SELECT, HAVING and ORDER BY of a query with GROUP BY");
  if (e.args.empty() || e.args.size() > 62 || e.distinct || e.star || e.filter || e.window)
    return ErrAt(e.pos, "grouping() takes 1 to 62 GROUP BY expressions");
  std::vector<int> groups;
  for (const auto& a : e.args) {
    ExprCtx pre;
    pre.scope = ctx.pre_scope;
    pre.clause = "grouping()";
    SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*a, pre));
    std::string key = b->ToString();
    int g = -1;
    for (const auto& [k, col] : *ctx.group_keys)
      if (k == key) g = col;
    if (g < 0) return ErrAt(a->pos, "grouping() argument must be a GROUP BY expression");
    groups.push_back(g);
  }
  auto mask_of = [&](const std::vector<int>* set) {
    int64_t mask = 0;
    for (int g : groups) {
      bool in = set == nullptr || std::find(set->begin(), set->end(), g) != set->end();
      mask = mask * 2 + (in ? 0 : 1);
    }
    return mask;
  };
  const auto& sets = *ctx.grouping_sets;
  if (sets.empty() || ctx.grouping_id_col < 0) return MakeLiteral(Value::Int64(mask_of(nullptr)));
  ExprPtr id = MakeColumn(ctx.grouping_id_col, DataType::Int64());
  std::vector<ExprPtr> args;
  for (size_t s = 0; s + 1 < sets.size(); ++s) {
    SL_ASSIGN_OR_RETURN(ExprPtr is_set, Compare("=", id, MakeLiteral(Value::Int64(static_cast<int64_t>(s))), e.pos));
    args.push_back(is_set);
    args.push_back(MakeLiteral(Value::Int64(mask_of(&sets[s]))));
  }
  args.push_back(MakeLiteral(Value::Int64(mask_of(&sets.back()))));
  auto n = MakeNode(ExprKind::kCase, DataType::Int64(), e.pos, std::move(args));
  const_cast<Expr*>(n.get())->has_else = true;
  return n;
}

Result<ExprPtr> Binder::BindFunction(const AstExpr& e, const ExprCtx& ctx) {
  const std::string& name = e.text;
  if (name == "grouping") return BindGrouping(e, ctx);
  if (e.window) {
    return ErrAt(e.pos, "window function '" + name + "' is not allowed in " + ctx.clause);
  }
  if (IsAggregateFunctionName(name)) {
    return ErrAt(e.pos, "aggregate function '" + name + "' is not allowed in " + ctx.clause);
  }
  if (IsWindowFunctionName(name))
    return ErrAt(e.pos, "window function '" + name + "' requires an OVER clause");
  if (e.distinct || e.star || e.filter)
    return ErrAt(e.pos, "DISTINCT, * and FILTER are only allowed in aggregate functions");
  std::vector<ExprPtr> args;
  for (const auto& a : e.args) {
    SL_ASSIGN_OR_RETURN(ExprPtr x, BindExpr(*a, ctx));
    args.push_back(x);
  }
  if (name == "coalesce") {
    if (args.empty()) return ErrAt(e.pos, "coalesce needs at least one argument");
    DataType t = DataType::Null();
    for (const auto& a : args) {
      auto c = CommonSuperType(t, a->type);
      if (!c) return ErrAt(a->pos, fmt::format("coalesce arguments have incompatible types {} and {}",
                                               t.ToString(), a->type.ToString()));
      t = *c;
    }
    for (auto& a : args) {
      SL_ASSIGN_OR_RETURN(a, CastChecked(a, t));
    }
    if (args.size() == 1) return args[0];
    return MakeNode(ExprKind::kCoalesce, t, e.pos, std::move(args));
  }
  if (name == "if") {
    if (args.size() < 2 || args.size() > 3)
      return ErrAt(e.pos, "if(condition, true_value [, false_value]) takes 2 or 3 arguments");
    SL_ASSIGN_OR_RETURN(ExprPtr cond, ToBoolean(args[0], "if() condition"));
    DataType t = args[1]->type;
    if (args.size() == 3) {
      auto c = CommonSuperType(t, args[2]->type);
      if (!c) return ErrAt(e.pos, fmt::format("if() branches have incompatible types {} and {}",
                                              t.ToString(), args[2]->type.ToString()));
      t = *c;
    }
    std::vector<ExprPtr> cargs{cond};
    SL_ASSIGN_OR_RETURN(ExprPtr a1, CastChecked(args[1], t));
    cargs.push_back(a1);
    if (args.size() == 3) {
      SL_ASSIGN_OR_RETURN(ExprPtr a2, CastChecked(args[2], t));
      cargs.push_back(a2);
    }
    auto n = MakeNode(ExprKind::kCase, t, e.pos, std::move(cargs));
    const_cast<Expr*>(n.get())->has_else = args.size() == 3;
    return n;
  }
  if (name == "try") {
    if (args.size() != 1) return ErrAt(e.pos, "try() takes one argument");
    return MakeNode(ExprKind::kTry, args[0]->type, e.pos, {args[0]});
  }
  auto r = Call(name, std::move(args), e.pos);
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) {
    return ErrAt(e.pos, "function '" + name + "' not found" + DidYouMean(name, AllFunctionNames()));
  }
  return r;
}

// ---------------------------------------------------------------- FROM

Status Binder::BindFrom(const TableRef& ref, const Scope* outer, PlanPtr* plan, Scope* scope) {
  switch (ref.kind) {
    case TableRef::Kind::kTable: {
      std::string full;
      for (size_t i = 0; i < ref.name.size(); ++i) full += (i ? "." : "") + ref.name[i];
      std::string alias = ref.alias.empty() ? ref.name.back() : ref.alias;
      // CTEs first (innermost WITH wins).
      if (ref.name.size() == 1) {
        for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
          auto f = it->find(ref.name[0]);
          if (f == it->end()) continue;
          *plan = f->second.plan;
          for (size_t i = 0; i < f->second.names.size(); ++i)
            scope->cols.push_back({alias, f->second.names[i], (*plan)->output[i].type});
          break;
        }
      }
      if (!*plan) {
        if (catalog_ == nullptr) return ErrAt(ref.pos, "table '" + full + "' not found (no catalog)");
        if (auto view = catalog_->GetView(full)) {
          if (++view_depth_ > 32) return ErrAt(ref.pos, "view '" + full + "' is nested too deeply (recursive view?)");
          auto st = ParseStatement(view->sql);
          if (!st.ok()) return ErrAt(ref.pos, "view '" + full + "' is invalid: " + st.status().message());
          if ((*st)->kind != Statement::Kind::kQuery) return ErrAt(ref.pos, "view '" + full + "' is not a query");
          std::vector<std::map<std::string, CteEntry>> saved;
          std::swap(saved, ctes_);  // a view does not see the caller's CTEs
          auto p = BindQuery(*(*st)->query, nullptr);
          std::swap(saved, ctes_);
          --view_depth_;
          if (!p.ok()) return ErrAt(ref.pos, "view '" + full + "' is invalid: " + p.status().message());
          *plan = *p;
          for (const auto& c : (*plan)->output) scope->cols.push_back({alias, c.name, c.type});
        } else {
          auto t = catalog_->GetTable(full);
          if (!t.ok()) {
            if (t.status().code() != StatusCode::kNotFound) return WithPos(t.status(), ref.pos);
            std::vector<std::string> names = catalog_->ListTables();
            for (const auto& level : ctes_)
              for (const auto& [k, v] : level) names.push_back(k);
            return ErrAt(ref.pos, "table '" + full + "' not found" + DidYouMean(full, names));
          }
          auto scan = std::make_shared<PlanNode>(PlanKind::kScan);
          scan->table = *t;
          const Schema& s = (*t)->schema();
          for (size_t i = 0; i < s.size(); ++i) {
            scan->scan_columns.push_back(static_cast<int>(i));
            scan->output.push_back({s[i].name, s[i].type});
            scope->cols.push_back({alias, s[i].name, s[i].type});
          }
          *plan = scan;
        }
      }
      break;
    }
    case TableRef::Kind::kSubquery: {
      SL_ASSIGN_OR_RETURN(*plan, BindQuery(*ref.subquery, outer));
      for (const auto& c : (*plan)->output) scope->cols.push_back({ref.alias, c.name, c.type});
      break;
    }
    case TableRef::Kind::kValues: {
      SL_ASSIGN_OR_RETURN(*plan, BindValues(ref.values, ref.pos));
      for (const auto& c : (*plan)->output) scope->cols.push_back({ref.alias, c.name, c.type});
      break;
    }
    case TableRef::Kind::kJoin: {
      PlanPtr lp, rp;
      Scope ls, rs;
      ls.outer = rs.outer = outer;
      SL_RETURN_IF_ERROR(BindFrom(*ref.left, outer, &lp, &ls));
      SL_RETURN_IF_ERROR(BindFrom(*ref.right, outer, &rp, &rs));
      auto j = std::make_shared<PlanNode>(PlanKind::kJoin);
      j->join_type = ref.join_type;
      j->children = {lp, rp};
      for (const auto& c : lp->output) j->output.push_back(c);
      for (const auto& c : rp->output) j->output.push_back(c);
      Scope both;
      both.outer = outer;
      both.cols = ls.cols;
      both.cols.insert(both.cols.end(), rs.cols.begin(), rs.cols.end());
      int nl = static_cast<int>(ls.cols.size());
      std::vector<ExprPtr> conjuncts;
      std::vector<std::pair<int, int>> using_pairs;
      if (ref.on) {
        ExprCtx ctx;
        ctx.scope = &both;
        ctx.clause = "JOIN ON";
        SL_ASSIGN_OR_RETURN(ExprPtr on, BindExpr(*ref.on, ctx));
        SL_ASSIGN_OR_RETURN(on, ToBoolean(on, "JOIN condition"));
        SplitConjuncts(on, conjuncts);
      } else if (!ref.using_columns.empty()) {
        for (const auto& name : ref.using_columns) {
          int li = -1, ri = -1;
          for (size_t i = 0; i < ls.cols.size(); ++i)
            if (IEquals(ls.cols[i].name, name) && !ls.cols[i].hidden_for_unqualified) li = static_cast<int>(i);
          for (size_t i = 0; i < rs.cols.size(); ++i)
            if (IEquals(rs.cols[i].name, name) && !rs.cols[i].hidden_for_unqualified) ri = static_cast<int>(i);
          if (li < 0 || ri < 0)
            return ErrAt(ref.pos, "USING column '" + name + "' is not in both sides of the join");
          SL_ASSIGN_OR_RETURN(ExprPtr eq, Compare("=", MakeColumn(li, ls.cols[static_cast<size_t>(li)].type),
                                                  MakeColumn(nl + ri, rs.cols[static_cast<size_t>(ri)].type), ref.pos));
          conjuncts.push_back(eq);
          using_pairs.emplace_back(li, nl + ri);
        }
      }
      std::vector<ExprPtr> residual;
      for (const auto& c : conjuncts) {
        bool is_key = false;
        if (c->kind == ExprKind::kCall && c->fn && c->fn->name == "=" && c->args.size() == 2) {
          std::set<int> a, b;
          ColumnsOf(*c->args[0], a);
          ColumnsOf(*c->args[1], b);
          auto side = [&](const std::set<int>& s) {
            if (s.empty()) return 0;
            if (*s.rbegin() < nl) return 1;
            if (*s.begin() >= nl) return 2;
            return 3;
          };
          int sa = side(a), sb = side(b);
          if (c->args[0]->deterministic() && c->args[1]->deterministic()) {
            if (sa == 1 && sb == 2) {
              j->left_keys.push_back(c->args[0]);
              j->right_keys.push_back(ShiftColumns(c->args[1], -nl));
              is_key = true;
            } else if (sa == 2 && sb == 1) {
              j->left_keys.push_back(c->args[1]);
              j->right_keys.push_back(ShiftColumns(c->args[0], -nl));
              is_key = true;
            }
          }
        }
        if (!is_key) residual.push_back(c);
      }
      if (!residual.empty()) {
        j->residual = residual.size() == 1
                          ? residual[0]
                          : MakeNode(ExprKind::kAnd, DataType::Boolean(), ref.pos, residual);
      }
      *plan = j;
      if (!using_pairs.empty()) {
        // USING: the key appears once (coalesced, so FULL JOIN keeps both sides' keys), then the
        // remaining left and right columns.
        std::vector<ExprPtr> exprs;
        std::vector<std::string> names;
        Scope out;
        out.outer = outer;
        std::set<int> used;
        for (auto [li, ri] : using_pairs) {
          const ScopeCol& lc = both.cols[static_cast<size_t>(li)];
          DataType t = j->left_keys.empty() ? lc.type : lc.type;
          ExprPtr l = MakeColumn(li, lc.type), r = MakeColumn(ri, both.cols[static_cast<size_t>(ri)].type);
          auto common = CommonSuperType(l->type, r->type);
          if (common) t = *common;
          ExprPtr e = ref.join_type == JoinType::kRight ? Cast(r, t)
                      : ref.join_type == JoinType::kFull
                          ? MakeNode(ExprKind::kCoalesce, t, ref.pos, {Cast(l, t), Cast(r, t)})
                          : Cast(l, t);
          exprs.push_back(e);
          names.push_back(lc.name);
          out.cols.push_back({lc.table, lc.name, t});
          out.cols.push_back({both.cols[static_cast<size_t>(ri)].table, lc.name, t, true});
          used.insert(li);
          used.insert(ri);
        }
        // Qualified references r.k keep working through the hidden copy above (same value).
        std::vector<ScopeCol> rest;
        for (size_t i = 0; i < both.cols.size(); ++i) {
          if (used.count(static_cast<int>(i))) continue;
          exprs.push_back(MakeColumn(static_cast<int>(i), both.cols[i].type, both.cols[i].name));
          names.push_back(both.cols[i].name);
          out.cols.push_back(both.cols[i]);
        }
        // The hidden copies need a projected column each: duplicate the key expressions.
        std::vector<ExprPtr> final_exprs;
        std::vector<std::string> final_names;
        size_t k = 0;
        for (size_t i = 0; i < using_pairs.size(); ++i) {
          final_exprs.push_back(exprs[k]);
          final_names.push_back(names[k]);
          final_exprs.push_back(exprs[k]);
          final_names.push_back(names[k]);
          ++k;
        }
        for (; k < exprs.size(); ++k) {
          final_exprs.push_back(exprs[k]);
          final_names.push_back(names[k]);
        }
        *plan = MakeProject(j, std::move(final_exprs), std::move(final_names));
        scope->cols.insert(scope->cols.end(), out.cols.begin(), out.cols.end());
      } else {
        scope->cols.insert(scope->cols.end(), both.cols.begin(), both.cols.end());
      }
      break;
    }
  }
  if (!ref.column_aliases.empty()) {
    if (ref.column_aliases.size() != scope->cols.size())
      return ErrAt(ref.pos, fmt::format("{} column aliases given for {} columns",
                                        ref.column_aliases.size(), scope->cols.size()));
    for (size_t i = 0; i < scope->cols.size(); ++i) scope->cols[i].name = ref.column_aliases[i];
  }
  if (!ref.alias.empty() && ref.kind == TableRef::Kind::kJoin) {
    for (auto& c : scope->cols) c.table = ref.alias;
  }
  return Status::OK();
}

Result<PlanPtr> Binder::BindValues(const std::vector<std::vector<AstExprPtr>>& rows, SourcePos pos) {
  auto v = std::make_shared<PlanNode>(PlanKind::kValues);
  Scope empty;
  ExprCtx ctx;
  ctx.scope = &empty;
  ctx.clause = "VALUES";
  size_t width = rows.empty() ? 0 : rows[0].size();
  std::vector<DataType> types(width, DataType::Null());
  for (const auto& row : rows) {
    if (row.size() != width)
      return ErrAt(row.empty() ? pos : row[0]->pos,
                   fmt::format("VALUES rows have different numbers of columns ({} and {})", width, row.size()));
    std::vector<ExprPtr> bound;
    for (size_t i = 0; i < width; ++i) {
      SL_ASSIGN_OR_RETURN(ExprPtr x, BindExpr(*row[i], ctx));
      auto c = CommonSuperType(types[i], x->type);
      if (!c) return ErrAt(x->pos, fmt::format("VALUES column {} mixes types {} and {}", i + 1,
                                               types[i].ToString(), x->type.ToString()));
      types[i] = *c;
      bound.push_back(x);
    }
    v->rows.push_back(std::move(bound));
  }
  for (auto& row : v->rows)
    for (size_t i = 0; i < width; ++i) {
      SL_ASSIGN_OR_RETURN(row[i], CastChecked(row[i], types[i]));
    }
  for (size_t i = 0; i < width; ++i) v->output.push_back({"_col" + std::to_string(i), types[i]});
  return PlanPtr(v);
}

// ---------------------------------------------------------------- SELECT

// Visits function calls that are aggregates (not window calls), without entering subqueries.
void CollectAggregates(const AstExpr& e, std::vector<const AstExpr*>& out, bool inside_window_args) {
  if (e.kind == AstKind::kFunction && !e.window && IsAggregateFunctionName(e.text)) {
    out.push_back(&e);
    return;  // nested aggregates are reported when binding the arguments
  }
  (void)inside_window_args;
  for (const auto& a : e.args) CollectAggregates(*a, out, inside_window_args);
  if (e.window) {
    for (const auto& p : e.window->partition_by) CollectAggregates(*p, out, true);
    for (const auto& o : e.window->order_by) CollectAggregates(*o.expr, out, true);
  }
}

// Does the expression call grouping() (outside subqueries)?
bool CallsGrouping(const AstExpr& e) {
  if (e.kind == AstKind::kFunction && e.text == "grouping") return true;
  for (const auto& a : e.args)
    if (CallsGrouping(*a)) return true;
  return false;
}

void CollectWindows(const AstExpr& e, std::vector<const AstExpr*>& out) {
  if (e.kind == AstKind::kFunction && e.window) {
    out.push_back(&e);
    return;
  }
  for (const auto& a : e.args) CollectWindows(*a, out);
}

std::string DefaultName(const AstExpr& e, size_t index) {
  if (e.kind == AstKind::kColumn) return e.names.back();
  return "_col" + std::to_string(index);
}

Result<PlanPtr> Binder::BindSpec(const QuerySpec& spec, const std::vector<OrderItem>* order_by,
                                 const Scope* outer) {
  PlanPtr plan;
  Scope from;
  from.outer = outer;
  if (spec.from) {
    SL_RETURN_IF_ERROR(BindFrom(*spec.from, outer, &plan, &from));
  } else {
    auto v = std::make_shared<PlanNode>(PlanKind::kValues);
    v->rows.push_back({});
    plan = v;
  }
  ExprCtx pre;
  pre.scope = &from;
  if (spec.where) {
    pre.clause = "WHERE";
    const size_t width = plan->output.size();
    pre.correlated_plan = &plan;
    SL_ASSIGN_OR_RETURN(ExprPtr w, BindExpr(*spec.where, pre));
    pre.correlated_plan = nullptr;
    SL_ASSIGN_OR_RETURN(w, ToBoolean(w, "WHERE clause"));
    auto f = std::make_shared<PlanNode>(PlanKind::kFilter);
    f->output = plan->output;
    f->predicate = w;
    f->children.push_back(plan);
    plan = f;
    if (plan->output.size() > width) {  // drop the columns joined in by correlated subqueries
      std::vector<ExprPtr> cols;
      std::vector<std::string> names;
      for (size_t i = 0; i < width; ++i) {
        cols.push_back(MakeColumn(static_cast<int>(i), plan->output[i].type, plan->output[i].name));
        names.push_back(plan->output[i].name);
      }
      plan = MakeProject(plan, std::move(cols), std::move(names));
    }
  }

  // Select aliases (GROUP BY alias / ordinal fallbacks).
  std::vector<std::pair<std::string, const AstExpr*>> aliases;
  for (const auto& item : spec.items)
    if (!item.alias.empty()) aliases.emplace_back(item.alias, item.expr.get());

  std::vector<const AstExpr*> agg_asts;
  for (const auto& item : spec.items) CollectAggregates(*item.expr, agg_asts, false);
  if (spec.having) CollectAggregates(*spec.having, agg_asts, false);
  if (order_by)
    for (const auto& o : *order_by) CollectAggregates(*o.expr, agg_asts, false);

  bool is_agg = spec.has_group_by || !agg_asts.empty();
  Scope post;  // the scope after aggregation
  post.outer = outer;
  std::vector<std::pair<std::string, int>> group_keys;
  std::unordered_map<const AstExpr*, int> agg_cols;
  ExprCtx ctx = pre;  // context for select / having / order by
  if (is_agg) {
    auto agg = std::make_shared<PlanNode>(PlanKind::kAggregate);
    agg->children.push_back(plan);
    pre.clause = "GROUP BY";
    // Each grouping element gives a list of sets (of group indexes); the query's sets are the
    // cross product.
    auto group_index = [&](const AstExpr& ast) -> Result<int> {
      const AstExpr* target = &ast;
      if (ast.kind == AstKind::kLiteral && ast.literal_kind == LiteralKind::kInteger) {
        SL_ASSIGN_OR_RETURN(int64_t ord, ConstantInt(ast, "GROUP BY position"));
        if (ord < 1 || ord > static_cast<int64_t>(spec.items.size()))
          return ErrAt(ast.pos, fmt::format("GROUP BY position {} is not in the select list (1..{})",
                                            ord, spec.items.size()));
        target = spec.items[static_cast<size_t>(ord - 1)].expr.get();
        if (target->kind == AstKind::kStar) return ErrAt(ast.pos, "GROUP BY position refers to '*'");
      }
      auto bound = BindExpr(*target, pre);
      if (!bound.ok() && target->kind == AstKind::kColumn && target->names.size() == 1) {
        for (const auto& [alias, expr] : aliases)
          if (IEquals(alias, target->names[0])) {
            bound = BindExpr(*expr, pre);
            break;
          }
      }
      if (!bound.ok()) return bound.status();
      std::string key = (*bound)->ToString();
      for (size_t i = 0; i < agg->groups.size(); ++i)
        if (agg->groups[i]->ToString() == key) return static_cast<int>(i);
      agg->groups.push_back(*bound);
      std::string name = target->kind == AstKind::kColumn ? target->names.back()
                                                          : "_col" + std::to_string(agg->groups.size() - 1);
      agg->output.push_back({name, (*bound)->type});
      return static_cast<int>(agg->groups.size() - 1);
    };
    std::vector<std::vector<int>> sets = {{}};
    bool has_sets = false;
    for (const auto& g : spec.group_by) {
      std::vector<std::vector<int>> element_sets;
      switch (g.kind) {
        case GroupingElement::Kind::kSimple: {
          SL_ASSIGN_OR_RETURN(int idx, group_index(*g.exprs[0]));
          element_sets = {{idx}};
          break;
        }
        case GroupingElement::Kind::kRollup: {
          has_sets = true;
          std::vector<int> idx;
          for (const auto& x : g.exprs) {
            SL_ASSIGN_OR_RETURN(int i, group_index(*x));
            idx.push_back(i);
          }
          for (size_t k = idx.size() + 1; k-- > 0;) element_sets.emplace_back(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(k));
          break;
        }
        case GroupingElement::Kind::kCube: {
          has_sets = true;
          std::vector<int> idx;
          for (const auto& x : g.exprs) {
            SL_ASSIGN_OR_RETURN(int i, group_index(*x));
            idx.push_back(i);
          }
          if (idx.size() > 12) return ErrAt(g.exprs[0]->pos, "CUBE of more than 12 expressions");
          for (size_t mask = (size_t{1} << idx.size()); mask-- > 0;) {
            std::vector<int> s;
            for (size_t b = 0; b < idx.size(); ++b)
              if (mask & (size_t{1} << b)) s.push_back(idx[b]);
            element_sets.push_back(s);
          }
          break;
        }
        case GroupingElement::Kind::kSets: {
          has_sets = true;
          for (const auto& set : g.sets) {
            std::vector<int> s;
            for (const auto& x : set) {
              SL_ASSIGN_OR_RETURN(int i, group_index(*x));
              s.push_back(i);
            }
            element_sets.push_back(s);
          }
          break;
        }
      }
      std::vector<std::vector<int>> next;
      for (const auto& a : sets)
        for (const auto& b : element_sets) {
          std::vector<int> u = a;
          for (int x : b)
            if (std::find(u.begin(), u.end(), x) == u.end()) u.push_back(x);
          next.push_back(u);
        }
      sets = std::move(next);
      if (sets.size() > 4096) return ErrAt(g.exprs.empty() ? SourcePos{} : g.exprs[0]->pos, "too many grouping sets");
    }
    if (has_sets) agg->grouping_sets = sets;
    for (size_t i = 0; i < agg->groups.size(); ++i)
      group_keys.emplace_back(agg->groups[i]->ToString(), static_cast<int>(i));
    // Aggregates (deduplicated by their bound text).
    pre.clause = "aggregate arguments";
    std::vector<std::string> agg_keys;
    for (const AstExpr* a : agg_asts) {
      if (a->window) continue;
      std::vector<ExprPtr> args;
      std::vector<DataType> types;
      for (const auto& x : a->args) {
        if (x->kind == AstKind::kStar) return ErrAt(x->pos, "'*' is only allowed in count(*)");
        SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*x, pre));
        args.push_back(b);
        types.push_back(b->type);
      }
      if (a->star && a->text != "count") return ErrAt(a->pos, a->text + "(*) is not allowed; only count(*)");
      auto fn = ResolveAggregate(a->text, types, a->distinct);
      if (!fn.ok()) return WithPos(fn.status(), a->pos);
      for (size_t i = 0; i < args.size(); ++i) {
        SL_ASSIGN_OR_RETURN(args[i], CastChecked(args[i], fn->arg_types[i]));
      }
      AggregateCall call{*fn, args, nullptr};
      if (a->filter) {
        pre.clause = "FILTER";
        SL_ASSIGN_OR_RETURN(ExprPtr f, BindExpr(*a->filter, pre));
        SL_ASSIGN_OR_RETURN(call.filter, ToBoolean(f, "FILTER clause"));
      }
      std::string key = call.ToString();
      int col = -1;
      for (size_t i = 0; i < agg_keys.size(); ++i)
        if (agg_keys[i] == key) col = static_cast<int>(agg->groups.size() + i);
      if (col < 0) {
        col = static_cast<int>(agg->groups.size() + agg->aggregates.size());
        agg_keys.push_back(key);
        agg->output.push_back({a->text, fn->return_type});
        agg->aggregates.push_back(std::move(call));
      }
      agg_cols[a] = col;
    }
    bool uses_grouping = false;
    for (const auto& item : spec.items) uses_grouping |= CallsGrouping(*item.expr);
    if (spec.having) uses_grouping |= CallsGrouping(*spec.having);
    if (order_by)
      for (const auto& o : *order_by) uses_grouping |= CallsGrouping(*o.expr);
    if (uses_grouping && !agg->grouping_sets.empty()) {
      agg->grouping_id = true;
      ctx.grouping_id_col = static_cast<int>(agg->output.size());
      agg->output.push_back({"$grouping_id", DataType::Int64()});
    }
    ctx.grouping_sets = &agg->grouping_sets;
    for (const auto& c : agg->output) post.cols.push_back({"", c.name, c.type});
    plan = agg;
    ctx.scope = &post;
    ctx.post_agg = true;
    ctx.pre_scope = &from;
    ctx.group_keys = &group_keys;
    ctx.agg_cols = &agg_cols;
    if (spec.having) {
      ctx.clause = "HAVING";
      SL_ASSIGN_OR_RETURN(ExprPtr h, BindExpr(*spec.having, ctx));
      SL_ASSIGN_OR_RETURN(h, ToBoolean(h, "HAVING clause"));
      auto f = std::make_shared<PlanNode>(PlanKind::kFilter);
      f->output = plan->output;
      f->predicate = h;
      f->children.push_back(plan);
      plan = f;
    }
  } else if (spec.having) {
    return ErrAt(spec.having->pos, "HAVING without GROUP BY or aggregates");
  }

  // Window functions.
  std::vector<const AstExpr*> win_asts;
  for (const auto& item : spec.items) CollectWindows(*item.expr, win_asts);
  if (order_by)
    for (const auto& o : *order_by) CollectWindows(*o.expr, win_asts);
  std::unordered_map<const AstExpr*, int> window_cols;
  Scope win_scope;
  if (!win_asts.empty()) {
    auto w = std::make_shared<PlanNode>(PlanKind::kWindow);
    w->output = plan->output;
    w->children.push_back(plan);
    ctx.clause = "window function";
    for (const AstExpr* a : win_asts) {
      WindowCall call;
      call.function = a->text;
      std::vector<DataType> types;
      for (const auto& x : a->args) {
        SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*x, ctx));
        call.args.push_back(b);
        types.push_back(b->type);
      }
      for (const auto& p : a->window->partition_by) {
        SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*p, ctx));
        call.partition_by.push_back(b);
      }
      for (const auto& o : a->window->order_by) {
        SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*o.expr, ctx));
        call.order_by.push_back({b, o.descending, o.nulls_first.value_or(false)});
      }
      const std::string& f = a->text;
      if (IsAggregateFunctionName(f)) {
        auto fn = ResolveAggregate(f, types, a->distinct);
        if (!fn.ok()) return WithPos(fn.status(), a->pos);
        if (a->distinct) return ErrAt(a->pos, "DISTINCT is not supported in window aggregates");
        for (size_t i = 0; i < call.args.size(); ++i) {
          SL_ASSIGN_OR_RETURN(call.args[i], CastChecked(call.args[i], fn->arg_types[i]));
        }
        call.type = fn->return_type;
        call.aggregate = *fn;
      } else if (f == "row_number" || f == "rank" || f == "dense_rank") {
        if (!call.args.empty()) return ErrAt(a->pos, f + "() takes no arguments");
        call.type = DataType::Int64();
      } else if (f == "percent_rank" || f == "cume_dist") {
        if (!call.args.empty()) return ErrAt(a->pos, f + "() takes no arguments");
        call.type = DataType::Double();
      } else if (f == "ntile") {
        if (call.args.size() != 1 || !call.args[0]->type.is_integer())
          return ErrAt(a->pos, "ntile(n) takes one integer argument");
        call.args[0] = Cast(call.args[0], DataType::Int64());
        call.type = DataType::Int64();
      } else if (f == "lag" || f == "lead") {
        if (call.args.empty() || call.args.size() > 3)
          return ErrAt(a->pos, f + "(x [, offset [, default]]) takes 1 to 3 arguments");
        call.type = call.args[0]->type;
        if (call.args.size() >= 2) {
          if (!call.args[1]->type.is_integer()) return ErrAt(a->pos, f + ": offset must be an integer");
          call.args[1] = Cast(call.args[1], DataType::Int64());
        }
        if (call.args.size() == 3) {
          auto c = CommonSuperType(call.type, call.args[2]->type);
          if (!c) return ErrAt(a->pos, f + ": default value has an incompatible type");
          call.type = *c;
          call.args[0] = Cast(call.args[0], *c);
          SL_ASSIGN_OR_RETURN(call.args[2], CastChecked(call.args[2], *c));
        }
      } else if (f == "first_value" || f == "last_value" || f == "nth_value") {
        if (call.args.empty() || (f != "nth_value" && call.args.size() != 1) ||
            (f == "nth_value" && call.args.size() != 2))
          return ErrAt(a->pos, f + ": wrong number of arguments");
        if (f == "nth_value") call.args[1] = Cast(call.args[1], DataType::Int64());
        call.type = call.args[0]->type;
      } else {
        return ErrAt(a->pos, "function '" + f + "' is not a window function" +
                                 DidYouMean(f, AllFunctionNames()));
      }
      if (a->window->has_frame) {
        call.frame.unit = a->window->unit;
        call.frame.start = a->window->start.kind;
        call.frame.end = a->window->end.kind;
        auto offset = [&](const FrameBound& b, int64_t* out) -> Status {
          if (!b.offset) return Status::OK();
          auto v = ConstantInt(*b.offset, "window frame offset");
          if (!v.ok()) return v.status();
          *out = *v;
          return Status::OK();
        };
        if (call.frame.start == BoundKind::kUnboundedFollowing ||
            call.frame.end == BoundKind::kUnboundedPreceding)
          return ErrAt(a->pos, "invalid window frame bounds");
        if (call.frame.unit == FrameUnit::kRows) {
          SL_RETURN_IF_ERROR(offset(a->window->start, &call.frame.start_offset));
          SL_RETURN_IF_ERROR(offset(a->window->end, &call.frame.end_offset));
        } else {
          SL_RETURN_IF_ERROR(BindRangeOffsets(*a->window, a->pos, call, ctx));
        }
      } else if (call.order_by.empty()) {
        call.frame.start = BoundKind::kUnboundedPreceding;
        call.frame.end = BoundKind::kUnboundedFollowing;
      }
      window_cols[a] = static_cast<int>(w->output.size());
      w->output.push_back({a->text, call.type});
      w->windows.push_back(std::move(call));
    }
    win_scope = ctx.scope ? *ctx.scope : Scope{};
    for (size_t i = win_scope.cols.size(); i < w->output.size(); ++i)
      win_scope.cols.push_back({"", w->output[i].name, w->output[i].type});
    plan = w;
    ctx.scope = &win_scope;
    ctx.window_cols = &window_cols;
  }

  // SELECT list.
  ctx.clause = "SELECT";
  if (!is_agg) ctx.correlated_plan = &plan;
  std::vector<ExprPtr> exprs;
  std::vector<std::string> names;
  std::vector<const AstExpr*> item_asts;
  for (size_t i = 0; i < spec.items.size(); ++i) {
    const SelectItem& item = spec.items[i];
    if (item.expr->kind == AstKind::kStar) {
      const std::vector<std::string>& q = item.expr->names;
      bool any = false;
      for (size_t c = 0; c < from.cols.size(); ++c) {
        const ScopeCol& col = from.cols[c];
        if (q.empty() ? col.hidden_for_unqualified : !IEquals(col.table, q.back())) continue;
        any = true;
        AstExpr ref(AstKind::kColumn, item.pos);
        if (!col.table.empty() && !col.hidden_for_unqualified) ref.names.push_back(col.table);
        ref.names.push_back(col.name);
        ExprPtr b;
        if (is_agg) {
          SL_ASSIGN_OR_RETURN(b, BindExpr(ref, ctx));
        } else {
          b = MakeColumn(static_cast<int>(c), col.type, col.name);
        }
        exprs.push_back(b);
        names.push_back(col.name);
        item_asts.push_back(nullptr);
      }
      if (!any) {
        if (!q.empty()) return ErrAt(item.pos, "table or alias '" + q.back() + "' is not in the FROM clause");
        if (from.cols.empty()) return ErrAt(item.pos, "SELECT * with no FROM clause");
      }
      continue;
    }
    SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(*item.expr, ctx));
    exprs.push_back(b);
    names.push_back(item.alias.empty() ? DefaultName(*item.expr, exprs.size() - 1) : item.alias);
    item_asts.push_back(item.expr.get());
  }
  size_t visible = exprs.size();

  // ORDER BY: ordinals, output names, or expressions (hidden columns when not selected).
  std::vector<SortKey> keys;
  if (order_by) {
    ctx.clause = "ORDER BY";
    for (const auto& o : *order_by) {
      int col = -1;
      const AstExpr& x = *o.expr;
      if (x.kind == AstKind::kLiteral && x.literal_kind == LiteralKind::kInteger) {
        SL_ASSIGN_OR_RETURN(int64_t ord, ConstantInt(x, "ORDER BY position"));
        if (ord < 1 || ord > static_cast<int64_t>(visible))
          return ErrAt(x.pos, fmt::format("ORDER BY position {} is not in the select list (1..{})", ord, visible));
        col = static_cast<int>(ord - 1);
      } else if (x.kind == AstKind::kColumn && x.names.size() == 1) {
        int matches = 0;
        for (size_t i = 0; i < visible; ++i)
          if (IEquals(names[i], x.names[0])) {
            if (col < 0) col = static_cast<int>(i);
            ++matches;
          }
        if (matches > 1) {
          // Several select items share the name: fine when they are the same expression.
          std::string k0 = exprs[static_cast<size_t>(col)]->ToString();
          for (size_t i = 0; i < visible; ++i)
            if (IEquals(names[i], x.names[0]) && exprs[i]->ToString() != k0)
              return ErrAt(x.pos, "ORDER BY '" + x.names[0] + "' is ambiguous");
        }
      }
      if (col < 0) {
        SL_ASSIGN_OR_RETURN(ExprPtr b, BindExpr(x, ctx));
        std::string key = b->ToString();
        for (size_t i = 0; i < exprs.size(); ++i)
          if (exprs[i]->ToString() == key) {
            col = static_cast<int>(i);
            break;
          }
        if (col < 0) {
          if (spec.distinct)
            return ErrAt(x.pos, "for SELECT DISTINCT, ORDER BY expressions must appear in the select list");
          col = static_cast<int>(exprs.size());
          exprs.push_back(b);
          names.push_back("_order" + std::to_string(col));
        }
      }
      keys.push_back({MakeColumn(col, exprs[static_cast<size_t>(col)]->type), o.descending,
                      o.nulls_first.value_or(false)});
    }
  }
  plan = MakeProject(plan, exprs, names);
  if (spec.distinct) {
    auto d = std::make_shared<PlanNode>(PlanKind::kDistinct);
    d->output = plan->output;
    d->children.push_back(plan);
    plan = d;
  }
  if (!keys.empty()) {
    auto s = std::make_shared<PlanNode>(PlanKind::kSort);
    s->output = plan->output;
    s->sort_keys = std::move(keys);
    s->children.push_back(plan);
    plan = s;
  }
  if (exprs.size() > visible) {
    std::vector<ExprPtr> cols;
    std::vector<std::string> vis_names(names.begin(), names.begin() + static_cast<ptrdiff_t>(visible));
    for (size_t i = 0; i < visible; ++i) cols.push_back(MakeColumn(static_cast<int>(i), exprs[i]->type, names[i]));
    plan = MakeProject(plan, cols, vis_names);
  }
  return plan;
}

Result<PlanPtr> Binder::BindSetOp(const QueryBody& b, const Scope* outer) {
  SL_ASSIGN_OR_RETURN(PlanPtr l, BindBody(*b.left, outer));
  SL_ASSIGN_OR_RETURN(PlanPtr r, BindBody(*b.right, outer));
  if (l->output.size() != r->output.size())
    return ErrAt(b.pos, fmt::format("set operation inputs have different numbers of columns ({} and {})",
                                    l->output.size(), r->output.size()));
  std::vector<DataType> types;
  for (size_t i = 0; i < l->output.size(); ++i) {
    auto c = CommonSuperType(l->output[i].type, r->output[i].type);
    if (!c) return ErrAt(b.pos, fmt::format("set operation column {} has incompatible types {} and {}",
                                            i + 1, l->output[i].type.ToString(), r->output[i].type.ToString()));
    types.push_back(*c);
  }
  auto coerce = [&](PlanPtr p) {
    bool same = true;
    for (size_t i = 0; i < types.size(); ++i) same &= p->output[i].type == types[i];
    if (same) return p;
    std::vector<ExprPtr> exprs;
    std::vector<std::string> names;
    for (size_t i = 0; i < types.size(); ++i) {
      exprs.push_back(Cast(MakeColumn(static_cast<int>(i), p->output[i].type), types[i]));
      names.push_back(p->output[i].name);
    }
    return MakeProject(p, exprs, names);
  };
  auto s = std::make_shared<PlanNode>(PlanKind::kSetOp);
  s->set_op = b.op == QueryBody::SetOp::kUnion ? SetOpKind::kUnion
              : b.op == QueryBody::SetOp::kIntersect ? SetOpKind::kIntersect : SetOpKind::kExcept;
  s->all = b.all;
  s->children = {coerce(l), coerce(r)};
  for (size_t i = 0; i < types.size(); ++i) s->output.push_back({l->output[i].name, types[i]});
  return PlanPtr(s);
}

Result<PlanPtr> Binder::BindBody(const QueryBody& b, const Scope* outer) {
  switch (b.kind) {
    case QueryBody::Kind::kSpec: return BindSpec(*b.spec, nullptr, outer);
    case QueryBody::Kind::kValues: return BindValues(b.values, b.pos);
    case QueryBody::Kind::kQuery: return BindQuery(*b.query, outer);
    case QueryBody::Kind::kSetOp: return BindSetOp(b, outer);
  }
  return ErrAt(b.pos, "unsupported query");
}

Result<PlanPtr> Binder::BindQuery(const Query& q, const Scope* outer) {
  ctes_.emplace_back();
  struct Pop {
    std::vector<std::map<std::string, CteEntry>>* v;
    ~Pop() { v->pop_back(); }
  } pop{&ctes_};
  for (const Cte& cte : q.with) {
    if (ctes_.back().count(cte.name)) return ErrAt(cte.pos, "WITH query name '" + cte.name + "' specified more than once");
    SL_ASSIGN_OR_RETURN(PlanPtr p, BindQuery(*cte.query, outer));
    CteEntry entry{p, {}};
    for (const auto& c : p->output) entry.names.push_back(c.name);
    if (!cte.column_aliases.empty()) {
      if (cte.column_aliases.size() != entry.names.size())
        return ErrAt(cte.pos, fmt::format("WITH query '{}' has {} column aliases for {} columns",
                                          cte.name, cte.column_aliases.size(), entry.names.size()));
      entry.names = cte.column_aliases;
    }
    ctes_.back()[cte.name] = std::move(entry);
  }
  PlanPtr plan;
  if (q.body->kind == QueryBody::Kind::kSpec) {
    SL_ASSIGN_OR_RETURN(plan, BindSpec(*q.body->spec, q.order_by.empty() ? nullptr : &q.order_by, outer));
  } else {
    SL_ASSIGN_OR_RETURN(plan, BindBody(*q.body, outer));
    if (!q.order_by.empty()) {
      Scope s;
      for (const auto& c : plan->output) s.cols.push_back({"", c.name, c.type});
      ExprCtx ctx;
      ctx.scope = &s;
      ctx.clause = "ORDER BY";
      auto sort = std::make_shared<PlanNode>(PlanKind::kSort);
      sort->output = plan->output;
      for (const auto& o : q.order_by) {
        ExprPtr k;
        if (o.expr->kind == AstKind::kLiteral && o.expr->literal_kind == LiteralKind::kInteger) {
          SL_ASSIGN_OR_RETURN(int64_t ord, ConstantInt(*o.expr, "ORDER BY position"));
          if (ord < 1 || ord > static_cast<int64_t>(plan->output.size()))
            return ErrAt(o.expr->pos, fmt::format("ORDER BY position {} is not in the select list (1..{})",
                                                  ord, plan->output.size()));
          k = MakeColumn(static_cast<int>(ord - 1), plan->output[static_cast<size_t>(ord - 1)].type);
        } else {
          SL_ASSIGN_OR_RETURN(k, BindExpr(*o.expr, ctx));
        }
        sort->sort_keys.push_back({k, o.descending, o.nulls_first.value_or(false)});
      }
      sort->children.push_back(plan);
      plan = sort;
    }
  }
  if (q.limit || q.offset) {
    auto l = std::make_shared<PlanNode>(PlanKind::kLimit);
    l->output = plan->output;
    if (q.limit) {
      SL_ASSIGN_OR_RETURN(l->limit, ConstantInt(*q.limit, "LIMIT"));
    }
    if (q.offset) {
      SL_ASSIGN_OR_RETURN(l->offset, ConstantInt(*q.offset, "OFFSET"));
    }
    l->children.push_back(plan);
    plan = l;
  }
  return plan;
}

}  // namespace

Result<PlanPtr> BindQuery(const Query& query, const Catalog& catalog) {
  Binder b(&catalog);
  return b.BindQuery(query, nullptr);
}

Result<ExprPtr> BindScalarExpression(const AstExpr& expr, const Schema& input) {
  Binder b(nullptr);
  Scope s;
  for (const auto& f : input.fields) s.cols.push_back({"", f.name, f.type});
  ExprCtx ctx;
  ctx.scope = &s;
  return b.BindExpr(expr, ctx);
}

}  // namespace saleslake::sql
