// CSV reading: RFC 4180 text into typed column batches, in parallel, without losing a row.
//
// What the reader accepts (every case is unit-tested in tests/formats/csv):
//   - fields separated by Dialect::delimiter; records end at LF or CRLF (a CR before the LF is
//     dropped); the last record may lack a final newline;
//   - quoted fields (Dialect::quote) may hold delimiters, newlines and doubled quotes ("" -> ");
//     when Dialect::escape differs from the quote, escape+char inside quotes stands for char;
//     a quote inside an unquoted field is an ordinary character (real exports have 5" screens);
//   - a UTF-8 byte order mark at the start of the file is skipped;
//   - blank lines (nothing, or only a CR) are skipped and counted in ReadStats::blank_lines;
//   - .gz and .zst inputs (by name or by magic bytes) are decompressed transparently.
// What it rejects, row by row, to the RejectSink (parsing goes on; the row is not loaded):
//   - a row with the wrong number of fields, an unterminated quoted field, text after a closing
//     quote, invalid UTF-8 in a VARCHAR field, a value that does not parse as its column's type.
// Nulls: an unquoted field equal to one of Dialect::null_tokens is NULL; a quoted field is text
// ("NA" in quotes is the string NA), except that an empty quoted field is NULL in a non-VARCHAR
// column. Numbers, dates and booleans tolerate surrounding spaces; VARCHAR keeps every byte.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/batch.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/types.h"
#include "io/object_store.h"

namespace saleslake::csv {

struct Dialect {
  char delimiter = ',';
  char quote = '"';
  char escape = '"';  // == quote: RFC 4180 doubled quotes
  bool header = true;
  std::vector<std::string> null_tokens = {"", "NULL", "NA", "N/A"};
};

// One row the reader could not load, with enough context to find and fix it.
struct RejectedRow {
  std::string file;     // RandomAccessFile::name()
  uint64_t line = 0;    // 1-based physical line where the record starts (the header is line 1)
  uint32_t column = 0;  // 1-based field, 0 = the whole row (field count, quoting)
  std::string raw;      // the record's raw text (without its line ending), at most 64 KiB
  std::string reason;   // e.g. "cannot parse 'abc' as DOUBLE"
};

// Receives rejected rows. Reject() is called from many threads at once; implementations
// synchronize themselves. Rows arrive in no particular order (sort by line for a report).
class RejectSink {
 public:
  virtual ~RejectSink() = default;
  virtual void Reject(RejectedRow row) = 0;
};

// A RejectSink that keeps every row in memory (tests, small files, the CLI's error report).
class CollectingRejectSink final : public RejectSink {
 public:
  void Reject(RejectedRow row) override;
  // The rows sorted by line then column. Call after the read has returned.
  std::vector<RejectedRow> TakeSorted();

 private:
  Mutex mu_;
  std::vector<RejectedRow> rows_ SL_GUARDED_BY(mu_);
};

struct ReadOptions {
  Dialect dialect;
  // Target types by position (names are not matched against the header). REQUIRES: non-empty.
  Schema schema;
  // Per-column parse formats for DATE/TIMESTAMP columns (see value_parse.h: DateTimeFormat),
  // usually ColumnSniff::format; empty or missing entries mean ISO 8601.
  std::vector<std::string> formats;
  // Columns to materialize, by schema index, in output order; empty = all. Other fields are
  // still tokenized and counted but never converted or validated.
  std::vector<size_t> projection;
  // Extra trailing columns for consumers that type or check values themselves (the ETL's
  // quarantine needs to say where a row came from): "__line" BIGINT, the 1-based line where
  // the record starts, and "__raw" VARCHAR, the record's text without its line ending. They
  // follow the projected columns, line first.
  bool line_column = false;
  bool raw_column = false;
  // VARCHAR values of fields without escapes point into the input bytes instead of being
  // copied into the batch: for a caller that keeps the file open (and its mapping) while it
  // uses the batches, and copies what it keeps (the ETL). Bytes the reader has released
  // (RandomAccessFile::DoneWith) read back from the file.
  bool borrow_strings = false;
  size_t morsel_bytes = 8 << 20;
  // Called once per morsel index (in any order, possibly concurrently) after the last batch of
  // that morsel went to the sink; with it a consumer that needs file order can release the
  // batches it held back (see `saleslake convert`). Not called once the read has failed.
  std::function<Status(size_t morsel)> on_morsel_end;
  // Past this many rejected rows the read fails with kInvalidArgument (the first
  // max_rejected_rows rows in file order have been sent to the sink by then).
  uint64_t max_rejected_rows = UINT64_MAX;
  int threads = 0;  // 0 = every thread of ThreadPool::Default()
};

struct ReadStats {
  uint64_t rows_read = 0;      // data records seen (loaded + rejected), blank lines excluded
  uint64_t rows_loaded = 0;    // rows delivered in batches
  uint64_t rows_rejected = 0;  // rows sent to the RejectSink
  uint64_t blank_lines = 0;
  uint64_t bytes = 0;          // bytes parsed (after decompression)
};

// Signature of the batch consumer: `morsel` is the index of the byte range the batch came from.
// Batches of one morsel arrive in file order from one thread at a time; different morsels may
// arrive concurrently and out of order, so a consumer that needs file order sorts by
// (morsel, arrival order within the morsel). The batch (and its strings) is only valid during
// the call; the consumer may move its columns out. A non-OK status stops the read and is
// returned by ReadCsv.
using BatchSink = std::function<Status(size_t morsel, Batch& batch)>;

// Parses the whole file. The file is cut into byte ranges of options.morsel_bytes parsed on
// ThreadPool::Default(); a range starts at the first record that really begins in it, which is
// found speculatively and verified, so quoted newlines across range boundaries are handled
// exactly (a wrong guess costs one re-parse of that range). Results are identical to a
// single-threaded read for every morsel size.
//
// `rejects` may be null: then the first bad row fails the read with its file, line, column and
// reason. Errors: kInvalidArgument (bad options, a header whose field count differs from the
// schema, too many rejected rows, a row rejected with no sink), kIOError / kCorruption (reading
// or decompressing), or whatever the sink returned. Big inputs that are not memory-mapped
// (compressed files, remote objects) are read into memory whole.
Result<ReadStats> ReadCsv(const io::RandomAccessFile& file, const ReadOptions& options,
                          const BatchSink& sink, RejectSink* rejects);

// The decompressed content of `file` when it is gzip or zstd (by magic bytes), else nullptr.
// Exposed for the sniffer and tools; kCorruption when the compressed stream is broken.
Result<std::unique_ptr<io::RandomAccessFile>> OpenDecompressed(const io::RandomAccessFile& file);

// ---------------------------------------------------------------------------------------------
// The CSV sniffer: dialect, header and column types from samples spread over the file.
//
// Samples: `chunks` windows of `sample_bytes_per_chunk` bytes at the start, the middle and the
// end of the file (evenly spaced when chunks != 3); a window that does not start the file skips
// to its first line break and drops its last, cut-off record. sample_bytes_per_chunk == 0 (or
// windows that cover the file) reads every record, which makes the counts exact.
//
// Dialect (unless SniffOptions::dialect fixes it): the delimiter among , ; TAB | and the quote
// among " ' that give the most records with the same field count (> 1 field preferred).
// Types, most specific first: BOOLEAN (true/false), BIGINT, DOUBLE, DATE, TIMESTAMP, VARCHAR.
// A column gets a type when at least 99% of its non-null sampled values conform to it; among the
// types that reach the best conformance the most specific wins. The values that do not conform
// are counted and a few kept as examples (the reader will reject those rows; nothing silently
// becomes NULL). A numeric column that also holds identifiers (letters glued to digits, as
// C536379 or 85123A) is VARCHAR however rare they are: IDs are not numbers.
// DATE candidates: %Y-%m-%d, %Y/%m/%d, %d/%m/%Y, %m/%d/%Y, %d.%m.%Y; D/M vs M/D is decided
// by evidence (a value with day > 12), M/D/Y when no value tells them apart.
// TIMESTAMP candidates: ISO 8601 (space or T, optional seconds, fraction, Z/offset) and
// M/D/Y or D/M/Y with H:MM[:SS] [AM/PM]. Numbers and dates use csv/value_parse.h, exactly as
// the reader does.
// Header: the first record is a header when a typed column's first value does not conform to
// the column's type, or, when every column is VARCHAR, when its values are distinct and
// non-empty. The BOM is never part of a name; empty names become column<N>, duplicates get _2.

struct ColumnSniff {
  std::string name;
  DataType type;
  uint64_t non_null = 0;        // sampled values that are not a null token
  uint64_t non_conforming = 0;  // of those, values that do not parse as `type`
  std::string format;           // DATE/TIMESTAMP parse format (DateTimeFormat), e.g. "%m/%d/%Y %H:%M"
  std::vector<std::string> non_conforming_examples;  // up to 5, in sample order
};

struct SniffResult {
  Dialect dialect;
  Schema schema;  // all fields nullable
  std::vector<ColumnSniff> columns;
  bool has_bom = false;
  uint64_t sampled_rows = 0;        // data records examined (header excluded)
  uint64_t rejected_rows = 0;       // sampled records with a wrong field count or bad quoting
  bool sampled_whole_file = false;  // counts are exact, not estimates

  // ReadOptions ready for ReadCsv: dialect, schema and per-column formats.
  ReadOptions ToReadOptions() const;
};

struct SniffOptions {
  size_t sample_bytes_per_chunk = 256 << 10;  // 0 = the whole file
  int chunks = 3;                             // start, middle, end
  std::optional<Dialect> dialect;             // fixes delimiter/quote/escape/header/nulls
  double min_conforming = 0.99;               // share of non-null values a type needs
  // Type fixed-point columns (at most 4 decimals, all values with the same number of decimals
  // or fewer, up to 18 digits) as DECIMAL(18,s) instead of DOUBLE, where exact money matters.
  bool prefer_decimal = false;
};

// Errors: kInvalidArgument for an empty file (no header and no records) or a file whose sample
// holds no parseable record; kIOError / kCorruption from reading or decompressing (.gz/.zst are
// sniffed transparently).
Result<SniffResult> Sniff(const io::RandomAccessFile& file, const SniffOptions& options = {});

}  // namespace saleslake::csv
