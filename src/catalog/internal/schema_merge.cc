#include "catalog/internal/schema_merge.h"

#include <algorithm>

namespace saleslake::catalog::internal {

namespace {

// Integer digits a type needs to hold every value exactly (for the decimal rules).
int IntegerDigits(const DataType& t) {
  switch (t.id) {
    case TypeId::kInt32: return 10;
    case TypeId::kInt64: return 19;
    case TypeId::kDecimal: return t.precision - t.scale;
    default: return 0;
  }
}

bool IsFloating(const DataType& t) { return t.id == TypeId::kFloat || t.id == TypeId::kDouble; }

}  // namespace

std::optional<DataType> WidenType(const DataType& a, const DataType& b) {
  if (a == b) return a;
  if (a.id == TypeId::kNull) return b;
  if (b.id == TypeId::kNull) return a;
  if (a.is_integer() && b.is_integer()) return DataType::Int64();
  if (IsFloating(a) && IsFloating(b)) return DataType::Double();
  if ((IsFloating(a) && (b.is_integer() || b.id == TypeId::kDecimal)) ||
      (IsFloating(b) && (a.is_integer() || a.id == TypeId::kDecimal)))
    return DataType::Double();
  bool a_exact = a.is_integer() || a.id == TypeId::kDecimal;
  bool b_exact = b.is_integer() || b.id == TypeId::kDecimal;
  if (a_exact && b_exact) {  // at least one is a decimal
    int scale = std::max(a.id == TypeId::kDecimal ? a.scale : 0, b.id == TypeId::kDecimal ? b.scale : 0);
    int digits = std::max(IntegerDigits(a), IntegerDigits(b));
    int precision = std::min(38, digits + scale);
    if (precision < scale) precision = scale;
    return DataType::Decimal(static_cast<uint8_t>(precision), static_cast<uint8_t>(scale));
  }
  if ((a.id == TypeId::kDate && b.id == TypeId::kTimestamp) ||
      (a.id == TypeId::kTimestamp && b.id == TypeId::kDate))
    return DataType::Timestamp();
  return std::nullopt;
}

std::string SchemaChange::Describe() const {
  switch (kind) {
    case SchemaChangeKind::kNewColumn: return "new column " + column + " " + to.ToString();
    case SchemaChangeKind::kWidened:
      return "column " + column + " widened " + from.ToString() + " -> " + to.ToString();
    case SchemaChangeKind::kIncompatible:
      return "column " + column + " incompatible: table has " + from.ToString() + ", file has " +
             to.ToString();
  }
  return "";
}

MergedSchema MergeSchemas(const Schema& base, const Schema& incoming) {
  MergedSchema out;
  out.schema = base;
  for (const Field& f : incoming.fields) {
    auto it = std::find_if(out.schema.fields.begin(), out.schema.fields.end(),
                           [&](const Field& g) { return g.name == f.name; });
    if (it == out.schema.fields.end()) {
      out.schema.fields.push_back(f);
      out.changes.push_back({SchemaChangeKind::kNewColumn, f.name, DataType::Null(), f.type});
      continue;
    }
    it->nullable = it->nullable || f.nullable;
    // VARCHAR reads anything as text, and a file narrower than the table reads fine as the
    // table type: neither is a change.
    if (it->type == f.type || it->type.id == TypeId::kVarchar) continue;
    std::optional<DataType> wide = WidenType(it->type, f.type);
    if (!wide) {
      out.changes.push_back({SchemaChangeKind::kIncompatible, f.name, it->type, f.type});
      it->type = DataType::Varchar();
    } else if (!(*wide == it->type)) {
      out.changes.push_back({SchemaChangeKind::kWidened, f.name, it->type, *wide});
      it->type = *wide;
    }
  }
  // Columns missing from the file read as NULL: they must be nullable.
  for (Field& g : out.schema.fields)
    if (!incoming.FindField(g.name)) g.nullable = true;
  return out;
}

}  // namespace saleslake::catalog::internal
