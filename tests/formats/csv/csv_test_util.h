// Helpers for the CSV tests: read text or a file into printable rows in file order.
#pragma once

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/batch.h"
#include "common/value.h"
#include "formats/csv/csv_reader.h"
#include "io/object_store.h"

namespace saleslake::csv::testutil {

inline std::string Cell(const ColumnVector& c, size_t r) {
  if (!c.IsValid(r)) return "NULL";
  switch (c.type().id) {
    case TypeId::kVarchar: return std::string(c.GetValue<std::string_view>(r));
    case TypeId::kInt64: return std::to_string(c.GetValue<int64_t>(r));
    case TypeId::kInt32: return std::to_string(c.GetValue<int32_t>(r));
    case TypeId::kDouble: return fmt::format("{}", c.GetValue<double>(r));
    case TypeId::kFloat: return fmt::format("{}", c.GetValue<float>(r));
    case TypeId::kBoolean: return c.GetValue<uint8_t>(r) ? "true" : "false";
    case TypeId::kDate: return FormatDate(c.GetValue<int32_t>(r));
    case TypeId::kTimestamp: return FormatTimestamp(c.GetValue<int64_t>(r));
    case TypeId::kDecimal:
      if (c.type().is_wide_decimal()) return FormatDecimal(c.GetValue<__int128>(r), c.type().scale);
      return FormatDecimal(c.GetValue<int64_t>(r), c.type().scale);
    default: return "?";
  }
}

struct ReadOutput {
  Status status;
  ReadStats stats;
  std::vector<std::string> rows;  // cells joined by '|', in file order
  std::vector<RejectedRow> rejects;
};

inline ReadOutput ReadFileRows(const io::RandomAccessFile& file, const ReadOptions& options,
                               bool with_sink = true) {
  std::mutex mu;
  std::map<size_t, std::vector<std::string>> by_morsel;
  CollectingRejectSink rejects;
  auto r = ReadCsv(
      file, options,
      [&](size_t morsel, Batch& b) {
        std::vector<std::string> local;
        for (size_t i = 0; i < b.num_rows; ++i) {
          std::string row;
          for (size_t c = 0; c < b.num_columns(); ++c) {
            if (c) row += '|';
            row += Cell(b.columns[c], i);
          }
          local.push_back(std::move(row));
        }
        std::lock_guard<std::mutex> lock(mu);
        auto& v = by_morsel[morsel];
        v.insert(v.end(), local.begin(), local.end());
        return Status::OK();
      },
      with_sink ? &rejects : nullptr);
  ReadOutput out;
  if (!r.ok()) out.status = r.status();
  else out.stats = *r;
  for (auto& [m, rows] : by_morsel) out.rows.insert(out.rows.end(), rows.begin(), rows.end());
  out.rejects = rejects.TakeSorted();
  return out;
}

inline ReadOutput ReadText(const std::string& text, const ReadOptions& options,
                           bool with_sink = true) {
  auto file = io::MakeMemoryFile(text, "t.csv");
  return ReadFileRows(*file, options, with_sink);
}

inline Schema MakeSchema(std::initializer_list<std::pair<const char*, DataType>> cols) {
  Schema s;
  for (auto& [n, t] : cols) s.fields.push_back({n, t, true});
  return s;
}

}  // namespace saleslake::csv::testutil
