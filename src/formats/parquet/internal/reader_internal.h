// Reader internals shared by reader.cc and the tests/fuzzer: sanity limits and column layout.
#pragma once

#include <cstdint>

namespace saleslake::parquet::internal {

// Sanity limits that stop allocation bombs. A row group claiming more rows, or a page claiming a
// larger uncompressed size, is refused with kResourceExhausted. Tests and fuzzers may lower them.
struct ReaderLimits {
  int64_t max_row_group_rows = int64_t{1} << 27;
  int64_t max_page_bytes = int64_t{512} << 20;
  int64_t max_footer_bytes = int64_t{256} << 20;
  // Bytes of decoded column chunks of mapped files whose pages stay resident after decoding,
  // process-wide (see ParquetReader::Impl::ReleaseRowGroup); 0 releases each row group at once.
  uint64_t resident_mapped_bytes = uint64_t{64} << 20;
  // Bytes of freed buffers that compressed column chunks were read into (ReadAt, also from
  // mapped files) kept for the next chunks, process-wide: reading the next row group reuses
  // them instead of faulting in fresh memory.
  uint64_t pooled_read_bytes = uint64_t{32} << 20;
};
ReaderLimits& MutableReaderLimits();

// How a physical value becomes our logical value.
enum class Conversion : uint8_t {
  kBool,
  kCopy32,          // INT32 / FLOAT -> same bits
  kCopy64,          // INT64 / DOUBLE -> same bits
  kI32ToI64,        // sign-extend (INT32 decimals)
  kU32ToI64,        // zero-extend (UINT_32)
  kI32ToI128,       // INT32 decimal with precision > 18 (odd, legal)
  kI64ToI128,       // INT64 decimal with precision > 18 (odd, legal)
  kU64ToI128,       // UINT_64 -> DECIMAL(20,0)
  kMillisToMicros,  // INT64 timestamp millis
  kNanosToMicros,   // INT64 timestamp nanos (floor)
  kInt96ToMicros,
  kTimeMillisText,  // INT32 TIME(MILLIS) -> "HH:MM:SS.fff"
  kTimeMicrosText,  // INT64 TIME(MICROS)
  kTimeNanosText,   // INT64 TIME(NANOS)
  kBytesView,       // BYTE_ARRAY / FLBA -> VARCHAR view
  kBytesToDec64,    // big-endian two's complement -> int64
  kBytesToDec128,   // -> __int128
  kFloat16,         // FLBA(2) -> float
  kUuidText,        // FLBA(16) -> canonical text
};

}  // namespace saleslake::parquet::internal
