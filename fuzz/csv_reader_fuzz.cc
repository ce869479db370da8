// libFuzzer target for the CSV sniffer and reader. Besides "no crash, no sanitizer report", it
// checks the reader's central invariant: a parallel read with tiny morsels gives exactly the
// single-threaded result (rows, rejects with their lines, counters).
//
// Input: byte 0 picks the dialect and options, the rest is the file.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "formats/csv/csv_reader.h"
#include "formats/csv/csv_reader.h"

using namespace saleslake;

namespace {

struct Outcome {
  bool ok = false;
  csv::ReadStats stats;
  std::vector<std::string> rows;
  std::vector<std::string> rejects;
};

std::string Cell(const ColumnVector& c, size_t r) {
  if (!c.IsValid(r)) return "\\N";
  switch (c.type().id) {
    case TypeId::kVarchar: return std::string(c.GetValue<std::string_view>(r));
    case TypeId::kInt64: return std::to_string(c.GetValue<int64_t>(r));
    case TypeId::kDouble: return std::to_string(c.GetValue<double>(r));
    case TypeId::kBoolean: return std::to_string(c.GetValue<uint8_t>(r));
    case TypeId::kDate: return std::to_string(c.GetValue<int32_t>(r));
    case TypeId::kTimestamp: return std::to_string(c.GetValue<int64_t>(r));
    case TypeId::kDecimal: return std::to_string(c.GetValue<int64_t>(r));
    default: return "?";
  }
}

Outcome Read(const io::RandomAccessFile& file, csv::ReadOptions o) {
  Outcome out;
  std::mutex mu;
  std::map<size_t, std::vector<std::string>> rows;
  csv::CollectingRejectSink rejects;
  auto r = csv::ReadCsv(
      file, o,
      [&](size_t m, Batch& b) {
        std::lock_guard<std::mutex> lock(mu);
        for (size_t i = 0; i < b.num_rows; ++i) {
          std::string row;
          for (size_t c = 0; c < b.num_columns(); ++c) row += Cell(b.columns[c], i) + "\x1f";
          rows[m].push_back(std::move(row));
        }
        return Status::OK();
      },
      &rejects);
  out.ok = r.ok();
  if (!r.ok()) return out;
  out.stats = *r;
  for (auto& [m, v] : rows) out.rows.insert(out.rows.end(), v.begin(), v.end());
  for (auto& rr : rejects.TakeSorted())
    out.rejects.push_back(std::to_string(rr.line) + ":" + std::to_string(rr.column) + ":" +
                          rr.reason + ":" + rr.raw);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto file = io::MakeMemoryFile(text, "fuzz.csv");

  csv::SniffOptions so;
  so.sample_bytes_per_chunk = (mode & 1) ? 0 : 64;
  so.prefer_decimal = mode & 2;
  auto sniff = csv::Sniff(*file, so);
  csv::ReadOptions o;
  if (sniff.ok()) {
    o = sniff->ToReadOptions();
  } else {
    o.schema.fields = {{"a", DataType::Varchar(), true}, {"b", DataType::Int64(), true},
                       {"c", DataType::Timestamp(), true}};
  }
  if (mode & 4) {
    o.dialect.escape = '\\';
  }
  if (mode & 8) o.dialect.header = !o.dialect.header;

  o.threads = 1;
  o.morsel_bytes = 1 << 30;
  Outcome serial = Read(*file, o);
  o.threads = 0;
  o.morsel_bytes = 1 + (mode >> 4) * 3;
  Outcome parallel = Read(*file, o);
  if (serial.ok != parallel.ok || serial.rows != parallel.rows ||
      serial.rejects != parallel.rejects || serial.stats.rows_read != parallel.stats.rows_read ||
      serial.stats.blank_lines != parallel.stats.blank_lines) {
    std::fprintf(stderr, "parallel read differs from the serial read (ok %d/%d, rows %zu/%zu, "
                 "rejects %zu/%zu)\n", serial.ok, parallel.ok, serial.rows.size(),
                 parallel.rows.size(), serial.rejects.size(), parallel.rejects.size());
    std::abort();
  }
  return 0;
}
