// ParquetWriter: batches -> dictionary/PLAIN pages -> compressed column chunks -> footer.
#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "common/hash.h"
#include "formats/parquet/internal/codec.h"
#include "formats/parquet/internal/encoding.h"
#include "formats/parquet/internal/metadata.h"
#include "formats/parquet/parquet.h"

#ifndef SALESLAKE_VERSION
#define SALESLAKE_VERSION "0.1.0"
#endif

namespace saleslake::parquet {

using namespace internal;  // NOLINT

Result<Compression> ParseCompression(std::string_view name) {
  std::string s(name);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "zstd") return Compression::kZstd;
  if (s == "snappy") return Compression::kSnappy;
  if (s == "gzip") return Compression::kGzip;
  if (s == "lz4" || s == "lz4_raw") return Compression::kLz4Raw;
  if (s == "lz4_hadoop") return Compression::kLz4Hadoop;
  if (s == "brotli") return Compression::kBrotli;
  if (s == "none" || s == "uncompressed") return Compression::kUncompressed;
  return Status::InvalidArgument(fmt::format(
      "unknown compression '{}' (expected zstd, snappy, gzip, lz4, brotli or none)", name));
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kUncompressed: return "none";
    case Compression::kSnappy: return "snappy";
    case Compression::kGzip: return "gzip";
    case Compression::kZstd: return "zstd";
    case Compression::kLz4Raw: return "lz4";
    case Compression::kLz4Hadoop: return "lz4_hadoop";
    case Compression::kBrotli: return "brotli";
  }
  return "?";
}

namespace {

int32_t CodecOf(Compression c) {
  switch (c) {
    case Compression::kUncompressed: return kUncompressedCodec;
    case Compression::kSnappy: return kSnappyCodec;
    case Compression::kGzip: return kGzipCodec;
    case Compression::kZstd: return kZstdCodec;
    case Compression::kLz4Raw: return kLz4RawCodec;
    case Compression::kLz4Hadoop: return kLz4Codec;
    case Compression::kBrotli: return kBrotliCodec;
  }
  return kUncompressedCodec;
}

// Bytes of a FIXED_LEN_BYTE_ARRAY decimal of this precision.
int DecimalBytes(int precision) {
  for (int b = 1; b <= 16; ++b) {
    // Max digits representable in b bytes: floor(log10(2^(8b-1) - 1)).
    double digits = std::floor(std::log10(std::pow(2.0, 8 * b - 1) - 1));
    if (digits >= precision) return b;
  }
  return 16;
}

// Dictionary keys: XXH3 is several times faster than a word-at-a-time mix for the 10-60 byte
// strings of ids and names.
uint64_t HashBytes(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// Physical value kinds the writer handles. Fixed = decimal in FIXED_LEN_BYTE_ARRAY (__int128).
template <typename P>
struct PhysTraits;
template <>
struct PhysTraits<uint8_t> {  // BOOLEAN
  static constexpr int32_t kType = kBoolean;
};
template <>
struct PhysTraits<int32_t> {
  static constexpr int32_t kType = kInt32;
};
template <>
struct PhysTraits<int64_t> {
  static constexpr int32_t kType = kInt64;
};
template <>
struct PhysTraits<float> {
  static constexpr int32_t kType = kFloat;
};
template <>
struct PhysTraits<double> {
  static constexpr int32_t kType = kDouble;
};
template <>
struct PhysTraits<std::string_view> {
  static constexpr int32_t kType = kByteArray;
};
template <>
struct PhysTraits<__int128> {
  static constexpr int32_t kType = kFixedLenByteArray;
};

// Open-addressing map from a value's key to its dictionary index.
class DictMap {
 public:
  DictMap() { Rehash(1024); }
  // Returns the slot holding hash h whose entry equals (by `eq`), or an empty slot.
  template <typename Eq>
  uint32_t* Find(uint64_t h, Eq eq) {
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (true) {
      Slot& s = slots_[i];
      if (s.index == kEmpty) return &s.index;
      if (s.hash == h && eq(s.index)) return &s.index;
      i = (i + 1) & mask;
    }
  }
  // Brings the home slot of h into the cache (a hint; see TypedColumnWriter::Prefetch).
  void Prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & (slots_.size() - 1)]); }
  // The index stored in h's home slot when its hash matches, else kEmpty (a cheap first guess).
  uint32_t HomeIndex(uint64_t h) const {
    const Slot& s = slots_[h & (slots_.size() - 1)];
    return s.hash == h ? s.index : kEmpty;
  }
  void Insert(uint32_t* slot, uint64_t h, uint32_t index) {
    *slot = index;
    reinterpret_cast<Slot*>(reinterpret_cast<char*>(slot) - offsetof(Slot, index))->hash = h;
    if (++count_ * 2 > slots_.size()) Rehash(slots_.size() * 2);
  }
  void Clear() {
    count_ = 0;
    slots_.assign(1024, Slot{0, kEmpty});
  }
  static constexpr uint32_t kEmpty = UINT32_MAX;

 private:
  struct Slot {
    uint64_t hash;
    uint32_t index;
  };
  void Rehash(size_t n) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(n, Slot{0, kEmpty});
    for (const Slot& s : old) {
      if (s.index == kEmpty) continue;
      size_t i = s.hash & (n - 1);
      while (slots_[i].index != kEmpty) i = (i + 1) & (n - 1);
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

// Buffers of FlushPage, one set per thread (a page is encoded by the thread that appends it).
struct PageScratch {
  std::string values, levels, raw, body;
};
PageScratch& Scratch() {
  thread_local PageScratch scratch;
  return scratch;
}

struct ChunkResult {
  ColumnChunk chunk;
  ColumnIndex column_index;
  OffsetIndex offset_index;
  Value min, max;
  int64_t null_count = 0;
};

class ColumnWriter {
 public:
  virtual ~ColumnWriter() = default;
  // Appends rows [begin, begin+n) of `col` (or of sel[begin..] when sel is set).
  virtual Status Append(const ColumnVector& col, const SelectionVector* sel, size_t begin,
                        size_t n) = 0;
  // Encodes buffered values and appends the finished chunk (dictionary page + data pages) to
  // `out`, whose first byte will be at file offset `base`.
  virtual Status FinishChunk(int64_t base, std::string* out, ChunkResult* result) = 0;
  virtual size_t EstimatedBytes() const = 0;
};

template <typename P>
class TypedColumnWriter final : public ColumnWriter {
 public:
  TypedColumnWriter(const Field& field, const WriterOptions& opts, int fixed_width)
      : field_(field), opts_(opts), codec_(CodecOf(opts.compression)), fixed_width_(fixed_width) {
    use_dict_ = opts.dictionary && !std::is_same_v<P, uint8_t>;
    optional_ = field.nullable;
  }

  Status Append(const ColumnVector& col, const SelectionVector* sel, size_t begin,
                size_t n) override {
    // `flat` is about the encoding only: a selection maps k to a row, which a flat vector then
    // indexes directly (no per-value GetValue switch).
    const bool flat = col.encoding() == VectorEncoding::kFlat;
    const bool all_valid = col.validity() == nullptr;
    const bool hashed = use_dict_ && n >= 8;
    if (hashed) Prefetch(col, sel, begin, n, flat, all_valid);
    // Runs up to the next multiple of 1024 page rows, where the page and dictionary checks are.
    for (size_t k = 0; k < n;) {
      const size_t end = k + std::min(n - k, 1024 - (page_rows_ & 1023));
      if (all_valid) {
        if (optional_) defs_.resize(defs_.size() + (end - k), 1);
        for (size_t j = k; j < end; ++j) {
          P v = Load(col, sel ? sel->Get(begin + j) : begin + j, flat);
          AddValue(v, !use_dict_ ? 0 : hashed ? hashes_[j] : Hash(v));
        }
      } else {
        uint8_t* defs = nullptr;  // this run's levels, zero (NULL) until a value is seen
        if (optional_) {
          defs_.resize(defs_.size() + (end - k), 0);
          defs = defs_.data() + defs_.size() - (end - k);
        }
        for (size_t j = k; j < end; ++j) {
          size_t row = sel ? sel->Get(begin + j) : begin + j;
          if (!col.IsValid(row)) {
            if (!optional_) {
              return Status::InvalidArgument(
                  fmt::format("column '{}' is NOT NULL but row {} is NULL", field_.name, row));
            }
            ++page_nulls_;
          } else {
            if (optional_) defs[j - k] = 1;
            P v = Load(col, row, flat);
            AddValue(v, !use_dict_ ? 0 : hashed ? hashes_[j] : Hash(v));
          }
        }
      }
      page_rows_ += end - k;
      k = end;
      if ((page_rows_ & 1023) == 0) {
        if (use_dict_ && DictionaryUnprofitable()) {
          // Finish the dictionary-encoded page, then PLAIN for the rest of the chunk.
          SL_RETURN_IF_ERROR(FlushPage());
          use_dict_ = false;
          map_.Clear();
        } else if (PageBytes() >= opts_.page_size) {
          SL_RETURN_IF_ERROR(FlushPage());
        }
      }
    }
    return Status::OK();
  }

  size_t EstimatedBytes() const override { return pages_.size() + dict_plain_.size() + PageBytes(); }

  Status FinishChunk(int64_t base, std::string* out, ChunkResult* res) override {
    if (page_rows_ > 0 || pages_.empty()) SL_RETURN_IF_ERROR(FlushPage());
    ColumnMetaData m;
    m.type = PhysTraits<P>::kType;
    m.path = {field_.name};
    m.codec = codec_;
    m.num_values = chunk_values_;
    int64_t uncompressed = 0;
    size_t start = out->size();
    bool wrote_dict = dict_count_ > 0 && dict_pages_ > 0;
    if (wrote_dict) {
      std::string body;
      SL_RETURN_IF_ERROR(Compress(codec_, opts_.compression_level, dict_plain_, &body));
      PageHeader h;
      h.type = kDictionaryPage;
      h.uncompressed_page_size = static_cast<int32_t>(dict_plain_.size());
      h.compressed_page_size = static_cast<int32_t>(body.size());
      h.dictionary_page_header = DictionaryPageHeader{static_cast<int32_t>(dict_count_),
                                                      opts_.data_page_v2 ? kPlain : kPlainDictionary, false};
      size_t before = out->size();
      EncodePageHeader(h, out);
      uncompressed += static_cast<int64_t>(out->size() - before + dict_plain_.size());
      out->append(body);
      m.dictionary_page_offset = base;
    }
    int64_t data_offset = base + static_cast<int64_t>(out->size() - start);
    m.data_page_offset = data_offset;
    for (auto& loc : res->offset_index.page_locations) loc.offset += data_offset;
    out->append(pages_);
    uncompressed += pages_uncompressed_;
    m.total_uncompressed_size = uncompressed;
    m.total_compressed_size = static_cast<int64_t>(out->size() - start);
    if (wrote_dict) m.encodings.push_back(opts_.data_page_v2 ? kRleDictionary : kPlainDictionary);
    if (plain_pages_ > 0 || !wrote_dict) m.encodings.push_back(kPlain);
    m.encodings.push_back(kRle);
    Statistics st;
    st.null_count = chunk_nulls_;
    if (chunk_has_minmax_) {
      st.min_value = EncodeStat(chunk_min_);
      st.max_value = EncodeStat(chunk_max_);
      res->min = ToValue(chunk_min_);
      res->max = ToValue(chunk_max_);
    } else {
      res->min = Value::Null(field_.type);
      res->max = Value::Null(field_.type);
    }
    m.statistics = std::move(st);
    res->null_count = chunk_nulls_;
    res->chunk.file_offset = base;
    res->chunk.meta_data = std::move(m);
    res->column_index = std::move(column_index_);
    res->offset_index.page_locations = std::move(locations_);
    for (auto& loc : res->offset_index.page_locations) loc.offset += data_offset;
    Reset();
    return Status::OK();
  }

 private:
  using Key = std::conditional_t<std::is_same_v<P, std::string_view>, std::string, P>;

  P Load(const ColumnVector& col, size_t row, bool flat) const {
    if constexpr (std::is_same_v<P, uint8_t>) {
      return flat ? col.data<uint8_t>()[row] : col.GetValue<uint8_t>(row);
    } else if constexpr (std::is_same_v<P, std::string_view>) {
      return flat ? col.data<std::string_view>()[row] : col.GetValue<std::string_view>(row);
    } else if constexpr (std::is_same_v<P, __int128>) {
      if (field_.type.is_wide_decimal()) {
        __int128 v;
        const uint8_t* src;
        switch (col.encoding()) {
          case VectorEncoding::kFlat: src = col.data<uint8_t>() + row * 16; break;
          case VectorEncoding::kConstant: src = col.data<uint8_t>(); break;
          default: src = col.dictionary()->data<uint8_t>() + col.data<uint32_t>()[row] * 16; break;
        }
        std::memcpy(&v, src, 16);
        return v;
      }
      return flat ? col.data<int64_t>()[row] : col.GetValue<int64_t>(row);
    } else if constexpr (std::is_same_v<P, int32_t>) {
      if (field_.type.id == TypeId::kDecimal) {  // decimals are int64 in memory
        return static_cast<int32_t>(flat ? col.data<int64_t>()[row] : col.GetValue<int64_t>(row));
      }
      return flat ? col.data<int32_t>()[row] : col.GetValue<int32_t>(row);
    } else {
      return flat ? col.data<P>()[row] : col.GetValue<P>(row);
    }
  }

  static bool Less(const P& a, const P& b) { return a < b; }

  void UpdateStats(const P& v) {
    if constexpr (std::is_floating_point_v<P>) {
      if (std::isnan(v)) return;
    }
    if constexpr (std::is_same_v<P, std::string_view>) {
      // Most strings differ from the page's min and max in their first eight bytes: compare
      // those as one big-endian integer and call memcmp only on a tie.
      const uint64_t prefix = Prefix8(v);
      if (!page_has_minmax_) {
        SetStat(page_min_, v);
        SetStat(page_max_, v);
        page_min_prefix_ = page_max_prefix_ = prefix;
        page_has_minmax_ = true;
      } else if (prefix < page_min_prefix_ ||
                 (prefix == page_min_prefix_ && Less(v, AsP(page_min_)))) {
        SetStat(page_min_, v);
        page_min_prefix_ = prefix;
      } else if (prefix > page_max_prefix_ ||
                 (prefix == page_max_prefix_ && Less(AsP(page_max_), v))) {
        SetStat(page_max_, v);
        page_max_prefix_ = prefix;
      }
      return;
    }
    if (!page_has_minmax_) {
      SetStat(page_min_, v);
      SetStat(page_max_, v);
      page_has_minmax_ = true;
      return;
    }
    if (Less(v, AsP(page_min_))) SetStat(page_min_, v);
    else if (Less(AsP(page_max_), v)) SetStat(page_max_, v);
  }
  // The first eight bytes of s as a big-endian number, zero-padded: when the prefixes of two
  // strings differ, they order the strings as memcmp does.
  static uint64_t Prefix8(std::string_view s) {
    uint64_t x = 0;
    if (s.size() >= 8) std::memcpy(&x, s.data(), 8);
    else if (!s.empty()) std::memcpy(&x, s.data(), s.size());
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
    return x;
  }
  static void SetStat(Key& k, const P& v) {
    if constexpr (std::is_same_v<P, std::string_view>) k.assign(v.data(), v.size());
    else k = v;
  }
  static P AsP(const Key& k) { return P(k); }

  static uint64_t Hash(const P& v) {
    if constexpr (std::is_same_v<P, std::string_view>) {
      return HashBytes(v);
    } else if constexpr (std::is_same_v<P, __int128>) {
      return MixBits64(static_cast<uint64_t>(v) ^ MixBits64(static_cast<uint64_t>(static_cast<unsigned __int128>(v) >> 64)));
    } else {
      uint64_t bits = 0;
      std::memcpy(&bits, &v, sizeof(P));
      return MixBits64(bits);
    }
  }

  // The dictionary lookups of a column with many distinct values (customer ids) miss the cache
  // on the hash slot and again on the entry's bytes. Before appending n values, hash them all
  // and prefetch their slots, then (strings) the entries those slots point to, so the misses
  // overlap instead of being paid one after another. Only hints: the append re-probes.
  void Prefetch(const ColumnVector& col, const SelectionVector* sel, size_t begin, size_t n,
                bool flat, bool all_valid) {
    hashes_.resize(n);
    for (size_t k = 0; k < n; ++k) {
      size_t row = sel ? sel->Get(begin + k) : begin + k;
      if (!all_valid && !col.IsValid(row)) continue;
      hashes_[k] = Hash(Load(col, row, flat));
      map_.Prefetch(hashes_[k]);
    }
    if constexpr (std::is_same_v<P, std::string_view>) {
      for (size_t k = 0; k < n; ++k) {
        uint32_t idx = map_.HomeIndex(hashes_[k]);
        if (idx != DictMap::kEmpty) __builtin_prefetch(&dict_offsets_[idx]);
      }
      for (size_t k = 0; k < n; ++k) {
        uint32_t idx = map_.HomeIndex(hashes_[k]);
        if (idx != DictMap::kEmpty) __builtin_prefetch(dict_plain_.data() + dict_offsets_[idx] - 4);
      }
    }
  }

  void AddValue(const P& v, uint64_t h) {
    UpdateStats(v);
    if (use_dict_) {
      uint32_t* slot = map_.Find(h, [&](uint32_t idx) { return DictEntryEquals(idx, v); });
      if (*slot == DictMap::kEmpty) {
        uint32_t idx = static_cast<uint32_t>(dict_count_++);
        AppendPlain(v, &dict_plain_);
        if constexpr (std::is_same_v<P, std::string_view>) {
          dict_offsets_.push_back(static_cast<uint32_t>(dict_plain_.size() - v.size()));
        }
        map_.Insert(slot, h, idx);
        page_idx_.push_back(idx);
      } else {
        page_idx_.push_back(*slot);
      }
      return;
    }
    AppendPlain(v, &page_plain_);
  }

  bool DictEntryEquals(uint32_t idx, const P& v) const {
    if constexpr (std::is_same_v<P, std::string_view>) {
      uint32_t off = dict_offsets_[idx];
      uint32_t len;
      std::memcpy(&len, dict_plain_.data() + off - 4, 4);
      return len == v.size() && (len == 0 || std::memcmp(dict_plain_.data() + off, v.data(), len) == 0);
    } else if constexpr (std::is_same_v<P, __int128>) {
      return std::memcmp(dict_plain_.data() + static_cast<size_t>(idx) * fixed_width_,
                         EncodeFixed(v).data(), fixed_width_) == 0;
    } else {
      return std::memcmp(dict_plain_.data() + static_cast<size_t>(idx) * sizeof(P), &v, sizeof(P)) == 0;
    }
  }

  std::string EncodeFixed(__int128 v) const {
    std::string s(static_cast<size_t>(fixed_width_), '\0');
    for (int i = fixed_width_ - 1; i >= 0; --i) {
      s[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(v & 0xff));
      v >>= 8;
    }
    return s;
  }

  void AppendPlain(const P& v, std::string* out) const {
    if constexpr (std::is_same_v<P, std::string_view>) {
      uint32_t len = static_cast<uint32_t>(v.size());
      out->append(reinterpret_cast<const char*>(&len), 4);
      out->append(v);
    } else if constexpr (std::is_same_v<P, __int128>) {
      out->append(EncodeFixed(v));
    } else if constexpr (std::is_same_v<P, uint8_t>) {
      out->push_back(static_cast<char>(v));  // bit-packed at page flush
    } else {
      out->append(reinterpret_cast<const char*>(&v), sizeof(P));
    }
  }

  std::string EncodeStat(const Key& k) const {
    if constexpr (std::is_same_v<P, std::string_view>) {
      return k;
    } else {
      P v = k;
      if constexpr (std::is_floating_point_v<P>) {
        if (v == 0) v = &k == &chunk_min_ || &k == &page_min_ ? -P(0) : P(0);
      }
      std::string s;
      AppendPlain(v, &s);
      return s;
    }
  }

  Value ToValue(const Key& k) const {
    const DataType& t = field_.type;
    if constexpr (std::is_same_v<P, std::string_view>) {
      return Value::Varchar(k);
    } else if constexpr (std::is_same_v<P, uint8_t>) {
      return Value::Boolean(k != 0);
    } else if constexpr (std::is_same_v<P, __int128>) {
      return Value::Decimal(k, t.precision, t.scale);
    } else if constexpr (std::is_same_v<P, float>) {
      return Value::Float(k);
    } else if constexpr (std::is_same_v<P, double>) {
      return Value::Double(k);
    } else {
      switch (t.id) {
        case TypeId::kDate: return Value::Date(static_cast<int32_t>(k));
        case TypeId::kTimestamp: return Value::Timestamp(k);
        case TypeId::kDecimal: return Value::Decimal(k, t.precision, t.scale);
        case TypeId::kInt32: return Value::Int32(static_cast<int32_t>(k));
        default: return Value::Int64(k);
      }
    }
  }

  size_t PageBytes() const {
    if (use_dict_) return page_idx_.size() * 2 + defs_.size() / 8;
    return page_plain_.size() + defs_.size() / 8;
  }

  // True when the dictionary should be dropped for the rest of the chunk: it grew too big, or
  // most values are distinct so indices would not pay for it (checked every 1024 rows).
  // Nearly all distinct after 4096 values (ids, tokens, measurements) is given up early: a
  // uniform column that still has 90% new values there has 20,000 or more distinct values, and
  // the 50% test at 16384 values would drop it anyway; meanwhile every value costs a hash insert.
  bool DictionaryUnprofitable() const {
    int64_t values = chunk_values_ - chunk_nulls_ + static_cast<int64_t>(page_idx_.size());
    int64_t distinct = static_cast<int64_t>(dict_count_);
    bool too_big = dict_plain_.size() > std::max<size_t>(opts_.page_size, 64 * 1024) ||
                   dict_count_ >= (1u << 20);
    bool useless = values >= 16384 && distinct * 2 > values;
    bool hopeless = values >= 4096 && distinct * 10 > values * 9;
    return too_big || useless || hopeless;
  }

  Status FlushPage() {
    const size_t rows = page_rows_;
    const size_t nulls = page_nulls_;
    const bool dict_page = use_dict_ && dict_count_ > 0;  // an all-NULL page needs no dictionary
    // Encoding and compression go through per-thread buffers that keep their capacity: fresh
    // page-sized strings cost a page fault per 4 KB and a zero fill of the compression bound.
    PageScratch& sc = Scratch();
    const std::string* values = &sc.values;
    sc.values.clear();
    if (dict_page) {
      int bw = BitWidth(dict_count_ > 0 ? dict_count_ - 1 : 0);
      sc.values.push_back(static_cast<char>(bw));
      RleEncode(page_idx_.data(), page_idx_.size(), bw, &sc.values);
      ++dict_pages_;
    } else if constexpr (std::is_same_v<P, uint8_t>) {
      sc.values.assign((page_plain_.size() + 7) / 8, '\0');
      for (size_t i = 0; i < page_plain_.size(); ++i) {
        if (page_plain_[i]) sc.values[i >> 3] = static_cast<char>(sc.values[i >> 3] | (1 << (i & 7)));
      }
      ++plain_pages_;
    } else {
      values = &page_plain_;
      ++plain_pages_;
    }
    std::string& levels = sc.levels;
    levels.clear();
    if (optional_) RleEncodeBytes(defs_.data(), defs_.size(), 1, &levels);
    int32_t encoding = dict_page ? (opts_.data_page_v2 ? kRleDictionary : kPlainDictionary) : kPlain;

    PageHeader h;
    std::string& body = sc.body;
    body.clear();
    size_t raw_size;
    if (!opts_.data_page_v2) {
      std::string& raw = sc.raw;
      raw.clear();
      if (optional_) {
        uint32_t len = static_cast<uint32_t>(levels.size());
        raw.append(reinterpret_cast<const char*>(&len), 4);
        raw.append(levels);
      }
      raw.append(*values);
      raw_size = raw.size();
      SL_RETURN_IF_ERROR(Compress(codec_, opts_.compression_level, raw, &body));
      h.type = kDataPage;
      h.data_page_header = DataPageHeader{static_cast<int32_t>(rows), encoding, kRle, kRle, std::nullopt};
      h.uncompressed_page_size = static_cast<int32_t>(raw_size);
    } else {
      body.append(levels);
      SL_RETURN_IF_ERROR(Compress(codec_, opts_.compression_level, *values, &body));
      raw_size = levels.size() + values->size();
      h.type = kDataPageV2;
      DataPageHeaderV2 d;
      d.num_values = static_cast<int32_t>(rows);
      d.num_nulls = static_cast<int32_t>(nulls);
      d.num_rows = static_cast<int32_t>(rows);
      d.encoding = encoding;
      d.definition_levels_byte_length = static_cast<int32_t>(levels.size());
      d.repetition_levels_byte_length = 0;
      d.is_compressed = codec_ != kUncompressedCodec;
      h.data_page_header_v2 = d;
      h.uncompressed_page_size = static_cast<int32_t>(raw_size);
    }
    h.compressed_page_size = static_cast<int32_t>(body.size());
    size_t at = pages_.size();
    EncodePageHeader(h, &pages_);
    size_t header_size = pages_.size() - at;
    pages_.append(body);
    pages_uncompressed_ += static_cast<int64_t>(header_size + raw_size);
    locations_.push_back(PageLocation{static_cast<int64_t>(at),
                                      static_cast<int32_t>(header_size + body.size()),
                                      chunk_rows_});
    // Page index entry.
    column_index_.null_pages.push_back(!page_has_minmax_ && nulls == rows);
    if (page_has_minmax_) {
      column_index_.min_values.push_back(EncodeStat(page_min_));
      column_index_.max_values.push_back(EncodeStat(page_max_));
    } else {
      column_index_.min_values.emplace_back();
      column_index_.max_values.emplace_back();
    }
    column_index_.null_counts.push_back(static_cast<int64_t>(nulls));
    if (page_has_minmax_) {
      if (!chunk_has_minmax_ || Less(AsP(page_min_), AsP(chunk_min_))) chunk_min_ = page_min_;
      if (!chunk_has_minmax_ || Less(AsP(chunk_max_), AsP(page_max_))) chunk_max_ = page_max_;
      chunk_has_minmax_ = true;
    }
    chunk_rows_ += static_cast<int64_t>(rows);
    chunk_values_ += static_cast<int64_t>(rows);
    chunk_nulls_ += static_cast<int64_t>(nulls);
    page_rows_ = page_nulls_ = 0;
    page_has_minmax_ = false;
    defs_.clear();
    page_idx_.clear();
    std::string().swap(page_plain_);  // released: most column writers wait long for their next page
    return Status::OK();
  }

  void Reset() {
    pages_.clear();
    pages_uncompressed_ = 0;
    dict_plain_.clear();
    dict_offsets_.clear();
    dict_count_ = 0;
    dict_pages_ = plain_pages_ = 0;
    map_.Clear();
    use_dict_ = opts_.dictionary && !std::is_same_v<P, uint8_t>;
    chunk_rows_ = chunk_values_ = chunk_nulls_ = 0;
    chunk_has_minmax_ = false;
    column_index_ = ColumnIndex();
    locations_.clear();
  }

  Field field_;
  const WriterOptions& opts_;
  int32_t codec_;
  int fixed_width_;
  bool optional_ = true;
  bool use_dict_ = false;

  // current page
  std::vector<uint8_t> defs_;
  std::vector<uint32_t> page_idx_;
  std::string page_plain_;
  size_t page_rows_ = 0, page_nulls_ = 0;
  Key page_min_{}, page_max_{};
  uint64_t page_min_prefix_ = 0, page_max_prefix_ = 0;  // Prefix8 of the two (strings only)
  bool page_has_minmax_ = false;

  // current chunk
  std::string pages_;
  int64_t pages_uncompressed_ = 0;
  std::string dict_plain_;
  std::vector<uint32_t> dict_offsets_;
  std::vector<uint64_t> hashes_;  // scratch of Prefetch
  size_t dict_count_ = 0;
  int dict_pages_ = 0, plain_pages_ = 0;
  DictMap map_;
  int64_t chunk_rows_ = 0, chunk_values_ = 0, chunk_nulls_ = 0;
  Key chunk_min_{}, chunk_max_{};
  bool chunk_has_minmax_ = false;
  ColumnIndex column_index_;
  std::vector<PageLocation> locations_;
};

}  // namespace

struct ParquetWriter::Impl {
  io::OutputStream* out = nullptr;
  Schema schema;
  WriterOptions options;
  std::vector<std::unique_ptr<ColumnWriter>> columns;
  FileMetaData md;
  std::vector<std::vector<ChunkResult>> results;  // per row group: page indexes + stats
  int64_t rg_rows = 0;
  int64_t total_rows = 0;
  bool closed = false;

  Status FlushRowGroup();
};

ParquetWriter::ParquetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetWriter::~ParquetWriter() = default;

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(io::OutputStream* out, const Schema& schema,
                                                           const WriterOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->out = out;
  impl->schema = schema;
  impl->options = options;
  if (options.row_group_rows <= 0) return Status::InvalidArgument("row_group_rows must be positive");
  if (options.page_size == 0) return Status::InvalidArgument("page_size must be positive");
  FileMetaData& md = impl->md;
  md.version = options.data_page_v2 ? 2 : 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(schema.size());
  md.schema.push_back(root);
  for (const Field& f : schema.fields) {
    SchemaElement e;
    e.name = f.name;
    e.repetition = f.nullable ? kOptional : kRequired;
    LogicalType lt;
    std::unique_ptr<ColumnWriter> w;
    const WriterOptions& o = impl->options;
    switch (f.type.id) {
      case TypeId::kBoolean:
        e.type = kBoolean;
        w = std::make_unique<TypedColumnWriter<uint8_t>>(f, o, 0);
        break;
      case TypeId::kInt32:
        e.type = kInt32;
        w = std::make_unique<TypedColumnWriter<int32_t>>(f, o, 0);
        break;
      case TypeId::kInt64:
        e.type = kInt64;
        w = std::make_unique<TypedColumnWriter<int64_t>>(f, o, 0);
        break;
      case TypeId::kFloat:
        e.type = kFloat;
        w = std::make_unique<TypedColumnWriter<float>>(f, o, 0);
        break;
      case TypeId::kDouble:
        e.type = kDouble;
        w = std::make_unique<TypedColumnWriter<double>>(f, o, 0);
        break;
      case TypeId::kVarchar:
        e.type = kByteArray;
        e.converted_type = kUtf8;
        lt.kind = LogicalType::kString;
        w = std::make_unique<TypedColumnWriter<std::string_view>>(f, o, 0);
        break;
      case TypeId::kDate:
        e.type = kInt32;
        e.converted_type = kDateCT;
        lt.kind = LogicalType::kDate;
        w = std::make_unique<TypedColumnWriter<int32_t>>(f, o, 0);
        break;
      case TypeId::kTimestamp:
        e.type = kInt64;
        e.converted_type = kTimestampMicros;
        lt.kind = LogicalType::kTimestamp;
        lt.unit = kMicros;
        lt.utc = true;
        w = std::make_unique<TypedColumnWriter<int64_t>>(f, o, 0);
        break;
      case TypeId::kDecimal: {
        int p = f.type.precision, s = f.type.scale;
        if (p < 1 || p > 38 || s > p) {
          return Status::InvalidArgument(fmt::format("column '{}': invalid {}", f.name, f.type.ToString()));
        }
        e.converted_type = kDecimalCT;
        e.precision = p;
        e.scale = s;
        lt.kind = LogicalType::kDecimal;
        lt.precision = p;
        lt.scale = s;
        if (p <= 9) {
          e.type = kInt32;
          w = std::make_unique<TypedColumnWriter<int32_t>>(f, o, 0);
        } else if (p <= 18) {
          e.type = kInt64;
          w = std::make_unique<TypedColumnWriter<int64_t>>(f, o, 0);
        } else {
          e.type = kFixedLenByteArray;
          e.type_length = DecimalBytes(p);
          w = std::make_unique<TypedColumnWriter<__int128>>(f, o, e.type_length);
        }
        break;
      }
      default:
        return Status::NotImplemented(fmt::format("column '{}': type {} cannot be written to Parquet",
                                                  f.name, f.type.ToString()));
    }
    if (lt.kind != LogicalType::kNone) e.logical = lt;
    md.schema.push_back(std::move(e));
    md.column_orders.push_back(1);
    impl->columns.push_back(std::move(w));
  }
  md.created_by = "saleslake version " SALESLAKE_VERSION;
  for (const auto& [k, v] : options.key_value_metadata) md.key_value_metadata.push_back(KeyValue{k, v});
  SL_RETURN_IF_ERROR(out->Append("PAR1"));
  return std::unique_ptr<ParquetWriter>(new ParquetWriter(std::move(impl)));
}

Status ParquetWriter::Impl::FlushRowGroup() {
  if (rg_rows == 0 && !md.row_groups.empty()) return Status::OK();
  if (rg_rows == 0) return Status::OK();
  RowGroup rg;
  rg.num_rows = rg_rows;
  int64_t start = static_cast<int64_t>(out->bytes_written());
  rg.file_offset = start;
  std::vector<ChunkResult> res(columns.size());
  std::string buf;
  for (size_t c = 0; c < columns.size(); ++c) {
    buf.clear();
    int64_t base = static_cast<int64_t>(out->bytes_written());
    SL_RETURN_IF_ERROR(columns[c]->FinishChunk(base, &buf, &res[c]));
    SL_RETURN_IF_ERROR(out->Append(buf));
    rg.total_byte_size += res[c].chunk.meta_data->total_uncompressed_size;
    rg.columns.push_back(res[c].chunk);
  }
  rg.total_compressed_size = static_cast<int64_t>(out->bytes_written()) - start;
  rg.ordinal = static_cast<int16_t>(md.row_groups.size());
  md.row_groups.push_back(std::move(rg));
  results.push_back(std::move(res));
  total_rows += rg_rows;
  rg_rows = 0;
  return Status::OK();
}

Status ParquetWriter::Write(const Batch& batch) {
  Impl& im = *impl_;
  if (im.closed) return Status::InvalidArgument("ParquetWriter::Write after Close");
  if (batch.num_columns() != im.schema.size()) {
    return Status::InvalidArgument(fmt::format("batch has {} columns, the Parquet schema has {}",
                                               batch.num_columns(), im.schema.size()));
  }
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const DataType& have = batch.columns[c].type();
    const DataType& want = im.schema[c].type;
    if (!(have == want)) {
      return Status::InvalidArgument(fmt::format("column '{}': batch has type {}, schema says {}",
                                                 im.schema[c].name, have.ToString(), want.ToString()));
    }
  }
  const SelectionVector* sel = batch.selection ? &*batch.selection : nullptr;
  const size_t live = batch.live_rows();
  size_t done = 0;
  while (done < live) {
    size_t room = static_cast<size_t>(im.options.row_group_rows - im.rg_rows);
    size_t n = std::min(room, live - done);
    for (size_t c = 0; c < im.columns.size(); ++c) {
      Status s = im.columns[c]->Append(batch.columns[c], sel, done, n);
      if (!s.ok()) return s;
    }
    im.rg_rows += static_cast<int64_t>(n);
    done += n;
    size_t bytes = 0;
    for (auto& w : im.columns) bytes += w->EstimatedBytes();
    if (im.rg_rows >= im.options.row_group_rows || bytes >= (size_t{128} << 20)) {
      SL_RETURN_IF_ERROR(im.FlushRowGroup());
    }
  }
  return Status::OK();
}

size_t ParquetWriter::buffered_bytes() const {
  size_t bytes = 0;
  for (const auto& w : impl_->columns) bytes += w->EstimatedBytes();
  return bytes;
}

Status ParquetWriter::FlushRowGroup() {
  if (impl_->closed) return Status::InvalidArgument("ParquetWriter::FlushRowGroup after Close");
  return impl_->FlushRowGroup();
}

Result<FileStats> ParquetWriter::Close() {
  Impl& im = *impl_;
  if (im.closed) return Status::InvalidArgument("ParquetWriter::Close called twice");
  im.closed = true;
  SL_RETURN_IF_ERROR(im.FlushRowGroup());
  if (im.options.write_page_index) {
    std::string buf;
    for (size_t g = 0; g < im.results.size(); ++g) {
      for (size_t c = 0; c < im.columns.size(); ++c) {
        buf.clear();
        EncodeColumnIndex(im.results[g][c].column_index, &buf);
        ColumnChunk& cc = im.md.row_groups[g].columns[c];
        cc.column_index_offset = static_cast<int64_t>(im.out->bytes_written());
        cc.column_index_length = static_cast<int32_t>(buf.size());
        SL_RETURN_IF_ERROR(im.out->Append(buf));
      }
    }
    for (size_t g = 0; g < im.results.size(); ++g) {
      for (size_t c = 0; c < im.columns.size(); ++c) {
        buf.clear();
        EncodeOffsetIndex(im.results[g][c].offset_index, &buf);
        ColumnChunk& cc = im.md.row_groups[g].columns[c];
        cc.offset_index_offset = static_cast<int64_t>(im.out->bytes_written());
        cc.offset_index_length = static_cast<int32_t>(buf.size());
        SL_RETURN_IF_ERROR(im.out->Append(buf));
      }
    }
  }
  im.md.num_rows = im.total_rows;
  std::string footer;
  EncodeFileMetaData(im.md, &footer);
  uint32_t len = static_cast<uint32_t>(footer.size());
  footer.append(reinterpret_cast<const char*>(&len), 4);
  footer.append("PAR1");
  SL_RETURN_IF_ERROR(im.out->Append(footer));

  FileStats fs;
  fs.num_rows = im.total_rows;
  fs.file_size = im.out->bytes_written();
  for (size_t c = 0; c < im.columns.size(); ++c) {
    ColumnStats cs;
    cs.min = Value::Null(im.schema[c].type);
    cs.max = Value::Null(im.schema[c].type);
    for (const auto& rg : im.results) {
      const ChunkResult& r = rg[c];
      cs.null_count += r.null_count;
      if (r.min.is_null()) continue;
      if (cs.min.is_null() || r.min.Compare(cs.min) < 0) cs.min = r.min;
      if (cs.max.is_null() || r.max.Compare(cs.max) > 0) cs.max = r.max;
    }
    fs.columns.push_back(std::move(cs));
  }
  return fs;
}

}  // namespace saleslake::parquet
