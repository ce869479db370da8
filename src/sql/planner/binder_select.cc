#include "sql/planner/internal/binder_internal.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "sql/parser/parser.h"

namespace saleslake::sql::internal {

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
  // A WITH query referenced more than once is computed once and shared (a CteTable), when it is
  // deterministic: the references are counted while binding, and when some query of this WITH
  // has two or more, the WITH and the body are bound again with those as tables.
  std::map<std::string, int> shared;  // name -> references counted by the first pass
  for (int pass = 0;; ++pass) {
    ctes_.emplace_back();
    struct Pop {
      std::vector<std::map<std::string, CteEntry>>* v;
      ~Pop() { v->pop_back(); }
    } pop{&ctes_};
    for (const Cte& cte : q.with) {
      if (ctes_.back().count(cte.name)) return ErrAt(cte.pos, "WITH query name '" + cte.name + "' specified more than once");
      SL_ASSIGN_OR_RETURN(PlanPtr p, BindQuery(*cte.query, outer));
      CteEntry entry;
      entry.plan = p;
      for (const auto& c : p->output) entry.names.push_back(c.name);
      if (!cte.column_aliases.empty()) {
        if (cte.column_aliases.size() != entry.names.size())
          return ErrAt(cte.pos, fmt::format("WITH query '{}' has {} column aliases for {} columns",
                                            cte.name, cte.column_aliases.size(), entry.names.size()));
        entry.names = cte.column_aliases;
      }
      if (auto s = shared.find(cte.name); s != shared.end()) {
        Schema schema;
        for (size_t i = 0; i < entry.names.size(); ++i) schema.fields.push_back(Field{entry.names[i], p->output[i].type, true});
        entry.table = std::make_shared<CteTable>(cte.name, std::move(schema), p, s->second);
      }
      ctes_.back()[cte.name] = std::move(entry);
    }
    SL_ASSIGN_OR_RETURN(PlanPtr plan, BindQueryBody(q, outer));
    if (pass > 0) return plan;
    for (const auto& [name, entry] : ctes_.back())
      if (entry.uses >= 2 && PlanDeterministic(*entry.plan)) shared[name] = entry.uses;
    if (shared.empty()) return plan;
  }
}

Result<PlanPtr> Binder::BindQueryBody(const Query& q, const Scope* outer) {
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

}  // namespace saleslake::sql::internal
