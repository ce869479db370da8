#include "sql/optimizer/optimizer.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace saleslake::sql {

namespace {

bool HasSubquery(const Expr& e) {
  if (e.subquery) return true;
  for (const auto& a : e.args)
    if (HasSubquery(*a)) return true;
  return false;
}

ExprPtr Rewrite(const ExprPtr& e, const std::function<ExprPtr(const Expr&)>& column) {
  if (e->kind == ExprKind::kColumn) return column(*e);
  if (e->args.empty()) return e;
  auto c = std::make_shared<Expr>(*e);
  for (auto& a : c->args) a = Rewrite(a, column);
  return c;
}

ExprPtr Shift(const ExprPtr& e, int delta) {
  return Rewrite(e, [&](const Expr& c) { return MakeColumn(c.column + delta, c.type, c.name); });
}

void Split(const ExprPtr& e, std::vector<ExprPtr>& out) {
  if (e->kind == ExprKind::kAnd) {
    for (const auto& a : e->args) Split(a, out);
  } else {
    out.push_back(e);
  }
}

ExprPtr AndAll(const std::vector<ExprPtr>& v) {
  if (v.size() == 1) return v[0];
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kAnd;
  e->type = DataType::Boolean();
  e->args = v;
  return e;
}

// Conjuncts that every branch of an OR implies, added beside the OR (which stays, so the result
// is unchanged): `(a = b AND x) OR (a = b AND y)` also yields `a = b`, which makes an equi-join
// of what would otherwise be a cross product with a residual (TPC-H Q19).
void AddCommonOfOrs(std::vector<ExprPtr>& conj) {
  size_t n = conj.size();
  for (size_t i = 0; i < n; ++i) {
    const ExprPtr& e = conj[i];
    if (e->kind != ExprKind::kOr || !e->deterministic()) continue;
    std::vector<std::pair<std::string, ExprPtr>> common;
    bool first = true;
    for (const auto& branch : e->args) {
      std::vector<ExprPtr> parts;
      Split(branch, parts);
      std::set<std::string> here;
      for (const auto& p : parts) here.insert(p->ToString());
      if (first) {
        for (const auto& p : parts)
          if (p->deterministic() && !HasSubquery(*p)) common.emplace_back(p->ToString(), p);
        first = false;
      } else {
        std::erase_if(common, [&](const auto& c) { return !here.count(c.first); });
      }
      if (common.empty()) break;
    }
    std::set<std::string> have;
    for (const auto& c : conj) have.insert(c->ToString());
    for (auto& c : common)
      if (have.insert(c.first).second) conj.push_back(c.second);
  }
}

PlanPtr WithFilter(PlanPtr child, const std::vector<ExprPtr>& conj) {
  if (conj.empty()) return child;
  auto f = std::make_shared<PlanNode>(PlanKind::kFilter);
  f->output = child->output;
  f->predicate = AndAll(conj);
  f->children.push_back(std::move(child));
  return f;
}

std::shared_ptr<PlanNode> Copy(const PlanNode& p) { return std::make_shared<PlanNode>(p); }

bool Pushable(const ExprPtr& e) { return e->deterministic() && !HasSubquery(*e); }

// Only scalar subqueries (uncorrelated, computed once before the pipelines): a scan can prune
// with their values, e.g. `customer_id = (SELECT min(customer_id) ...)`.
bool OnlyScalarSubqueries(const Expr& e) {
  if (e.subquery && e.kind != ExprKind::kScalarSubquery) return false;
  for (const auto& a : e.args)
    if (!OnlyScalarSubqueries(*a)) return false;
  return true;
}

// A conjunct a scan may use for pruning (the Filter above still evaluates it).
bool ScanPrunable(const ExprPtr& e) { return e->deterministic() && OnlyScalarSubqueries(*e); }

PlanPtr Push(const PlanPtr& p);

PlanPtr PushFilter(const PlanNode& filter) {
  const PlanPtr& child = filter.children[0];
  std::vector<ExprPtr> conj;
  Split(filter.predicate, conj);
  AddCommonOfOrs(conj);
  switch (child->kind) {
    case PlanKind::kFilter: {
      std::vector<ExprPtr> more;
      Split(child->predicate, more);
      more.insert(more.end(), conj.begin(), conj.end());
      auto merged = WithFilter(child->children[0], more);
      return PushFilter(*merged);
    }
    case PlanKind::kScan: {
      auto scan = Copy(*child);
      for (const auto& c : conj)
        if (ScanPrunable(c)) scan->scan_filters.push_back(c);
      return WithFilter(scan, conj);
    }
    case PlanKind::kProject: {
      std::vector<ExprPtr> below, above;
      for (const auto& c : conj) {
        std::set<int> cols;
        ColumnsOf(*c, cols);
        bool ok = Pushable(c);
        for (int i : cols) {
          const Expr& pe = *child->exprs[static_cast<size_t>(i)];
          ok &= pe.kind == ExprKind::kColumn || (pe.deterministic() && !HasSubquery(pe));
        }
        if (!ok) {
          above.push_back(c);
          continue;
        }
        below.push_back(Rewrite(c, [&](const Expr& col) { return child->exprs[static_cast<size_t>(col.column)]; }));
      }
      if (below.empty()) {
        auto f = Copy(filter);
        f->children[0] = Push(child);
        return f;
      }
      auto proj = Copy(*child);
      proj->children[0] = Push(WithFilter(child->children[0], below));
      return WithFilter(proj, above);
    }
    case PlanKind::kJoin: {
      int nl = static_cast<int>(child->children[0]->output.size());
      JoinType jt = child->join_type;
      std::vector<ExprPtr> left, right, above;
      auto join = Copy(*child);
      std::vector<ExprPtr> residual;
      for (const auto& c : conj) {
        std::set<int> cols;
        ColumnsOf(*c, cols);
        bool only_left = !cols.empty() && *cols.rbegin() < nl;
        bool only_right = !cols.empty() && *cols.begin() >= nl;
        bool pushable = Pushable(c);
        if (pushable && only_left && (jt == JoinType::kInner || jt == JoinType::kCross || jt == JoinType::kLeft)) {
          left.push_back(c);
        } else if (pushable && only_right && (jt == JoinType::kInner || jt == JoinType::kCross || jt == JoinType::kRight)) {
          right.push_back(Shift(c, -nl));
        } else if (pushable && (jt == JoinType::kInner || jt == JoinType::kCross) &&
                   c->kind == ExprKind::kCall && c->fn && c->fn->name == "=" && c->args.size() == 2) {
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
          if (sa == 1 && sb == 2) {
            join->left_keys.push_back(c->args[0]);
            join->right_keys.push_back(Shift(c->args[1], -nl));
            join->join_type = JoinType::kInner;
          } else if (sa == 2 && sb == 1) {
            join->left_keys.push_back(c->args[1]);
            join->right_keys.push_back(Shift(c->args[0], -nl));
            join->join_type = JoinType::kInner;
          } else {
            residual.push_back(c);
          }
        } else if (pushable && (jt == JoinType::kInner || jt == JoinType::kCross)) {
          residual.push_back(c);
        } else {
          above.push_back(c);
        }
      }
      if (!residual.empty()) {
        if (join->residual) residual.insert(residual.begin(), join->residual);
        join->residual = AndAll(residual);
        if (join->join_type == JoinType::kCross) join->join_type = JoinType::kInner;
      }
      join->children[0] = Push(WithFilter(child->children[0], left));
      join->children[1] = Push(WithFilter(child->children[1], right));
      return WithFilter(join, above);
    }
    default: {
      auto f = Copy(filter);
      f->children[0] = Push(child);
      return f;
    }
  }
}

PlanPtr Push(const PlanPtr& p) {
  if (p->kind == PlanKind::kFilter) return PushFilter(*p);
  if (p->children.empty()) return p;
  auto c = Copy(*p);
  for (auto& ch : c->children) ch = Push(ch);
  return c;
}

// ---------------------------------------------------------------- column pruning

// A pruned plan and where each column of the original output went: map[i] is the new index of
// old column i, or -1 when it was dropped. Nodes drop columns nobody above reads, so a scan
// decodes only what the query uses and no operator carries (or rebuilds) dead columns.
struct Pruned {
  PlanPtr plan;
  std::vector<int> map;
};

std::vector<int> Identity(size_t n) {
  std::vector<int> m(n);
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<int>(i);
  return m;
}

// Rewrites column references of an expression over an old input to the pruned input. Every
// referenced column was required below, so it has a new index.
ExprPtr Remap(const ExprPtr& e, const std::vector<int>& map) {
  if (!e) return e;
  return Rewrite(e, [&](const Expr& c) {
    return MakeColumn(map[static_cast<size_t>(c.column)], c.type, c.name);
  });
}

// Puts back the original column layout (`width` columns) over a pruned plan; columns that were
// dropped come back as NULLs. Only for plans whose consumer cannot be rewritten (the root, set
// operations), where every column is required anyway, so this is normally a no-op.
PlanPtr Restore(const Pruned& r, const std::vector<OutputColumn>& output) {
  bool identity = r.plan->output.size() == output.size();
  for (size_t i = 0; identity && i < r.map.size(); ++i) identity = r.map[i] == static_cast<int>(i);
  if (identity) return r.plan;
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  proj->output = output;
  for (size_t i = 0; i < output.size(); ++i) {
    int to = r.map[i];
    proj->exprs.push_back(to < 0 ? MakeLiteral(Value::Null(output[i].type))
                                 : MakeColumn(to, output[i].type, output[i].name));
  }
  proj->children.push_back(r.plan);
  return proj;
}

Pruned Prune(const PlanPtr& p, std::set<int> req);

std::set<int> AllColumns(const PlanNode& p) {
  std::set<int> all;
  for (size_t i = 0; i < p.output.size(); ++i) all.insert(static_cast<int>(i));
  return all;
}

Pruned Prune(const PlanPtr& p, std::set<int> req) {
  switch (p->kind) {
    case PlanKind::kScan: {
      for (const auto& f : p->scan_filters) ColumnsOf(*f, req);
      if (req.size() >= p->output.size()) return {p, Identity(p->output.size())};
      // No column needed (count(*)): the scan reads none and takes row counts from metadata.
      auto scan = Copy(*p);
      scan->scan_columns.clear();
      scan->output.clear();
      std::vector<int> map(p->output.size(), -1);
      for (int c : req) {
        map[static_cast<size_t>(c)] = static_cast<int>(scan->scan_columns.size());
        scan->scan_columns.push_back(p->scan_columns[static_cast<size_t>(c)]);
        scan->output.push_back(p->output[static_cast<size_t>(c)]);
      }
      for (auto& f : scan->scan_filters) f = Remap(f, map);
      return {scan, std::move(map)};
    }
    case PlanKind::kProject: {
      auto c = Copy(*p);
      std::set<int> child_req;
      std::vector<size_t> kept;
      for (size_t i = 0; i < p->exprs.size(); ++i) {
        const Expr& e = *p->exprs[i];
        if (!req.count(static_cast<int>(i)) && e.deterministic() && !HasSubquery(e)) continue;
        kept.push_back(i);
        ColumnsOf(e, child_req);
      }
      Pruned child = Prune(p->children[0], child_req);
      std::vector<int> map(p->exprs.size(), -1);
      c->exprs.clear();
      c->output.clear();
      for (size_t i : kept) {
        map[i] = static_cast<int>(c->exprs.size());
        c->exprs.push_back(Remap(p->exprs[i], child.map));
        c->output.push_back(p->output[i]);
      }
      c->children[0] = child.plan;
      return {c, std::move(map)};
    }
    case PlanKind::kFilter: {
      auto c = Copy(*p);
      ColumnsOf(*p->predicate, req);
      Pruned child = Prune(p->children[0], req);
      c->predicate = Remap(p->predicate, child.map);
      c->output = child.plan->output;
      c->children[0] = child.plan;
      return {c, std::move(child.map)};
    }
    case PlanKind::kAggregate: {
      auto c = Copy(*p);
      std::set<int> r;
      for (const auto& g : p->groups) ColumnsOf(*g, r);
      for (const auto& a : p->aggregates) {
        for (const auto& x : a.args) ColumnsOf(*x, r);
        if (a.filter) ColumnsOf(*a.filter, r);
      }
      Pruned child = Prune(p->children[0], r);
      for (auto& g : c->groups) g = Remap(g, child.map);
      for (auto& a : c->aggregates) {
        for (auto& x : a.args) x = Remap(x, child.map);
        a.filter = Remap(a.filter, child.map);
      }
      c->children[0] = child.plan;
      return {c, Identity(p->output.size())};
    }
    case PlanKind::kJoin: {
      auto c = Copy(*p);
      size_t nl = p->children[0]->output.size();
      if (p->residual) ColumnsOf(*p->residual, req);
      std::set<int> l, r;
      for (int i : req) {
        if (static_cast<size_t>(i) < nl) l.insert(i); else r.insert(i - static_cast<int>(nl));
      }
      for (const auto& k : p->left_keys) ColumnsOf(*k, l);
      for (const auto& k : p->right_keys) ColumnsOf(*k, r);
      Pruned left = Prune(p->children[0], l);
      Pruned right = Prune(p->children[1], r);
      int new_nl = static_cast<int>(left.plan->output.size());
      std::vector<int> map = left.map;
      for (int to : right.map) map.push_back(to < 0 ? -1 : to + new_nl);
      for (auto& k : c->left_keys) k = Remap(k, left.map);
      for (auto& k : c->right_keys) k = Remap(k, right.map);
      c->residual = Remap(p->residual, map);
      c->output = left.plan->output;
      c->output.insert(c->output.end(), right.plan->output.begin(), right.plan->output.end());
      c->children[0] = left.plan;
      c->children[1] = right.plan;
      return {c, std::move(map)};
    }
    case PlanKind::kSort: {
      auto c = Copy(*p);
      for (const auto& k : p->sort_keys) ColumnsOf(*k.expr, req);
      Pruned child = Prune(p->children[0], req);
      for (auto& k : c->sort_keys) k.expr = Remap(k.expr, child.map);
      c->output = child.plan->output;
      c->children[0] = child.plan;
      return {c, std::move(child.map)};
    }
    case PlanKind::kLimit: {
      auto c = Copy(*p);
      Pruned child = Prune(p->children[0], req);
      c->output = child.plan->output;
      c->children[0] = child.plan;
      return {c, std::move(child.map)};
    }
    case PlanKind::kWindow: {
      auto c = Copy(*p);
      size_t width = p->children[0]->output.size();
      std::set<int> r;
      for (int i : req)
        if (static_cast<size_t>(i) < width) r.insert(i);
      for (const auto& w : p->windows) {
        for (const auto& x : w.args) ColumnsOf(*x, r);
        for (const auto& x : w.partition_by) ColumnsOf(*x, r);
        for (const auto& k : w.order_by) ColumnsOf(*k.expr, r);
        for (const ExprPtr* x : {&w.frame.range_key, &w.frame.range_start, &w.frame.range_end})
          if (*x) ColumnsOf(**x, r);
      }
      Pruned child = Prune(p->children[0], r);
      for (auto& w : c->windows) {
        for (auto& x : w.args) x = Remap(x, child.map);
        for (auto& x : w.partition_by) x = Remap(x, child.map);
        for (auto& k : w.order_by) k.expr = Remap(k.expr, child.map);
        w.frame.range_key = Remap(w.frame.range_key, child.map);
        w.frame.range_start = Remap(w.frame.range_start, child.map);
        w.frame.range_end = Remap(w.frame.range_end, child.map);
      }
      int new_width = static_cast<int>(child.plan->output.size());
      std::vector<int> map = child.map;
      for (size_t i = width; i < p->output.size(); ++i)
        map.push_back(new_width + static_cast<int>(i - width));
      c->output = child.plan->output;
      c->output.insert(c->output.end(), p->output.begin() + static_cast<std::ptrdiff_t>(width),
                       p->output.end());
      c->children[0] = child.plan;
      return {c, std::move(map)};
    }
    default: {
      if (p->children.empty()) return {p, Identity(p->output.size())};
      auto c = Copy(*p);
      for (auto& ch : c->children) ch = Restore(Prune(ch, AllColumns(*ch)), ch->output);
      return {c, Identity(p->output.size())};
    }
  }
}

// Optimizes the plans of subqueries inside expressions (they are planned separately by the
// binder): pushdown and pruning matter there as much as in the outer query.
ExprPtr OptimizeSubqueries(const ExprPtr& e, const OptimizerOptions& options);

PlanPtr OptimizeNestedPlans(const PlanPtr& p, const OptimizerOptions& options) {
  auto c = Copy(*p);
  bool changed = false;
  auto fix = [&](ExprPtr& e) {
    if (!e) return;
    ExprPtr n = OptimizeSubqueries(e, options);
    if (n != e) {
      e = n;
      changed = true;
    }
  };
  for (auto& ch : c->children) {
    PlanPtr n = OptimizeNestedPlans(ch, options);
    if (n != ch) {
      ch = n;
      changed = true;
    }
  }
  for (auto& row : c->rows)
    for (auto& e : row) fix(e);
  fix(c->predicate);
  for (auto& e : c->exprs) fix(e);
  for (auto& e : c->groups) fix(e);
  for (auto& a : c->aggregates) {
    for (auto& x : a.args) fix(x);
    fix(a.filter);
  }
  for (auto& e : c->left_keys) fix(e);
  for (auto& e : c->right_keys) fix(e);
  fix(c->residual);
  for (auto& k : c->sort_keys) fix(k.expr);
  for (auto& w : c->windows) {
    for (auto& x : w.args) fix(x);
    for (auto& x : w.partition_by) fix(x);
    for (auto& k : w.order_by) fix(k.expr);
  }
  for (auto& e : c->scan_filters) fix(e);
  return changed ? c : p;
}

ExprPtr OptimizeSubqueries(const ExprPtr& e, const OptimizerOptions& options) {
  if (!HasSubquery(*e)) return e;
  auto c = std::make_shared<Expr>(*e);
  for (auto& a : c->args) a = OptimizeSubqueries(a, options);
  if (c->subquery) {
    auto sub = Optimize(c->subquery, options);
    if (sub.ok()) c->subquery = *sub;  // an unoptimized subquery still runs correctly
  }
  return c;
}

// ---------------------------------------------------------------- join sides

double EstimateRows(const PlanNode& p) {
  switch (p.kind) {
    case PlanKind::kScan: {
      auto ms = p.table->Morsels();
      if (!ms.ok()) return 1e6;
      double n = 0;
      for (const auto& m : *ms) n += m.rows >= 0 ? static_cast<double>(m.rows) : 1e5;
      return p.scan_filters.empty() ? n : n * 0.5;
    }
    case PlanKind::kValues: return static_cast<double>(p.rows.size());
    case PlanKind::kFilter: return EstimateRows(*p.children[0]) * 0.5;
    case PlanKind::kAggregate:
      return p.groups.empty() ? 1 : EstimateRows(*p.children[0]) * 0.3;
    case PlanKind::kJoin:
      return std::max(EstimateRows(*p.children[0]), EstimateRows(*p.children[1]));
    case PlanKind::kLimit: {
      double c = EstimateRows(*p.children[0]);
      return p.limit >= 0 ? std::min(c, static_cast<double>(p.limit)) : c;
    }
    case PlanKind::kSetOp: return EstimateRows(*p.children[0]) + EstimateRows(*p.children[1]);
    default: return p.children.empty() ? 1 : EstimateRows(*p.children[0]);
  }
}

PlanPtr ChooseBuildSides(const PlanPtr& p) {
  if (p->children.empty()) return p;
  auto c = Copy(*p);
  for (auto& ch : c->children) ch = ChooseBuildSides(ch);
  if (c->kind != PlanKind::kJoin) return c;
  double l = EstimateRows(*c->children[0]), r = EstimateRows(*c->children[1]);
  if (!(l * 1.5 < r)) return c;  // the build (right) side should be the smaller one
  int nl = static_cast<int>(c->children[0]->output.size());
  int nr = static_cast<int>(c->children[1]->output.size());
  auto s = Copy(*c);
  std::swap(s->children[0], s->children[1]);
  std::swap(s->left_keys, s->right_keys);
  switch (c->join_type) {
    case JoinType::kLeft: s->join_type = JoinType::kRight; break;
    case JoinType::kRight: s->join_type = JoinType::kLeft; break;
    default: break;
  }
  if (c->residual) {
    s->residual = Rewrite(c->residual, [&](const Expr& col) {
      int i = col.column < nl ? col.column + nr : col.column - nl;
      return MakeColumn(i, col.type, col.name);
    });
  }
  s->output.clear();
  for (const auto& o : s->children[0]->output) s->output.push_back(o);
  for (const auto& o : s->children[1]->output) s->output.push_back(o);
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  proj->output = c->output;
  for (int i = 0; i < nl + nr; ++i) {
    int from = i < nl ? i + nr : i - nl;
    proj->exprs.push_back(MakeColumn(from, c->output[static_cast<size_t>(i)].type, c->output[static_cast<size_t>(i)].name));
  }
  proj->children.push_back(s);
  return proj;
}

}  // namespace

Result<PlanPtr> Optimize(const PlanPtr& plan, const OptimizerOptions& options) {
  PlanPtr p = OptimizeNestedPlans(plan, options);
  if (options.pushdown) p = Push(p);
  if (options.reorder_joins) p = ChooseBuildSides(p);
  if (options.prune_columns) p = Restore(Prune(p, AllColumns(*p)), p->output);
  return p;
}

}  // namespace saleslake::sql
