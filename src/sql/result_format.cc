#include "sql/result_format.h"

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

}  // namespace saleslake::sql
