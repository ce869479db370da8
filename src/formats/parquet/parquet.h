// Parquet: the writer and reader of saleslake's processed data (namespace saleslake::parquet).
// Written from the Apache Parquet format specification; no Arrow. Other modules use only this
// header: `convert` and ETL write through ParquetWriter, the SQL scan and the catalog crawler read
// through ParquetReader (row-group statistics for pruning, ReadRowGroup for data).
//
// Type mapping (writer, our type -> Parquet):
//   BOOLEAN -> BOOLEAN; INTEGER -> INT32; BIGINT -> INT64; REAL -> FLOAT; DOUBLE -> DOUBLE;
//   VARCHAR -> BYTE_ARRAY (STRING); DATE -> INT32 (DATE); TIMESTAMP -> INT64 (TIMESTAMP(MICROS,
//   isAdjustedToUTC=true)); DECIMAL(p,s) -> INT32 (p <= 9), INT64 (p <= 18), else
//   FIXED_LEN_BYTE_ARRAY of the minimal width. INTERVAL is refused (kNotImplemented).
// Reader, Parquet -> our type: INT8/16/32 and unannotated INT32 -> INTEGER; UINT8/16 -> INTEGER;
//   UINT32 and INT64 -> BIGINT; UINT64 -> DECIMAL(20,0); FLOAT16 -> REAL; DATE -> DATE;
//   TIMESTAMP of any unit and INT96 -> TIMESTAMP (microseconds; nanoseconds are truncated toward
//   minus infinity); TIME -> VARCHAR "HH:MM:SS[.ffffff]"; UUID -> VARCHAR (canonical text);
//   STRING/ENUM/JSON/unannotated BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY -> VARCHAR (raw bytes; see
//   ColumnInfo::binary); DECIMAL of any physical type -> DECIMAL(p,s).
//   Nested columns (lists, maps, structs) are refused by Open with kNotImplemented naming the
//   column.
//
// Errors: every failure is a Status whose message names the file, and where relevant the row
// group, column and page (kCorruption for broken files, kNotImplemented for valid features we do
// not support, kResourceExhausted past the sanity limits below, kIOError for I/O).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/types.h"
#include "common/value.h"
#include "io/object_store.h"

namespace saleslake::parquet {

enum class Compression { kUncompressed, kSnappy, kGzip, kZstd, kLz4Raw, kLz4Hadoop, kBrotli };

// "zstd", "snappy", "gzip", "lz4" (= LZ4_RAW), "lz4_raw", "lz4_hadoop", "brotli",
// "none"/"uncompressed" (case-insensitive). kInvalidArgument otherwise.
Result<Compression> ParseCompression(std::string_view name);
// Lower-case name as ParseCompression accepts it.
std::string_view CompressionName(Compression c);

struct WriterOptions {
  Compression compression = Compression::kZstd;
  int compression_level = 3;           // ZSTD 1..22, GZIP 1..9, BROTLI 0..11
  int64_t row_group_rows = 1 << 20;    // a row group is also cut at ~128 MB of encoded data
  size_t page_size = 1 << 20;          // target uncompressed bytes per data page
  bool dictionary = true;              // falls back to PLAIN when the dictionary grows too big
  bool data_page_v2 = false;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  // Column index + offset index (page-level min/max and locations) after the row groups.
  bool write_page_index = true;
};

// Statistics of a column chunk or a file. min/max are NULL Values when absent or unusable
// (e.g. a NaN bound, or an unknown sort order); a NULL min with null_count == rows means all-null.
struct ColumnStats {
  Value min, max;
  int64_t null_count = 0;
  bool has_null_count = true;  // false when the file does not record it
};
struct FileStats {
  int64_t num_rows = 0;
  uint64_t file_size = 0;
  std::vector<ColumnStats> columns;
};

// Streaming writer: each row group is encoded as batches arrive and written out when full, so
// memory is bounded by one row group. Not thread-safe: one owner.
class ParquetWriter {
 public:
  // `out` must outlive the writer; the caller Commit()s it after Close(). kNotImplemented for
  // a column type Parquet output does not support (INTERVAL, NULL).
  static Result<std::unique_ptr<ParquetWriter>> Open(io::OutputStream* out, const Schema& schema,
                                                     const WriterOptions& options);
  ~ParquetWriter();

  // Appends the live rows of `batch` (columns in schema order, any vector encoding, honours
  // batch.selection). kInvalidArgument when the batch does not match the schema or a non-nullable
  // column holds a NULL.
  Status Write(const Batch& batch);
  // Encoded bytes the open row group holds in memory (pages, dictionaries; an estimate).
  size_t buffered_bytes() const;
  // Ends the open row group now (no-op when it is empty): callers that keep many writers open
  // at once (a partitioned write) bound their memory with it.
  Status FlushRowGroup();
  // Flushes the last row group, writes the page indexes and the footer. Call exactly once.
  Result<FileStats> Close();

 private:
  struct Impl;
  explicit ParquetWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What the reader knows about one top-level column beyond its DataType (for printing and tools).
struct ColumnInfo {
  std::string name;
  std::string physical_type;   // "INT32", "BYTE_ARRAY", ...
  std::string logical_type;    // "STRING", "TIMESTAMP(NANOS,UTC)", "" when none
  bool binary = false;         // VARCHAR holding raw bytes (no STRING/UTF8/JSON/ENUM annotation)
  bool utc = false;            // TIMESTAMP adjusted to UTC (DuckDB: TIMESTAMPTZ)
  bool required = false;       // REQUIRED in the file (no definition levels)
};

// Reader over one Parquet file. Open parses and validates the footer; data pages are read on
// demand. Thread-safe: ReadRowGroup may run concurrently for different (or the same) row groups.
class ParquetReader {
 public:
  static Result<std::unique_ptr<ParquetReader>> Open(std::shared_ptr<const io::RandomAccessFile> file);
  ~ParquetReader();

  const Schema& schema() const;
  const ColumnInfo& column_info(int column) const;
  int64_t num_rows() const;  // the sum over row groups (some writers lie in the footer total)
  int num_row_groups() const;
  int64_t row_group_num_rows(int rg) const;
  std::string created_by() const;
  const std::vector<std::pair<std::string, std::string>>& key_value_metadata() const;

  // Statistics of one column chunk, from the footer (NULL min/max when absent or unusable).
  ColumnStats row_group_stats(int rg, int column) const;
  // Bytes of one column chunk in the file (compressed pages and their headers): what reading
  // that column of that row group takes in.
  uint64_t column_chunk_bytes(int rg, int column) const;
  // Aggregated over all row groups, from the footer only.
  FileStats file_stats() const;

  // A hint that these columns of these row groups will be read soon: their column chunks are
  // passed to the file's WillRead (a remote file fetches them ahead, coalesced; a local one
  // ignores it). Chunks the footer places outside the data area are left to the read to report.
  void WillRead(const std::vector<int>& row_groups, const std::vector<int>& columns) const;

  // Reads the listed columns of a row group; calls `sink` with batches of <= kBatchRows rows whose
  // columns are in the order of `columns`. VARCHAR columns whose pages are all dictionary-encoded
  // arrive as dictionary vectors over one shared dictionary per column chunk. A sink error stops
  // the read and is returned.
  Status ReadRowGroup(int rg, const std::vector<int>& columns,
                      const std::function<Status(Batch&)>& sink) const;

  // A row test for late materialisation: `positions` (indexes into the read's `columns`) are
  // decoded first; any_row gets each batch with only those holding data (the other columns are
  // all-null constants) and says whether any of its rows may be wanted. When it also sets the
  // batch's selection (the rows wanted), the batch reaches the sink with that selection.
  struct BatchFilter {
    std::vector<size_t> positions;
    std::function<bool(Batch&)> any_row;
  };
  // ReadRowGroup that skips what `filter` rules out: batches with no wanted row are not passed
  // to sink, and when no batch of the row group has one, the other columns are never decoded.
  // Returns the number of batches skipped.
  Result<size_t> ReadRowGroupFiltered(int rg, const std::vector<int>& columns, const BatchFilter& filter,
                                      const std::function<Status(Batch&)>& sink) const;

  // Human-readable (text) or JSON description of the footer: schema, row groups, column chunks
  // with encodings, codecs, sizes and statistics (what `saleslake parquet-meta` prints).
  std::string DescribeMetadata(bool json) const;

 private:
  struct Impl;
  explicit ParquetReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True when a row group whose `column` has statistics `stats` may hold a value v with
// lo <= v <= hi (either bound may be a NULL Value = unbounded). Conservative: true when unsure.
bool StatsMayContain(const ColumnStats& stats, const Value& lo, const Value& hi);

}  // namespace saleslake::parquet
