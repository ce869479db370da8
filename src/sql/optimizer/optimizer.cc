#include "sql/optimizer/optimizer.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "sql/functions/functions.h"
#include "sql/planner/cte_table.h"

namespace saleslake::sql {

namespace {

bool IsSemi(JoinType t) {
  return t == JoinType::kSemi || t == JoinType::kAnti || t == JoinType::kRightSemi || t == JoinType::kRightAnti;
}

// The child whose columns a semi or anti join outputs (the other is only probed or built).
size_t KeptChild(JoinType t) { return t == JoinType::kRightSemi || t == JoinType::kRightAnti ? 1 : 0; }

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

// The part of an OR that reads only columns `mine` accepts: in each branch, its conjuncts over
// those columns alone (an OR nested in a branch giving its own part), and these ORed; null when
// some branch has none. The OR implies it (a branch that holds makes its part hold), so a join's
// input may be filtered with it before the join without changing the result, and inputs shrink
// early: TPC-H Q7's `(n1 = 'FRANCE' AND n2 = 'GERMANY') OR (n1 = 'GERMANY' AND n2 = 'FRANCE')`
// keeps two nations on each side, Q19's three branches keep their parts and quantities. Only
// parts that cannot fail: the input's rows include some the OR would never have seen.
ExprPtr OrPartOver(const Expr& e, const std::function<bool(const std::set<int>&)>& mine) {
  if (e.kind != ExprKind::kOr || !e.deterministic()) return nullptr;
  std::vector<ExprPtr> branches;
  for (const auto& b : e.args) {
    std::vector<ExprPtr> parts, kept;
    Split(b, parts);
    for (const auto& part : parts) {
      std::set<int> cols;
      ColumnsOf(*part, cols);
      if (!cols.empty() && mine(cols) && part->cannot_fail()) {
        kept.push_back(part);
      } else if (auto sub = OrPartOver(*part, mine)) {
        kept.push_back(sub);
      }
    }
    if (kept.empty()) return nullptr;
    branches.push_back(AndAll(kept));
  }
  auto o = std::make_shared<Expr>();
  o->kind = ExprKind::kOr;
  o->type = DataType::Boolean();
  o->pos = e.pos;
  o->args = std::move(branches);
  return o;
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

// A conjunct that may move below a projection or a join. Subqueries left in expressions after
// binding are uncorrelated (the binder turns correlated ones into joins) and computed once before
// the pipelines, so a filter with one moves like any other: TPC-H Q18's `o_orderkey IN (SELECT
// ...)` then keeps 57 orders before the joins instead of filtering 6M joined rows after them.
bool Pushable(const ExprPtr& e) { return e->deterministic(); }

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
      if (IsSemi(child->join_type)) {  // every column is the kept input's
        std::vector<ExprPtr> below, above;
        for (const auto& c : conj) (Pushable(c) ? below : above).push_back(c);
        auto join = Copy(*child);
        const size_t kept = KeptChild(child->join_type);
        join->children[kept] = Push(WithFilter(child->children[kept], below));
        join->children[1 - kept] = Push(child->children[1 - kept]);
        return WithFilter(join, above);
      }
      int nl = static_cast<int>(child->children[0]->output.size());
      JoinType jt = child->join_type;
      if (jt == JoinType::kInner || jt == JoinType::kCross) {
        // ORs over both inputs also filter each input with their part over it (kept as well).
        std::set<std::string> have;
        for (const auto& c : conj) have.insert(c->ToString());
        const size_t n = conj.size();
        for (size_t i = 0; i < n; ++i) {
          if (conj[i]->kind != ExprKind::kOr) continue;
          std::set<int> cols;
          ColumnsOf(*conj[i], cols);
          if (cols.empty() || *cols.rbegin() < nl || *cols.begin() >= nl) continue;
          for (bool left_side : {true, false}) {
            ExprPtr part = OrPartOver(*conj[i], [&](const std::set<int>& cs) {
              return left_side ? *cs.rbegin() < nl : *cs.begin() >= nl;
            });
            if (part && have.insert(part->ToString()).second) conj.push_back(part);
          }
        }
      }
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
  if (c->kind == PlanKind::kJoin && c->residual &&
      (c->join_type == JoinType::kLeft || c->join_type == JoinType::kRight)) {
    // ON conjuncts over the null-supplying input only filter that input: `customer LEFT JOIN
    // orders ON c_custkey = o_custkey AND o_comment NOT LIKE '...'` (TPC-H q13) keeps the same
    // customers with the orders filtered in their scan, instead of joining every order and
    // gathering its comment to test after the join. (Over the preserved input they must stay:
    // a failing row there is still kept, with NULLs.)
    const int nl = static_cast<int>(c->children[0]->output.size());
    const bool right_supplies_nulls = c->join_type == JoinType::kLeft;
    std::vector<ExprPtr> conj, below, stay;
    Split(c->residual, conj);
    for (const auto& e : conj) {
      std::set<int> cols;
      ColumnsOf(*e, cols);
      const bool over_nulls_side = !cols.empty() && (right_supplies_nulls ? *cols.begin() >= nl : *cols.rbegin() < nl);
      if (over_nulls_side && Pushable(e)) below.push_back(right_supplies_nulls ? Shift(e, -nl) : e);
      else stay.push_back(e);
    }
    if (!below.empty()) {
      c->residual = stay.empty() ? nullptr : AndAll(stay);
      const size_t side = right_supplies_nulls ? 1 : 0;
      c->children[side] = WithFilter(c->children[side], below);
    }
  }
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

// A join input pruned for `req` of its original columns, narrowed to exactly those when it
// still yields more (a Filter outputs the columns its predicate read, TPC-H q21's o_orderstatus
// under `o_orderstatus = 'F'`): a hash join holds every column of its build rows, and an inner
// join's output gathers every column of both inputs per row. The Project moves the columns.
Pruned Narrow(Pruned in, const std::set<int>& req) {
  if (req.empty() || in.plan->output.size() <= req.size()) return in;
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  std::vector<int> map(in.map.size(), -1);
  for (int c : req) {
    const int to = in.map[static_cast<size_t>(c)];
    const OutputColumn& col = in.plan->output[static_cast<size_t>(to)];
    map[static_cast<size_t>(c)] = static_cast<int>(proj->exprs.size());
    proj->exprs.push_back(MakeColumn(to, col.type, col.name));
    proj->output.push_back(col);
  }
  proj->children.push_back(std::move(in.plan));
  return {proj, std::move(map)};
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
      if (IsSemi(p->join_type)) {  // the kept input's columns above, the keys of both
        std::set<int> l, r;
        (KeptChild(p->join_type) == 0 ? l : r) = req;
        for (const auto& k : p->left_keys) ColumnsOf(*k, l);
        for (const auto& k : p->right_keys) ColumnsOf(*k, r);
        Pruned left = Narrow(Prune(p->children[0], l), l);
        Pruned right = Narrow(Prune(p->children[1], r), r);
        for (auto& k : c->left_keys) k = Remap(k, left.map);
        for (auto& k : c->right_keys) k = Remap(k, right.map);
        const Pruned& kept = KeptChild(p->join_type) == 0 ? left : right;
        c->output = kept.plan->output;
        std::vector<int> map = kept.map;
        c->children[0] = left.plan;
        c->children[1] = right.plan;
        return {c, std::move(map)};
      }
      size_t nl = p->children[0]->output.size();
      if (p->residual) ColumnsOf(*p->residual, req);
      std::set<int> l, r;
      for (int i : req) {
        if (static_cast<size_t>(i) < nl) l.insert(i); else r.insert(i - static_cast<int>(nl));
      }
      for (const auto& k : p->left_keys) ColumnsOf(*k, l);
      for (const auto& k : p->right_keys) ColumnsOf(*k, r);
      Pruned left = Narrow(Prune(p->children[0], l), l);
      Pruned right = Narrow(Prune(p->children[1], r), r);
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

// ---------------------------------------------------------------- constant folding
//
// A deterministic call or cast whose arguments are all literals becomes the literal it yields
// (`DATE '1994-01-01' + INTERVAL '1' YEAR`, `CAST(0.06 - 0.01 AS DECIMAL(15,2))`), so it is
// computed once per query instead of once per batch, and pruning and the evaluator's fast paths
// see a plain literal. One that fails (a division by zero) stays as it is: the error is the
// rows' to raise, if any row gets there.

ExprPtr FoldExpr(const ExprPtr& e) {
  if (!e || e->args.empty() || e->subquery) return e;
  std::shared_ptr<Expr> copy;
  for (size_t i = 0; i < e->args.size(); ++i) {
    ExprPtr a = FoldExpr(e->args[i]);
    if (a == e->args[i]) continue;
    if (!copy) copy = std::make_shared<Expr>(*e);
    copy->args[i] = std::move(a);
  }
  const Expr& x = copy ? *copy : *e;
  ExprPtr self = copy ? ExprPtr(copy) : e;
  for (const auto& a : x.args)
    if (a->kind != ExprKind::kLiteral || a->value.is_null() || !(a->value.type() == a->type)) return self;
  if (x.kind == ExprKind::kCast) {
    auto v = CastValue(x.args[0]->value, x.type, x.try_cast);
    if (!v.ok() || !(v->type() == x.type)) return self;
    auto lit = std::make_shared<Expr>(*MakeLiteral(std::move(*v)));
    lit->pos = x.pos;
    return lit;
  }
  if (x.kind != ExprKind::kCall || !x.fn || !x.fn->kernel || !x.fn->deterministic) return self;
  std::vector<ColumnVector> in(x.args.size());
  std::vector<const ColumnVector*> ptrs;
  for (size_t i = 0; i < x.args.size(); ++i) {
    in[i] = ColumnVector(x.args[i]->type, 1);
    FillConstant(in[i], x.args[i]->value, 1);
    ptrs.push_back(&in[i]);
  }
  ColumnVector out(x.type, 1);
  out.Resize(1);
  if (!x.fn->kernel(ptrs, 1, out).ok()) return self;
  Value v = GetValueAt(out, 0);
  if (v.is_null() || !(v.type() == x.type)) return self;
  auto lit = std::make_shared<Expr>(*MakeLiteral(std::move(v)));
  lit->pos = x.pos;
  return lit;
}

void FoldAll(std::vector<ExprPtr>& v) {
  for (auto& e : v) e = FoldExpr(e);
}

PlanPtr FoldConstants(const PlanPtr& p) {
  auto c = Copy(*p);
  for (auto& child : c->children) child = FoldConstants(child);
  FoldAll(c->scan_filters);
  c->predicate = FoldExpr(c->predicate);
  FoldAll(c->exprs);
  FoldAll(c->groups);
  for (auto& a : c->aggregates) {
    FoldAll(a.args);
    a.filter = FoldExpr(a.filter);
  }
  FoldAll(c->left_keys);
  FoldAll(c->right_keys);
  c->residual = FoldExpr(c->residual);
  for (auto& k : c->sort_keys) k.expr = FoldExpr(k.expr);
  return c;
}

// ---------------------------------------------------------------- join sides

double ColumnNdv(const PlanNode& p, int col);

// A value as a number on one scale per type (days, micros, unscaled / 10^scale), for range
// fractions; nullopt for other types.
std::optional<double> AsNumber(const Value& v) {
  if (v.is_null()) return std::nullopt;
  switch (v.type().id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kDate:
    case TypeId::kTimestamp: return static_cast<double>(v.int_value());
    case TypeId::kFloat:
    case TypeId::kDouble: return v.double_value();
    case TypeId::kDecimal:
      return static_cast<double>(v.wide_value()) / static_cast<double>(Pow10(v.type().scale));
    default: return std::nullopt;
  }
}

// The min and max of output column `col` of `p` from its scan's statistics (through filters,
// projections of the column and joins); false when unknown.
bool ColumnRange(const PlanNode& p, int col, double* lo, double* hi) {
  switch (p.kind) {
    case PlanKind::kScan: {
      auto ms = p.table->Morsels();
      if (!ms.ok() || ms->empty() || col < 0 || static_cast<size_t>(col) >= p.scan_columns.size()) return false;
      const size_t tc = static_cast<size_t>(p.scan_columns[static_cast<size_t>(col)]);
      *lo = std::numeric_limits<double>::infinity();
      *hi = -std::numeric_limits<double>::infinity();
      for (const auto& m : *ms) {
        if (tc >= m.stats.size()) return false;
        auto a = AsNumber(m.stats[tc].min), b = AsNumber(m.stats[tc].max);
        if (!a || !b) return false;
        *lo = std::min(*lo, *a);
        *hi = std::max(*hi, *b);
      }
      return *lo <= *hi;
    }
    case PlanKind::kFilter: return ColumnRange(*p.children[0], col, lo, hi);
    case PlanKind::kProject: {
      const Expr& e = *p.exprs[static_cast<size_t>(col)];
      return e.kind == ExprKind::kColumn && ColumnRange(*p.children[0], e.column, lo, hi);
    }
    case PlanKind::kJoin: {
      if (IsSemi(p.join_type)) return ColumnRange(*p.children[KeptChild(p.join_type)], col, lo, hi);
      int nl = static_cast<int>(p.children[0]->output.size());
      return col < nl ? ColumnRange(*p.children[0], col, lo, hi) : ColumnRange(*p.children[1], col - nl, lo, hi);
    }
    default: return false;
  }
}

// The fraction of `input`'s rows a predicate over its output keeps: 1 / distinct count for an
// equality with a constant (1/10 when the count is unknown, as for strings), the covered share
// of the column's min..max for a range, products and sums for AND / OR, 1/3 for what it cannot
// read. Rough, but it orders joins by what their filters leave rather than by table size.
double Selectivity(const PlanNode& input, const Expr& e) {
  constexpr double kEq = 0.1, kRange = 1.0 / 3, kOther = 1.0 / 3;
  auto column_and_literal = [](const Expr& x, const Expr*& col, const Expr*& lit, bool& flipped) {
    if (x.args.size() != 2) return false;
    const Expr& a = *x.args[0];
    const Expr& b = *x.args[1];
    flipped = a.kind == ExprKind::kLiteral && b.kind == ExprKind::kColumn;
    if (!flipped && !(a.kind == ExprKind::kColumn && b.kind == ExprKind::kLiteral)) return false;
    col = flipped ? &b : &a;
    lit = flipped ? &a : &b;
    return !lit->value.is_null();
  };
  auto eq_sel = [&](const Expr& col) {
    const double ndv = ColumnNdv(input, col.column);
    return ndv >= 1 ? 1.0 / ndv : kEq;
  };
  switch (e.kind) {
    case ExprKind::kAnd: {
      double s = 1;
      for (const auto& a : e.args) s *= Selectivity(input, *a);
      return s;
    }
    case ExprKind::kOr: {
      double none = 1;
      for (const auto& a : e.args) none *= 1 - Selectivity(input, *a);
      return 1 - none;
    }
    case ExprKind::kNot: return 1 - Selectivity(input, *e.args[0]);
    case ExprKind::kIn: {
      if (e.args[0]->kind != ExprKind::kColumn) return kOther;
      const double s = std::min(1.0, static_cast<double>(e.args.size() - 1) * eq_sel(*e.args[0]));
      return e.negated ? 1 - s : s;
    }
    case ExprKind::kCall: {
      if (!e.fn) return kOther;
      const std::string& f = e.fn->name;
      const Expr* col = nullptr;
      const Expr* lit = nullptr;
      bool flipped = false;
      if (f == "=" || f == "<>") {
        if (!column_and_literal(e, col, lit, flipped)) return f == "=" ? kEq : 1 - kEq;
        const double s = eq_sel(*col);
        return f == "=" ? s : 1 - s;
      }
      if (f == "<" || f == "<=" || f == ">" || f == ">=") {
        double lo, hi;
        if (!column_and_literal(e, col, lit, flipped) || !ColumnRange(input, col->column, &lo, &hi)) return kRange;
        auto v = AsNumber(lit->value);
        if (!v) return kRange;
        // col < v (or v > col): the share of [lo, hi] below v.
        const bool below = (f[0] == '<') != flipped;
        double share = hi > lo ? (*v - lo) / (hi - lo) : (*v >= lo ? 1.0 : 0.0);
        share = std::clamp(share, 0.0, 1.0);
        return std::max(below ? share : 1 - share, 1e-4);
      }
      if (f == "like") return 2 * kEq;
      return kOther;
    }
    default: return kOther;
  }
}

// `upper`: a join counts as its larger input (no fewer rows than the join estimate below could
// give), for choices that must not rest on a join's estimated shrinkage.
double EstimateRows(const PlanNode& p, bool upper = false) {
  switch (p.kind) {
    case PlanKind::kScan: {
      double n = 0;
      if (const auto* cte = dynamic_cast<const CteTable*>(p.table.get())) {
        n = EstimateRows(*cte->plan(), upper);  // computed once, before the pipelines
        for (const auto& f : p.scan_filters) n *= Selectivity(p, *f);
        return std::max(n, 1.0);
      }
      auto ms = p.table->Morsels();
      if (!ms.ok()) return 1e6;
      for (const auto& m : *ms) n += m.rows >= 0 ? static_cast<double>(m.rows) : 1e5;
      for (const auto& f : p.scan_filters) n *= Selectivity(p, *f);
      return std::max(n, 1.0);
    }
    case PlanKind::kValues: return static_cast<double>(p.rows.size());
    case PlanKind::kFilter: {
      // The conjuncts the scan below already counted (pushdown leaves them in both) count once.
      const PlanNode& c = *p.children[0];
      std::set<std::string> counted;
      if (c.kind == PlanKind::kScan)
        for (const auto& f : c.scan_filters) counted.insert(f->ToString());
      std::vector<ExprPtr> conj;
      Split(p.predicate, conj);
      double n = EstimateRows(c, upper);
      for (const auto& f : conj)
        if (!counted.count(f->ToString())) n *= Selectivity(c, *f);
      return std::max(n, 1.0);
    }
    case PlanKind::kAggregate:
      return p.groups.empty() ? 1 : EstimateRows(*p.children[0], upper) * 0.3;
    case PlanKind::kJoin: {
      // A semi or anti join keeps at most its kept input's rows (how many match is not estimated).
      if (IsSemi(p.join_type)) return EstimateRows(*p.children[KeptChild(p.join_type)], upper);
      const double l = EstimateRows(*p.children[0], upper), r = EstimateRows(*p.children[1], upper);
      if (upper || p.join_type != JoinType::kInner || p.left_keys.empty()) return std::max(l, r);
      // An inner equi-join yields |L| x |R| / the distinct count of a key, the smaller of the
      // two sides' counts over their whole tables (a key of unknown count taken as unique on its
      // side): a foreign key meets its table's primary key, and the span statistics cannot tell
      // a sparse foreign key (lineitem's l_orderkey spans 6M for 1.5M orders) from a unique one,
      // so the smaller count is the safer divisor. The build side of the join above is then
      // chosen against what this join yields (TPC-H Q7: ~150k rows of lineitem x supplier x
      // nation against 1.5M orders) rather than against its largest input.
      auto ndv = [](const PlanNode& side, const Expr& key, double rows) {
        const double d = key.kind == ExprKind::kColumn ? ColumnNdv(side, key.column) : -1;
        return d < 1 ? std::max(rows, 1.0) : d;
      };
      double divisor = 1;
      for (size_t k = 0; k < p.left_keys.size(); ++k)
        divisor = std::max(divisor, std::min(ndv(*p.children[0], *p.left_keys[k], l),
                                             ndv(*p.children[1], *p.right_keys[k], r)));
      return std::max(l * r / divisor, 1.0);
    }
    case PlanKind::kLimit: {
      double c = EstimateRows(*p.children[0], upper);
      return p.limit >= 0 ? std::min(c, static_cast<double>(p.limit)) : c;
    }
    case PlanKind::kSetOp: return EstimateRows(*p.children[0], upper) + EstimateRows(*p.children[1], upper);
    default: return p.children.empty() ? 1 : EstimateRows(*p.children[0], upper);
  }
}

// ---------------------------------------------------------------- join order
//
// A tree of inner and cross joins is flattened into its inputs (leaves) and its conditions, then
// rebuilt left-deep: the largest input streams through the others, each next input being the
// smallest one an equality connects to what is already joined (inputs with no such condition
// come last, so comma joins never become cross products while a condition could join them).
// A projection on top restores the original column order.

struct JoinLeaf {
  PlanPtr plan;
  int offset, width;
  double rows;
};
struct JoinEq {
  ExprPtr a, b;  // a = b, over the flattened tree's columns
};

// Distinct values of output column `col` of `p`, bounded from above by the span of an integer
// or date column's min/max statistics (keys: nation 0..24, custkey 1..15000); -1 when unknown.
double ColumnNdv(const PlanNode& p, int col) {
  switch (p.kind) {
    case PlanKind::kScan: {
      auto ms = p.table->Morsels();
      if (!ms.ok() || col < 0 || static_cast<size_t>(col) >= p.scan_columns.size()) return -1;
      const size_t tc = static_cast<size_t>(p.scan_columns[static_cast<size_t>(col)]);
      int64_t lo = INT64_MAX, hi = INT64_MIN;
      double rows = 0;
      for (const auto& m : *ms) {
        if (tc >= m.stats.size()) return -1;
        const ColumnStats& st = m.stats[tc];
        if (st.min.is_null() || st.max.is_null()) return -1;
        switch (st.min.type().id) {
          case TypeId::kInt32:
          case TypeId::kInt64:
          case TypeId::kDate: break;
          default: return -1;
        }
        lo = std::min(lo, st.min.int_value());
        hi = std::max(hi, st.max.int_value());
        rows += m.rows >= 0 ? static_cast<double>(m.rows) : 1e5;
      }
      if (lo > hi) return -1;
      return std::min(rows, static_cast<double>(hi) - static_cast<double>(lo) + 1);
    }
    case PlanKind::kFilter: return ColumnNdv(*p.children[0], col);
    case PlanKind::kProject: {
      const Expr& e = *p.exprs[static_cast<size_t>(col)];
      return e.kind == ExprKind::kColumn ? ColumnNdv(*p.children[0], e.column) : -1;
    }
    case PlanKind::kJoin: {
      if (IsSemi(p.join_type)) return ColumnNdv(*p.children[KeptChild(p.join_type)], col);
      int nl = static_cast<int>(p.children[0]->output.size());
      return col < nl ? ColumnNdv(*p.children[0], col) : ColumnNdv(*p.children[1], col - nl);
    }
    default: return -1;
  }
}

bool IsInnerJoin(const PlanNode& p) {
  return p.kind == PlanKind::kJoin && (p.join_type == JoinType::kInner || p.join_type == JoinType::kCross);
}

PlanPtr ReorderJoins(const PlanPtr& p);

// False when the tree holds something the reordering does not move (a residual with a subquery).
bool FlattenJoins(const PlanPtr& p, int offset, std::vector<JoinLeaf>& leaves,
                  std::vector<JoinEq>& eqs, std::vector<ExprPtr>& others) {
  if (!IsInnerJoin(*p)) {
    PlanPtr leaf = ReorderJoins(p);
    leaves.push_back({leaf, offset, static_cast<int>(p->output.size()), EstimateRows(*leaf)});
    return true;
  }
  int nl = static_cast<int>(p->children[0]->output.size());
  if (!FlattenJoins(p->children[0], offset, leaves, eqs, others) ||
      !FlattenJoins(p->children[1], offset + nl, leaves, eqs, others))
    return false;
  for (size_t i = 0; i < p->left_keys.size(); ++i)
    eqs.push_back({Shift(p->left_keys[i], offset), Shift(p->right_keys[i], offset + nl)});
  if (p->residual) {
    if (!Pushable(p->residual)) return false;
    std::vector<ExprPtr> conj;
    Split(Shift(p->residual, offset), conj);
    others.insert(others.end(), conj.begin(), conj.end());
  }
  return true;
}

PlanPtr ReorderJoins(const PlanPtr& p) {
  if (p->children.empty()) return p;
  if (!IsInnerJoin(*p)) {
    auto c = Copy(*p);
    for (auto& ch : c->children) ch = ReorderJoins(ch);
    return c;
  }
  std::vector<JoinLeaf> leaves;
  std::vector<JoinEq> eqs;
  std::vector<ExprPtr> others;
  auto keep = [&]() {
    auto c = Copy(*p);
    for (auto& ch : c->children) ch = ReorderJoins(ch);
    return c;
  };
  if (!FlattenJoins(p, 0, leaves, eqs, others) || leaves.size() < 3 || leaves.size() > 64) return keep();
  const size_t n = leaves.size();
  std::vector<int> leaf_of;
  for (size_t l = 0; l < n; ++l)
    for (int c = 0; c < leaves[l].width; ++c) leaf_of.push_back(static_cast<int>(l));
  auto mask_of = [&](const ExprPtr& e) {
    std::set<int> cols;
    ColumnsOf(*e, cols);
    uint64_t m = 0;
    for (int c : cols) m |= uint64_t{1} << leaf_of[static_cast<size_t>(c)];
    return m;
  };
  std::vector<std::pair<uint64_t, uint64_t>> eq_masks;
  for (const auto& e : eqs) eq_masks.emplace_back(mask_of(e.a), mask_of(e.b));
  std::vector<uint64_t> other_masks;
  for (const auto& e : others) other_masks.push_back(mask_of(e));

  // Distinct values of a key expression: of its column when it is one (capped by its input's
  // rows), else unknown (-1).
  auto key_ndv = [&](const ExprPtr& e) -> double {
    if (e->kind != ExprKind::kColumn) return -1;
    const JoinLeaf& leaf = leaves[static_cast<size_t>(leaf_of[static_cast<size_t>(e->column)])];
    double d = ColumnNdv(*leaf.plan, e->column - leaf.offset);
    return d < 0 ? -1 : std::min(d, std::max(leaf.rows, 1.0));
  };

  size_t first = 0;
  for (size_t l = 1; l < n; ++l)
    if (leaves[l].rows > leaves[first].rows) first = l;

  // An input C joined only to one other input B, by equalities alone, that leaves fewer rows of
  // B than B has is joined to B first, apart, and the pair joins the rest as one input (a bushy
  // plan): TPC-H Q3 joins its 30k BUILDING customers to the 729k orders (145k rows) before
  // lineitem, instead of lineitem x orders (a 729k-row build) first; Q21 joins supplier and its
  // one nation before lineitem. attached[B] = C; eff_rows: B's rows after its C.
  std::vector<int> attached(n, -1);
  std::vector<bool> is_attached(n, false);
  std::vector<double> eff_rows(n);
  for (size_t l = 0; l < n; ++l) eff_rows[l] = leaves[l].rows;
  for (size_t c = 0; c < n; ++c) {
    const uint64_t cbit = uint64_t{1} << c;
    if (c == first || attached[c] >= 0) continue;
    uint64_t partners = 0;
    double divisor = 1;
    bool ok = true;
    for (size_t e = 0; e < eqs.size() && ok; ++e) {
      auto [ma, mb] = eq_masks[e];
      if (((ma | mb) & cbit) == 0) continue;
      const ExprPtr *mine, *theirs;
      if (ma == cbit && mb != 0 && (mb & cbit) == 0) {
        partners |= mb;
        mine = &eqs[e].a;
        theirs = &eqs[e].b;
      } else if (mb == cbit && ma != 0 && (ma & cbit) == 0) {
        partners |= ma;
        mine = &eqs[e].b;
        theirs = &eqs[e].a;
      } else {
        ok = false;
        break;
      }
      double dm = key_ndv(*mine), dt = key_ndv(*theirs);
      if (dm < 0) dm = std::max(leaves[c].rows, 1.0);
      divisor = std::max(divisor, std::max(dm, dt));
    }
    for (uint64_t m : other_masks) ok &= (m & cbit) == 0;
    if (!ok || partners == 0 || (partners & (partners - 1)) != 0) continue;
    const size_t b = static_cast<size_t>(__builtin_ctzll(partners));
    if (is_attached[b]) continue;
    const double out = leaves[b].rows * leaves[c].rows / divisor;
    if (!(out < eff_rows[b])) continue;
    if (attached[b] >= 0) is_attached[static_cast<size_t>(attached[b])] = false;
    attached[b] = static_cast<int>(c);
    is_attached[c] = true;
    eff_rows[b] = std::max(out, 1.0);
  }

  // The order: the largest input first, then, repeatedly, the connected input whose join is
  // estimated cheapest: its output (|joined| x |input| / the larger key's distinct count; a key
  // of unknown distinct count is taken as unique on the input's side) plus its input's rows,
  // smaller inputs first on ties. An attached input follows its partner.
  std::vector<size_t> order;
  uint64_t have = 0;
  auto take = [&](size_t l) {
    order.push_back(l);
    have |= uint64_t{1} << l;
    if (attached[l] >= 0) {
      order.push_back(static_cast<size_t>(attached[l]));
      have |= uint64_t{1} << attached[l];
    }
  };
  take(first);
  double cur_rows = eff_rows[first];
  while (order.size() < n) {
    size_t best = n;
    bool best_connected = false;
    double best_out = 0, best_cost = 0;
    for (size_t l = 0; l < n; ++l) {
      uint64_t bit = uint64_t{1} << l;
      if ((have & bit) || is_attached[l]) continue;
      bool connected = false;
      double divisor = 1;
      for (size_t e = 0; e < eqs.size(); ++e) {
        auto [ma, mb] = eq_masks[e];
        const ExprPtr* mine = nullptr;
        const ExprPtr* theirs = nullptr;
        if (ma != 0 && mb == bit && (ma & ~have) == 0) {
          mine = &eqs[e].b;
          theirs = &eqs[e].a;
        } else if (mb != 0 && ma == bit && (mb & ~have) == 0) {
          mine = &eqs[e].a;
          theirs = &eqs[e].b;
        } else {
          continue;
        }
        connected = true;
        double dm = key_ndv(*mine), dt = key_ndv(*theirs);
        if (dm < 0) dm = std::max(leaves[l].rows, 1.0);
        divisor = std::max(divisor, std::max(dm, dt));
      }
      double out = connected ? cur_rows * eff_rows[l] / divisor : cur_rows * eff_rows[l];
      // What the join costs: the rows it yields (the work of every later step) and the rows of
      // its build side (a hash table of them): a selective small input beats a large one whose
      // join is only slightly smaller.
      const double cost = out + eff_rows[l];
      if (best == n || (connected && !best_connected) ||
          (connected == best_connected &&
           (cost < best_cost || (cost == best_cost && eff_rows[l] < eff_rows[best])))) {
        best = l;
        best_connected = connected;
        best_out = out;
        best_cost = cost;
      }
    }
    take(best);
    cur_rows = std::max(best_out, 1.0);
  }

  // Rebuild left-deep; each condition goes to the first join that has all its columns.
  std::vector<int> newpos(leaf_of.size());
  int pos = 0;
  for (size_t l : order)
    for (int c = 0; c < leaves[l].width; ++c) newpos[static_cast<size_t>(leaves[l].offset + c)] = pos++;
  auto remap = [&](const ExprPtr& e) {
    return Rewrite(e, [&](const Expr& c) { return MakeColumn(newpos[static_cast<size_t>(c.column)], c.type, c.name); });
  };
  std::vector<bool> eq_used(eqs.size(), false), other_used(others.size(), false);
  // The input at order[k]: a leaf, or a leaf and its attached one joined on their equalities
  // (then order[k + 1] is the attached one). Sets *bits and *width and advances k past it.
  auto input_at = [&](size_t& k, uint64_t* bits, int* width_out) -> PlanPtr {
    const JoinLeaf& b = leaves[order[k]];
    *bits = uint64_t{1} << order[k];
    *width_out = b.width;
    const int ci = attached[order[k]];
    ++k;
    if (ci < 0) return b.plan;
    const JoinLeaf& c = leaves[static_cast<size_t>(ci)];
    const uint64_t bbit = *bits, cbit = uint64_t{1} << ci;
    ++k;
    auto j = std::make_shared<PlanNode>(PlanKind::kJoin);
    j->join_type = JoinType::kInner;
    j->children = {b.plan, c.plan};
    j->output = b.plan->output;
    j->output.insert(j->output.end(), c.plan->output.begin(), c.plan->output.end());
    for (size_t e = 0; e < eqs.size(); ++e) {
      auto [ma, mb] = eq_masks[e];
      if (ma == bbit && mb == cbit) {
        j->left_keys.push_back(Shift(eqs[e].a, -b.offset));
        j->right_keys.push_back(Shift(eqs[e].b, -c.offset));
      } else if (ma == cbit && mb == bbit) {
        j->left_keys.push_back(Shift(eqs[e].b, -b.offset));
        j->right_keys.push_back(Shift(eqs[e].a, -c.offset));
      } else {
        continue;
      }
      eq_used[e] = true;
    }
    *bits = bbit | cbit;
    *width_out = b.width + c.width;
    return j;
  };
  size_t k = 0;
  int width = 0;
  PlanPtr cur = input_at(k, &have, &width);
  while (k < n) {
    uint64_t bit = 0;
    int leaf_width = 0;
    PlanPtr leaf_plan = input_at(k, &bit, &leaf_width);
    const uint64_t now = have | bit;
    auto j = std::make_shared<PlanNode>(PlanKind::kJoin);
    j->children = {cur, leaf_plan};
    j->output = cur->output;
    j->output.insert(j->output.end(), leaf_plan->output.begin(), leaf_plan->output.end());
    for (size_t e = 0; e < eqs.size(); ++e) {
      auto [ma, mb] = eq_masks[e];
      if (eq_used[e] || ((ma | mb) & ~now) != 0) continue;
      eq_used[e] = true;
      if (ma != 0 && (ma & ~have) == 0 && mb != 0 && (mb & ~bit) == 0) {
        j->left_keys.push_back(remap(eqs[e].a));
        j->right_keys.push_back(Shift(remap(eqs[e].b), -width));
      } else if (mb != 0 && (mb & ~have) == 0 && ma != 0 && (ma & ~bit) == 0) {
        j->left_keys.push_back(remap(eqs[e].b));
        j->right_keys.push_back(Shift(remap(eqs[e].a), -width));
      } else {
        return keep();  // an equality not between the joined inputs and the new one
      }
    }
    std::vector<ExprPtr> residual;
    for (size_t e = 0; e < others.size(); ++e) {
      if (other_used[e] || (other_masks[e] & ~now) != 0) continue;
      other_used[e] = true;
      residual.push_back(remap(others[e]));
    }
    if (!residual.empty()) j->residual = AndAll(residual);
    j->join_type = j->left_keys.empty() && !j->residual ? JoinType::kCross : JoinType::kInner;
    cur = j;
    have = now;
    width += leaf_width;
  }
  for (bool u : eq_used)
    if (!u) return keep();
  for (bool u : other_used)
    if (!u) return keep();
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  proj->output = p->output;
  for (size_t i = 0; i < p->output.size(); ++i)
    proj->exprs.push_back(MakeColumn(newpos[i], p->output[i].type, p->output[i].name));
  proj->children.push_back(cur);
  return proj;
}

// ---------------------------------------------------------------- semi joins
//
// The binder turns a correlated `EXISTS (... WHERE inner_key = outer_key ...)` into a LEFT JOIN
// with the subquery's DISTINCT keys and the test `matched key IS NOT NULL` (IS NULL for NOT
// EXISTS). Where that test is a conjunct of the filter right above the join (pushdown puts it
// there), the join becomes a semi (anti) join on the subquery's rows themselves: no DISTINCT
// over the inner rows (TPC-H Q4: 3.8M lineitems into 1.4M groups), and the join may build
// whichever input is smaller. A matched row's keys equal the outer keys (a NULL key matches
// nothing), an unmatched one's are NULL: a projection gives the columns above exactly that.
PlanPtr SemiJoins(const PlanPtr& p) {
  if (p->children.empty()) return p;
  auto c = Copy(*p);
  for (auto& ch : c->children) ch = SemiJoins(ch);
  if (c->kind != PlanKind::kFilter) return c;
  const PlanNode& j = *c->children[0];
  if (j.kind != PlanKind::kJoin || j.join_type != JoinType::kLeft || j.residual || j.left_keys.empty())
    return c;
  const PlanNode& agg = *j.children[1];
  const size_t k = j.left_keys.size();
  if (agg.kind != PlanKind::kAggregate || !agg.aggregates.empty() || !agg.grouping_sets.empty() ||
      agg.grouping_id || agg.groups.size() != k)
    return c;
  for (size_t i = 0; i < k; ++i) {
    const Expr& rk = *j.right_keys[i];
    if (rk.kind != ExprKind::kColumn || rk.column != static_cast<int>(i) || !agg.groups[i]->deterministic() ||
        HasSubquery(*agg.groups[i]) || HasSubquery(*j.left_keys[i]))
      return c;
  }
  const int nl = static_cast<int>(j.children[0]->output.size());
  std::vector<ExprPtr> conj, rest;
  Split(c->predicate, conj);
  int found = -1;
  bool anti = false;
  for (size_t i = 0; i < conj.size(); ++i) {
    const Expr* e = conj[i].get();
    bool flip = false;  // NOT EXISTS binds as NOT (key IS NOT NULL)
    while (e->kind == ExprKind::kNot && e->args.size() == 1) {
      e = e->args[0].get();
      flip = !flip;
    }
    if (found < 0 && e->kind == ExprKind::kIsNull && e->args.size() == 1 && e->args[0]->kind == ExprKind::kColumn &&
        e->args[0]->column >= nl) {
      found = static_cast<int>(i);
      anti = e->negated == flip;
    } else {
      rest.push_back(conj[i]);
    }
  }
  if (found < 0) return c;
  auto semi = std::make_shared<PlanNode>(PlanKind::kJoin);
  semi->join_type = anti ? JoinType::kAnti : JoinType::kSemi;
  semi->children = {j.children[0], agg.children[0]};
  semi->left_keys = j.left_keys;
  semi->right_keys = agg.groups;
  semi->output = j.children[0]->output;
  auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
  proj->output = j.output;
  for (int i = 0; i < nl; ++i)
    proj->exprs.push_back(MakeColumn(i, j.output[static_cast<size_t>(i)].type, j.output[static_cast<size_t>(i)].name));
  for (size_t i = 0; i < k; ++i)
    proj->exprs.push_back(anti ? MakeLiteral(Value::Null(j.right_keys[i]->type)) : j.left_keys[i]);
  proj->children.push_back(semi);
  return WithFilter(proj, rest);
}

// ---------------------------------------------------------------- magic sets
//
// The binder turns a correlated aggregate subquery (TPC-H Q17's `avg(l_quantity) ... WHERE
// l_partkey = p_partkey`, Q20's `sum(l_quantity)` per (partkey, suppkey)) into a join of the
// outer plan with the subquery aggregated over its correlation keys: over every row of its input
// (Q17 at SF10: 60M lineitems into 2M groups), though the outer rows hold a few thousand keys.
// A group whose keys no outer row has never meets a row of the join, and the groups of the others
// are whole whatever rows of other keys are removed, so the aggregate's input may be reduced by a
// semi join with any plan whose key values include the outer rows' ones: the outer plan, or a
// part of it that yields those key columns: a scan with its filters (and semi joins) below the
// outer's joins, following the joins' equalities to the smaller input. That part is evaluated
// twice (once for the outer rows, once as the semi join's build), so it must hold no other join
// (a join tree may cost as much as the outer query again), and the reduction is taken when it is
// estimated at under half of the aggregate's input.

// True when evaluating `p` twice yields the same rows: no expression of it is nondeterministic
// and it has no LIMIT (which may keep other rows each time).
bool Repeatable(const PlanNode& p) {
  if (p.kind == PlanKind::kLimit || p.kind == PlanKind::kWindow) return false;
  auto ok = [](const ExprPtr& e) { return !e || e->deterministic(); };
  auto all = [&](const std::vector<ExprPtr>& v) { return std::all_of(v.begin(), v.end(), ok); };
  if (!ok(p.predicate) || !ok(p.residual) || !all(p.exprs) || !all(p.groups) || !all(p.scan_filters) ||
      !all(p.left_keys) || !all(p.right_keys))
    return false;
  for (const auto& a : p.aggregates)
    if (!all(a.args) || !ok(a.filter)) return false;
  for (const auto& row : p.rows)
    if (!all(row)) return false;
  for (const auto& ch : p.children)
    if (!Repeatable(*ch)) return false;
  return true;
}

PlanPtr DeepCopy(const PlanPtr& p) {
  auto c = Copy(*p);
  for (auto& ch : c->children) ch = DeepCopy(ch);
  return c;
}

// Rows of `p` for the choice of a key source: EstimateRows, except that a scan yields all its
// rows (its filters only prune morsels: the Filter above it, a candidate of its own, drops the
// rows), and that a semi join with one key column keeps the share of its kept input whose key
// the other input's rows can cover (Q20's partsupp semi join part LIKE 'forest%'), where
// EstimateRows keeps the whole kept input.
double KeySourceRows(const PlanNode& p) {
  if (p.kind == PlanKind::kScan && !p.scan_filters.empty()) {
    auto unfiltered = Copy(p);
    unfiltered->scan_filters.clear();
    return EstimateRows(*unfiltered);
  }
  if (p.kind == PlanKind::kJoin && p.join_type == JoinType::kSemi && p.left_keys.size() == 1 &&
      p.left_keys[0]->kind == ExprKind::kColumn) {
    const double kept = EstimateRows(*p.children[0]), other = EstimateRows(*p.children[1]);
    const double ndv = ColumnNdv(*p.children[0], p.left_keys[0]->column);
    if (ndv >= 1) return std::max(1.0, kept * std::min(1.0, other / ndv));
  }
  return EstimateRows(p);
}

struct KeySource {
  PlanPtr plan;
  std::vector<int> cols;  // the key columns in plan's output
  double rows = std::numeric_limits<double>::infinity();
};

// True when `p` has no join but semi joins: reading it costs about one scan of a table, where a
// join tree may cost as much as the whole outer query again (TPC-H Q21's lineitem x orders x
// supplier x nation, estimated at few rows, would be evaluated once more per subquery).
bool JoinFree(const PlanNode& p) {
  if (p.kind == PlanKind::kJoin && p.join_type != JoinType::kSemi && p.join_type != JoinType::kRightSemi)
    return false;
  return std::all_of(p.children.begin(), p.children.end(), [](const PlanPtr& c) { return JoinFree(*c); });
}

// The join-free subtree of `p` (p itself included) with the fewest estimated rows whose output
// holds, in columns, a superset of the values of p's columns `cols` (as tuples).
void FindKeySource(const PlanPtr& p, const std::vector<int>& cols, KeySource& best) {
  if (JoinFree(*p)) {
    const double rows = KeySourceRows(*p);
    if (rows <= best.rows) best = {p, cols, rows};  // on a tie the smaller subtree, found later
  }
  auto down = [&](const PlanPtr& child, const std::function<int(int)>& map) {
    std::vector<int> m;
    for (int c : cols) {
      const int x = map(c);
      if (x < 0) return;
      m.push_back(x);
    }
    FindKeySource(child, m, best);
  };
  switch (p->kind) {
    case PlanKind::kFilter:
    case PlanKind::kSort:
    case PlanKind::kDistinct: down(p->children[0], [](int c) { return c; }); break;
    case PlanKind::kProject:
      down(p->children[0], [&](int c) {
        const Expr& e = *p->exprs[static_cast<size_t>(c)];
        return e.kind == ExprKind::kColumn ? e.column : -1;
      });
      break;
    case PlanKind::kAggregate:
      if (!p->grouping_sets.empty() || p->grouping_id) break;
      down(p->children[0], [&](int c) {
        if (c >= static_cast<int>(p->groups.size())) return -1;
        const Expr& e = *p->groups[static_cast<size_t>(c)];
        return e.kind == ExprKind::kColumn ? e.column : -1;
      });
      break;
    case PlanKind::kJoin: {
      // A row of an inner join comes from a row of each input, with equal keys; a row of a
      // semi join from a row of its kept input whose keys some row of the other input has.
      const JoinType t = p->join_type;
      const int nl = static_cast<int>(p->children[0]->output.size());
      // A row of a left (right) join carries a row of its left (right) input, or NULLs where
      // the other input had no match: the preserved input holds all its key values (TPC-H Q21's
      // NOT EXISTS aggregate, above the EXISTS one's left join).
      if (t == JoinType::kLeft) down(p->children[0], [&](int c) { return c < nl ? c : -1; });
      if (t == JoinType::kRight) down(p->children[1], [&](int c) { return c >= nl ? c - nl : -1; });
      if (t != JoinType::kInner && t != JoinType::kCross && t != JoinType::kSemi && t != JoinType::kRightSemi)
        break;
      const bool semi = t == JoinType::kSemi || t == JoinType::kRightSemi;
      for (int side = 0; side < 2; ++side) {
        const int first = semi ? 0 : (side == 0 ? 0 : nl);
        const int width = static_cast<int>(p->children[static_cast<size_t>(side)]->output.size());
        const std::vector<ExprPtr>& mine = side == 0 ? p->left_keys : p->right_keys;
        const std::vector<ExprPtr>& other = side == 0 ? p->right_keys : p->left_keys;
        const size_t kept = semi ? KeptChild(t) : 2;  // 2: both inputs' columns are output
        down(p->children[static_cast<size_t>(side)], [&](int c) {
          // c as a column of the output of this side's input: its own, or the input's key
          // column that an equality makes equal to it.
          const bool own = semi ? kept == static_cast<size_t>(side) : (c >= first && c < first + width);
          if (own) return semi ? c : c - first;
          const int in_other = semi ? c : (side == 0 ? c - nl : c);
          for (size_t k = 0; k < other.size(); ++k)
            if (other[k]->kind == ExprKind::kColumn && other[k]->column == in_other &&
                mine[k]->kind == ExprKind::kColumn && mine[k]->type == other[k]->type)
              return mine[k]->column;
          return -1;
        });
      }
      break;
    }
    default: break;
  }
}

PlanPtr MagicSets(const PlanPtr& p) {
  if (p->children.empty()) return p;
  auto c = Copy(*p);
  for (auto& ch : c->children) ch = MagicSets(ch);
  if (c->kind != PlanKind::kJoin || (c->join_type != JoinType::kLeft && c->join_type != JoinType::kInner) ||
      c->left_keys.empty())
    return c;
  const PlanNode& agg = *c->children[1];
  if (agg.kind != PlanKind::kAggregate || !agg.grouping_sets.empty() || agg.grouping_id || agg.groups.empty())
    return c;
  std::vector<int> outer_cols;
  std::vector<ExprPtr> inner_keys;
  for (size_t i = 0; i < c->left_keys.size(); ++i) {
    const Expr& lk = *c->left_keys[i];
    const Expr& rk = *c->right_keys[i];
    if (lk.kind != ExprKind::kColumn || rk.kind != ExprKind::kColumn ||
        rk.column >= static_cast<int>(agg.groups.size()))
      return c;
    const ExprPtr& g = agg.groups[static_cast<size_t>(rk.column)];
    if (!g->deterministic() || HasSubquery(*g) || g->type != lk.type) return c;
    outer_cols.push_back(lk.column);
    inner_keys.push_back(g);
  }
  const PlanPtr& input = agg.children[0];
  const double input_rows = EstimateRows(*input);
  KeySource src;
  FindKeySource(c->children[0], outer_cols, src);
  if (!src.plan || !(src.rows * 2 <= input_rows) || !Repeatable(*src.plan)) return c;
  auto semi = std::make_shared<PlanNode>(PlanKind::kJoin);
  semi->join_type = JoinType::kSemi;
  semi->children = {input, DeepCopy(src.plan)};
  semi->left_keys = inner_keys;
  for (size_t i = 0; i < src.cols.size(); ++i) {
    const size_t col = static_cast<size_t>(src.cols[i]);
    semi->right_keys.push_back(MakeColumn(src.cols[i], src.plan->output[col].type, src.plan->output[col].name));
  }
  semi->output = input->output;
  auto reduced = Copy(agg);
  reduced->children = {semi};
  c->children[1] = reduced;
  return c;
}

PlanPtr ChooseBuildSides(const PlanPtr& p) {
  if (p->children.empty()) return p;
  auto c = Copy(*p);
  for (auto& ch : c->children) ch = ChooseBuildSides(ch);
  if (c->kind != PlanKind::kJoin) return c;
  if (c->join_type == JoinType::kSemi || c->join_type == JoinType::kAnti) {
    // Build the smaller input. The kept one as the build (kRightSemi/kRightAnti) is probed by the
    // other in parallel and emitted once all probes are done: TPC-H Q4 builds its 57k orders and
    // streams 3.8M lineitems past them, instead of keying the lineitems.
    if (!(EstimateRows(*c->children[0]) < EstimateRows(*c->children[1]))) return c;
    auto s = Copy(*c);
    std::swap(s->children[0], s->children[1]);
    std::swap(s->left_keys, s->right_keys);
    s->join_type = c->join_type == JoinType::kSemi ? JoinType::kRightSemi : JoinType::kRightAnti;
    return s;  // the same output: the kept input's columns
  }
  if (IsSemi(c->join_type)) return c;
  // A LEFT join that becomes a RIGHT one gives up its parallel probe (a RIGHT join's probe runs
  // on one thread) and holds its probe side's rows: it swaps only when its left input is smaller
  // even counting each join below as its larger input (TPC-H Q17, Q21 keep their LEFT joins).
  const bool outer = c->join_type != JoinType::kInner && c->join_type != JoinType::kCross;
  double l = EstimateRows(*c->children[0], outer), r = EstimateRows(*c->children[1], outer);
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

// ---------------------------------------------------------------- WITH queries read twice

// Each WITH query that the plan reads as a CteTable (its scans in the plan and in its
// subqueries' plans) is optimized once, as a plan of its own, and every scan of it then reads a
// table of the optimized plan, so that they still share one result. Tables made here are marked
// optimized: the Optimize calls of the subqueries, later, leave them alone. The scans themselves
// are leaves to the rewrites below (filters stay above them, since the rows are shared).
PlanPtr OptimizeWithQueries(const PlanPtr& plan, const OptimizerOptions& options) {
  std::map<const CteTable*, std::shared_ptr<const CteTable>> done;
  std::function<Result<PlanPtr>(const PlanNode&)> replace = [&](const PlanNode& scan) -> Result<PlanPtr> {
    const auto* cte = dynamic_cast<const CteTable*>(scan.table.get());
    if (cte == nullptr || cte->optimized()) return PlanPtr();
    auto it = done.find(cte);
    if (it == done.end()) {
      // The WITH queries it reads itself first, with the same map: one read by two others and
      // by the statement is still one table.
      SL_ASSIGN_OR_RETURN(PlanPtr inner, ReplaceScans(cte->plan(), replace));
      auto optimized = Optimize(inner, options);
      if (optimized.ok()) inner = *optimized;  // an unoptimized plan still runs correctly
      it = done.emplace(cte, std::make_shared<CteTable>(cte->name(), cte->schema(), inner, cte->references(),
                                                        /*optimized=*/true)).first;
    }
    auto c = Copy(scan);
    c->table = it->second;
    return PlanPtr(c);
  };
  auto r = ReplaceScans(plan, replace);
  return r.ok() ? *r : plan;
}

}  // namespace

Result<PlanPtr> Optimize(const PlanPtr& plan, const OptimizerOptions& options) {
  PlanPtr p = FoldConstants(OptimizeNestedPlans(OptimizeWithQueries(plan, options), options));
  if (options.pushdown) p = SemiJoins(Push(p));
  if (options.reorder_joins) p = ChooseBuildSides(MagicSets(ReorderJoins(p)));
  if (options.prune_columns) p = Restore(Prune(p, AllColumns(*p)), p->output);
  return p;
}

}  // namespace saleslake::sql
