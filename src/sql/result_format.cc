#include "sql/result_format.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/logging.h"
#include "sql/functions/functions.h"

namespace saleslake::sql {

std::string CellText(const ColumnVector& v, size_t row, const std::string& null_text) {
  if (!v.IsValid(row)) return null_text;
  Value x = GetValueAt(v, row);
  if (x.type().id == TypeId::kDouble || x.type().id == TypeId::kFloat) {
    // Trino prints doubles with a fraction: 2.0, not 2.
    std::string s = x.ToString();
    if (s.find_first_of(".eEnI") == std::string::npos) s += ".0";
    return s;
  }
  if (x.type().id == TypeId::kInterval) {
    auto r = CastValue(x, DataType::Varchar());
    if (r.ok()) return r->string_value();
  }
  return x.ToString();
}

namespace {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  return out + "\"";
}

bool IsNumeric(const DataType& t) { return t.is_numeric(); }

}  // namespace

std::string FormatCsv(const MaterializedResult& r) {
  std::string out;
  for (size_t c = 0; c < r.schema.size(); ++c) out += (c ? "," : "") + CsvField(r.schema[c].name);
  out += "\n";
  for (const auto& b : r.batches) {
    for (size_t i = 0; i < b.num_rows; ++i) {
      for (size_t c = 0; c < b.columns.size(); ++c) {
        if (c) out.push_back(',');
        if (b.columns[c].IsValid(i)) out += CsvField(CellText(b.columns[c], i));
      }
      out += "\n";
    }
  }
  return out;
}

std::string FormatJson(const MaterializedResult& r) {
  std::string out = "[";
  bool first = true;
  for (const auto& b : r.batches) {
    for (size_t i = 0; i < b.num_rows; ++i) {
      out += first ? "\n  {" : ",\n  {";
      first = false;
      for (size_t c = 0; c < b.columns.size(); ++c) {
        out += (c ? ", " : "") + JsonQuote(r.schema[c].name) + ": ";
        const ColumnVector& v = b.columns[c];
        if (!v.IsValid(i)) {
          out += "null";
          continue;
        }
        TypeId id = v.type().id;
        std::string text = CellText(v, i);
        if (id == TypeId::kBoolean || id == TypeId::kInt32 || id == TypeId::kInt64) {
          out += text;
        } else if (id == TypeId::kDouble || id == TypeId::kFloat) {
          double d = GetValueAt(v, i).double_value();
          out += std::isfinite(d) ? text : JsonQuote(text);
        } else if (id == TypeId::kDecimal) {
          out += text;  // exact decimal text is valid JSON
        } else {
          out += JsonQuote(text);
        }
      }
      out += "}";
    }
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

std::string FormatTable(const MaterializedResult& r, double seconds) {
  size_t cols = r.schema.size();
  std::vector<size_t> width(cols);
  for (size_t c = 0; c < cols; ++c) width[c] = r.schema[c].name.size();
  std::vector<std::vector<std::string>> cells;
  for (const auto& b : r.batches)
    for (size_t i = 0; i < b.num_rows; ++i) {
      std::vector<std::string> row;
      for (size_t c = 0; c < cols; ++c) {
        row.push_back(CellText(b.columns[c], i));
        width[c] = std::max(width[c], row.back().size());
      }
      cells.push_back(std::move(row));
    }
  std::string out;
  auto line = [&]() {
    for (size_t c = 0; c < cols; ++c) out += (c ? "-+-" : "") + std::string(width[c], '-');
    out += "\n";
  };
  for (size_t c = 0; c < cols; ++c)
    out += (c ? " | " : "") + fmt::format("{:<{}}", r.schema[c].name, width[c]);
  out += "\n";
  line();
  for (const auto& row : cells) {
    for (size_t c = 0; c < cols; ++c) {
      bool right = IsNumeric(r.schema[c].type);
      out += (c ? " | " : "") + (right ? fmt::format("{:>{}}", row[c], width[c])
                                       : fmt::format("{:<{}}", row[c], width[c]));
    }
    out += "\n";
  }
  out += fmt::format("({} row{}", cells.size(), cells.size() == 1 ? "" : "s");
  out += seconds >= 0 ? fmt::format(", {:.3f} s)\n", seconds) : ")\n";
  return out;
}

}  // namespace saleslake::sql
