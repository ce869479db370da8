#include "formats/parquet/internal/codec.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <fmt/format.h>

#include "formats/parquet/internal/metadata.h"

namespace saleslake::parquet::internal {
namespace {

Status SizeMismatch(const char* codec, size_t got, size_t want) {
  return Status::Corruption(
      fmt::format("{} data decompressed to {} bytes, the page header says {}", codec, got, want));
}

// GZIP (or zlib) with support for several concatenated members, as some writers produce.
Status InflateAll(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
  size_t produced = 0;
  size_t consumed = 0;
  while (consumed < in_size && produced <= out_size) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Internal("zlib inflateInit failed");
    zs.next_in = const_cast<Bytef*>(in + consumed);
    zs.avail_in = static_cast<uInt>(std::min<size_t>(in_size - consumed, UINT32_MAX));
    uint8_t sink[64];
    bool to_sink = produced == out_size;  // extra members must produce nothing more
    zs.next_out = to_sink ? sink : out + produced;
    zs.avail_out = to_sink ? sizeof sink : static_cast<uInt>(out_size - produced);
    int rc = inflate(&zs, Z_FINISH);
    size_t made = (to_sink ? sizeof sink : out_size - produced) - zs.avail_out;
    consumed += zs.total_in;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
      if (rc == Z_BUF_ERROR || rc == Z_OK || to_sink) {
        return Status::Corruption("GZIP data is longer than the page header says");
      }
      return Status::Corruption(fmt::format("bad GZIP data (zlib error {})", rc));
    }
    produced += made;
    if (to_sink && made > 0) return SizeMismatch("GZIP", produced + made, out_size);
    // Trailing zero padding after the last member is tolerated.
    size_t k = consumed;
    while (k < in_size && in[k] == 0) ++k;
    if (k == in_size) break;
  }
  if (produced != out_size) return SizeMismatch("GZIP", produced, out_size);
  return Status::OK();
}

// Hadoop's LZ4 framing: blocks of [BE u32 raw size][BE u32 compressed size][lz4 block] ...
bool TryHadoopLz4(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_size) {
  size_t ip = 0, op = 0;
  while (ip < in_size) {
    if (in_size - ip < 8) return false;
    uint32_t raw = (uint32_t{in[ip]} << 24) | (uint32_t{in[ip + 1]} << 16) |
                   (uint32_t{in[ip + 2]} << 8) | in[ip + 3];
    uint32_t comp = (uint32_t{in[ip + 4]} << 24) | (uint32_t{in[ip + 5]} << 16) |
                    (uint32_t{in[ip + 6]} << 8) | in[ip + 7];
    ip += 8;
    if (comp > in_size - ip || raw > out_size - op) return false;
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in + ip),
                                reinterpret_cast<char*>(out + op), static_cast<int>(comp),
                                static_cast<int>(raw));
    if (n < 0 || static_cast<uint32_t>(n) != raw) return false;
    ip += comp;
    op += raw;
  }
  return op == out_size;
}

}  // namespace

Status Decompress(int32_t codec, const uint8_t* in, size_t in_size, uint8_t* out,
                  size_t out_size) {
  switch (codec) {
    case kUncompressedCodec:
      if (in_size != out_size) return SizeMismatch("UNCOMPRESSED", in_size, out_size);
      if (in_size) std::memcpy(out, in, in_size);
      return Status::OK();
    case kSnappyCodec: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(in), in_size, &n)) {
        return Status::Corruption("bad SNAPPY data (no valid length header)");
      }
      if (n != out_size) return SizeMismatch("SNAPPY", n, out_size);
      if (!snappy::RawUncompress(reinterpret_cast<const char*>(in), in_size,
                                 reinterpret_cast<char*>(out))) {
        return Status::Corruption("bad SNAPPY data");
      }
      return Status::OK();
    }
    case kGzipCodec:
      return InflateAll(in, in_size, out, out_size);
    case kZstdCodec: {
      // One context per thread: ZSTD_decompress would allocate and set up a fresh one per page.
      struct DCtx {
        ZSTD_DCtx* ctx = ZSTD_createDCtx();
        ~DCtx() { ZSTD_freeDCtx(ctx); }
      };
      thread_local DCtx dctx;
      if (dctx.ctx == nullptr) return Status::ResourceExhausted("cannot allocate a ZSTD context");
      size_t n = ZSTD_decompressDCtx(dctx.ctx, out, out_size, in, in_size);
      if (ZSTD_isError(n)) {
        return Status::Corruption(fmt::format("bad ZSTD data: {}", ZSTD_getErrorName(n)));
      }
      if (n != out_size) return SizeMismatch("ZSTD", n, out_size);
      return Status::OK();
    }
    case kLz4RawCodec: {
      if (in_size > INT32_MAX || out_size > INT32_MAX) return Status::Corruption("LZ4 page too big");
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out),
                                  static_cast<int>(in_size), static_cast<int>(out_size));
      if (n < 0) return Status::Corruption("bad LZ4_RAW data");
      if (static_cast<size_t>(n) != out_size) return SizeMismatch("LZ4_RAW", n, out_size);
      return Status::OK();
    }
    case kLz4Codec: {
      // The legacy LZ4 codec is ambiguous: Hadoop framing (parquet-mr) or a bare block
      // (old parquet-cpp). Try the framing first, as Arrow does.
      if (TryHadoopLz4(in, in_size, out, out_size)) return Status::OK();
      if (in_size > INT32_MAX || out_size > INT32_MAX) return Status::Corruption("LZ4 page too big");
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out),
                                  static_cast<int>(in_size), static_cast<int>(out_size));
      if (n < 0 || static_cast<size_t>(n) != out_size) {
        return Status::Corruption("bad LZ4 data (neither Hadoop-framed nor a raw LZ4 block)");
      }
      return Status::OK();
    }
    case kBrotliCodec: {
      size_t n = out_size;
      BrotliDecoderResult rc = BrotliDecoderDecompress(in_size, in, &n, out);
      if (rc != BROTLI_DECODER_RESULT_SUCCESS) return Status::Corruption("bad BROTLI data");
      if (n != out_size) return SizeMismatch("BROTLI", n, out_size);
      return Status::OK();
    }
    default:
      return Status::NotImplemented(fmt::format("compression codec {} is not supported",
                                                CodecName(codec)));
  }
}

Status Compress(int32_t codec, int level, std::string_view in, std::string* out) {
  size_t base = out->size();
  switch (codec) {
    case kUncompressedCodec:
      out->append(in);
      return Status::OK();
    case kSnappyCodec: {
      out->resize(base + snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), out->data() + base, &n);
      out->resize(base + n);
      return Status::OK();
    }
    case kGzipCodec: {
      z_stream zs{};
      if (deflateInit2(&zs, level < 0 || level > 9 ? 6 : level, Z_DEFLATED, 15 + 16, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK) {
        return Status::Internal("zlib deflateInit failed");
      }
      out->resize(base + deflateBound(&zs, in.size()) + 32);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      zs.avail_in = static_cast<uInt>(in.size());
      zs.next_out = reinterpret_cast<Bytef*>(out->data() + base);
      zs.avail_out = static_cast<uInt>(out->size() - base);
      int rc = deflate(&zs, Z_FINISH);
      size_t n = zs.total_out;
      deflateEnd(&zs);
      if (rc != Z_STREAM_END) return Status::Internal("zlib deflate failed");
      out->resize(base + n);
      return Status::OK();
    }
    case kZstdCodec: {
      // One context per thread: creating one per page costs more than compressing a small page.
      thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(),
                                                                            ZSTD_freeCCtx);
      // Into a per-thread buffer, then appended: resizing `out` to the bound would zero-fill
      // (and first touch) a page's worth of bytes that are mostly never written.
      thread_local std::unique_ptr<char[]> buf;
      thread_local size_t buf_size = 0;
      const size_t bound = ZSTD_compressBound(in.size());
      if (buf_size < bound) {
        buf = std::make_unique_for_overwrite<char[]>(bound);
        buf_size = bound;
      }
      size_t n = ZSTD_compressCCtx(ctx.get(), buf.get(), bound, in.data(), in.size(), level);
      if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
      out->append(buf.get(), n);
      return Status::OK();
    }
    case kLz4RawCodec:
    case kLz4Codec: {
      size_t header = codec == kLz4Codec ? 8 : 0;
      int bound = LZ4_compressBound(static_cast<int>(in.size()));
      out->resize(base + header + static_cast<size_t>(bound));
      int n = LZ4_compress_default(in.data(), out->data() + base + header,
                                   static_cast<int>(in.size()), bound);
      if (n <= 0 && !in.empty()) return Status::Internal("lz4 compression failed");
      if (codec == kLz4Codec) {
        auto put = [&](size_t at, uint32_t v) {
          (*out)[at] = static_cast<char>(v >> 24);
          (*out)[at + 1] = static_cast<char>(v >> 16);
          (*out)[at + 2] = static_cast<char>(v >> 8);
          (*out)[at + 3] = static_cast<char>(v);
        };
        put(base, static_cast<uint32_t>(in.size()));
        put(base + 4, static_cast<uint32_t>(n));
      }
      out->resize(base + header + static_cast<size_t>(n));
      return Status::OK();
    }
    case kBrotliCodec: {
      size_t n = BrotliEncoderMaxCompressedSize(in.size());
      if (n == 0) n = in.size() + 1024;
      out->resize(base + n);
      if (!BrotliEncoderCompress(level < 0 || level > 11 ? 5 : level, BROTLI_DEFAULT_WINDOW,
                                 BROTLI_MODE_GENERIC, in.size(),
                                 reinterpret_cast<const uint8_t*>(in.data()), &n,
                                 reinterpret_cast<uint8_t*>(out->data() + base))) {
        return Status::Internal("brotli compression failed");
      }
      out->resize(base + n);
      return Status::OK();
    }
    default:
      return Status::NotImplemented(fmt::format("cannot write codec {}", CodecName(codec)));
  }
}

}  // namespace saleslake::parquet::internal
