#include "sql/planner/plan.h"

#include <fmt/format.h>

#include "sql/planner/cte_table.h"

namespace saleslake::sql {

namespace {

std::string Join(const std::vector<ExprPtr>& v, std::string_view sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += v[i]->ToString();
  }
  return s;
}

std::string LiteralText(const Value& v) {
  if (v.is_null()) return "NULL";
  switch (v.type().id) {
    case TypeId::kVarchar: {
      std::string s = "'";
      for (char c : v.string_value()) {
        if (c == '\'') s += "''"; else s.push_back(c);
      }
      return s + "'";
    }
    case TypeId::kDate: return "DATE '" + v.ToString() + "'";
    case TypeId::kTimestamp: return "TIMESTAMP '" + v.ToString() + "'";
    case TypeId::kDecimal: return "DECIMAL '" + v.ToString() + "'";
    case TypeId::kDouble: return v.ToString() + "E0";
    default: return v.ToString();
  }
}

}  // namespace

Result<std::vector<Morsel>> CteTable::Morsels() const {
  return Status::Internal("WITH query '" + name_ + "' read before it was computed");
}

Status CteTable::ReadMorsel(const Morsel&, const std::vector<int>&, const std::function<Status(Batch&)>&) const {
  return Status::Internal("WITH query '" + name_ + "' read before it was computed");
}

namespace {

// Calls f on every expression slot of a node (null slots included: f checks); Node is
// PlanNode or const PlanNode.
template <typename Node, typename F>
void ForEachExprSlot(Node& n, F&& f) {
  auto all = [&](auto& v) {
    for (auto& e : v) f(e);
  };
  all(n.scan_filters);
  for (auto& row : n.rows) all(row);
  f(n.predicate);
  all(n.exprs);
  all(n.groups);
  for (auto& a : n.aggregates) {
    all(a.args);
    f(a.filter);
  }
  all(n.left_keys);
  all(n.right_keys);
  f(n.residual);
  for (auto& k : n.sort_keys) f(k.expr);
  for (auto& w : n.windows) {
    all(w.args);
    all(w.partition_by);
    for (auto& k : w.order_by) f(k.expr);
    f(w.frame.range_key);
    f(w.frame.range_start);
    f(w.frame.range_end);
  }
}

using ScanReplacer = std::function<Result<PlanPtr>(const PlanNode& scan)>;

Result<ExprPtr> ReplaceInExpr(const ExprPtr& e, const ScanReplacer& replace) {
  if (!e || !HasSubquery(*e)) return e;
  auto c = std::make_shared<Expr>(*e);
  bool changed = false;
  for (auto& a : c->args) {
    SL_ASSIGN_OR_RETURN(ExprPtr n, ReplaceInExpr(a, replace));
    changed = changed || n != a;
    a = std::move(n);
  }
  if (c->subquery) {
    SL_ASSIGN_OR_RETURN(PlanPtr n, ReplaceScans(c->subquery, replace));
    changed = changed || n != c->subquery;
    c->subquery = std::move(n);
  }
  return changed ? ExprPtr(c) : e;
}

}  // namespace

Result<PlanPtr> ReplaceScans(const PlanPtr& plan, const ScanReplacer& replace) {
  PlanPtr base = plan;
  if (plan->kind == PlanKind::kScan) {
    SL_ASSIGN_OR_RETURN(PlanPtr n, replace(*plan));
    if (n) base = std::move(n);
  }
  // The (new) node's own expressions too: a scan's filters may hold a subquery that reads one.
  auto c = std::make_shared<PlanNode>(*base);
  bool changed = base != plan;
  for (auto& ch : c->children) {
    SL_ASSIGN_OR_RETURN(PlanPtr n, ReplaceScans(ch, replace));
    changed = changed || n != ch;
    ch = std::move(n);
  }
  Status error;
  ForEachExprSlot(*c, [&](ExprPtr& e) {
    if (!error.ok()) return;
    auto n = ReplaceInExpr(e, replace);
    if (!n.ok()) {
      error = n.status();
      return;
    }
    changed = changed || *n != e;
    e = std::move(*n);
  });
  SL_RETURN_IF_ERROR(error);
  return changed ? PlanPtr(c) : plan;
}

namespace {
bool ExprDeterministic(const Expr& e) {
  if (e.kind == ExprKind::kCall && e.fn && !e.fn->deterministic) return false;
  if (e.subquery && !PlanDeterministic(*e.subquery)) return false;
  for (const auto& a : e.args)
    if (!ExprDeterministic(*a)) return false;
  return true;
}
}  // namespace

bool PlanDeterministic(const PlanNode& plan) {
  bool ok = true;
  ForEachExprSlot(plan, [&](const ExprPtr& e) {
    if (ok && e && !ExprDeterministic(*e)) ok = false;
  });
  if (!ok) return false;
  if (auto* cte = dynamic_cast<const CteTable*>(plan.table.get()); cte && !PlanDeterministic(*cte->plan())) return false;
  for (const auto& c : plan.children)
    if (!PlanDeterministic(*c)) return false;
  return true;
}

bool HasSubquery(const Expr& e) {
  if (e.subquery) return true;
  for (const auto& a : e.args)
    if (HasSubquery(*a)) return true;
  return false;
}

void ColumnsOf(const Expr& e, std::set<int>& out) {
  if (e.kind == ExprKind::kColumn) out.insert(e.column);
  for (const auto& a : e.args) ColumnsOf(*a, out);
}

ExprPtr MakeColumn(int index, DataType type, std::string name) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kColumn;
  e->column = index;
  e->type = type;
  e->name = std::move(name);
  return e;
}

ExprPtr MakeLiteral(Value v) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kLiteral;
  e->type = v.type();
  e->value = std::move(v);
  return e;
}

bool Expr::deterministic() const {
  if (kind == ExprKind::kCall && fn && !fn->deterministic) return false;
  for (const auto& a : args)
    if (!a->deterministic()) return false;
  return true;
}

bool Expr::cannot_fail() const {
  switch (kind) {
    case ExprKind::kColumn:
    case ExprKind::kLiteral: return true;
    case ExprKind::kCall: {
      if (!fn || !fn->deterministic) return false;
      static const std::set<std::string, std::less<>> kSafe = {"=", "<>", "<", "<=", ">", ">=",
                                                                "is distinct from"};
      if (!kSafe.count(fn->name)) return false;
      break;
    }
    case ExprKind::kAnd:
    case ExprKind::kOr:
    case ExprKind::kNot:
    case ExprKind::kIsNull:
    case ExprKind::kIn: break;
    default: return false;
  }
  if (subquery) return false;
  for (const auto& a : args)
    if (!a->cannot_fail()) return false;
  return true;
}

std::string Expr::ToString() const {
  switch (kind) {
    case ExprKind::kColumn: return fmt::format("#{}", column);
    case ExprKind::kLiteral: return LiteralText(value) + (value.is_null() ? ":" + type.ToString() : "");
    case ExprKind::kCall: return fmt::format("{}({})", fn ? fn->name : name, Join(args));
    case ExprKind::kCast:
      return fmt::format("{}({} AS {})", try_cast ? "TRY_CAST" : "CAST", args[0]->ToString(),
                         type.ToString());
    case ExprKind::kAnd: return "(" + Join(args, " AND ") + ")";
    case ExprKind::kOr: return "(" + Join(args, " OR ") + ")";
    case ExprKind::kNot: return "(NOT " + args[0]->ToString() + ")";
    case ExprKind::kIsNull:
      return "(" + args[0]->ToString() + (negated ? " IS NOT NULL)" : " IS NULL)");
    case ExprKind::kCase: {
      std::string s = "CASE";
      size_t pairs = (args.size() - (has_else ? 1 : 0)) / 2;
      for (size_t i = 0; i < pairs; ++i)
        s += " WHEN " + args[2 * i]->ToString() + " THEN " + args[2 * i + 1]->ToString();
      if (has_else) s += " ELSE " + args.back()->ToString();
      return s + " END";
    }
    case ExprKind::kCoalesce: return "coalesce(" + Join(args) + ")";
    case ExprKind::kIn: {
      std::vector<ExprPtr> rest(args.begin() + 1, args.end());
      return "(" + args[0]->ToString() + (negated ? " NOT IN (" : " IN (") + Join(rest) + "))";
    }
    case ExprKind::kTry: return "try(" + args[0]->ToString() + ")";
    case ExprKind::kScalarSubquery: return fmt::format("(subquery@{})", static_cast<const void*>(subquery.get()));
    case ExprKind::kInSubquery:
      return fmt::format("({}{} IN subquery@{})", args[0]->ToString(), negated ? " NOT" : "",
                         static_cast<const void*>(subquery.get()));
    case ExprKind::kExists:
      return fmt::format("({}EXISTS subquery@{})", negated ? "NOT " : "",
                         static_cast<const void*>(subquery.get()));
  }
  return "?";
}

std::string AggregateCall::ToString() const {
  std::string s = fn.name + "(" + (fn.distinct ? "DISTINCT " : "");
  if (args.empty()) s += "*";
  s += Join(args) + ")";
  if (filter) s += " FILTER (WHERE " + filter->ToString() + ")";
  return s;
}

std::string WindowCall::ToString() const {
  std::string s = function + "(" + Join(args) + ") OVER (";
  if (!partition_by.empty()) s += "PARTITION BY " + Join(partition_by);
  if (!order_by.empty()) {
    s += partition_by.empty() ? "ORDER BY " : " ORDER BY ";
    for (size_t i = 0; i < order_by.size(); ++i)
      s += (i ? ", " : "") + order_by[i].expr->ToString() + (order_by[i].descending ? " DESC" : "");
  }
  return s + ")";
}

Schema OutputSchema(const PlanNode& plan) {
  Schema s;
  for (const auto& c : plan.output) s.fields.push_back(Field{c.name, c.type, true});
  return s;
}

namespace {

// `shown`: the WITH queries whose plan is printed already (under their first scan).
void Explain(const PlanNode& p, int depth, std::string& out, std::set<const CteTable*>& shown) {
  std::string pad(static_cast<size_t>(depth) * 2, ' ');
  std::string line;
  const CteTable* cte_plan = nullptr;  // printed below this scan
  switch (p.kind) {
    case PlanKind::kScan: {
      line = "Scan " + p.table->name() + " [";
      for (size_t i = 0; i < p.output.size(); ++i) line += (i ? ", " : "") + p.output[i].name;
      line += "]";
      if (!p.scan_filters.empty()) line += " filters: " + Join(p.scan_filters, " AND ");
      if (auto* cte = dynamic_cast<const CteTable*>(p.table.get())) {
        line += fmt::format(" (WITH query read {} times, computed once{})", cte->references(),
                            shown.count(cte) ? ": see above" : "");
        if (shown.insert(cte).second) cte_plan = cte;
      }
      break;
    }
    case PlanKind::kValues: line = fmt::format("Values ({} rows)", p.rows.size()); break;
    case PlanKind::kFilter: line = "Filter " + p.predicate->ToString(); break;
    case PlanKind::kProject: {
      line = "Project [";
      for (size_t i = 0; i < p.exprs.size(); ++i)
        line += (i ? ", " : "") + p.output[i].name + " := " + p.exprs[i]->ToString();
      line += "]";
      break;
    }
    case PlanKind::kAggregate: {
      line = "Aggregate groups: [" + Join(p.groups) + "] aggregates: [";
      for (size_t i = 0; i < p.aggregates.size(); ++i)
        line += (i ? ", " : "") + p.aggregates[i].ToString();
      line += "]";
      if (!p.grouping_sets.empty()) line += fmt::format(" ({} grouping sets)", p.grouping_sets.size());
      break;
    }
    case PlanKind::kJoin: {
      static const char* kNames[] = {"Inner", "Left", "Right", "Full", "Cross",
                                     "Semi", "Anti", "RightSemi", "RightAnti"};
      line = std::string(kNames[static_cast<int>(p.join_type)]) + " HashJoin";
      if (!p.left_keys.empty()) line += " on [" + Join(p.left_keys) + "] = [" + Join(p.right_keys) + "]";
      if (p.residual) line += " residual: " + p.residual->ToString();
      break;
    }
    case PlanKind::kSort: {
      line = "Sort [";
      for (size_t i = 0; i < p.sort_keys.size(); ++i)
        line += (i ? ", " : "") + p.sort_keys[i].expr->ToString() +
                (p.sort_keys[i].descending ? " DESC" : " ASC") +
                (p.sort_keys[i].nulls_first ? " NULLS FIRST" : " NULLS LAST");
      line += "]";
      break;
    }
    case PlanKind::kLimit: line = fmt::format("Limit {} offset {}", p.limit, p.offset); break;
    case PlanKind::kSetOp: {
      static const char* kNames[] = {"Union", "Intersect", "Except"};
      line = std::string(kNames[static_cast<int>(p.set_op)]) + (p.all ? " All" : " Distinct");
      break;
    }
    case PlanKind::kDistinct: line = "Distinct"; break;
    case PlanKind::kWindow: {
      line = "Window [";
      for (size_t i = 0; i < p.windows.size(); ++i) line += (i ? ", " : "") + p.windows[i].ToString();
      line += "]";
      break;
    }
  }
  out += pad + "- " + line + "\n";
  if (cte_plan) Explain(*cte_plan->plan(), depth + 1, out, shown);
  for (const auto& c : p.children) Explain(*c, depth + 1, out, shown);
}

}  // namespace

std::string ExplainPlan(const PlanNode& plan) {
  std::string out;
  std::set<const CteTable*> shown;
  Explain(plan, 0, out, shown);
  return out;
}

}  // namespace saleslake::sql
