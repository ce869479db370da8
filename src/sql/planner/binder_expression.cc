#include "sql/planner/internal/binder_internal.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "sql/parser/parser.h"

namespace saleslake::sql::internal {

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

}  // namespace saleslake::sql::internal
