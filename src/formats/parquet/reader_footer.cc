// ParquetReader, opening a file: the footer, the metadata and the mapping of the Parquet schema
// to ours.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "formats/parquet/internal/convert.h"
#include "formats/parquet/internal/reader_impl.h"

namespace saleslake::parquet {

using namespace internal;  // NOLINT: this file is the module's inside

namespace internal {
ReaderLimits& MutableReaderLimits() {
  static ReaderLimits limits;
  return limits;
}
}  // namespace internal

// ------------------------------------------------------------------------------------------
// Open

Status ParquetReader::Impl::Init() {
  file_size = file->size();
  if (file_size < 12) {
    return Err(StatusCode::kCorruption,
               fmt::format("not a Parquet file: {} bytes is too small", file_size));
  }
  // The leading magic is checked where its bytes are at hand (a mapped file): on an object store
  // it would cost a request of its own for 4 bytes. The trailing magic, the footer's length and
  // every page header still check the file there.
  uint8_t head[4] = {'P', 'A', 'R', '1'}, tail[8];
  if (file->mapped_data()) std::memcpy(head, file->mapped_data(), 4);
  SL_RETURN_IF_ERROR(file->ReadAt(file_size - 8, tail));
  if (std::memcmp(tail + 4, "PARE", 4) == 0) {
    return Err(StatusCode::kNotImplemented, "encrypted Parquet files are not supported");
  }
  if (std::memcmp(head, "PAR1", 4) != 0 || std::memcmp(tail + 4, "PAR1", 4) != 0) {
    return Err(StatusCode::kCorruption, "not a Parquet file: bad magic bytes (expected PAR1)");
  }
  uint32_t footer_len;
  std::memcpy(&footer_len, tail, 4);
  if (footer_len > file_size - 12) {
    return Err(StatusCode::kCorruption,
               fmt::format("footer length {} is larger than the file ({} bytes)", footer_len,
                           file_size));
  }
  if (static_cast<int64_t>(footer_len) > MutableReaderLimits().max_footer_bytes) {
    return Err(StatusCode::kResourceExhausted, fmt::format("footer of {} bytes is too large", footer_len));
  }
  footer_start = file_size - 8 - footer_len;
  std::string footer_buf;
  const uint8_t* footer;
  if (file->mapped_data()) {
    footer = file->mapped_data() + footer_start;
  } else {
    footer_buf.resize(footer_len);
    SL_RETURN_IF_ERROR(file->ReadAt(
        footer_start, std::span<uint8_t>(reinterpret_cast<uint8_t*>(footer_buf.data()), footer_len)));
    footer = reinterpret_cast<const uint8_t*>(footer_buf.data());
  }
  Status s = DecodeFileMetaData(footer, footer_len, &md);
  if (!s.ok()) return Err(s.code(), s.message());
  if (md.encrypted) return Err(StatusCode::kNotImplemented, "encrypted Parquet files are not supported");
  for (const auto& kvp : md.key_value_metadata) kv.emplace_back(kvp.key, kvp.value.value_or(""));

  // Schema: the root, then top-level columns; nested ones are refused by name.
  if (md.schema.empty()) return Err(StatusCode::kCorruption, "schema is empty");
  const SchemaElement& root = md.schema[0];
  if (root.num_children < 0 || static_cast<size_t>(root.num_children) >= md.schema.size() + 1) {
    return Err(StatusCode::kCorruption, "schema root has an invalid number of children");
  }
  size_t idx = 1;
  for (int c = 0; c < root.num_children; ++c) {
    if (idx >= md.schema.size()) {
      return Err(StatusCode::kCorruption, "schema has fewer elements than its tree declares");
    }
    const SchemaElement& e = md.schema[idx];
    bool repeated = e.repetition && *e.repetition == kRepeated;
    if (!e.type || e.num_children > 0 || repeated) {
      std::string kind = "group";
      if (e.logical && e.logical->kind == LogicalType::kList) kind = "LIST";
      else if (e.logical && e.logical->kind == LogicalType::kMap) kind = "MAP";
      else if (e.converted_type && (*e.converted_type == kList)) kind = "LIST";
      else if (e.converted_type && (*e.converted_type == kMap || *e.converted_type == kMapKeyValue)) kind = "MAP";
      else if (repeated) kind = "repeated field";
      else kind = "STRUCT";
      return Err(StatusCode::kNotImplemented,
                 fmt::format("column '{}' is a nested {} column; nested columns are not supported",
                             e.name, kind));
    }
    Leaf leaf;
    leaf.schema_index = static_cast<int>(idx);
    SL_RETURN_IF_ERROR(MapLeaf(e, &leaf));
    schema.fields.push_back(Field{e.name, leaf.type, leaf.max_def > 0});
    leaves.push_back(std::move(leaf));
    ++idx;
  }
  if (idx != md.schema.size()) {
    return Err(StatusCode::kCorruption, "schema has more elements than its tree declares");
  }

  // Row groups: one chunk per leaf, with metadata in the footer, inside the file.
  int64_t total = 0;
  for (size_t g = 0; g < md.row_groups.size(); ++g) {
    const RowGroup& rg = md.row_groups[g];
    if (rg.num_rows < 0) return Err(StatusCode::kCorruption, fmt::format("row group {} has a negative row count", g));
    if (rg.columns.size() != leaves.size()) {
      return Err(StatusCode::kCorruption,
                 fmt::format("row group {} has {} column chunks, the schema has {} columns", g,
                             rg.columns.size(), leaves.size()));
    }
    for (size_t c = 0; c < leaves.size(); ++c) {
      const ColumnChunk& cc = rg.columns[c];
      if (cc.encrypted) return Err(StatusCode::kNotImplemented, "encrypted columns are not supported");
      if (cc.file_path) {
        return Err(StatusCode::kNotImplemented,
                   fmt::format("column '{}' in row group {} lives in another file ({})",
                               leaves[c].info.name, g, *cc.file_path));
      }
      if (!cc.meta_data) {
        return Err(StatusCode::kCorruption, fmt::format("column '{}' in row group {} has no metadata",
                                                        leaves[c].info.name, g));
      }
      if (cc.meta_data->type != leaves[c].physical) {
        return Err(StatusCode::kCorruption,
                   fmt::format("column '{}' in row group {}: chunk type {} differs from the schema's {}",
                               leaves[c].info.name, g, PhysicalTypeName(cc.meta_data->type),
                               PhysicalTypeName(leaves[c].physical)));
      }
    }
    if (rg.num_rows > INT64_MAX - total) return Err(StatusCode::kCorruption, "row counts overflow");
    total += rg.num_rows;
  }
  num_rows = total;
  return Status::OK();
}

Status ParquetReader::Impl::MapLeaf(const SchemaElement& e, Leaf* leaf) {
  leaf->physical = *e.type;
  leaf->type_length = e.type_length;
  leaf->max_def = (e.repetition && *e.repetition == kOptional) ? 1 : 0;
  ColumnInfo& info = leaf->info;
  info.name = e.name;
  info.physical_type = PhysicalTypeName(*e.type);
  info.required = leaf->max_def == 0;
  LogicalType lt;
  if (e.logical && e.logical->kind != LogicalType::kOther) {
    lt = *e.logical;
  } else if (e.converted_type) {
    switch (*e.converted_type) {
      case kUtf8: lt.kind = LogicalType::kString; break;
      case kEnum: lt.kind = LogicalType::kEnum; break;
      case kJson: lt.kind = LogicalType::kJson; break;
      case kBson: lt.kind = LogicalType::kBson; break;
      case kDecimalCT:
        lt.kind = LogicalType::kDecimal;
        lt.precision = e.precision.value_or(0);
        lt.scale = e.scale.value_or(0);
        break;
      case kDateCT: lt.kind = LogicalType::kDate; break;
      case kTimeMillis: lt.kind = LogicalType::kTime; lt.unit = kMillis; lt.utc = true; break;
      case kTimeMicros: lt.kind = LogicalType::kTime; lt.unit = kMicros; lt.utc = true; break;
      case kTimestampMillis: lt.kind = LogicalType::kTimestamp; lt.unit = kMillis; lt.utc = true; break;
      case kTimestampMicros: lt.kind = LogicalType::kTimestamp; lt.unit = kMicros; lt.utc = true; break;
      case kUint8: case kUint16: case kUint32: case kUint64:
      case kInt8: case kInt16: case kInt32CT: case kInt64CT: {
        static const int8_t widths[] = {8, 16, 32, 64, 8, 16, 32, 64};
        lt.kind = LogicalType::kInteger;
        lt.bit_width = widths[*e.converted_type - kUint8];
        lt.is_signed = *e.converted_type >= kInt8;
        break;
      }
      default: break;
    }
  }
  info.logical_type = lt.ToString();
  if (e.logical && e.logical->kind == LogicalType::kOther) info.logical_type = "UNKNOWN(future)";
  // Legacy TIMESTAMP_* converted types are UTC-adjusted by definition, but DuckDB (our oracle)
  // shows them as plain TIMESTAMP; keep `utc` for the explicit logical type only.
  info.utc = e.logical && e.logical->kind == LogicalType::kTimestamp && e.logical->utc;

  auto bad = [&](const char* why) {
    return Err(StatusCode::kNotImplemented,
               fmt::format("column '{}': {} ({} {})", e.name, why, info.physical_type, info.logical_type));
  };
  auto decimal = [&](Conversion narrow, Conversion wide) -> Status {
    if (lt.precision < 1 || lt.precision > 38 || lt.scale < 0 || lt.scale > lt.precision) {
      return Err(StatusCode::kCorruption, fmt::format("column '{}': invalid DECIMAL({},{})", e.name,
                                                      lt.precision, lt.scale));
    }
    leaf->type = DataType::Decimal(static_cast<uint8_t>(lt.precision), static_cast<uint8_t>(lt.scale));
    leaf->conv = lt.precision <= 18 ? narrow : wide;
    return Status::OK();
  };
  switch (*e.type) {
    case kBoolean:
      leaf->type = DataType::Boolean();
      leaf->conv = Conversion::kBool;
      return Status::OK();
    case kInt32:
      if (lt.kind == LogicalType::kDecimal) return decimal(Conversion::kI32ToI64, Conversion::kI32ToI128);
      if (lt.kind == LogicalType::kDate) {
        leaf->type = DataType::Date();
        leaf->conv = Conversion::kCopy32;
      } else if (lt.kind == LogicalType::kTime) {
        leaf->type = DataType::Varchar();
        leaf->conv = Conversion::kTimeMillisText;
      } else if (lt.kind == LogicalType::kInteger && !lt.is_signed && lt.bit_width == 32) {
        leaf->type = DataType::Int64();
        leaf->conv = Conversion::kU32ToI64;
        leaf->unsigned_order = true;
      } else {
        leaf->type = DataType::Int32();
        leaf->conv = Conversion::kCopy32;
        leaf->unsigned_order = lt.kind == LogicalType::kInteger && !lt.is_signed;
      }
      return Status::OK();
    case kInt64:
      if (lt.kind == LogicalType::kDecimal) return decimal(Conversion::kCopy64, Conversion::kI64ToI128);
      if (lt.kind == LogicalType::kTimestamp) {
        leaf->type = DataType::Timestamp();
        leaf->conv = lt.unit == kMillis ? Conversion::kMillisToMicros
                     : lt.unit == kNanos ? Conversion::kNanosToMicros
                                         : Conversion::kCopy64;
      } else if (lt.kind == LogicalType::kTime) {
        leaf->type = DataType::Varchar();
        leaf->conv = lt.unit == kNanos ? Conversion::kTimeNanosText : Conversion::kTimeMicrosText;
      } else if (lt.kind == LogicalType::kInteger && !lt.is_signed) {
        leaf->type = DataType::Decimal(20, 0);
        leaf->conv = Conversion::kU64ToI128;
        leaf->unsigned_order = true;
      } else {
        leaf->type = DataType::Int64();
        leaf->conv = Conversion::kCopy64;
      }
      return Status::OK();
    case kInt96:
      leaf->type = DataType::Timestamp();
      leaf->conv = Conversion::kInt96ToMicros;
      return Status::OK();
    case kFloat:
      leaf->type = DataType::Float();
      leaf->conv = Conversion::kCopy32;
      return Status::OK();
    case kDouble:
      leaf->type = DataType::Double();
      leaf->conv = Conversion::kCopy64;
      return Status::OK();
    case kFixedLenByteArray:
      if (e.type_length <= 0 || e.type_length > (1 << 20)) {
        return Err(StatusCode::kCorruption,
                   fmt::format("column '{}': invalid FIXED_LEN_BYTE_ARRAY length {}", e.name, e.type_length));
      }
      if (lt.kind == LogicalType::kFloat16) {
        if (e.type_length != 2) return bad("FLOAT16 must be 2 bytes");
        leaf->type = DataType::Float();
        leaf->conv = Conversion::kFloat16;
        return Status::OK();
      }
      if (lt.kind == LogicalType::kUuid) {
        if (e.type_length != 16) return bad("UUID must be 16 bytes");
        leaf->type = DataType::Varchar();
        leaf->conv = Conversion::kUuidText;
        return Status::OK();
      }
      [[fallthrough]];
    case kByteArray:
      if (lt.kind == LogicalType::kDecimal) return decimal(Conversion::kBytesToDec64, Conversion::kBytesToDec128);
      leaf->type = DataType::Varchar();
      leaf->conv = Conversion::kBytesView;
      info.binary = !(lt.kind == LogicalType::kString || lt.kind == LogicalType::kEnum ||
                      lt.kind == LogicalType::kJson);
      return Status::OK();
  }
  return bad("unsupported physical type");
}

}  // namespace saleslake::parquet
