#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>

#include "formats/csv/csv_reader.h"

namespace saleslake::csv {
namespace {

// A decompressed input larger than this is refused (a zip bomb, or a file that needs streaming).
constexpr uint64_t kMaxDecompressed = uint64_t{32} << 30;

Result<std::string> Gunzip(std::string_view in, const std::string& name) {
  std::string out;
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Internal("zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = 0;
  size_t consumed = 0;
  out.resize(std::max<size_t>(in.size() * 4, 1 << 16));
  size_t produced = 0;
  for (;;) {
    if (zs.avail_in == 0 && consumed < in.size()) {
      size_t chunk = std::min<size_t>(in.size() - consumed, 1u << 30);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + consumed));
      zs.avail_in = static_cast<uInt>(chunk);
      consumed += chunk;
    }
    if (produced == out.size()) {
      if (out.size() >= kMaxDecompressed) {
        inflateEnd(&zs);
        return Status::ResourceExhausted(name + ": decompresses to more than 32 GiB");
      }
      out.resize(out.size() * 2);
    }
    size_t room = std::min<size_t>(out.size() - produced, 1u << 30);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (what `cat a.gz b.gz` makes) continue the stream.
      size_t left = zs.avail_in + (in.size() - consumed);
      if (left == 0) break;
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && consumed == in.size()) {
      inflateEnd(&zs);
      return Status::Corruption(name + ": truncated gzip stream (after " +
                                std::to_string(produced) + " decompressed bytes)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
      inflateEnd(&zs);
      return Status::Corruption(name + ": broken gzip stream: " + msg);
    }
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

Result<std::string> Unzstd(std::string_view in, const std::string& name) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return Status::Internal("zstd init failed");
  std::string out;
  unsigned long long hint = ZSTD_getFrameContentSize(in.data(), in.size());
  size_t cap = (hint != ZSTD_CONTENTSIZE_UNKNOWN && hint != ZSTD_CONTENTSIZE_ERROR &&
                hint < kMaxDecompressed)
                   ? static_cast<size_t>(hint) + 1
                   : std::max<size_t>(in.size() * 4, 1 << 16);
  out.resize(cap);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t produced = 0;
  size_t last = 1;
  while (ib.pos < ib.size || last != 0) {
    if (produced == out.size()) {
      if (out.size() >= kMaxDecompressed) {
        ZSTD_freeDCtx(ctx);
        return Status::ResourceExhausted(name + ": decompresses to more than 32 GiB");
      }
      out.resize(out.size() * 2);
    }
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    size_t before_in = ib.pos;
    last = ZSTD_decompressStream(ctx, &ob, &ib);
    produced += ob.pos;
    if (ZSTD_isError(last)) {
      std::string msg = ZSTD_getErrorName(last);
      ZSTD_freeDCtx(ctx);
      return Status::Corruption(name + ": broken zstd stream: " + msg);
    }
    if (ib.pos == ib.size && last != 0 && ob.pos == 0 && before_in == ib.pos) {
      ZSTD_freeDCtx(ctx);
      return Status::Corruption(name + ": truncated zstd stream (after " +
                                std::to_string(produced) + " decompressed bytes)");
    }
  }
  ZSTD_freeDCtx(ctx);
  out.resize(produced);
  return out;
}

}  // namespace

Result<std::unique_ptr<io::RandomAccessFile>> OpenDecompressed(const io::RandomAccessFile& file) {
  const uint64_t size = file.size();
  if (size < 4) return std::unique_ptr<io::RandomAccessFile>();
  uint8_t magic[4];
  SL_RETURN_IF_ERROR(file.ReadAt(0, std::span<uint8_t>(magic, 4)));
  bool gz = magic[0] == 0x1f && magic[1] == 0x8b;
  bool zst = magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd;
  if (!gz && !zst) return std::unique_ptr<io::RandomAccessFile>();
  std::string owned;
  std::string_view in;
  if (const uint8_t* m = file.mapped_data()) {
    in = std::string_view(reinterpret_cast<const char*>(m), size);
  } else {
    SL_ASSIGN_OR_RETURN(owned, file.ReadString(0, size));
    in = owned;
  }
  Result<std::string> out = gz ? Gunzip(in, file.name()) : Unzstd(in, file.name());
  if (!out.ok()) return std::move(out).MoveStatus();
  return io::MakeMemoryFile(std::move(out).value(), file.name());
}

}  // namespace saleslake::csv
