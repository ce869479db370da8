// RowSet: a set of distinct rows, filled once and then probed by many threads at once.
//
// Why: a materialized view's incremental refresh learns which of the (group keys, x) pairs it
// adds are new by streaming a count(DISTINCT) side table's stored pairs (millions) past the
// added ones (thousands). Keyed by a byte string per stored row, that loop cost more than the
// Parquet decoding under it. A RowSet is the hash aggregation's group table: rows are hashed
// column by column (a dictionary-encoded column once per entry) and compared by value.
//
// Thread safety: Find may run on many threads at once; Insert needs the set to itself.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/batch.h"
#include "common/types.h"

namespace saleslake::sql {

namespace internal {
class GroupTable;
}

class RowSet {
 public:
  static constexpr uint32_t kAbsent = UINT32_MAX;

  // A set of rows of these column types (NULL equals NULL, -0.0 equals 0.0, as GROUP BY).
  explicit RowSet(const std::vector<DataType>& types);
  ~RowSet();
  RowSet(const RowSet&) = delete;
  RowSet& operator=(const RowSet&) = delete;

  // Adds the rows of `b` (every row: a selection is ignored) and sets ids[i] to row i's id.
  // Ids are dense, 0, 1, ... in the order rows were first added.
  void Insert(const Batch& b, std::vector<uint32_t>& ids);
  // Sets ids[i] to the id of row i of `b` (every row), or kAbsent. `hashes` is the caller's
  // scratch (one per thread).
  void Find(const Batch& b, std::vector<uint32_t>& ids, std::vector<uint64_t>& hashes) const;
  // The same over some columns of a batch: `cols` (one per column of the set), `n` rows.
  void Insert(const std::vector<const ColumnVector*>& cols, size_t n, std::vector<uint32_t>& ids);
  void Find(const std::vector<const ColumnVector*>& cols, size_t n, std::vector<uint32_t>& ids,
            std::vector<uint64_t>& hashes) const;
  size_t size() const;

 private:
  std::unique_ptr<internal::GroupTable> table_;
};

}  // namespace saleslake::sql
