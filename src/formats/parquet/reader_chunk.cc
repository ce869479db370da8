// ParquetReader, one column chunk: reads its bytes (a compressed chunk into a reused buffer, an
// uncompressed one zero copy when the file is mapped), walks its pages (decompressing them) and
// hands each to the page decoder.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <vector>

#include "common/thread_annotations.h"
#include "formats/parquet/internal/codec.h"
#include "formats/parquet/internal/page_decoder.h"
#include "formats/parquet/internal/reader_impl.h"

namespace saleslake::parquet {

using namespace internal;  // NOLINT: this file is the module's inside

namespace {

// Buffers that compressed column chunks are read into. A chunk's buffer lives only while the
// chunk is decoded (its pages are decompressed into copies that the values point into), so the
// next chunk, of this row group or the next, takes it again: a scan faults in no fresh memory per
// chunk, and nothing of the file stays mapped. Freed buffers are kept up to
// ReaderLimits::pooled_read_bytes, process-wide. Thread-safe.
class ReadBuffers {
 public:
  static ReadBuffers& Instance() {
    static ReadBuffers* pool = new ReadBuffers();  // never destroyed: used until exit
    return *pool;
  }
  // A buffer of at least n bytes (not zero-filled), back in the pool when the last copy of the
  // pointer is gone: a value that wrongly kept it would keep it from being reused, never read
  // another chunk's bytes.
  std::shared_ptr<const void> Take(size_t n, uint8_t** data) {
    std::unique_ptr<uint8_t[]> buf;
    size_t cap = 0;
    {
      MutexLock lock(mu_);
      // The smallest free buffer that fits.
      size_t best = free_.size();
      for (size_t i = 0; i < free_.size(); ++i)
        if (free_[i].cap >= n && (best == free_.size() || free_[i].cap < free_[best].cap)) best = i;
      if (best < free_.size()) {
        buf = std::move(free_[best].buf);
        cap = free_[best].cap;
        kept_ -= cap;
        free_[best] = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!buf) {
      // Powers of two from 64 KB, so that chunks of similar sizes share buffers.
      cap = std::bit_ceil(std::max<size_t>(n, 64 << 10));
      buf = std::make_unique_for_overwrite<uint8_t[]>(cap);
    }
    *data = buf.get();
    return std::shared_ptr<const void>(buf.release(), [cap](const void* p) {
      Instance().Give(std::unique_ptr<uint8_t[]>(static_cast<uint8_t*>(const_cast<void*>(p))), cap);
    });
  }

 private:
  struct Free {
    std::unique_ptr<uint8_t[]> buf;
    size_t cap;
  };
  void Give(std::unique_ptr<uint8_t[]> buf, size_t cap) {
    MutexLock lock(mu_);
    if (kept_ + cap > MutableReaderLimits().pooled_read_bytes) return;  // freed
    kept_ += cap;
    free_.push_back({std::move(buf), cap});
  }
  Mutex mu_;
  std::vector<Free> free_ SL_GUARDED_BY(mu_);
  size_t kept_ SL_GUARDED_BY(mu_) = 0;
};

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
  // The chunk's bytes. A compressed chunk is decoded into copies (decompressed pages), so it is
  // read into a reused buffer, also from a mapped file: through the mapping, every page would
  // stay resident until released, and a warm repeat of a scan larger than the release budget
  // (ReleaseRowGroup) paid the page faults and the release (madvise, TLB shootdowns) again on
  // every run (TPC-H SF10 q03 warm, session 15: 1.64 -> 2.30 s). An uncompressed chunk's values
  // may point into its bytes (string views, a PLAIN dictionary): zero copy from a mapped file,
  // else a buffer of its own that the values keep.
  std::shared_ptr<const void> chunk_keep;
  const uint8_t* chunk;
  const auto ulen = static_cast<size_t>(len);
  if (m.codec != kUncompressedCodec) {
    uint8_t* buf = nullptr;
    chunk_keep = ReadBuffers::Instance().Take(ulen, &buf);
    SL_RETURN_IF_ERROR(file->ReadAt(static_cast<uint64_t>(start), std::span<uint8_t>(buf, ulen)));
    chunk = buf;
  } else if (file->mapped_data()) {
    chunk = file->mapped_data() + start;
    chunk_keep = std::shared_ptr<const void>(file, file.get());
    out->read_mapped = true;
  } else {
    auto buf = std::make_shared_for_overwrite<uint8_t[]>(std::max<size_t>(ulen, 1));
    SL_RETURN_IF_ERROR(file->ReadAt(static_cast<uint64_t>(start), std::span<uint8_t>(buf.get(), ulen)));
    chunk = buf.get();
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
  // Whether decoded values may point into the chunk's bytes (an uncompressed v1 page: string
  // views into the page, a dictionary built over it). A v2 page and a decompressed page are
  // copies, so once every page is decoded nothing refers to the chunk's bytes.
  bool chunk_referenced = false;
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
      if (keep == chunk_keep) chunk_referenced = true;
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
  out->refers_to_file = chunk_referenced && out->read_mapped;
  return Status::OK();
}

}  // namespace saleslake::parquet
