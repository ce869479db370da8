// ParquetReader, statistics: column chunk min/max/null counts in logical form, the file-wide
// aggregate, and the pruning test on them.
#include <fmt/format.h>

#include <cstring>

#include "formats/parquet/internal/convert.h"
#include "formats/parquet/internal/reader_impl.h"

namespace saleslake::parquet {

using namespace internal;  // NOLINT: this file is the module's inside

std::optional<Value> ParquetReader::Impl::StatValue(const Leaf& leaf, std::string_view b) const {
  auto i32 = [&]() -> std::optional<int32_t> {
    if (b.size() != 4) return std::nullopt;
    int32_t v;
    std::memcpy(&v, b.data(), 4);
    return v;
  };
  auto i64 = [&]() -> std::optional<int64_t> {
    if (b.size() != 8) return std::nullopt;
    int64_t v;
    std::memcpy(&v, b.data(), 8);
    return v;
  };
  const DataType& t = leaf.type;
  switch (leaf.conv) {
    case Conversion::kBool:
      if (b.size() != 1) return std::nullopt;
      return Value::Boolean(b[0] != 0);
    case Conversion::kCopy32: {
      auto v = i32();
      if (!v) return std::nullopt;
      if (t.id == TypeId::kFloat) {
        float f = std::bit_cast<float>(*v);
        if (std::isnan(f)) return std::nullopt;
        return Value::Float(f);
      }
      if (t.id == TypeId::kDate) return Value::Date(*v);
      return Value::Int32(*v);
    }
    case Conversion::kCopy64: {
      auto v = i64();
      if (!v) return std::nullopt;
      if (t.id == TypeId::kDouble) {
        double d = std::bit_cast<double>(*v);
        if (std::isnan(d)) return std::nullopt;
        return Value::Double(d);
      }
      if (t.id == TypeId::kTimestamp) return Value::Timestamp(*v);
      if (t.id == TypeId::kDecimal) return Value::Decimal(*v, t.precision, t.scale);
      return Value::Int64(*v);
    }
    case Conversion::kI32ToI64:
    case Conversion::kI32ToI128: {
      auto v = i32();
      if (!v) return std::nullopt;
      return Value::Decimal(*v, t.precision, t.scale);
    }
    case Conversion::kU32ToI64: {
      auto v = i32();
      if (!v) return std::nullopt;
      return Value::Int64(static_cast<uint32_t>(*v));
    }
    case Conversion::kI64ToI128: {
      auto v = i64();
      if (!v) return std::nullopt;
      return Value::Decimal(*v, t.precision, t.scale);
    }
    case Conversion::kU64ToI128: {
      auto v = i64();
      if (!v) return std::nullopt;
      return Value::Decimal(static_cast<__int128>(static_cast<uint64_t>(*v)), t.precision, t.scale);
    }
    case Conversion::kMillisToMicros: {
      auto v = i64();
      if (!v) return std::nullopt;
      return Value::Timestamp(static_cast<int64_t>(static_cast<uint64_t>(*v) * 1000u));
    }
    case Conversion::kNanosToMicros: {
      auto v = i64();
      if (!v) return std::nullopt;
      return Value::Timestamp(FloorDiv(*v, 1000));
    }
    case Conversion::kBytesView:
      return Value::Varchar(std::string(b));
    case Conversion::kBytesToDec64:
    case Conversion::kBytesToDec128: {
      __int128 v;
      if (!BytesToInt128(b, &v)) return std::nullopt;
      if (leaf.conv == Conversion::kBytesToDec64 && (v < INT64_MIN || v > INT64_MAX)) return std::nullopt;
      return Value::Decimal(v, t.precision, t.scale);
    }
    case Conversion::kFloat16: {
      if (b.size() != 2) return std::nullopt;
      float f = HalfToFloat(static_cast<uint16_t>(static_cast<uint8_t>(b[0]) | (static_cast<uint8_t>(b[1]) << 8)));
      if (std::isnan(f)) return std::nullopt;
      return Value::Float(f);
    }
    case Conversion::kUuidText:
      if (b.size() != 16) return std::nullopt;
      return Value::Varchar(UuidText(b));
    default:
      return std::nullopt;  // INT96 and TIME text: no usable order
  }
}

ColumnStats ParquetReader::Impl::Stats(const Leaf& leaf, const ColumnMetaData& m, int64_t rows) const {
  ColumnStats cs;
  cs.min = Value::Null(leaf.type);
  cs.max = Value::Null(leaf.type);
  if (!m.statistics) {
    cs.has_null_count = false;
    return cs;
  }
  const Statistics& s = *m.statistics;
  cs.has_null_count = s.null_count.has_value();
  cs.null_count = s.null_count.value_or(0);
  (void)rows;
  const std::string* mn = s.min_value ? &*s.min_value : nullptr;
  const std::string* mx = s.max_value ? &*s.max_value : nullptr;
  // Legacy min/max used signed comparison: usable only for signed numeric types.
  bool signed_numeric = leaf.physical != kByteArray && leaf.physical != kFixedLenByteArray &&
                        leaf.physical != kInt96 && !leaf.unsigned_order;
  if (!mn && s.min && signed_numeric) mn = &*s.min;
  if (!mx && s.max && signed_numeric) mx = &*s.max;
  if (mn && mx) {
    auto a = StatValue(leaf, *mn);
    auto b = StatValue(leaf, *mx);
    if (a && b) {
      cs.min = std::move(*a);
      cs.max = std::move(*b);
    }
  }
  return cs;
}

ColumnStats ParquetReader::row_group_stats(int rg, int column) const {
  const RowGroup& g = impl_->md.row_groups[rg];
  return impl_->Stats(impl_->leaves[column], *g.columns[column].meta_data, g.num_rows);
}

uint64_t ParquetReader::column_chunk_bytes(int rg, int column) const {
  const auto& meta = impl_->md.row_groups[rg].columns[column].meta_data;
  return meta ? static_cast<uint64_t>(std::max<int64_t>(meta->total_compressed_size, 0)) : 0;
}

FileStats ParquetReader::file_stats() const {
  FileStats fs;
  fs.num_rows = impl_->num_rows;
  fs.file_size = impl_->file_size;
  for (size_t c = 0; c < impl_->leaves.size(); ++c) {
    ColumnStats agg;
    agg.min = Value::Null(impl_->leaves[c].type);
    agg.max = Value::Null(impl_->leaves[c].type);
    bool bounds_ok = true;
    for (int g = 0; g < num_row_groups(); ++g) {
      ColumnStats s = row_group_stats(g, static_cast<int>(c));
      agg.null_count += s.null_count;
      agg.has_null_count = agg.has_null_count && s.has_null_count;
      int64_t rows = row_group_num_rows(g);
      if (rows == 0) continue;
      if (s.min.is_null()) {
        // An all-null chunk has no bounds but does not widen them either.
        if (!(s.has_null_count && s.null_count == rows)) bounds_ok = false;
        continue;
      }
      if (agg.min.is_null() || s.min.Compare(agg.min) < 0) agg.min = s.min;
      if (agg.max.is_null() || s.max.Compare(agg.max) > 0) agg.max = s.max;
    }
    if (!bounds_ok) {
      agg.min = Value::Null(impl_->leaves[c].type);
      agg.max = Value::Null(impl_->leaves[c].type);
    }
    fs.columns.push_back(std::move(agg));
  }
  return fs;
}

bool StatsMayContain(const ColumnStats& stats, const Value& lo, const Value& hi) {
  if (stats.min.is_null() || stats.max.is_null()) return true;
  if (!lo.is_null() && lo.type().id == stats.max.type().id && stats.max.Compare(lo) < 0) return false;
  if (!hi.is_null() && hi.type().id == stats.min.type().id && stats.min.Compare(hi) > 0) return false;
  return true;
}

}  // namespace saleslake::parquet
