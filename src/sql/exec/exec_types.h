// The executor's knobs and its materialized result: the only executor types the facade
// (sql/sql.h) passes through to other modules. Everything else of sql/exec stays inside sql.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/batch.h"

namespace saleslake::sql {

struct ExecOptions {
  // Worker threads for parallel pipelines (0 = the pool's size).
  size_t max_threads = 0;
  // Bytes the query's hash tables, join builds, sorts, window buffers and buffered results may
  // hold; past it the query fails with kResourceExhausted ("query exceeded memory limit of
  // ..."). 0 = no limit; kDefaultMemoryLimit = 60% of the machine's physical memory.
  static constexpr int64_t kDefaultMemoryLimit = -1;
  int64_t memory_limit_bytes = kDefaultMemoryLimit;
  // Set from another thread to stop the query with kCancelled (Ctrl-C in the REPL).
  const std::atomic<bool>* cancel = nullptr;
  // The query fails with kCancelled after this time point...
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // ...or after this long from the start of ExecutePlan (0 = no time limit).
  std::chrono::milliseconds timeout{0};
  // Collect per-operator rows and time (EXPLAIN ANALYZE).
  bool collect_stats = false;
  // Lake bytes the query's scans read (Table::PartCounts::bytes_read) are added here when set.
  std::atomic<uint64_t>* bytes_read = nullptr;
  // With bytes_read set: the query fails with kResourceExhausted ("Bytes scanned limit was
  // exceeded") once it has read more than this (0 = no limit). Checked after each file read.
  uint64_t max_bytes_read = 0;
  // Where a hash join over the memory limit writes its partitions: one directory per query,
  // saleslake-spill-<pid>-<n>, removed when the query ends (empty = the system temp dir).
  std::string spill_dir;
};

// All rows of a statement, in result order.
struct MaterializedResult {
  Schema schema;
  std::vector<Batch> batches;  // flat or constant columns, no selection vectors
  size_t num_rows() const {
    size_t n = 0;
    for (const auto& b : batches) n += b.num_rows;
    return n;
  }
};

}  // namespace saleslake::sql
