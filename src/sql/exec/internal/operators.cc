#include "sql/exec/internal/operators.h"

#include "sql/exec/internal/physical_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <numeric>
#include <unordered_set>

#include <unistd.h>

#include <fmt/format.h>

#include "common/thread_pool.h"

namespace saleslake::sql::internal {

Status QueryContext::Check() const {
  if ((options_.cancel && options_.cancel->load()) || (stop_ && stop_->load()))
    return Status::Cancelled("query cancelled");
  if (options_.deadline && std::chrono::steady_clock::now() > *options_.deadline)
    return Status::Cancelled("query stopped: time limit reached");
  return Status::OK();
}

ExecOptions QueryContext::Resolve(const ExecOptions& options) {
  ExecOptions o = options;
  if (o.memory_limit_bytes < 0) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    o.memory_limit_bytes =
        pages > 0 && page > 0 ? static_cast<int64_t>(static_cast<double>(pages) * static_cast<double>(page) * 0.6) : 0;
  }
  if (o.timeout.count() > 0) {
    auto end = std::chrono::steady_clock::now() + o.timeout;
    if (!o.deadline || end < *o.deadline) o.deadline = end;
  }
  return o;
}

namespace {
std::string ByteText(int64_t b) {
  if (b >= (int64_t{1} << 30)) return fmt::format("{:.1f} GB", static_cast<double>(b) / (1 << 30));
  if (b >= (int64_t{1} << 20)) return fmt::format("{:.1f} MB", static_cast<double>(b) / (1 << 20));
  if (b >= (int64_t{1} << 10)) return fmt::format("{:.1f} KB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} bytes", b);
}
}  // namespace

Status QueryContext::Reserve(int64_t bytes) {
  int64_t now = used_.fetch_add(bytes) + bytes;
  int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  if (options_.memory_limit_bytes > 0 && now > options_.memory_limit_bytes)
    return Status::ResourceExhausted(fmt::format(
        "query exceeded memory limit of {} (its hash tables, sorts and buffered rows need more; "
        "raise the limit with --memory-limit MB)",
        ByteText(options_.memory_limit_bytes)));
  return Status::OK();
}

bool QueryContext::TryReserve(int64_t bytes) {
  const int64_t limit = options_.memory_limit_bytes;
  int64_t now = used_.load();
  do {
    if (limit > 0 && now + bytes > limit) return false;
  } while (!used_.compare_exchange_weak(now, now + bytes));
  now += bytes;
  int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  return true;
}

Result<std::shared_ptr<const JoinBuild>> QueryContext::SharedJoinBuild(
    const PlanNode* node, const std::function<Result<std::shared_ptr<const JoinBuild>>()>& make) {
  BuildSlot* slot;
  {
    MutexLock lock(mu_);
    auto& s = builds_[node];
    if (!s) s = std::make_unique<BuildSlot>();
    slot = s.get();
  }
  std::call_once(slot->once, [&] { slot->result = make(); });
  return slot->result;
}

NodeStats* QueryContext::StatsFor(const PlanNode* node) {
  MutexLock lock(mu_);
  auto& s = stats_[node];
  if (!s) s = std::make_unique<NodeStats>();
  return s.get();
}

Result<bool> Pull(Operator& op, Batch& out, NodeStats* stats) {
  if (stats == nullptr) return op.Next(out);
  auto t0 = std::chrono::steady_clock::now();
  auto r = op.Next(out);
  auto t1 = std::chrono::steady_clock::now();
  stats->nanos += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  if (r.ok() && *r) stats->rows += out.num_rows;
  return r;
}

int64_t BatchBytes(const Batch& b) {
  int64_t n = 64;
  for (const auto& c : b.columns) {
    n += static_cast<int64_t>(c.size() * c.type().byte_width());
    if (c.type().id == TypeId::kVarchar && c.encoding() == VectorEncoding::kFlat) {
      const auto* d = c.data<std::string_view>();
      for (size_t i = 0; i < c.size(); ++i) n += static_cast<int64_t>(d[i].size());
    }
  }
  return n;
}

namespace {

bool IsPipeline(const PlanNode& p) {
  if (p.kind == PlanKind::kScan) return true;
  if (p.kind == PlanKind::kFilter || p.kind == PlanKind::kProject)
    return IsPipeline(*p.children[0]);
  // A hash join streams its probe (left) side: every worker probes the one shared build. Not
  // RIGHT/FULL joins, whose unmatched build rows need every probe seen first, nor RIGHT semi/anti
  // joins, which emit build rows.
  if (p.kind == PlanKind::kJoin && p.join_type != JoinType::kRight && p.join_type != JoinType::kFull &&
      p.join_type != JoinType::kRightSemi && p.join_type != JoinType::kRightAnti)
    return IsPipeline(*p.children[0]);
  return false;
}
const PlanNode* PipelineScan(const PlanNode& p) {
  if (p.kind == PlanKind::kScan) return &p;
  return PipelineScan(*p.children[0]);
}

}  // namespace

// Collects all of a plan's output, in parallel when possible, preserving morsel order.
Result<std::vector<Batch>> Collect(const PlanPtr& plan, QueryContext& ctx) {
  std::mutex mu;
  std::vector<std::vector<Batch>> by_morsel;
  Status mem;
  SL_ASSIGN_OR_RETURN(size_t workers, ParallelDrain(plan, ctx, [&](size_t, size_t m, Batch& b) {
    SL_RETURN_IF_ERROR(ctx.Reserve(BatchBytes(b)));
    std::lock_guard<std::mutex> lock(mu);
    if (by_morsel.size() <= m) by_morsel.resize(m + 1);
    by_morsel[m].push_back(std::move(b));
    return Status::OK();
  }));
  (void)workers;
  std::vector<Batch> out;
  for (auto& v : by_morsel)
    for (auto& b : v) out.push_back(std::move(b));
  return out;
}


Result<size_t> ParallelDrain(const PlanPtr& plan, QueryContext& ctx,
                             const std::function<Status(size_t, size_t, Batch&)>& sink,
                             bool keep_dictionaries) {
  NodeStats* root_stats = ctx.StatsFor(plan.get());
  if (!IsPipeline(*plan)) {
    SL_ASSIGN_OR_RETURN(auto op, BuildOperator(plan, ctx));
    Batch b;
    while (true) {
      SL_ASSIGN_OR_RETURN(bool more, Pull(*op, b, root_stats));
      if (!more) break;
      SL_RETURN_IF_ERROR(sink(0, 0, b));
      b = Batch();
    }
    return size_t{1};
  }
  const PlanNode* scan = PipelineScan(*plan);
  SL_ASSIGN_OR_RETURN(std::vector<Morsel> morsels, PrunedMorsels(*scan, ctx.StatsFor(scan), ctx.subqueries()));
  // The workers take the morsels in this order; a remote table fetches their footers ahead.
  if (morsels.size() > 1) scan->table->WillRead(morsels, scan->scan_columns);
  size_t threads = ctx.options().max_threads ? ctx.options().max_threads : ThreadPool::Default().size();
  size_t workers = std::max<size_t>(1, std::min(threads, morsels.size()));
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};
  auto work = [&](size_t w) {
    while (!failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= morsels.size()) return;
      std::vector<Morsel> one{morsels[i]};
      Status s = [&]() -> Status {
        SL_RETURN_IF_ERROR(ctx.Check());
        SL_ASSIGN_OR_RETURN(auto op, BuildOperator(plan, ctx, &one, keep_dictionaries));
        Batch b;
        while (true) {
          SL_ASSIGN_OR_RETURN(bool more, Pull(*op, b, root_stats));
          if (!more) return Status::OK();
          SL_RETURN_IF_ERROR(sink(w, i, b));
          b = Batch();
        }
      }();
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
        failed = true;
        return;
      }
    }
  };
  if (workers == 1) {
    work(0);
  } else {
    ThreadPool::Default().ParallelFor(workers, work, workers);
  }
  if (!first_error.ok()) return first_error;
  return workers;
}

Result<std::unique_ptr<Operator>> BuildOperator(const PlanPtr& plan, QueryContext& ctx,
                                                const std::vector<Morsel>* morsels,
                                                bool keep_dictionaries) {
  const PlanNode& p = *plan;
  switch (p.kind) {
    case PlanKind::kScan: {
      std::vector<Morsel> ms;
      if (morsels) {
        ms = *morsels;
      } else {
        SL_ASSIGN_OR_RETURN(ms, PrunedMorsels(p, ctx.StatsFor(&p), ctx.subqueries()));
      }
      return MakeScanOp(p, std::move(ms), ctx, keep_dictionaries);
    }
    case PlanKind::kValues: return MakeValuesOp(p, ctx);
    case PlanKind::kFilter: {
      const PlanNode& c = *p.children[0];
      if (ScanAppliesFilter(p, c)) {  // the scan filters its batches itself: no FilterOp
        std::vector<Morsel> ms;
        if (morsels) {
          ms = *morsels;
        } else {
          SL_ASSIGN_OR_RETURN(ms, PrunedMorsels(c, ctx.StatsFor(&c), ctx.subqueries()));
        }
        return MakeScanOp(c, std::move(ms), ctx, keep_dictionaries, &p);
      }
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx, morsels, keep_dictionaries));
      return MakeFilterOp(p, std::move(child), ctx);
    }
    case PlanKind::kProject: {
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx, morsels, keep_dictionaries));
      return MakeProjectOp(p, std::move(child), ctx);
    }
    case PlanKind::kLimit: {
      const PlanNode& c = *p.children[0];
      if (c.kind == PlanKind::kSort && p.limit >= 0) {  // top-N
        auto sort = MakeSortOp(c, p.limit + p.offset, ctx);
        return MakeLimitOp(p, std::move(sort), ctx);
      }
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx));
      return MakeLimitOp(p, std::move(child), ctx);
    }
    case PlanKind::kAggregate: return MakeHashAggregateOp(p, ctx);
    case PlanKind::kJoin: {
      if (p.join_type == JoinType::kRightSemi || p.join_type == JoinType::kRightAnti)
        return MakeRightSemiJoinOp(p, ctx);
      SL_ASSIGN_OR_RETURN(auto left, BuildOperator(p.children[0], ctx, morsels, keep_dictionaries));
      return MakeHashJoinOp(p, std::move(left), ctx);
    }
    case PlanKind::kSort: return MakeSortOp(p, -1, ctx);
    case PlanKind::kDistinct: {
      SL_ASSIGN_OR_RETURN(auto child, BuildOperator(p.children[0], ctx));
      return MakeDistinctOp(std::move(child), ctx.StatsFor(p.children[0].get()), ctx);
    }
    case PlanKind::kSetOp: {
      SL_ASSIGN_OR_RETURN(auto left, BuildOperator(p.children[0], ctx));
      if (p.set_op == SetOpKind::kUnion) {
        SL_ASSIGN_OR_RETURN(auto right, BuildOperator(p.children[1], ctx));
        auto cat = MakeConcatOp(std::move(left), std::move(right));
        if (p.all) return cat;
        return MakeDistinctOp(std::move(cat), nullptr, ctx);
      }
      return MakeIntersectExceptOp(p, std::move(left), ctx);
    }
    case PlanKind::kWindow: return MakeWindowOp(p, ctx);
  }
  return Status::Internal("unknown plan node");
}

}  // namespace saleslake::sql::internal
