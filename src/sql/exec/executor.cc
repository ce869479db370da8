#include "sql/exec/executor.h"

#include <algorithm>
#include <functional>
#include <map>

#include "sql/exec/internal/eval.h"
#include "sql/exec/internal/operators.h"
#include "sql/planner/cte_table.h"

namespace saleslake::sql {

using internal::QueryContext;

Batch ConcatBatches(const Schema& schema, const std::vector<Batch>& batches) {
  Batch out;
  size_t total = 0;
  for (const auto& b : batches) total += b.num_rows;
  for (size_t c = 0; c < schema.size(); ++c) {
    ColumnVector col(schema[c].type, std::max<size_t>(total, 1));
    col.Resize(0);
    for (const auto& b : batches)
      if (b.num_rows > 0) internal::AppendColumn(b.columns[c], b.num_rows, col);
    out.columns.push_back(std::move(col));
  }
  out.num_rows = total;
  return out;
}

namespace {

void WalkStats(const PlanNode& p, int depth, QueryContext& ctx, ExecStats* out) {
  OperatorStats s;
  std::string line = ExplainPlan(p);
  s.name = line.substr(2, line.find('\n') - 2);
  s.depth = depth;
  auto& all = ctx.all_stats();
  auto it = all.find(&p);
  if (it != all.end()) {
    s.rows_out = it->second->rows.load();
    s.seconds = static_cast<double>(it->second->nanos.load()) / 1e9;
    s.morsels_read = it->second->morsels_read.load();
    s.morsels_skipped = it->second->morsels_skipped.load();
    s.row_groups_read = it->second->parts_read.load();
    s.row_groups_skipped = it->second->parts_skipped.load();
    s.batches_skipped = it->second->batches_skipped.load();
    s.spill_partitions = it->second->spill_partitions.load();
    s.spill_bytes = it->second->spill_bytes.load();
    s.build_bytes = it->second->build_bytes.load();
  }
  out->operators.push_back(std::move(s));
  for (const auto& c : p.children) WalkStats(*c, depth + 1, ctx, out);
}

void PrecomputeExpr(const Expr& e, internal::SubqueryCache& cache) {
  // Errors are left for the lazy evaluation to report: a subquery under a branch that never
  // runs must not fail the query.
  switch (e.kind) {
    case ExprKind::kScalarSubquery: (void)cache.Scalar(e); break;
    case ExprKind::kInSubquery: (void)cache.Set(e); break;
    case ExprKind::kExists: (void)cache.Exists(e); break;
    default: break;
  }
  for (const auto& a : e.args) PrecomputeExpr(*a, cache);
}

// Runs the plan's uncorrelated subqueries before its pipelines start, with every worker free;
// evaluated lazily they would run inside the first worker that needs them while the others wait
// on the cache's lock.
void PrecomputeSubqueries(const PlanNode& p, internal::SubqueryCache& cache) {
  auto one = [&](const ExprPtr& e) {
    if (e) PrecomputeExpr(*e, cache);
  };
  auto all = [&](const std::vector<ExprPtr>& v) {
    for (const auto& e : v) one(e);
  };
  all(p.scan_filters);
  for (const auto& r : p.rows) all(r);
  one(p.predicate);
  all(p.exprs);
  all(p.groups);
  for (const auto& a : p.aggregates) {
    all(a.args);
    one(a.filter);
  }
  all(p.left_keys);
  all(p.right_keys);
  one(p.residual);
  for (const auto& k : p.sort_keys) one(k.expr);
  for (const auto& w : p.windows) {
    all(w.args);
    all(w.partition_by);
    for (const auto& k : w.order_by) one(k.expr);
  }
  for (const auto& c : p.children) PrecomputeSubqueries(*c, cache);
}

// Computes each WITH query the plan reads as a CteTable (in its tree or its subqueries' plans)
// once, before anything else runs, and returns the plan with every scan of it reading those rows
// (a MemoryTable of them, with statistics for pruning) instead. WITH queries read by others are
// computed first, once. The rows are held, and counted against the memory limit, until the
// statement ends.
Result<PlanPtr> ComputeWithQueries(const PlanPtr& plan, QueryContext& ctx, const std::atomic<bool>* stop) {
  std::map<const CteTable*, std::shared_ptr<const Table>> done;
  std::function<Result<PlanPtr>(const PlanNode&)> replace = [&](const PlanNode& scan) -> Result<PlanPtr> {
    const auto* cte = dynamic_cast<const CteTable*>(scan.table.get());
    if (cte == nullptr) return PlanPtr();
    auto it = done.find(cte);
    if (it == done.end()) {
      SL_ASSIGN_OR_RETURN(PlanPtr inner, ReplaceScans(cte->plan(), replace));
      SL_RETURN_IF_ERROR(ctx.Check());
      SL_ASSIGN_OR_RETURN(MaterializedResult rows, ExecutePlan(inner, ctx.options(), nullptr, stop));
      int64_t bytes = 0;
      for (const Batch& b : rows.batches) bytes += internal::BatchBytes(b);
      SL_RETURN_IF_ERROR(ctx.Reserve(bytes));
      auto table = MemoryTable::Make(cte->name() + " (WITH query, computed once)", cte->schema(),
                                     std::move(rows.batches));
      it = done.emplace(cte, std::move(table)).first;
    }
    auto c = std::make_shared<PlanNode>(scan);
    c->table = it->second;
    return PlanPtr(c);
  };
  return ReplaceScans(plan, replace);
}

}  // namespace

Result<MaterializedResult> ExecutePlan(const PlanPtr& plan_in, const ExecOptions& options,
                                       ExecStats* stats, const std::atomic<bool>* stop) {
  QueryContext ctx(options, stop);
  SL_ASSIGN_OR_RETURN(PlanPtr plan, ComputeWithQueries(plan_in, ctx, stop));
  PrecomputeSubqueries(*plan, *ctx.subqueries());
  MaterializedResult result;
  result.schema = OutputSchema(*plan);
  std::mutex mu;
  std::vector<std::vector<Batch>> by_morsel;
  SL_ASSIGN_OR_RETURN(size_t workers, internal::ParallelDrain(plan, ctx, [&](size_t, size_t m, Batch& b) {
    if (b.num_rows == 0 && !b.columns.empty()) return Status::OK();
    SL_RETURN_IF_ERROR(ctx.Reserve(internal::BatchBytes(b)));
    std::lock_guard<std::mutex> lock(mu);
    if (by_morsel.size() <= m) by_morsel.resize(m + 1);
    by_morsel[m].push_back(std::move(b));
    return Status::OK();
  }));
  (void)workers;
  for (auto& v : by_morsel)
    for (auto& b : v) result.batches.push_back(std::move(b));
  if (stats) {
    WalkStats(*plan, 0, ctx, stats);
    stats->peak_memory_bytes = ctx.peak();
  }
  return result;
}

Result<std::vector<ColumnVector>> EvaluateScalars(const std::vector<ExprPtr>& exprs, const Batch& in) {
  // Never consulted (the expressions read no tables), but the evaluator wants one.
  const ExecOptions options{.max_threads = 1};
  internal::SubqueryCache no_subqueries(options, nullptr);
  internal::Evaluator eval(&no_subqueries);
  std::vector<ColumnVector> out;
  out.reserve(exprs.size());
  for (const ExprPtr& e : exprs) {
    SL_ASSIGN_OR_RETURN(ColumnVector v, eval.EvalOwned(*e, in));
    out.push_back(std::move(v));
  }
  return out;
}

// ---------------------------------------------------------------- MemoryTable

std::shared_ptr<MemoryTable> MemoryTable::Make(std::string name, Schema schema,
                                               std::vector<Batch> batches, size_t morsel_rows) {
  auto t = std::shared_ptr<MemoryTable>(new MemoryTable());
  t->name_ = std::move(name);
  t->schema_ = std::move(schema);
  Batch all = ConcatBatches(t->schema_, batches);
  t->rows_ = all.num_rows;
  morsel_rows = std::max<size_t>(morsel_rows, 1);
  for (size_t start = 0; start < all.num_rows || (start == 0 && all.num_rows == 0); start += morsel_rows) {
    if (all.num_rows == 0) break;
    size_t n = std::min(morsel_rows, all.num_rows - start);
    std::vector<uint32_t> rows(n);
    for (size_t i = 0; i < n; ++i) rows[i] = static_cast<uint32_t>(start + i);
    Batch b = internal::GatherBatch(all, rows);
    Morsel m;
    m.index = t->morsels_.size();
    m.rows = static_cast<int64_t>(n);
    m.file = t->name_ + "#" + std::to_string(m.index);
    for (size_t c = 0; c < b.columns.size(); ++c) {
      ColumnStats s;
      s.null_count = static_cast<int64_t>(b.columns[c].CountNulls());
      for (size_t i = 0; i < n; ++i) {
        if (!b.columns[c].IsValid(i)) continue;
        Value v = GetValueAt(b.columns[c], i);
        if (s.min.is_null() || v.Compare(s.min) < 0) s.min = v;
        if (s.max.is_null() || v.Compare(s.max) > 0) s.max = v;
      }
      m.stats.push_back(std::move(s));
    }
    t->meta_.push_back(std::move(m));
    t->morsels_.push_back(std::move(b));
  }
  return t;
}

Result<std::vector<Morsel>> MemoryTable::Morsels() const { return meta_; }

Status MemoryTable::ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                               const std::function<Status(Batch&)>& sink) const {
  if (m.index >= morsels_.size()) return Status::Internal("bad morsel index");
  const Batch& src = morsels_[m.index];
  for (size_t start = 0; start < src.num_rows; start += kBatchRows) {
    size_t n = std::min(kBatchRows, src.num_rows - start);
    std::vector<uint32_t> rows(n);
    for (size_t i = 0; i < n; ++i) rows[i] = static_cast<uint32_t>(start + i);
    Batch out;
    out.num_rows = n;
    for (int c : columns) {
      if (c < 0 || static_cast<size_t>(c) >= src.columns.size()) return Status::Internal("bad column");
      ColumnVector col;
      internal::GatherColumn(src.columns[static_cast<size_t>(c)], rows.data(), n, col);
      out.columns.push_back(std::move(col));
    }
    SL_RETURN_IF_ERROR(sink(out));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- MemoryCatalog

namespace {
std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

void MemoryCatalog::AddTable(std::shared_ptr<const Table> table) {
  DropTable(table->name());
  tables_.push_back(std::move(table));
}

void MemoryCatalog::AddView(const std::string& name, std::string sql) {
  DropView(name);
  views_.emplace_back(Lower(name), std::move(sql));
}

bool MemoryCatalog::DropTable(const std::string& name) {
  auto it = std::find_if(tables_.begin(), tables_.end(),
                         [&](const auto& t) { return Lower(t->name()) == Lower(name); });
  if (it == tables_.end()) return false;
  tables_.erase(it);
  return true;
}

bool MemoryCatalog::DropView(const std::string& name) {
  auto it = std::find_if(views_.begin(), views_.end(), [&](const auto& v) { return v.first == Lower(name); });
  if (it == views_.end()) return false;
  views_.erase(it);
  return true;
}

Result<std::shared_ptr<const Table>> MemoryCatalog::GetTable(const std::string& name) const {
  std::string n = Lower(name);
  if (auto dot = n.rfind('.'); dot != std::string::npos) n = n.substr(dot + 1);
  for (const auto& t : tables_)
    if (Lower(t->name()) == n) return t;
  return Status::NotFound("table '" + name + "' not found");
}

std::optional<ViewDefinition> MemoryCatalog::GetView(const std::string& name) const {
  std::string n = Lower(name);
  if (auto dot = n.rfind('.'); dot != std::string::npos) n = n.substr(dot + 1);
  for (const auto& v : views_)
    if (v.first == n) return ViewDefinition{v.second};
  return std::nullopt;
}

std::vector<std::string> MemoryCatalog::ListTables() const {
  std::vector<std::string> out;
  for (const auto& t : tables_) out.push_back(t->name());
  for (const auto& v : views_) out.push_back(v.first);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace saleslake::sql
