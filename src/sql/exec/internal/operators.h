// Physical operators (pull-based, one virtual call per batch) and the query-wide context.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "sql/exec/executor.h"
#include "sql/exec/internal/eval.h"
#include "sql/exec/internal/spill.h"

namespace saleslake::sql::internal {

// Figures of one plan node, updated from many threads.
struct NodeStats {
  std::atomic<uint64_t> rows{0};
  std::atomic<uint64_t> nanos{0};
  std::atomic<uint64_t> morsels_read{0}, morsels_skipped{0};
  std::atomic<uint64_t> parts_read{0}, parts_skipped{0};  // row groups inside read morsels
  std::atomic<uint64_t> batches_skipped{0};  // by the scan's filters before their other columns
  std::atomic<uint64_t> spill_partitions{0}, spill_bytes{0};  // files a join wrote, and their bytes
  std::atomic<uint64_t> build_bytes{0};  // what a hash join's keyed build holds (each partition's, summed)
};

// The build side of a hash join once collected and keyed (hash_join_op.cc), shared by the
// join's operators in every worker of a parallel pipeline.
struct JoinBuild;

// State shared by every operator of one query. Thread safety: methods are safe from any thread.
class QueryContext {
 public:
  // Resolves the default memory limit and turns a timeout into a deadline (which subqueries
  // then share).
  // `stop`: a second cancel flag (see ExecutePlan), or null.
  QueryContext(const ExecOptions& options, const std::atomic<bool>* stop)
      : options_(Resolve(options)), stop_(stop), subqueries_(options_, stop),
        spill_dir_(options_.spill_dir) {}
  static ExecOptions Resolve(const ExecOptions& options);
  const ExecOptions& options() const { return options_; }
  SubqueryCache* subqueries() { return &subqueries_; }
  // kCancelled when the query was cancelled or ran past its deadline.
  Status Check() const;
  // Accounts for `bytes` more memory; kResourceExhausted past the limit.
  Status Reserve(int64_t bytes);
  // Accounts for `bytes` more memory if that stays within the limit, else changes nothing and
  // returns false (an operator that can spill then spills instead of failing).
  bool TryReserve(int64_t bytes);
  void Release(int64_t bytes) { used_.fetch_sub(bytes); }
  int64_t peak() const { return peak_.load(); }
  int64_t used() const { return used_.load(); }
  // The query's spill directory (made on first use of a file, removed with the context).
  SpillDir& spill_dir() { return spill_dir_; }
  NodeStats* StatsFor(const PlanNode* node);
  // The build of join `node`, made by `make` by the first caller (others wait for it) and
  // shared with every later one; its error too.
  Result<std::shared_ptr<const JoinBuild>> SharedJoinBuild(
      const PlanNode* node, const std::function<Result<std::shared_ptr<const JoinBuild>>()>& make);
  // REQUIRES: no operator of the query is running (read after it, for EXPLAIN ANALYZE).
  const std::unordered_map<const PlanNode*, std::unique_ptr<NodeStats>>& all_stats() const
      SL_NO_THREAD_SAFETY_ANALYSIS {
    return stats_;
  }

 private:
  ExecOptions options_;
  const std::atomic<bool>* stop_;
  SubqueryCache subqueries_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> peak_{0};
  // Before builds_: the spill files of shared join builds go after the builds that read them.
  SpillDir spill_dir_;
  Mutex mu_;
  std::unordered_map<const PlanNode*, std::unique_ptr<NodeStats>> stats_ SL_GUARDED_BY(mu_);
  struct BuildSlot {
    std::once_flag once;
    Result<std::shared_ptr<const JoinBuild>> result = Status::Internal("join build not made");
  };
  std::unordered_map<const PlanNode*, std::unique_ptr<BuildSlot>> builds_ SL_GUARDED_BY(mu_);
};

class Operator {
 public:
  virtual ~Operator() = default;
  // Next batch (flat or constant columns, no selection); false when done.
  virtual Result<bool> Next(Batch& out) = 0;
};

// Pulls from an operator, recording rows and time into `stats` (may be null).
Result<bool> Pull(Operator& op, Batch& out, NodeStats* stats);

// Builds the operator tree of a plan. `morsels` (when not null) restricts the plan's scan.
// With keep_dictionaries, a streaming chain (Filter/Project over a Scan) may return dictionary
// columns (for consumers that handle every encoding); otherwise outputs are flat or constant.
Result<std::unique_ptr<Operator>> BuildOperator(const PlanPtr& plan, QueryContext& ctx,
                                                const std::vector<Morsel>* morsels = nullptr,
                                                bool keep_dictionaries = false);

// Runs `plan` to completion, in parallel over scan morsels when the plan is a streaming chain
// (Filter/Project) over a Scan. sink(worker, morsel_index, batch) is called from worker threads;
// worker < returned worker count. Returns the number of workers used. keep_dictionaries: as in
// BuildOperator.
Result<size_t> ParallelDrain(const PlanPtr& plan, QueryContext& ctx,
                             const std::function<Status(size_t worker, size_t morsel, Batch&)>& sink,
                             bool keep_dictionaries = false);

// Approximate bytes held by a batch.
int64_t BatchBytes(const Batch& b);

// Morsels of a scan that survive pruning by its filters' min/max/null-count stats. Comparisons
// with an uncorrelated scalar subquery use its value from `subqueries` (may be null).
Result<std::vector<Morsel>> PrunedMorsels(const PlanNode& scan, NodeStats* stats,
                                          SubqueryCache* subqueries);

}  // namespace saleslake::sql::internal
