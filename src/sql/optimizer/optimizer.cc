#include "sql/optimizer/optimizer.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace saleslake::sql {

namespace {

void ColumnsOf(const Expr& e, std::set<int>& out) {
  if (e.kind == ExprKind::kColumn) out.insert(e.column);
  for (const auto& a : e.args) ColumnsOf(*a, out);
}

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

PlanPtr Push(const PlanPtr& p);

PlanPtr PushFilter(const PlanNode& filter) {
  const PlanPtr& child = filter.children[0];
  std::vector<ExprPtr> conj;
  Split(filter.predicate, conj);
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
        if (Pushable(c)) scan->scan_filters.push_back(c);
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

ExprPtr NullOf(const DataType& t) { return MakeLiteral(Value::Null(t)); }

PlanPtr Prune(const PlanPtr& p, std::set<int> req) {
  switch (p->kind) {
    case PlanKind::kScan: {
      for (const auto& f : p->scan_filters) ColumnsOf(*f, req);
      size_t width = p->output.size();
      if (req.size() >= width) return p;
      // No column needed (count(*)): the scan reads none and takes row counts from metadata.
      auto scan = Copy(*p);
      scan->scan_columns.clear();
      scan->output.clear();
      std::map<int, int> remap;
      for (int c : req) {
        remap[c] = static_cast<int>(scan->scan_columns.size());
        scan->scan_columns.push_back(p->scan_columns[static_cast<size_t>(c)]);
        scan->output.push_back(p->output[static_cast<size_t>(c)]);
      }
      for (auto& f : scan->scan_filters)
        f = Rewrite(f, [&](const Expr& col) { return MakeColumn(remap[col.column], col.type, col.name); });
      auto proj = std::make_shared<PlanNode>(PlanKind::kProject);
      proj->output = p->output;
      for (size_t i = 0; i < width; ++i) {
        auto it = remap.find(static_cast<int>(i));
        proj->exprs.push_back(it == remap.end() ? NullOf(p->output[i].type)
                                                : MakeColumn(it->second, p->output[i].type, p->output[i].name));
      }
      proj->children.push_back(scan);
      return proj;
    }
    case PlanKind::kProject: {
      auto c = Copy(*p);
      std::set<int> child_req;
      for (size_t i = 0; i < c->exprs.size(); ++i) {
        if (!req.count(static_cast<int>(i)) && c->exprs[i]->deterministic() && !HasSubquery(*c->exprs[i])) {
          c->exprs[i] = NullOf(c->exprs[i]->type);
          continue;
        }
        ColumnsOf(*c->exprs[i], child_req);
      }
      c->children[0] = Prune(p->children[0], child_req);
      return c;
    }
    case PlanKind::kFilter: {
      auto c = Copy(*p);
      ColumnsOf(*p->predicate, req);
      c->children[0] = Prune(p->children[0], req);
      return c;
    }
    case PlanKind::kAggregate: {
      auto c = Copy(*p);
      std::set<int> r;
      for (const auto& g : p->groups) ColumnsOf(*g, r);
      for (const auto& a : p->aggregates) {
        for (const auto& x : a.args) ColumnsOf(*x, r);
        if (a.filter) ColumnsOf(*a.filter, r);
      }
      c->children[0] = Prune(p->children[0], r);
      return c;
    }
    case PlanKind::kJoin: {
      auto c = Copy(*p);
      int nl = static_cast<int>(p->children[0]->output.size());
      if (p->residual) ColumnsOf(*p->residual, req);
      std::set<int> l, r;
      for (int i : req) {
        if (i < nl) l.insert(i); else r.insert(i - nl);
      }
      for (const auto& k : p->left_keys) ColumnsOf(*k, l);
      for (const auto& k : p->right_keys) ColumnsOf(*k, r);
      c->children[0] = Prune(p->children[0], l);
      c->children[1] = Prune(p->children[1], r);
      return c;
    }
    case PlanKind::kSort: {
      auto c = Copy(*p);
      for (const auto& k : p->sort_keys) ColumnsOf(*k.expr, req);
      c->children[0] = Prune(p->children[0], req);
      return c;
    }
    case PlanKind::kLimit: {
      auto c = Copy(*p);
      c->children[0] = Prune(p->children[0], req);
      return c;
    }
    case PlanKind::kWindow: {
      auto c = Copy(*p);
      int width = static_cast<int>(p->children[0]->output.size());
      std::set<int> r;
      for (int i : req)
        if (i < width) r.insert(i);
      for (const auto& w : p->windows) {
        for (const auto& x : w.args) ColumnsOf(*x, r);
        for (const auto& x : w.partition_by) ColumnsOf(*x, r);
        for (const auto& k : w.order_by) ColumnsOf(*k.expr, r);
      }
      c->children[0] = Prune(p->children[0], r);
      return c;
    }
    default: {
      if (p->children.empty()) return p;
      auto c = Copy(*p);
      for (auto& ch : c->children) {
        std::set<int> all;
        for (size_t i = 0; i < ch->output.size(); ++i) all.insert(static_cast<int>(i));
        ch = Prune(ch, all);
      }
      return c;
    }
  }
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
  PlanPtr p = plan;
  if (options.pushdown) p = Push(p);
  if (options.reorder_joins) p = ChooseBuildSides(p);
  if (options.prune_columns) {
    std::set<int> all;
    for (size_t i = 0; i < p->output.size(); ++i) all.insert(static_cast<int>(i));
    p = Prune(p, all);
  }
  return p;
}

}  // namespace saleslake::sql
