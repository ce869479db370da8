#include "formats/parquet/internal/encoding.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <optional>
#include <utility>

namespace saleslake::parquet::internal {

namespace {

// Eight values of BW bits from `in`, each through one unaligned 8-byte load. The loads reach
// up to 8 + 7*BW/8 bytes past `in`, so callers go through UnpackTail near the end of the data.
template <int BW>
inline void Unpack8(const uint8_t* in, uint32_t* out) {
  constexpr uint64_t kMask = BW == 32 ? 0xffffffffULL : ((uint64_t{1} << BW) - 1);
  for (int j = 0; j < 8; ++j) {
    const size_t bit = static_cast<size_t>(j) * BW;
    uint64_t w;
    std::memcpy(&w, in + (bit >> 3), 8);
    out[j] = static_cast<uint32_t>((w >> (bit & 7)) & kMask);
  }
}

template <int BW>
void UnpackFixed(const uint8_t* in, size_t avail, size_t n, uint32_t* out) {
  constexpr size_t kReach = 8 + (7 * BW) / 8;  // bytes one Unpack8 may touch
  size_t i = 0;
  // Whole groups of 8 values take BW bytes each; stay kReach bytes clear of the end.
  const size_t safe_groups = avail >= kReach ? (avail - kReach) / BW + 1 : 0;
  const size_t groups = std::min(n / 8, safe_groups);
  for (size_t g = 0; g < groups; ++g, i += 8) Unpack8<BW>(in + g * BW, out + i);
  if (i == n) return;
  // The rest (at most a few groups) from a zero-padded copy of the remaining bytes.
  uint8_t pad[8 * 32 + 64] = {};
  const size_t left_bytes = std::min(avail - (i / 8) * BW, sizeof(pad) - 64);
  std::memcpy(pad, in + (i / 8) * BW, left_bytes);
  for (size_t k = 0; i < n; k += BW) {
    uint32_t tmp[8];
    Unpack8<BW>(pad + k, tmp);
    size_t take = std::min<size_t>(8, n - i);
    std::memcpy(out + i, tmp, take * sizeof(uint32_t));
    i += take;
  }
}

using UnpackFn = void (*)(const uint8_t*, size_t, size_t, uint32_t*);

template <size_t... BW>
constexpr std::array<UnpackFn, sizeof...(BW)> UnpackTable(std::index_sequence<BW...>) {
  return {&UnpackFixed<static_cast<int>(BW) + 1>...};
}

constexpr auto kUnpack = UnpackTable(std::make_index_sequence<32>());

}  // namespace

void UnpackBits(const uint8_t* in, size_t avail, size_t n, int bw, uint32_t* out) {
  if (n == 0) return;
  if (bw == 0) {
    std::memset(out, 0, n * sizeof(uint32_t));
    return;
  }
  kUnpack[static_cast<size_t>(bw) - 1](in, avail, n, out);
}

static bool ReadUleb(const uint8_t*& p, const uint8_t* end, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    uint8_t b = *p++;
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;
}

bool RleDecoder::NextRun() {
  uint64_t header;
  if (!ReadUleb(p_, end_, &header)) return false;
  if (header & 1) {
    uint64_t groups = header >> 1;
    if (groups == 0) return NextRun();
    size_t avail = static_cast<size_t>(end_ - p_);
    uint64_t bytes = groups * static_cast<uint64_t>(bw_);
    uint64_t values = groups * 8;
    if (bytes > avail) {
      // Tolerate a final run cut short after its last real value (some writers do this).
      if (bw_ == 0) return false;
      values = (static_cast<uint64_t>(avail) * 8) / static_cast<uint64_t>(bw_);
      bytes = avail;
      if (values == 0) return false;
    }
    packed_ = p_;
    packed_bitpos_ = 0;
    packed_left_ = static_cast<uint32_t>(std::min<uint64_t>(values, UINT32_MAX));
    p_ += bytes;
    return true;
  }
  uint64_t count = header >> 1;
  if (count == 0 || count > UINT32_MAX) return false;
  int nbytes = (bw_ + 7) / 8;
  if (end_ - p_ < nbytes) return false;
  uint32_t v = 0;
  for (int i = 0; i < nbytes; ++i) v |= static_cast<uint32_t>(p_[i]) << (8 * i);
  p_ += nbytes;
  if (bw_ < 32 && (v >> bw_) != 0) return false;  // value wider than the bit width
  rle_value_ = v;
  rle_left_ = static_cast<uint32_t>(count);
  return true;
}

bool RleDecoder::Get(uint32_t* out, size_t n) {
  if (bw_ < 0 || bw_ > 32) return false;
  while (n > 0) {
    if (rle_left_ > 0) {
      size_t k = std::min<size_t>(n, rle_left_);
      std::fill(out, out + k, rle_value_);
      out += k;
      n -= k;
      rle_left_ -= static_cast<uint32_t>(k);
    } else if (packed_left_ > 0) {
      size_t k = std::min<size_t>(n, packed_left_);
      // Runs always start at a byte boundary; inside a run we resume at a multiple of 8 values
      // when possible, else go value by value through the slow path.
      if ((packed_bitpos_ & 7) == 0) {
        const uint8_t* from = packed_ + packed_bitpos_ / 8;
        UnpackBits(from, static_cast<size_t>(end_ - from), k, bw_, out);
      } else {
        const uint64_t mask = bw_ == 32 ? 0xffffffffULL : ((uint64_t{1} << bw_) - 1);
        for (size_t i = 0; i < k; ++i) {
          uint64_t bit = packed_bitpos_ + i * static_cast<uint64_t>(bw_);
          uint64_t acc = 0;
          size_t first = bit / 8;
          size_t last = (bit + bw_ + 7) / 8;  // exclusive
          for (size_t b = first; b < last; ++b) acc |= static_cast<uint64_t>(packed_[b]) << (8 * (b - first));
          out[i] = static_cast<uint32_t>((acc >> (bit & 7)) & mask);
        }
      }
      packed_bitpos_ += k * static_cast<uint64_t>(bw_);
      packed_left_ -= static_cast<uint32_t>(k);
      out += k;
      n -= k;
    } else if (!NextRun()) {
      return false;
    }
  }
  return true;
}

namespace {

// Sets bits [pos, pos + count) of a zeroed bitmap.
void SetBitRange(uint64_t* bits, size_t pos, size_t count) {
  while (count > 0) {
    const size_t off = pos % 64;
    const size_t take = std::min<size_t>(64 - off, count);
    const uint64_t mask = take == 64 ? ~uint64_t{0} : ((uint64_t{1} << take) - 1) << off;
    bits[pos / 64] |= mask;
    pos += take;
    count -= take;
  }
}

// ORs `count` bits from the LSB-first byte string `src` into a zeroed bitmap at bit `pos`.
void OrBits(uint64_t* bits, size_t words, size_t pos, const uint8_t* src, size_t count) {
  for (size_t k = 0; k * 8 < count; ++k) {
    uint64_t v = src[k];
    if (count - k * 8 < 8) v &= (uint64_t{1} << (count - k * 8)) - 1;
    if (v == 0) continue;
    const size_t at = pos + k * 8;
    bits[at / 64] |= v << (at % 64);
    // A byte that straddles two words; its high bits exist only when they are below pos+count.
    if (at % 64 > 56 && (v >> (64 - at % 64)) != 0 && at / 64 + 1 < words) bits[at / 64 + 1] |= v >> (64 - at % 64);
  }
}

}  // namespace

std::optional<size_t> DecodeBitLevels(const uint8_t* p, size_t len, size_t n, uint64_t* bits) {
  const size_t words = (n + 63) / 64;
  std::fill(bits, bits + words, 0);
  const uint8_t* end = p + len;
  size_t pos = 0;
  while (pos < n) {
    uint64_t header;
    if (!ReadUleb(p, end, &header)) return std::nullopt;
    if (header & 1) {  // bit-packed: header>>1 groups of 8 one-bit values, one byte each
      uint64_t values = (header >> 1) * 8;
      size_t bytes = static_cast<size_t>(header >> 1);
      const size_t avail = static_cast<size_t>(end - p);
      if (bytes > avail) {  // a final run cut short after its last real value, as RleDecoder allows
        bytes = avail;
        values = uint64_t{avail} * 8;
        if (values == 0) return std::nullopt;
      }
      const size_t take = static_cast<size_t>(std::min<uint64_t>(values, n - pos));
      OrBits(bits, words, pos, p, take);
      p += bytes;
      pos += take;
    } else {
      const uint64_t count = header >> 1;
      if (count == 0 || count > UINT32_MAX || p >= end) return std::nullopt;
      const uint8_t v = *p++;
      if (v > 1) return std::nullopt;  // a level above the maximum 1
      const size_t take = static_cast<size_t>(std::min<uint64_t>(count, n - pos));
      if (v) SetBitRange(bits, pos, take);
      pos += take;
    }
  }
  size_t ones = 0;
  for (size_t w = 0; w < words; ++w) ones += static_cast<size_t>(std::popcount(bits[w]));
  return ones;
}

bool AnyIndexOutOfRange(const uint32_t* v, size_t n, size_t size) {
  if (size == 0) return n > 0;
  // lim - v wraps (top bit set) exactly when v > lim. Fixed blocks of 64-bit lanes: there is no
  // unsigned 32-bit max before SSE4.1, so a max reduction would stay scalar.
  const uint64_t lim = size - 1;
  constexpr size_t kLanes = 8;
  uint64_t acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t k = 0; k < kLanes; ++k) acc[k] |= lim - uint64_t{v[i + k]};
  }
  uint64_t all = 0;
  for (; i < n; ++i) all |= lim - uint64_t{v[i]};
  for (uint64_t a : acc) all |= a;
  return (all >> 63) != 0;
}

Result<uint64_t> DeltaBinaryPackedCount(const uint8_t* p, const uint8_t* end) {
  uint64_t block, mini, total;
  if (!ReadUleb(p, end, &block) || !ReadUleb(p, end, &mini) || !ReadUleb(p, end, &total)) {
    return Status::Corruption("DELTA_BINARY_PACKED header truncated");
  }
  return total;
}

template <typename T>
Result<const uint8_t*> DecodeDeltaBinaryPacked(const uint8_t* p, const uint8_t* end, size_t n,
                                               T* out) {
  using U = std::make_unsigned_t<T>;
  uint64_t block_size, miniblocks, total, first_zz;
  if (!ReadUleb(p, end, &block_size) || !ReadUleb(p, end, &miniblocks) ||
      !ReadUleb(p, end, &total) || !ReadUleb(p, end, &first_zz)) {
    return Status::Corruption("DELTA_BINARY_PACKED header truncated");
  }
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return Status::Corruption(fmt::format(
        "DELTA_BINARY_PACKED header invalid (block size {}, {} miniblocks)", block_size, miniblocks));
  }
  if (total < n) {
    return Status::Corruption(fmt::format(
        "DELTA_BINARY_PACKED holds {} values, the page needs {}", total, n));
  }
  const uint64_t per_mini = block_size / miniblocks;
  int64_t first = static_cast<int64_t>(first_zz >> 1) ^ -static_cast<int64_t>(first_zz & 1);
  U prev = static_cast<U>(first);
  size_t done = 0;
  if (n > 0) out[done++] = static_cast<T>(prev);
  // Values beyond `n` still occupy blocks: walk them to find the end of the encoding.
  uint64_t left = total > 0 ? total - 1 : 0;
  uint8_t widths[256];
  if (miniblocks > 256) return Status::Corruption("DELTA_BINARY_PACKED: too many miniblocks");
  while (left > 0) {
    uint64_t md_zz;
    if (!ReadUleb(p, end, &md_zz)) return Status::Corruption("DELTA_BINARY_PACKED block truncated");
    U min_delta = static_cast<U>(static_cast<int64_t>(md_zz >> 1) ^ -static_cast<int64_t>(md_zz & 1));
    if (static_cast<uint64_t>(end - p) < miniblocks) {
      return Status::Corruption("DELTA_BINARY_PACKED block truncated");
    }
    std::memcpy(widths, p, miniblocks);
    p += miniblocks;
    for (uint64_t m = 0; m < miniblocks && left > 0; ++m) {
      int bw = widths[m];
      if (bw > static_cast<int>(sizeof(T) * 8)) {
        return Status::Corruption(fmt::format("DELTA_BINARY_PACKED bit width {} too large", bw));
      }
      uint64_t bytes = per_mini * static_cast<uint64_t>(bw) / 8;
      uint64_t take = std::min<uint64_t>(left, per_mini);
      uint64_t need = (take * static_cast<uint64_t>(bw) + 7) / 8;
      if (static_cast<uint64_t>(end - p) < need) {
        return Status::Corruption("DELTA_BINARY_PACKED miniblock truncated");
      }
      if (done < n) {
        const uint64_t mask = bw == 64 ? ~uint64_t{0} : ((uint64_t{1} << bw) - 1);
        uint64_t useful = std::min<uint64_t>(take, n - done);
        for (uint64_t i = 0; i < useful; ++i) {
          uint64_t d = 0;
          if (bw > 0) {
            uint64_t bit = i * static_cast<uint64_t>(bw);
            size_t firstb = bit / 8;
            size_t lastb = (bit + bw + 7) / 8;
            unsigned __int128 acc = 0;
            for (size_t b = firstb; b < lastb; ++b) {
              acc |= static_cast<unsigned __int128>(p[b]) << (8 * (b - firstb));
            }
            d = static_cast<uint64_t>(acc >> (bit & 7)) & mask;
          }
          prev = static_cast<U>(prev + min_delta + static_cast<U>(d));
          out[done++] = static_cast<T>(prev);
        }
      }
      left -= take;
      p += std::min<uint64_t>(bytes, static_cast<uint64_t>(end - p));
    }
  }
  return p;
}

template Result<const uint8_t*> DecodeDeltaBinaryPacked<int32_t>(const uint8_t*, const uint8_t*,
                                                                 size_t, int32_t*);
template Result<const uint8_t*> DecodeDeltaBinaryPacked<int64_t>(const uint8_t*, const uint8_t*,
                                                                 size_t, int64_t*);

// ---- encoder ----

namespace {

void PutUleb(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

template <typename V>
void RleEncodeImpl(const V* values, size_t n, int bw, std::string* out) {
  const int value_bytes = (bw + 7) / 8;
  size_t i = 0;
  // Pending bit-packed values (always flushed in groups of 8, zero padded at the very end).
  size_t packed_start = 0, packed_count = 0;
  auto flush_packed = [&](bool final) {
    if (packed_count == 0) return;
    size_t groups = (packed_count + 7) / 8;
    SL_DCHECK(final || packed_count % 8 == 0);
    (void)final;
    PutUleb((groups << 1) | 1, out);
    size_t base = out->size();
    out->resize(base + groups * static_cast<size_t>(bw), '\0');
    uint8_t* dst = reinterpret_cast<uint8_t*>(out->data() + base);
    uint64_t acc = 0;
    int bits = 0;
    size_t pos = 0;
    for (size_t k = 0; k < groups * 8; ++k) {
      uint64_t v = k < packed_count ? static_cast<uint64_t>(values[packed_start + k]) : 0;
      acc |= v << bits;
      bits += bw;
      while (bits >= 8) {
        dst[pos++] = static_cast<uint8_t>(acc);
        acc >>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) dst[pos++] = static_cast<uint8_t>(acc);
    packed_count = 0;
  };
  while (i < n) {
    // Length of the run of equal values starting at i.
    size_t j = i + 1;
    while (j < n && values[j] == values[i]) ++j;
    size_t run = j - i;
    // Runs of 8+ become RLE runs, but only at a group boundary of the pending packed values;
    // top the pending values up to a multiple of 8 from the run first.
    if (run >= 8 + (packed_count % 8 ? 8 - packed_count % 8 : 0)) {
      if (packed_count % 8) {
        size_t fill = 8 - packed_count % 8;
        packed_count += fill;
        i += fill;
        run -= fill;
      }
      flush_packed(false);
      PutUleb(static_cast<uint64_t>(run) << 1, out);
      uint64_t v = static_cast<uint64_t>(values[i]);
      for (int b = 0; b < value_bytes; ++b) out->push_back(static_cast<char>(v >> (8 * b)));
      i += run;
      continue;
    }
    if (packed_count == 0) packed_start = i;
    packed_count += run;
    i = j;
    // Keep bit-packed runs bounded (the header's group count must fit comfortably).
    if (packed_count >= 8 * 1024 && packed_count % 8 == 0) flush_packed(false);
  }
  flush_packed(true);
}

}  // namespace

void RleEncode(const uint32_t* values, size_t n, int bw, std::string* out) {
  RleEncodeImpl(values, n, bw, out);
}
void RleEncodeBytes(const uint8_t* values, size_t n, int bw, std::string* out) {
  RleEncodeImpl(values, n, bw, out);
}

}  // namespace saleslake::parquet::internal
