// libFuzzer target for the Parquet reader: any bytes -> Open -> stats -> read every row group.
// Seed corpus: ../shared/testdata/parquet-testing/{data,bad_data} and parquet-generated/data.
//   ./parquet_reader_fuzz -max_total_time=60 corpus/ ../shared/testdata/parquet-testing/data
// Every input must end in a Status; limits are lowered so allocation bombs fail fast.
#include <cstdint>
#include <string>

#include "formats/parquet/internal/reader_internal.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saleslake;
  auto& limits = parquet::internal::MutableReaderLimits();
  limits.max_row_group_rows = 1 << 22;
  limits.max_page_bytes = 64 << 20;
  std::shared_ptr<const io::RandomAccessFile> file(
      io::MakeMemoryFile(std::string(reinterpret_cast<const char*>(data), size), "fuzz.parquet"));
  auto reader = parquet::ParquetReader::Open(file);
  if (!reader.ok()) return 0;
  const auto& r = *reader;
  (void)r->file_stats();
  (void)r->DescribeMetadata(true);
  std::vector<int> cols;
  for (size_t i = 0; i < r->schema().size(); ++i) cols.push_back(static_cast<int>(i));
  for (int g = 0; g < r->num_row_groups(); ++g) {
    Status s = r->ReadRowGroup(g, cols, [](Batch& b) {
      size_t valid = 0;
      for (auto& c : b.columns) valid += c.size() - c.CountNulls();
      return valid > SIZE_MAX - 1 ? Status::Internal("impossible") : Status::OK();
    });
    if (!s.ok()) break;
  }
  return 0;
}
