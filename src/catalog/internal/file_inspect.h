// What the crawler learns from one data file: its format, schema, row count and statistics.
//
// Parquet goes through parquet::ParquetReader (footer only). JSON lines are parsed here.
// CSV goes through csv::Sniff (dialect, types, non-conforming counts, DATE/TIMESTAMP formats)
// plus a quote-aware record count. Builds without the sniffer use the small fallback sniffer in
// file_inspect.cc (marked "CSV CLASSIFICATION PATH"): RFC 4180 records, delimiter by
// consistency, ISO dates only, types at >= 99% conformance with the rest counted.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "io/object_store.h"

namespace saleslake::catalog::internal {

struct InspectedFile {
  FileFormat format = FileFormat::kCsv;
  Schema schema;           // data columns as the file holds them
  int64_t row_count = -1;  // -1 = unknown
  std::vector<ColumnStats> stats;
  CsvDialect csv;          // kCsv only
  // CSV DATE/TIMESTAMP parse formats by column name (csv::ColumnSniff::format), when not ISO.
  std::map<std::string, std::string> column_formats;
};

// Format by content (PAR1 magic, a JSON object per line, else text = CSV), with the extension
// as a hint. kInvalidArgument for binary files that are none of these.
Result<FileFormat> ClassifyFile(const io::RandomAccessFile& file, std::string_view key);

// Reads `key` and describes it. `forced` skips classification. Errors name the key.
Result<InspectedFile> InspectFile(const io::ObjectStore& store, std::string_view key,
                                  std::optional<FileFormat> forced);

// CSV through csv::Sniff.
Result<InspectedFile> InspectCsv(const io::RandomAccessFile& file);
// An older, simpler CSV sniffer from before formats/csv had one; only its tests call it now
// (to be removed with its helpers).
Result<InspectedFile> InspectCsvFallback(const io::RandomAccessFile& file);
Result<InspectedFile> InspectJsonLines(const io::RandomAccessFile& file);

}  // namespace saleslake::catalog::internal
