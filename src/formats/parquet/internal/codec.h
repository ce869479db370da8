// Page compression codecs. Decompress checks that the output has exactly the size the page
// header promised (callers cap that size before allocating).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace saleslake::parquet::internal {

// `codec` is the parquet.thrift CompressionCodec value. Writes exactly `out_size` bytes to `out`.
Status Decompress(int32_t codec, const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size);

// Compresses `in` and appends to `out`. `level` is used by ZSTD, GZIP and BROTLI.
Status Compress(int32_t codec, int level, std::string_view in, std::string* out);

}  // namespace saleslake::parquet::internal
