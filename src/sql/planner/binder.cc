#include "sql/planner/binder.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "common/suggest.h"
#include "sql/parser/parser.h"
#include "sql/planner/internal/binder_internal.h"

namespace saleslake::sql {

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string best = ClosestName(name, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

namespace internal {

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

ExprPtr Cast(ExprPtr e, const DataType& to, bool try_cast) {
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

}  // namespace internal

Result<PlanPtr> BindQuery(const Query& query, const Catalog& catalog) {
  internal::Binder b(&catalog);
  return b.BindQuery(query, nullptr);
}

Result<ExprPtr> BindScalarExpression(const AstExpr& expr, const Schema& input) {
  internal::Binder b(nullptr);
  internal::Scope s;
  for (const auto& f : input.fields) s.cols.push_back({"", f.name, f.type});
  internal::ExprCtx ctx;
  ctx.scope = &s;
  return b.BindExpr(expr, ctx);
}


}  // namespace saleslake::sql
