// Runs a logical plan: vectorized operators over common::Batch, morsel-driven parallel scans
// (thread-local partial aggregates merged at the end), hash joins, sorts, windows.
//
// Thread safety: ExecutePlan may be called from many threads at once (each call has its own
// state); it uses ThreadPool::Default() for parallel work.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "sql/exec/exec_types.h"
#include "sql/planner/plan.h"

namespace saleslake::sql {

// Per-operator figures for EXPLAIN ANALYZE, in plan order (pre-order walk).
struct OperatorStats {
  std::string name;
  int depth = 0;
  uint64_t rows_out = 0;
  double seconds = 0;
  uint64_t morsels_read = 0, morsels_skipped = 0;  // files of a lake table
  uint64_t row_groups_read = 0, row_groups_skipped = 0;  // inside the files read
  uint64_t batches_skipped = 0;  // by the scan's filters, other columns not decoded
  uint64_t spill_partitions = 0, spill_bytes = 0;  // files a hash join wrote over the memory limit
  uint64_t build_bytes = 0;  // what a hash join's keyed build side holds (rows, key table, chains)
};

struct ExecStats {
  std::vector<OperatorStats> operators;
  int64_t peak_memory_bytes = 0;
};

// `stop`, when set, is a second cancel flag beside options.cancel (QueryResult::Cancel); it
// reaches the query's subqueries too.
Result<MaterializedResult> ExecutePlan(const PlanPtr& plan, const ExecOptions& options,
                                       ExecStats* stats = nullptr,
                                       const std::atomic<bool>* stop = nullptr);

// Evaluates scalar expressions that read no tables (no subqueries) over the rows of `in`, which
// must have no selection: one owned column per expression (strings may point into `in`).
// For sql::CompiledExpressions.
Result<std::vector<ColumnVector>> EvaluateScalars(const std::vector<ExprPtr>& exprs, const Batch& in);

// An in-memory table, split into morsels of `morsel_rows` rows (tests, VALUES-like sources,
// CTAS staging). Stats (min/max/nulls) are computed per morsel so pruning can be tested.
class MemoryTable final : public Table {
 public:
  static std::shared_ptr<MemoryTable> Make(std::string name, Schema schema,
                                           std::vector<Batch> batches,
                                           size_t morsel_rows = 64 * 1024);
  const std::string& name() const override { return name_; }
  const Schema& schema() const override { return schema_; }
  Result<std::vector<Morsel>> Morsels() const override;
  Status ReadMorsel(const Morsel& m, const std::vector<int>& columns,
                    const std::function<Status(Batch&)>& sink) const override;
  size_t num_rows() const { return rows_; }

 private:
  MemoryTable() = default;
  std::string name_;
  Schema schema_;
  std::vector<Batch> morsels_;  // one batch per morsel
  std::vector<Morsel> meta_;
  size_t rows_ = 0;
};

// A catalog of in-memory tables and views. Thread safety: reads may run concurrently with each
// other; writes (Add*, Drop*) need external synchronisation with reads.
class MemoryCatalog final : public Catalog {
 public:
  void AddTable(std::shared_ptr<const Table> table);
  void AddView(const std::string& name, std::string sql);
  bool DropTable(const std::string& name);
  bool DropView(const std::string& name);
  Result<std::shared_ptr<const Table>> GetTable(const std::string& name) const override;
  std::optional<ViewDefinition> GetView(const std::string& name) const override;
  std::vector<std::string> ListTables() const override;

 private:
  std::vector<std::shared_ptr<const Table>> tables_;
  std::vector<std::pair<std::string, std::string>> views_;
};

// Concatenates batches into one (strings copied). Used by sorts, joins and tests.
Batch ConcatBatches(const Schema& schema, const std::vector<Batch>& batches);

}  // namespace saleslake::sql
