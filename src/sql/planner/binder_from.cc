#include "sql/planner/internal/binder_internal.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "sql/parser/parser.h"

namespace saleslake::sql::internal {

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
          ++f->second.uses;
          if (const auto& table = f->second.table) {
            auto scan = std::make_shared<PlanNode>(PlanKind::kScan);
            scan->table = table;
            for (size_t i = 0; i < table->schema().size(); ++i) {
              scan->scan_columns.push_back(static_cast<int>(i));
              scan->output.push_back({table->schema()[i].name, table->schema()[i].type});
            }
            *plan = scan;
          } else {
            *plan = f->second.plan;
          }
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

}  // namespace saleslake::sql::internal
