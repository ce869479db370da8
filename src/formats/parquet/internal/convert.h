// Physical-to-logical value conversions shared by page decoding and statistics. The ones a
// decoding loop calls per value are inline. Internal to formats/parquet.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/types.h"
#include "formats/parquet/internal/metadata.h"
#include "formats/parquet/internal/reader_internal.h"

namespace saleslake::parquet::internal {

// Bytes per physical value in the dense scratch buffer.
inline size_t PhysicalWidth(int32_t physical) {
  switch (physical) {
    case kBoolean: return 1;
    case kInt32: case kFloat: return 4;
    case kInt64: case kDouble: return 8;
    case kInt96: return 12;
    default: return sizeof(std::string_view);
  }
}

inline bool IsIdentity(Conversion c) {
  return c == Conversion::kBool || c == Conversion::kCopy32 || c == Conversion::kCopy64 ||
         c == Conversion::kBytesView;
}

inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}


// "HH:MM:SS[.ffffff]" of a time of day in micros (trailing zeros of the fraction dropped).
std::string TimeText(int64_t micros);

inline float HalfToFloat(uint16_t h) {
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
inline bool BytesToInt128(std::string_view b, __int128* out) {
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

inline int64_t Int96ToMicros(const uint8_t* p) {
  int64_t nanos;
  int32_t jday;
  std::memcpy(&nanos, p, 8);
  std::memcpy(&jday, p + 8, 4);
  // Wrapping arithmetic: out-of-range garbage stays garbage but is never undefined behaviour.
  uint64_t days = static_cast<uint64_t>(static_cast<int64_t>(jday) - 2440588);
  return static_cast<int64_t>(days * static_cast<uint64_t>(kMicrosPerDay) +
                              static_cast<uint64_t>(FloorDiv(nanos, 1000)));
}

// Canonical 8-4-4-4-12 lower-case hex text of a 16-byte UUID.
std::string UuidText(std::string_view b);

}  // namespace saleslake::parquet::internal
