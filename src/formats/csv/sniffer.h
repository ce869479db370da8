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
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "formats/csv/csv_reader.h"
#include "io/object_store.h"

namespace saleslake::csv {

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
