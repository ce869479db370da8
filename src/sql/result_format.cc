#include "sql/result_format.h"

#include <charconv>

#include "common/types.h"
#include "common/value.h"
#include "sql/functions/functions.h"

namespace saleslake::sql {

std::string CellText(const ColumnVector& v, size_t row, const std::string& null_text) {
  if (!v.IsValid(row)) return null_text;
  Value x = GetValueAt(v, row);
  if (x.type().id == TypeId::kDouble || x.type().id == TypeId::kFloat) {
    // Trino prints doubles with a fraction: 2.0, not 2 (but NaN and Infinity as they are).
    std::string s = x.ToString();
    if (s.find_first_of(".eEnNI") == std::string::npos) s += ".0";
    return s;
  }
  if (x.type().id == TypeId::kInterval) {
    auto r = CastValue(x, DataType::Varchar());
    if (r.ok()) return r->string_value();
  }
  return x.ToString();
}

void AppendCellText(const ColumnVector& v, size_t row, std::string* out) {
  auto integer = [out](int64_t x) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
    out->append(buf, end);
  };
  switch (v.type().id) {
    case TypeId::kVarchar: out->append(v.GetValue<std::string_view>(row)); return;
    case TypeId::kInt32: integer(v.GetValue<int32_t>(row)); return;
    case TypeId::kInt64: integer(v.GetValue<int64_t>(row)); return;
    case TypeId::kDate: out->append(FormatDate(v.GetValue<int32_t>(row))); return;
    case TypeId::kDecimal: out->append(FormatDecimal(DecimalAt(v, row), v.type().scale)); return;
    default: out->append(CellText(v, row)); return;
  }
}

}  // namespace saleslake::sql
