// Parquet value and level encodings: the RLE/bit-packed hybrid (levels, dictionary indices,
// booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT,
// and the encoders the writer uses. Decoders never read past `end` and report truncation by
// returning false / a Status; tight loops only, no per-value virtual calls.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace saleslake::parquet::internal {

// Unpacks n values of `bw` bits (LSB first, bw <= 32) from `in`, which has `avail` readable
// bytes. REQUIRES: avail >= ceil(n*bw/8).
void UnpackBits(const uint8_t* in, size_t avail, size_t n, int bw, uint32_t* out);

// Decoder of the RLE / bit-packed hybrid (no length prefix; the caller strips it).
class RleDecoder {
 public:
  RleDecoder() = default;
  RleDecoder(const uint8_t* data, size_t size, int bit_width)
      : p_(data), end_(data + size), bw_(bit_width) {}

  // Decodes exactly n values; false when the data ends first or is malformed.
  bool Get(uint32_t* out, size_t n);
  // Bytes consumed so far (through the last run started).
  const uint8_t* position() const { return p_; }

 private:
  bool NextRun();

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int bw_ = 0;
  uint32_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint32_t packed_left_ = 0;     // values left in the current bit-packed run
  const uint8_t* packed_ = nullptr;
  uint64_t packed_bitpos_ = 0;
  std::vector<uint32_t> scratch_;
};

// Whether any of the n indices is >= size (size 0: whether there are any), in a form that
// vectorizes on baseline x86-64: dictionary indices are checked once per page.
bool AnyIndexOutOfRange(const uint32_t* v, size_t n, size_t size);

// Decodes n levels of bit width 1 (the definition levels of a column whose maximum level is 1)
// from the RLE/bit-packed hybrid [p, p + len) into the bitmap `bits` ((n + 63) / 64 words, all
// written; bit i = level of value i, bits past n zero). Returns the number of 1 levels; nullopt
// when the data ends first or is malformed.
std::optional<size_t> DecodeBitLevels(const uint8_t* p, size_t len, size_t n, uint64_t* bits);

// DELTA_BINARY_PACKED: decodes exactly `n` values (int32_t or int64_t) from [p, end); returns
// the position after the encoded block (for the DELTA_*_BYTE_ARRAY encodings that follow it), or
// a Corruption status.
template <typename T>
Result<const uint8_t*> DecodeDeltaBinaryPacked(const uint8_t* p, const uint8_t* end, size_t n,
                                               T* out);
// Reads just the total value count from a DELTA_BINARY_PACKED header.
Result<uint64_t> DeltaBinaryPackedCount(const uint8_t* p, const uint8_t* end);

// ---- encoders (writer) ----

// RLE/bit-packed hybrid of `values` with `bw` bits each, appended to out (no length prefix).
void RleEncode(const uint32_t* values, size_t n, int bw, std::string* out);
// Same for levels/flags given as bytes (0/1 definition levels).
void RleEncodeBytes(const uint8_t* values, size_t n, int bw, std::string* out);
// Bits needed for values in [0, max_value].
inline int BitWidth(uint64_t max_value) {
  int bw = 0;
  while (max_value) {
    ++bw;
    max_value >>= 1;
  }
  return bw;
}

}  // namespace saleslake::parquet::internal
