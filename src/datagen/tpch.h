// TPC-H data at any scale factor, written as Parquet (`saleslake generate-tpch`).
//
// Written from the TPC-H specification (clause 4.2: cardinalities, key relationships, value
// distributions, the text grammar of comments), not from dbgen: the values are not dbgen's, but
// every distribution the 22 queries' validation parameters depend on is the spec's, so the
// queries select comparable rows. Column names and types match the DuckDB-written SF0.1 files of
// the shared test data: keys INTEGER (o_orderkey/l_orderkey BIGINT), money and quantities
// DECIMAL(15,2), dates DATE, the rest VARCHAR; every column nullable with no NULLs.
//
// The bytes depend only on (scale, seed, files, row_group_rows): every row draws from its own
// random stream (a lineitem from its order's), so the thread count changes speed, never content.
// Memory is bounded by one row group per open file (at most `threads` files are open at once).
// Thread safety: GenerateTpch may run concurrently with itself on different directories.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace saleslake::datagen {

struct TpchOptions {
  double scale = 1.0;  // > 0; 1 = 6M lineitems (about 0.3 GB of ZSTD Parquet)
  uint64_t seed = 0;
  // Files per large table (customer, part, partsupp, orders, lineitem). 1: DIR/<table>.parquet;
  // more: DIR/<table>/<table>-K.parquet, K = 0..files-1, rows split evenly in key order.
  // The three small tables are always DIR/<table>.parquet.
  int files = 1;
  int64_t row_group_rows = 122'880;  // DuckDB's default row group
  // 0 = ThreadPool::Default(). Files are generated in parallel, one per worker.
  int threads = 0;
};

// The 8 tables in the spec's order: part, supplier, partsupp, customer, orders, lineitem,
// nation, region.
const std::vector<std::string>& TpchTables();
// The Parquet schema of `table` (kNotFound for another name).
Result<Schema> TpchSchema(std::string_view table);
// Rows of `table` at `scale` (lineitem: -1, its count is random: about 4 per order).
int64_t TpchRowCount(std::string_view table, double scale);

struct TpchTableStats {
  std::string table;
  int64_t rows = 0;
  uint64_t bytes = 0;  // Parquet bytes written
  int files = 0;
};

// Writes the 8 tables under the local directory `dir` (created when missing; existing files of
// the same names are replaced). Returns per-table statistics in TpchTables() order.
// kInvalidArgument for a scale <= 0 or above 1000, files < 1, row_group_rows < 1.
Result<std::vector<TpchTableStats>> GenerateTpch(const TpchOptions& options, const std::string& dir);

}  // namespace saleslake::datagen
