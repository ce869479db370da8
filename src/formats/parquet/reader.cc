// ParquetReader: footer parsing, schema mapping, and page decoding straight into column batches.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <mutex>

#include "common/json.h"
#include "common/thread_pool.h"
#include "formats/parquet/internal/codec.h"
#include "formats/parquet/internal/encoding.h"
#include "formats/parquet/internal/metadata.h"
#include "formats/parquet/internal/reader_internal.h"
#include "formats/parquet/parquet.h"

namespace saleslake::parquet {

using namespace internal;  // NOLINT: this file is the module's inside

namespace internal {
ReaderLimits& MutableReaderLimits() {
  static ReaderLimits limits;
  return limits;
}
}  // namespace internal

namespace {

struct Leaf {
  int schema_index = 0;
  int32_t physical = 0;
  int32_t type_length = 0;
  int max_def = 0;
  Conversion conv = Conversion::kCopy32;
  DataType type;
  ColumnInfo info;
  bool unsigned_order = false;  // statistics compare unsigned (UINT_* types)
};

// Bytes per physical value in the dense scratch buffer.
size_t PhysicalWidth(int32_t physical) {
  switch (physical) {
    case kBoolean: return 1;
    case kInt32: case kFloat: return 4;
    case kInt64: case kDouble: return 8;
    case kInt96: return 12;
    default: return sizeof(std::string_view);
  }
}

bool IsIdentity(Conversion c) {
  return c == Conversion::kBool || c == Conversion::kCopy32 || c == Conversion::kCopy64 ||
         c == Conversion::kBytesView;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string TimeText(int64_t micros) {
  int64_t s = FloorDiv(micros, 1000000);
  int64_t frac = micros - s * 1000000;
  int64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  std::string out = fmt::format("{:02}:{:02}:{:02}", h, m, sec);
  if (frac) {
    std::string f = fmt::format("{:06}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  int exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      mant &= 0x3ff;
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | static_cast<uint32_t>(exp - 15 + 127) << 23 | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

// Big-endian two's complement bytes -> __int128; false when it does not fit.
bool BytesToInt128(std::string_view b, __int128* out) {
  if (b.empty()) {
    *out = 0;
    return true;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  size_t n = b.size();
  bool neg = p[0] & 0x80;
  size_t skip = 0;
  if (n > 16) {
    skip = n - 16;
    for (size_t i = 0; i < skip; ++i) {
      if (p[i] != (neg ? 0xff : 0x00)) return false;
    }
    if (((p[skip] & 0x80) != 0) != neg) return false;
  }
  unsigned __int128 v = neg ? ~static_cast<unsigned __int128>(0) : 0;
  for (size_t i = skip; i < n; ++i) v = (v << 8) | p[i];
  *out = static_cast<__int128>(v);
  return true;
}

int64_t Int96ToMicros(const uint8_t* p) {
  int64_t nanos;
  int32_t jday;
  std::memcpy(&nanos, p, 8);
  std::memcpy(&jday, p + 8, 4);
  // Wrapping arithmetic: out-of-range garbage stays garbage but is never undefined behaviour.
  uint64_t days = static_cast<uint64_t>(static_cast<int64_t>(jday) - 2440588);
  return static_cast<int64_t>(days * static_cast<uint64_t>(kMicrosPerDay) +
                              static_cast<uint64_t>(FloorDiv(nanos, 1000)));
}

std::string UuidText(std::string_view b) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    uint8_t c = static_cast<uint8_t>(b[i]);
    s.push_back(hex[c >> 4]);
    s.push_back(hex[c & 15]);
  }
  return s;
}

// ---- the decoded form of one column chunk ----

struct Chunk {
  DataType type;
  size_t width = 0;          // bytes per row in `data` (4 in dictionary mode)
  bool dict_mode = false;    // `data` holds uint32 indices into `dict`
  size_t rows = 0;
  // Row values; not zero-filled when allocated: every row is written by the page that holds it
  // (null rows as zeros), and only rows < `rows` are read.
  std::unique_ptr<uint64_t[]> data;
  size_t data_words = 0;
  std::vector<uint64_t> validity;  // empty = all valid
  std::shared_ptr<ColumnVector> dict;
  std::vector<std::shared_ptr<const void>> keep;  // buffers string views point into

  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(data.get()); }
  // Room for n rows of `width` bytes, keeping the first `rows` rows.
  void Reserve(size_t n) {
    size_t words = (n * width + 7) / 8;
    if (data_words < words) {
      size_t grown = std::max(words, data_words * 3 / 2);
      auto fresh = std::make_unique_for_overwrite<uint64_t[]>(std::max<size_t>(grown, 1));
      if (rows > 0) std::memcpy(fresh.get(), data.get(), rows * width);
      data = std::move(fresh);
      data_words = grown;
    }
    if (!validity.empty() && validity.size() < (n + 63) / 64) {
      validity.resize(std::max((n + 63) / 64, validity.size() * 3 / 2), ~uint64_t{0});
    }
  }
};

// Writes the n rows of a page at dst (W bytes each) from its dense values: bit i of `bits` set
// = row i has the next value, which put(row_address, value_index) writes; null rows get zeros.
// Mixed words (a few nulls among 64 rows is the common case) visit their clear bits, then
// their set bits, one by one: no per-row branch to mispredict.
template <size_t W, typename Put>
void ExpandForward(uint8_t* dst, const uint64_t* bits, size_t n, Put put) {
  size_t j = 0;
  for (size_t base = 0; base < n; base += 64) {
    const size_t cnt = std::min<size_t>(64, n - base);
    const uint64_t full = cnt == 64 ? ~uint64_t{0} : (uint64_t{1} << cnt) - 1;
    uint64_t b = bits[base / 64] & full;
    uint8_t* d = dst + base * W;
    if (b == full) {
      for (size_t r = 0; r < cnt; ++r) put(d + r * W, j++);
      continue;
    }
    for (uint64_t z = ~b & full; z != 0; z &= z - 1) std::memset(d + static_cast<size_t>(std::countr_zero(z)) * W, 0, W);
    for (; b != 0; b &= b - 1) put(d + static_cast<size_t>(std::countr_zero(b)) * W, j++);
  }
}

// ExpandForward in place: the page's dense values already sit at dst; moved to their rows
// from the back so nothing is overwritten before it moves.
template <size_t W>
void ExpandInPlace(uint8_t* dst, const uint64_t* bits, size_t n, size_t dense) {
  size_t j = dense;
  for (size_t i = n; i-- > 0;) {
    if ((bits[i / 64] >> (i % 64)) & 1) {
      --j;
      if (j != i) std::memcpy(dst + i * W, dst + j * W, W);
    } else {
      std::memset(dst + i * W, 0, W);
    }
  }
}

// Calls f with the row width W as a compile-time constant (logical widths are 1, 4, 8 or 16).
template <typename F>
void WithWidth(size_t width, F&& f) {
  switch (width) {
    case 1: return f(std::integral_constant<size_t, 1>());
    case 4: return f(std::integral_constant<size_t, 4>());
    case 8: return f(std::integral_constant<size_t, 8>());
    default: return f(std::integral_constant<size_t, 16>());
  }
}

// Clears the bits of dst[off, off + n) whose bit in src[0, n) is clear (dst starts all valid).
void ClearNullBits(uint64_t* dst, size_t dst_words, size_t off, const uint64_t* src, size_t n) {
  const size_t shift = off % 64;
  for (size_t w = 0; w * 64 < n; ++w) {
    const size_t cnt = std::min<size_t>(64, n - w * 64);
    const uint64_t valid_mask = cnt == 64 ? ~uint64_t{0} : (uint64_t{1} << cnt) - 1;
    const uint64_t nulls = ~src[w] & valid_mask;
    if (nulls == 0) continue;
    const size_t at = off / 64 + w;
    dst[at] &= ~(nulls << shift);
    if (shift != 0 && (nulls >> (64 - shift)) != 0 && at + 1 < dst_words) dst[at + 1] &= ~(nulls >> (64 - shift));
  }
}

template <size_t W>
void Gather(const uint8_t* dict, const uint32_t* idx, size_t n, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) std::memcpy(out + i * W, dict + static_cast<size_t>(idx[i]) * W, W);
}

}  // namespace

struct ParquetReader::Impl {
  std::shared_ptr<const io::RandomAccessFile> file;
  std::string name;
  uint64_t file_size = 0;
  uint64_t footer_start = 0;
  FileMetaData md;
  Schema schema;
  std::vector<Leaf> leaves;
  std::vector<std::pair<std::string, std::string>> kv;
  int64_t num_rows = 0;

  Status Err(StatusCode code, const std::string& msg) const {
    return Status(code, fmt::format("{}: {}", name, msg));
  }
  Status Init();
  Status MapLeaf(const SchemaElement& e, Leaf* leaf);
  Status DecodeChunk(int rg, int col, Chunk* out) const;
  ColumnStats Stats(const Leaf& leaf, const ColumnMetaData& m, int64_t rows) const;
  std::optional<Value> StatValue(const Leaf& leaf, std::string_view bytes) const;
};

// ------------------------------------------------------------------------------------------
// Open

Status ParquetReader::Impl::Init() {
  file_size = file->size();
  if (file_size < 12) {
    return Err(StatusCode::kCorruption,
               fmt::format("not a Parquet file: {} bytes is too small", file_size));
  }
  uint8_t head[4], tail[8];
  SL_RETURN_IF_ERROR(file->ReadAt(0, head));
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

// ------------------------------------------------------------------------------------------
// Page decoding

namespace {

// Everything needed while decoding one column chunk.
struct ChunkDecoder {
  const Leaf& leaf;
  int32_t codec;
  const std::shared_ptr<const void>& file_keep;
  Chunk* out;
  size_t rows_expected;

  // Dictionary in logical form (flat vector) and its physical size.
  std::shared_ptr<ColumnVector> dict;
  size_t dict_size = 0;
  bool seen_data_page = false;

  std::vector<uint64_t> present_bits;  // per page: bit i set = row i has a value
  // Dictionary indices of a page; grown without zero-filling (the decoder writes each one).
  std::unique_ptr<uint32_t[]> indices;
  size_t indices_cap = 0;
  std::vector<uint64_t> scratch;    // physical values before conversion

  Status Corrupt(const std::string& msg) const { return Status::Corruption(msg); }

  // Decodes `n` physical values of `encoding` from [p, end) into dst (physical layout).
  Status DecodePhysical(int32_t encoding, const uint8_t* p, const uint8_t* end, size_t n,
                        uint8_t* dst, const std::shared_ptr<const void>& page_keep);
  // Converts n physical values in src to logical values at dst.
  Status Convert(const uint8_t* src, size_t n, uint8_t* dst);
  Status DataPage(const PageHeader& h, const uint8_t* page, size_t page_size,
                  std::shared_ptr<const void> page_keep, size_t* rows_done);
  Status DictPage(const PageHeader& h, const uint8_t* page, size_t size,
                  std::shared_ptr<const void> page_keep);
  Status LeaveDictMode();
};

Status ChunkDecoder::DecodePhysical(int32_t encoding, const uint8_t* p, const uint8_t* end,
                                    size_t n, uint8_t* dst,
                                    const std::shared_ptr<const void>& page_keep) {
  const size_t avail = static_cast<size_t>(end - p);
  const int32_t phys = leaf.physical;
  switch (encoding) {
    case kPlain: {
      if (phys == kBoolean) {
        if ((n + 7) / 8 > avail) return Corrupt("PLAIN booleans truncated");
        for (size_t i = 0; i < n; ++i) dst[i] = (p[i >> 3] >> (i & 7)) & 1;
        return Status::OK();
      }
      if (phys == kByteArray) {
        auto* views = reinterpret_cast<std::string_view*>(dst);
        for (size_t i = 0; i < n; ++i) {
          if (end - p < 4) return Corrupt(fmt::format("PLAIN BYTE_ARRAY value {} of {} truncated", i, n));
          uint32_t len;
          std::memcpy(&len, p, 4);
          p += 4;
          if (len > static_cast<size_t>(end - p)) {
            return Corrupt(fmt::format("PLAIN BYTE_ARRAY value {} has length {} but {} bytes are left", i, len, end - p));
          }
          views[i] = std::string_view(reinterpret_cast<const char*>(p), len);
          p += len;
        }
        (void)page_keep;
        return Status::OK();
      }
      if (phys == kFixedLenByteArray) {
        size_t w = static_cast<size_t>(leaf.type_length);
        if (n > avail / w) return Corrupt("PLAIN FIXED_LEN_BYTE_ARRAY values truncated");
        auto* views = reinterpret_cast<std::string_view*>(dst);
        for (size_t i = 0; i < n; ++i) views[i] = std::string_view(reinterpret_cast<const char*>(p + i * w), w);
        return Status::OK();
      }
      size_t w = PhysicalWidth(phys);
      if (n > avail / w) {
        return Corrupt(fmt::format("PLAIN {} values truncated: {} values need {} bytes, {} left",
                                   PhysicalTypeName(phys), n, n * w, avail));
      }
      std::memcpy(dst, p, n * w);
      return Status::OK();
    }
    case kRle: {
      if (phys != kBoolean) return Corrupt(fmt::format("RLE encoding for {} values", PhysicalTypeName(phys)));
      if (avail < 4) return Corrupt("RLE booleans: length prefix truncated");
      uint32_t len;
      std::memcpy(&len, p, 4);
      if (len > avail - 4) return Corrupt("RLE booleans: length larger than the page");
      RleDecoder dec(p + 4, len, 1);
      std::vector<uint32_t> bools(n);
      if (!dec.Get(bools.data(), n)) return Corrupt("RLE booleans truncated or malformed");
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(bools[i]);
      return Status::OK();
    }
    case kDeltaBinaryPacked: {
      if (phys == kInt32) {
        auto r = DecodeDeltaBinaryPacked<int32_t>(p, end, n, reinterpret_cast<int32_t*>(dst));
        return r.ok() ? Status::OK() : r.status();
      }
      if (phys == kInt64) {
        auto r = DecodeDeltaBinaryPacked<int64_t>(p, end, n, reinterpret_cast<int64_t*>(dst));
        return r.ok() ? Status::OK() : r.status();
      }
      return Corrupt(fmt::format("DELTA_BINARY_PACKED for {} values", PhysicalTypeName(phys)));
    }
    case kDeltaLengthByteArray:
    case kDeltaByteArray: {
      if (phys != kByteArray && phys != kFixedLenByteArray) {
        return Corrupt(fmt::format("{} for {} values", EncodingName(encoding), PhysicalTypeName(phys)));
      }
      auto* views = reinterpret_cast<std::string_view*>(dst);
      std::vector<int32_t> prefix;
      if (encoding == kDeltaByteArray) {
        SL_ASSIGN_OR_RETURN(uint64_t count, DeltaBinaryPackedCount(p, end));
        if (count < n) return Corrupt("DELTA_BYTE_ARRAY has fewer prefix lengths than values");
        prefix.resize(n);
        SL_ASSIGN_OR_RETURN(p, DecodeDeltaBinaryPacked<int32_t>(p, end, n, prefix.data()));
      }
      SL_ASSIGN_OR_RETURN(uint64_t count, DeltaBinaryPackedCount(p, end));
      if (count < n) return Corrupt("DELTA_LENGTH_BYTE_ARRAY has fewer lengths than values");
      std::vector<int32_t> lens(n);
      SL_ASSIGN_OR_RETURN(p, DecodeDeltaBinaryPacked<int32_t>(p, end, n, lens.data()));
      if (encoding == kDeltaLengthByteArray) {
        for (size_t i = 0; i < n; ++i) {
          if (lens[i] < 0 || static_cast<size_t>(lens[i]) > static_cast<size_t>(end - p)) {
            return Corrupt(fmt::format("DELTA_LENGTH_BYTE_ARRAY value {} has a bad length {}", i, lens[i]));
          }
          views[i] = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(lens[i]));
          p += lens[i];
        }
        return Status::OK();
      }
      // DELTA_BYTE_ARRAY: each value is a prefix of the previous one plus a suffix; values are
      // materialised into one buffer owned by the chunk.
      uint64_t total = 0;
      uint64_t prev_len = 0;
      for (size_t i = 0; i < n; ++i) {
        if (prefix[i] < 0 || lens[i] < 0 || static_cast<uint64_t>(prefix[i]) > prev_len) {
          return Corrupt(fmt::format("DELTA_BYTE_ARRAY value {} has a bad prefix {}", i, prefix[i]));
        }
        prev_len = static_cast<uint64_t>(prefix[i]) + static_cast<uint64_t>(lens[i]);
        total += prev_len;
        if (total > static_cast<uint64_t>(MutableReaderLimits().max_page_bytes)) {
          return Status::ResourceExhausted("DELTA_BYTE_ARRAY page expands past the page size limit");
        }
      }
      auto buf = std::make_shared<std::string>();
      buf->resize(total);
      char* w = buf->data();
      std::string_view prev;
      for (size_t i = 0; i < n; ++i) {
        if (static_cast<size_t>(lens[i]) > static_cast<size_t>(end - p)) {
          return Corrupt(fmt::format("DELTA_BYTE_ARRAY suffix {} truncated", i));
        }
        char* start = w;
        if (prefix[i] > 0) std::memcpy(w, prev.data(), static_cast<size_t>(prefix[i]));
        w += prefix[i];
        if (lens[i] > 0) std::memcpy(w, p, static_cast<size_t>(lens[i]));
        w += lens[i];
        p += lens[i];
        views[i] = std::string_view(start, static_cast<size_t>(w - start));
        prev = views[i];
      }
      out->keep.push_back(std::move(buf));
      return Status::OK();
    }
    case kByteStreamSplit: {
      size_t w = phys == kFixedLenByteArray ? static_cast<size_t>(leaf.type_length) : PhysicalWidth(phys);
      if (phys == kBoolean || phys == kByteArray || phys == kInt96) {
        return Corrupt(fmt::format("BYTE_STREAM_SPLIT for {} values", PhysicalTypeName(phys)));
      }
      if (n > avail / w) return Corrupt("BYTE_STREAM_SPLIT values truncated");
      // The streams are sized by the values actually present (avail / w), not by n.
      size_t stride = avail / w;
      if (phys == kFixedLenByteArray) {
        auto buf = std::make_shared<std::string>(n * w, '\0');
        for (size_t i = 0; i < n; ++i)
          for (size_t k = 0; k < w; ++k) (*buf)[i * w + k] = static_cast<char>(p[k * stride + i]);
        auto* views = reinterpret_cast<std::string_view*>(dst);
        for (size_t i = 0; i < n; ++i) views[i] = std::string_view(buf->data() + i * w, w);
        out->keep.push_back(std::move(buf));
        return Status::OK();
      }
      for (size_t i = 0; i < n; ++i)
        for (size_t k = 0; k < w; ++k) dst[i * w + k] = p[k * stride + i];
      return Status::OK();
    }
    default:
      return Status::NotImplemented(fmt::format("encoding {} is not supported", EncodingName(encoding)));
  }
}

Status ChunkDecoder::Convert(const uint8_t* src, size_t n, uint8_t* dst) {
  auto put128 = [&](size_t i, __int128 v) { std::memcpy(dst + i * 16, &v, 16); };
  auto put_string = [&](size_t i, std::string s) {
    auto buf = std::make_shared<std::string>(std::move(s));
    std::string_view v(*buf);
    std::memcpy(dst + i * 16, &v, 16);
    out->keep.push_back(std::move(buf));
  };
  const auto* i32 = reinterpret_cast<const int32_t*>(src);
  const auto* i64 = reinterpret_cast<const int64_t*>(src);
  const auto* views = reinterpret_cast<const std::string_view*>(src);
  auto* o64 = reinterpret_cast<int64_t*>(dst);
  switch (leaf.conv) {
    case Conversion::kBool:
    case Conversion::kBytesView:
    case Conversion::kCopy32:
    case Conversion::kCopy64:
      if (n > 0) std::memcpy(dst, src, n * out->width);
      return Status::OK();
    case Conversion::kI32ToI64:
      for (size_t i = 0; i < n; ++i) o64[i] = i32[i];
      return Status::OK();
    case Conversion::kU32ToI64:
      for (size_t i = 0; i < n; ++i) o64[i] = static_cast<uint32_t>(i32[i]);
      return Status::OK();
    case Conversion::kI32ToI128:
      for (size_t i = 0; i < n; ++i) put128(i, i32[i]);
      return Status::OK();
    case Conversion::kI64ToI128:
      for (size_t i = 0; i < n; ++i) put128(i, i64[i]);
      return Status::OK();
    case Conversion::kU64ToI128:
      for (size_t i = 0; i < n; ++i) put128(i, static_cast<__int128>(static_cast<uint64_t>(i64[i])));
      return Status::OK();
    case Conversion::kMillisToMicros:
      for (size_t i = 0; i < n; ++i) o64[i] = static_cast<int64_t>(static_cast<uint64_t>(i64[i]) * 1000u);
      return Status::OK();
    case Conversion::kNanosToMicros:
      for (size_t i = 0; i < n; ++i) o64[i] = FloorDiv(i64[i], 1000);
      return Status::OK();
    case Conversion::kInt96ToMicros:
      for (size_t i = 0; i < n; ++i) o64[i] = Int96ToMicros(src + i * 12);
      return Status::OK();
    case Conversion::kTimeMillisText:
      for (size_t i = 0; i < n; ++i) put_string(i, TimeText(int64_t{i32[i]} * 1000));  // fits: |i32| * 1000 < 2^63
      return Status::OK();
    case Conversion::kTimeMicrosText:
      for (size_t i = 0; i < n; ++i) put_string(i, TimeText(i64[i]));
      return Status::OK();
    case Conversion::kTimeNanosText:
      for (size_t i = 0; i < n; ++i) put_string(i, TimeText(FloorDiv(i64[i], 1000)));
      return Status::OK();
    case Conversion::kBytesToDec64:
    case Conversion::kBytesToDec128:
      for (size_t i = 0; i < n; ++i) {
        __int128 v;
        if (!BytesToInt128(views[i], &v)) return Corrupt(fmt::format("decimal value {} does not fit 128 bits", i));
        if (leaf.conv == Conversion::kBytesToDec64) {
          if (v < INT64_MIN || v > INT64_MAX) return Corrupt(fmt::format("decimal value {} exceeds its precision", i));
          o64[i] = static_cast<int64_t>(v);
        } else {
          put128(i, v);
        }
      }
      return Status::OK();
    case Conversion::kFloat16: {
      auto* f = reinterpret_cast<float*>(dst);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h = static_cast<uint16_t>(static_cast<uint8_t>(views[i][0]) |
                                           (static_cast<uint8_t>(views[i][1]) << 8));
        f[i] = HalfToFloat(h);
      }
      return Status::OK();
    }
    case Conversion::kUuidText:
      for (size_t i = 0; i < n; ++i) put_string(i, UuidText(views[i]));
      return Status::OK();
  }
  return Status::OK();
}

Status ChunkDecoder::DictPage(const PageHeader& h, const uint8_t* page, size_t size,
                              std::shared_ptr<const void> page_keep) {
  const auto& d = *h.dictionary_page_header;
  if (dict) return Corrupt("a second dictionary page");
  if (seen_data_page) return Corrupt("dictionary page after a data page");
  if (d.num_values < 0) return Corrupt(fmt::format("dictionary page has a negative value count {}", d.num_values));
  if (d.encoding != kPlain && d.encoding != kPlainDictionary) {
    return Corrupt(fmt::format("dictionary page encoding {}", EncodingName(d.encoding)));
  }
  size_t n = static_cast<size_t>(d.num_values);
  // Every dictionary entry takes at least one byte (booleans: one bit).
  if (leaf.physical != kBoolean && n > size) return Corrupt("dictionary page holds more values than bytes");
  if (leaf.physical == kBoolean && n > size * 8) return Corrupt("dictionary page holds more values than bytes");
  size_t pw = PhysicalWidth(leaf.physical);
  scratch.resize((n * pw + 7) / 8 + 1);
  SL_RETURN_IF_ERROR(DecodePhysical(kPlain, page, page + size, n,
                                    reinterpret_cast<uint8_t*>(scratch.data()), page_keep));
  dict = std::make_shared<ColumnVector>(leaf.type, std::max<size_t>(n, 1));
  dict->Resize(n);
  SL_RETURN_IF_ERROR(Convert(reinterpret_cast<const uint8_t*>(scratch.data()), n, dict->data<uint8_t>()));
  dict_size = n;
  // String views in the dictionary point into the page (or chunk) buffers.
  if (page_keep) dict->KeepAlive(page_keep);
  for (auto& k : out->keep) dict->KeepAlive(k);
  // Strings arrive as dictionary vectors while every page stays dictionary-encoded.
  if (leaf.type.id == TypeId::kVarchar && n > 0) {
    out->dict_mode = true;
    out->width = 4;
    out->dict = dict;
  }
  return Status::OK();
}

Status ChunkDecoder::LeaveDictMode() {
  // A page fell back to PLAIN: materialise the indices decoded so far as views.
  const size_t rows = out->rows;
  Chunk idx_chunk;
  idx_chunk.data = std::move(out->data);
  const auto* idx = reinterpret_cast<const uint32_t*>(idx_chunk.data.get());
  out->dict_mode = false;
  out->width = 16;
  out->data_words = 0;
  out->rows = 0;
  out->Reserve(std::max(rows, rows_expected));
  out->rows = rows;
  Gather<16>(dict->data<uint8_t>(), idx, rows, out->bytes());
  out->keep.push_back(dict);
  out->dict.reset();
  return Status::OK();
}

Status ChunkDecoder::DataPage(const PageHeader& h, const uint8_t* page, size_t page_size,
                              std::shared_ptr<const void> page_keep, size_t* rows_done) {
  seen_data_page = true;
  int32_t num_values, encoding;
  const uint8_t* p = page;
  const uint8_t* end = page + page_size;
  const uint8_t* def_p = nullptr;
  size_t def_len = 0;
  int32_t def_encoding = kRle;
  if (h.type == kDataPage) {
    const auto& d = *h.data_page_header;
    num_values = d.num_values;
    encoding = d.encoding;
    def_encoding = d.definition_level_encoding;
  } else {
    const auto& d = *h.data_page_header_v2;
    num_values = d.num_values;
    encoding = d.encoding;
    if (d.num_rows != d.num_values) return Corrupt("v2 page: num_rows differs from num_values in a flat column");
  }
  if (num_values < 0) return Corrupt(fmt::format("negative value count {}", num_values));
  size_t n = static_cast<size_t>(num_values);
  if (n > rows_expected - *rows_done) {
    return Corrupt(fmt::format("page holds {} values but only {} rows of the row group are left",
                               n, rows_expected - *rows_done));
  }
  if (h.type == kDataPage && leaf.max_def > 0) {
    if (def_encoding == kRle) {
      if (end - p < 4) return Corrupt("definition levels: length prefix truncated");
      uint32_t len;
      std::memcpy(&len, p, 4);
      p += 4;
      if (len > static_cast<size_t>(end - p)) return Corrupt("definition levels longer than the page");
      def_p = p;
      def_len = len;
      p += len;
    } else if (def_encoding == kBitPacked) {
      size_t len = (n + 7) / 8;
      if (len > static_cast<size_t>(end - p)) return Corrupt("definition levels longer than the page");
      def_p = p;
      def_len = len;
      p += len;
    } else {
      return Corrupt(fmt::format("definition levels encoded as {}", EncodingName(def_encoding)));
    }
  } else if (h.type == kDataPageV2 && leaf.max_def > 0) {
    def_p = page;  // caller arranged page = levels followed by values
    def_len = static_cast<size_t>(h.data_page_header_v2->definition_levels_byte_length);
    p = page + def_len;
  }

  // Definition levels -> a bitmap of the rows that have a value.
  size_t dense = n;
  const size_t words = (n + 63) / 64;
  if (leaf.max_def > 0) {
    present_bits.resize(std::max<size_t>(words, 1));
    if (def_encoding == kBitPacked && h.type == kDataPage) {
      // Deprecated BIT_PACKED: MSB first.
      std::fill(present_bits.begin(), present_bits.end(), 0);
      for (size_t i = 0; i < n; ++i) {
        present_bits[i / 64] |= static_cast<uint64_t>((def_p[i >> 3] >> (7 - (i & 7))) & 1) << (i % 64);
      }
      dense = CountValid(present_bits.data(), n);
    } else {
      auto d = DecodeBitLevels(def_p, def_len, n, present_bits.data());
      if (!d) return Corrupt(fmt::format("definition levels truncated or malformed ({} values expected, max level 1)", n));
      dense = *d;
    }
    if (h.type == kDataPageV2 && static_cast<size_t>(h.data_page_header_v2->num_nulls) != n - dense) {
      return Corrupt("v2 page: num_nulls disagrees with the definition levels");
    }
  }
  const bool has_nulls = dense < n;
  const uint64_t* bits = present_bits.data();

  const size_t start = *rows_done;
  out->Reserve(start + n);
  if (has_nulls && out->validity.empty()) {
    out->validity.assign((std::max(rows_expected, start + n) + 63) / 64, ~uint64_t{0});
  }

  bool dict_encoded = encoding == kPlainDictionary || encoding == kRleDictionary;
  if (!dict_encoded && out->dict_mode) SL_RETURN_IF_ERROR(LeaveDictMode());
  uint8_t* dst = out->bytes() + start * out->width;
  if (dict_encoded) {
    if (!dict) return Corrupt("dictionary-encoded page without a dictionary page");
    if (indices_cap < dense) {
      indices = std::make_unique_for_overwrite<uint32_t[]>(dense);
      indices_cap = dense;
    }
    if (dense > 0) {
      if (p >= end) return Corrupt("dictionary indices: bit width byte missing");
      int bw = *p++;
      if (bw > 32) return Corrupt(fmt::format("dictionary index bit width {} is too large", bw));
      RleDecoder dec(p, static_cast<size_t>(end - p), bw);
      if (!dec.Get(indices.get(), dense)) return Corrupt("dictionary indices truncated or malformed");
      // Indices of bw bits cannot exceed a dictionary of 2^bw entries or more.
      if (bw >= 32 || (uint64_t{1} << bw) > dict_size) {
        if (AnyIndexOutOfRange(indices.get(), dense, dict_size)) {
          uint32_t mx = *std::max_element(indices.get(), indices.get() + dense);
          return Corrupt(fmt::format("dictionary index {} out of range (dictionary has {} entries)", mx, dict_size));
        }
      }
    }
    const uint32_t* idx = indices.get();
    if (out->dict_mode) {
      if (!has_nulls) {
        if (dense > 0) std::memcpy(dst, idx, dense * 4);
      } else {
        ExpandForward<4>(dst, bits, n, [idx](uint8_t* d, size_t j) { std::memcpy(d, idx + j, 4); });
      }
    } else {
      const uint8_t* values = dict->data<uint8_t>();
      WithWidth(out->width, [&](auto w) {
        constexpr size_t W = decltype(w)::value;
        if (!has_nulls) {
          Gather<W>(values, idx, dense, dst);
        } else {
          ExpandForward<W>(dst, bits, n, [values, idx](uint8_t* d, size_t j) {
            std::memcpy(d, values + static_cast<size_t>(idx[j]) * W, W);
          });
        }
      });
    }
  } else if (encoding == kPlain && IsIdentity(leaf.conv) && leaf.physical != kBoolean &&
             leaf.physical != kByteArray && leaf.physical != kFixedLenByteArray && has_nulls) {
    // Fixed-width PLAIN values go straight from the page to their rows.
    const size_t pw = PhysicalWidth(leaf.physical);
    if (pw != out->width) return Corrupt("PLAIN value width differs from the column's");
    if (dense > static_cast<size_t>(end - p) / pw) {
      return Corrupt(fmt::format("PLAIN {} values truncated: {} values need {} bytes, {} left",
                                 PhysicalTypeName(leaf.physical), dense, dense * pw, end - p));
    }
    WithWidth(out->width, [&](auto w) {
      constexpr size_t W = decltype(w)::value;
      const uint8_t* src = p;
      ExpandForward<W>(dst, bits, n, [src](uint8_t* d, size_t j) { std::memcpy(d, src + j * W, W); });
    });
  } else {
    if (IsIdentity(leaf.conv)) {
      SL_RETURN_IF_ERROR(DecodePhysical(encoding, p, end, dense, dst, page_keep));
    } else {
      size_t pw = PhysicalWidth(leaf.physical);
      scratch.resize((dense * pw + 7) / 8 + 1);
      auto* s = reinterpret_cast<uint8_t*>(scratch.data());
      SL_RETURN_IF_ERROR(DecodePhysical(encoding, p, end, dense, s, page_keep));
      SL_RETURN_IF_ERROR(Convert(s, dense, dst));
    }
    if (has_nulls) WithWidth(out->width, [&](auto w) { ExpandInPlace<decltype(w)::value>(dst, bits, n, dense); });
  }
  if (has_nulls) ClearNullBits(out->validity.data(), out->validity.size(), start, bits, n);
  *rows_done += n;
  out->rows = *rows_done;
  return Status::OK();
}

}  // namespace

Status ParquetReader::Impl::DecodeChunk(int rg, int col, Chunk* out) const {
  const RowGroup& group = md.row_groups[rg];
  const Leaf& leaf = leaves[col];
  const ColumnMetaData& m = *group.columns[col].meta_data;
  auto where = [&](std::string msg) {
    return fmt::format("{}: row group {}, column '{}': {}", name, rg, leaf.info.name, msg);
  };
  const auto& limits = MutableReaderLimits();
  if (group.num_rows > limits.max_row_group_rows) {
    return Status::ResourceExhausted(where(fmt::format("{} rows exceed the limit of {} per row group",
                                                       group.num_rows, limits.max_row_group_rows)));
  }
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 && *m.dictionary_page_offset < start) {
    start = *m.dictionary_page_offset;
  }
  int64_t len = m.total_compressed_size;
  if (start < 4 || len < 0 || static_cast<uint64_t>(start) > footer_start ||
      static_cast<uint64_t>(len) > footer_start - static_cast<uint64_t>(start)) {
    if (group.num_rows == 0 && len >= 0) {  // nothing to read; some writers leave offsets at 0
      out->type = leaf.type;
      out->width = leaf.type.byte_width();
      return Status::OK();
    }
    return Status::Corruption(where(fmt::format(
        "column chunk [{}, +{}) lies outside the data area of the file (data ends at {})", start, len,
        footer_start)));
  }
  // Chunk bytes: zero copy when the file is mapped.
  std::shared_ptr<const void> chunk_keep;
  const uint8_t* chunk;
  if (file->mapped_data()) {
    chunk = file->mapped_data() + start;
    chunk_keep = std::shared_ptr<const void>(file, file.get());
  } else {
    auto buf = std::make_shared<std::string>(static_cast<size_t>(len), '\0');
    SL_RETURN_IF_ERROR(file->ReadAt(static_cast<uint64_t>(start),
                                    std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf->data()), buf->size())));
    chunk = reinterpret_cast<const uint8_t*>(buf->data());
    chunk_keep = buf;
  }
  out->type = leaf.type;
  out->width = leaf.type.byte_width();
  out->rows = 0;
  const size_t rows_expected = static_cast<size_t>(group.num_rows);
  // Reserve up front only what the chunk could plausibly hold; pages grow it as they arrive.
  out->Reserve(std::min<size_t>(rows_expected, static_cast<size_t>(len) * 8 + 64));
  ChunkDecoder dec{leaf, m.codec, chunk_keep, out, rows_expected};
  size_t pos = 0;
  size_t rows_done = 0;
  int page_no = 0;
  std::vector<uint8_t> levels_and_values;
  while (rows_done < rows_expected) {
    auto page_err = [&](const Status& s) {
      return Status(s.code(), where(fmt::format("page {} (at byte {}): {}", page_no, start + pos, s.message())));
    };
    if (pos >= static_cast<size_t>(len)) {
      return Status::Corruption(where(fmt::format("column chunk ends after {} of {} rows", rows_done, rows_expected)));
    }
    PageHeader h;
    size_t hlen = 0;
    Status s = DecodePageHeader(chunk + pos, static_cast<size_t>(len) - pos, &h, &hlen);
    if (!s.ok()) return page_err(s);
    size_t body_at = pos + hlen;
    if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0 ||
        static_cast<size_t>(h.compressed_page_size) > static_cast<size_t>(len) - body_at) {
      return page_err(Status::Corruption(fmt::format(
          "page body of {} bytes runs past the end of the column chunk ({} bytes left)",
          h.compressed_page_size, static_cast<size_t>(len) - body_at)));
    }
    if (h.uncompressed_page_size > limits.max_page_bytes) {
      return page_err(Status::ResourceExhausted(fmt::format(
          "uncompressed page size {} exceeds the limit {}", h.uncompressed_page_size, limits.max_page_bytes)));
    }
    const uint8_t* body = chunk + body_at;
    const size_t csize = static_cast<size_t>(h.compressed_page_size);
    const size_t usize = static_cast<size_t>(h.uncompressed_page_size);
    pos = body_at + csize;
    ++page_no;
    if (h.type == kDictionaryPage || h.type == kDataPage) {
      if (h.type == kDictionaryPage && !h.dictionary_page_header) return page_err(Status::Corruption("dictionary page without its header"));
      if (h.type == kDataPage && !h.data_page_header) return page_err(Status::Corruption("data page without its header"));
      const uint8_t* data = body;
      std::shared_ptr<const void> keep = chunk_keep;
      if (m.codec != kUncompressedCodec) {
        // Not zero-filled: Decompress fills exactly usize bytes or fails.
        auto buf = std::make_shared_for_overwrite<uint8_t[]>(std::max<size_t>(usize, 1));
        s = Decompress(m.codec, body, csize, buf.get(), usize);
        if (!s.ok()) return page_err(s);
        data = buf.get();
        keep = buf;
      } else if (csize != usize) {
        return page_err(Status::Corruption(fmt::format(
            "uncompressed page sizes differ ({} vs {})", csize, usize)));
      }
      if (keep != chunk_keep || out->keep.empty() || out->keep.back() != chunk_keep) out->keep.push_back(keep);
      s = h.type == kDictionaryPage ? dec.DictPage(h, data, usize, keep)
                                    : dec.DataPage(h, data, usize, keep, &rows_done);
      if (!s.ok()) return page_err(s);
    } else if (h.type == kDataPageV2) {
      if (!h.data_page_header_v2) return page_err(Status::Corruption("v2 data page without its header"));
      const auto& d = *h.data_page_header_v2;
      if (d.repetition_levels_byte_length < 0 || d.definition_levels_byte_length < 0 ||
          static_cast<size_t>(d.repetition_levels_byte_length) + static_cast<size_t>(d.definition_levels_byte_length) > std::min(csize, usize)) {
        return page_err(Status::Corruption("v2 page: level lengths exceed the page"));
      }
      // Repetition levels of a flat column (max level 0) carry nothing: skip them.
      size_t rl = static_cast<size_t>(d.repetition_levels_byte_length);
      size_t lv = static_cast<size_t>(d.definition_levels_byte_length);
      size_t values_c = csize - lv - rl, values_u = usize - lv - rl;
      auto buf = std::make_shared<std::string>(lv + values_u, '\0');
      auto* b = reinterpret_cast<uint8_t*>(buf->data());
      std::memcpy(b, body + rl, lv);
      if (d.is_compressed && m.codec != kUncompressedCodec && values_c > 0) {
        s = Decompress(m.codec, body + rl + lv, values_c, b + lv, values_u);
        if (!s.ok()) return page_err(s);
      } else {
        if (values_c != values_u) {
          return page_err(Status::Corruption(fmt::format("v2 page: value sizes differ ({} vs {})", values_c, values_u)));
        }
        std::memcpy(b + lv, body + rl + lv, values_c);
      }
      out->keep.push_back(buf);
      s = dec.DataPage(h, b, lv + values_u, buf, &rows_done);
      if (!s.ok()) return page_err(s);
    }
    // Index pages and unknown page types are skipped.
  }
  return Status::OK();
}

// ------------------------------------------------------------------------------------------
// Statistics

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

// ------------------------------------------------------------------------------------------
// Public surface

ParquetReader::ParquetReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetReader::~ParquetReader() = default;

Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(std::shared_ptr<const io::RandomAccessFile> file) {
  auto impl = std::make_unique<Impl>();
  impl->name = file->name();
  impl->file = std::move(file);
  SL_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<ParquetReader>(new ParquetReader(std::move(impl)));
}

const Schema& ParquetReader::schema() const { return impl_->schema; }
const ColumnInfo& ParquetReader::column_info(int column) const { return impl_->leaves[column].info; }
int64_t ParquetReader::num_rows() const { return impl_->num_rows; }
int ParquetReader::num_row_groups() const { return static_cast<int>(impl_->md.row_groups.size()); }
int64_t ParquetReader::row_group_num_rows(int rg) const { return impl_->md.row_groups[rg].num_rows; }
std::string ParquetReader::created_by() const { return impl_->md.created_by.value_or(""); }
const std::vector<std::pair<std::string, std::string>>& ParquetReader::key_value_metadata() const {
  return impl_->kv;
}

ColumnStats ParquetReader::row_group_stats(int rg, int column) const {
  const RowGroup& g = impl_->md.row_groups[rg];
  return impl_->Stats(impl_->leaves[column], *g.columns[column].meta_data, g.num_rows);
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

Status ParquetReader::ReadRowGroup(int rg, const std::vector<int>& columns,
                                   const std::function<Status(Batch&)>& sink) const {
  return ReadRowGroupFiltered(rg, columns, BatchFilter{}, sink).status();
}

Result<size_t> ParquetReader::ReadRowGroupFiltered(int rg, const std::vector<int>& columns,
                                                   const BatchFilter& filter,
                                                   const std::function<Status(Batch&)>& sink) const {
  if (rg < 0 || rg >= num_row_groups()) {
    return Status::InvalidArgument(fmt::format("{}: row group {} does not exist ({} row groups)",
                                               impl_->name, rg, num_row_groups()));
  }
  for (int c : columns) {
    if (c < 0 || static_cast<size_t>(c) >= impl_->leaves.size()) {
      return Status::InvalidArgument(fmt::format("{}: column {} does not exist", impl_->name, c));
    }
  }
  for (size_t p : filter.positions) {
    if (p >= columns.size()) return Status::InvalidArgument("filter column position out of range");
  }
  const size_t rows = static_cast<size_t>(row_group_num_rows(rg));
  std::vector<Chunk> chunks(columns.size());
  std::vector<std::shared_ptr<uint64_t[]>> buffers(columns.size());
  // Decodes the listed positions; columns of one row group decode in parallel, callers add
  // row-group parallelism on top. Batches are slices of the decoded chunks (no copy).
  auto decode = [&](const std::vector<size_t>& which) -> Status {
    std::vector<Status> statuses(which.size());
    auto one = [&](size_t i) { statuses[i] = impl_->DecodeChunk(rg, columns[which[i]], &chunks[which[i]]); };
    if (which.size() > 1 && rows >= 8192) {
      ThreadPool::Default().ParallelFor(which.size(), one);
    } else {
      for (size_t i = 0; i < which.size(); ++i) one(i);
    }
    for (auto& s : statuses) SL_RETURN_IF_ERROR(s);
    for (size_t p : which) buffers[p] = std::shared_ptr<uint64_t[]>(std::move(chunks[p].data));
    return Status::OK();
  };
  // Batch [begin, begin + n) with the decoded columns; the others as all-null constants.
  auto make_batch = [&](size_t begin, size_t n, const std::vector<bool>& decoded) {
    Batch batch;
    batch.columns.reserve(columns.size());
    for (size_t i = 0; i < columns.size(); ++i) {
      Chunk& ch = chunks[i];
      if (!decoded[i]) {
        ColumnVector& v = batch.columns.emplace_back(impl_->leaves[static_cast<size_t>(columns[i])].type, 1);
        v.SetNull(0);
        v.MakeConstant(n);
        continue;
      }
      // begin is a multiple of 2048, so every slice starts 8-byte aligned.
      uint64_t* slice = buffers[i].get() + begin * ch.width / 8;
      ColumnVector& v = batch.columns.emplace_back(ch.type, buffers[i], slice, n);
      if (ch.dict_mode) {
        v.MakeDictionary(ch.dict, n);
      } else if (ch.type.id == TypeId::kVarchar) {
        for (auto& k : ch.keep) v.KeepAlive(k);
      }
      if (!ch.validity.empty()) {
        uint64_t* dst = v.EnsureValidity();
        std::memcpy(dst, ch.validity.data() + begin / 64, (n + 63) / 64 * 8);
      }
    }
    batch.num_rows = n;
    return batch;
  };

  std::vector<bool> decoded(columns.size(), false);
  const size_t num_batches = (rows + kBatchRows - 1) / kBatchRows;
  std::vector<bool> wanted(num_batches, true);
  size_t skipped = 0;
  const bool late = filter.any_row && !filter.positions.empty() && filter.positions.size() < columns.size();
  if (late) {
    std::vector<size_t> first(filter.positions);
    std::sort(first.begin(), first.end());
    first.erase(std::unique(first.begin(), first.end()), first.end());
    SL_RETURN_IF_ERROR(decode(first));
    for (size_t p : first) decoded[p] = true;
    for (size_t b = 0; b < num_batches; ++b) {
      Batch probe = make_batch(b * kBatchRows, std::min(kBatchRows, rows - b * kBatchRows), decoded);
      wanted[b] = filter.any_row(probe);
      skipped += wanted[b] ? 0 : 1;
    }
    if (skipped == num_batches) return skipped;  // the other columns are never decoded
  }
  std::vector<size_t> rest;
  for (size_t i = 0; i < columns.size(); ++i)
    if (!decoded[i]) rest.push_back(i);
  SL_RETURN_IF_ERROR(decode(rest));
  std::fill(decoded.begin(), decoded.end(), true);
  for (size_t b = 0; b < num_batches; ++b) {
    if (!wanted[b]) continue;
    Batch batch = make_batch(b * kBatchRows, std::min(kBatchRows, rows - b * kBatchRows), decoded);
    SL_RETURN_IF_ERROR(sink(batch));
  }
  return skipped;
}

bool StatsMayContain(const ColumnStats& stats, const Value& lo, const Value& hi) {
  if (stats.min.is_null() || stats.max.is_null()) return true;
  if (!lo.is_null() && lo.type().id == stats.max.type().id && stats.max.Compare(lo) < 0) return false;
  if (!hi.is_null() && hi.type().id == stats.min.type().id && stats.min.Compare(hi) > 0) return false;
  return true;
}

}  // namespace saleslake::parquet

// ------------------------------------------------------------------------------------------
// parquet-meta

namespace saleslake::parquet {
namespace {

std::string StatText(const Value& v) {
  if (v.is_null()) return "";
  return v.ToString();
}

}  // namespace

std::string ParquetReader::DescribeMetadata(bool json) const {
  const Impl& im = *impl_;
  const FileMetaData& md = im.md;
  std::string o;
  if (!json) {
    o += fmt::format("file: {}\nsize: {} bytes\ncreated_by: {}\nformat version: {}\nrows: {}\nrow groups: {}\n",
                     im.name, im.file_size, md.created_by.value_or(""), md.version, im.num_rows,
                     md.row_groups.size());
    for (const auto& [k, v] : im.kv) {
      o += fmt::format("metadata: {} = {}\n", k, v.size() > 200 ? v.substr(0, 200) + "..." : v);
    }
    o += "schema:\n";
    for (size_t c = 0; c < im.leaves.size(); ++c) {
      const ColumnInfo& ci = im.leaves[c].info;
      o += fmt::format("  {}: {} {}{} -> {}\n", ci.name, ci.required ? "REQUIRED" : "OPTIONAL",
                       ci.physical_type, ci.logical_type.empty() ? "" : " (" + ci.logical_type + ")",
                       im.leaves[c].type.ToString());
    }
    for (size_t g = 0; g < md.row_groups.size(); ++g) {
      const RowGroup& rg = md.row_groups[g];
      o += fmt::format("row group {}: {} rows, {} bytes uncompressed\n", g, rg.num_rows, rg.total_byte_size);
      for (size_t c = 0; c < rg.columns.size(); ++c) {
        const ColumnMetaData& m = *rg.columns[c].meta_data;
        std::string encs;
        for (int32_t e : m.encodings) encs += std::string(encs.empty() ? "" : ",") + EncodingName(e);
        ColumnStats s = row_group_stats(static_cast<int>(g), static_cast<int>(c));
        o += fmt::format("  {}: {} values, codec {}, encodings {}, {} -> {} bytes, offset {}",
                         im.leaves[c].info.name, m.num_values, CodecName(m.codec), encs,
                         m.total_uncompressed_size, m.total_compressed_size, m.data_page_offset);
        if (s.has_null_count) o += fmt::format(", nulls {}", s.null_count);
        if (!s.min.is_null()) o += fmt::format(", min {}, max {}", StatText(s.min), StatText(s.max));
        o += "\n";
      }
    }
    return o;
  }
  o += "{";
  o += fmt::format("\"file\":{},\"size\":{},\"created_by\":{},\"version\":{},\"num_rows\":{},",
                   JsonQuote(im.name), im.file_size, JsonQuote(md.created_by.value_or("")),
                   md.version, im.num_rows);
  o += "\"key_value_metadata\":{";
  for (size_t i = 0; i < im.kv.size(); ++i) {
    o += fmt::format("{}{}:{}", i ? "," : "", JsonQuote(im.kv[i].first), JsonQuote(im.kv[i].second));
  }
  o += "},\"schema\":[";
  for (size_t c = 0; c < im.leaves.size(); ++c) {
    const ColumnInfo& ci = im.leaves[c].info;
    o += fmt::format("{}{{\"name\":{},\"repetition\":\"{}\",\"physical_type\":\"{}\",\"logical_type\":{},\"type\":{}}}",
                     c ? "," : "", JsonQuote(ci.name), ci.required ? "REQUIRED" : "OPTIONAL",
                     ci.physical_type, JsonQuote(ci.logical_type),
                     JsonQuote(im.leaves[c].type.ToString()));
  }
  o += "],\"row_groups\":[";
  for (size_t g = 0; g < md.row_groups.size(); ++g) {
    const RowGroup& rg = md.row_groups[g];
    o += fmt::format("{}{{\"num_rows\":{},\"total_byte_size\":{},\"columns\":[", g ? "," : "",
                     rg.num_rows, rg.total_byte_size);
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const ColumnChunk& cc = rg.columns[c];
      const ColumnMetaData& m = *cc.meta_data;
      std::string encs;
      for (size_t i = 0; i < m.encodings.size(); ++i) {
        encs += fmt::format("{}\"{}\"", i ? "," : "", EncodingName(m.encodings[i]));
      }
      ColumnStats s = row_group_stats(static_cast<int>(g), static_cast<int>(c));
      o += fmt::format(
          "{}{{\"column\":{},\"codec\":\"{}\",\"encodings\":[{}],\"num_values\":{},"
          "\"total_uncompressed_size\":{},\"total_compressed_size\":{},\"data_page_offset\":{},"
          "\"dictionary_page_offset\":{},\"has_column_index\":{},\"has_offset_index\":{},"
          "\"null_count\":{},\"min\":{},\"max\":{}}}",
          c ? "," : "", JsonQuote(im.leaves[c].info.name), CodecName(m.codec), encs, m.num_values,
          m.total_uncompressed_size, m.total_compressed_size, m.data_page_offset,
          m.dictionary_page_offset ? std::to_string(*m.dictionary_page_offset) : "null",
          cc.column_index_offset.has_value(), cc.offset_index_offset.has_value(),
          s.has_null_count ? std::to_string(s.null_count) : "null",
          s.min.is_null() ? "null" : JsonQuote(StatText(s.min)),
          s.max.is_null() ? "null" : JsonQuote(StatText(s.max)));
    }
    o += "]}";
  }
  o += "]}\n";
  return o;
}

}  // namespace saleslake::parquet
