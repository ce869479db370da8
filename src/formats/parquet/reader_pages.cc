// ParquetReader, page decoding: ChunkDecoder's dictionary and data pages into a Chunk.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "formats/parquet/internal/codec.h"
#include "formats/parquet/internal/convert.h"
#include "formats/parquet/internal/encoding.h"
#include "formats/parquet/internal/page_decoder.h"

namespace saleslake::parquet::internal {

namespace {

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


}  // namespace saleslake::parquet::internal
