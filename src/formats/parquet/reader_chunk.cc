// ParquetReader, one column chunk: locates its bytes (zero copy when the file is mapped), walks
// its pages (decompressing them) and hands each to the page decoder.
#include <fmt/format.h>

#include <algorithm>

#include "formats/parquet/internal/codec.h"
#include "formats/parquet/internal/page_decoder.h"
#include "formats/parquet/internal/reader_impl.h"

namespace saleslake::parquet {

using namespace internal;  // NOLINT: this file is the module's inside

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
  // Chunk bytes: zero copy when the file is mapped.
  std::shared_ptr<const void> chunk_keep;
  const uint8_t* chunk;
  if (file->mapped_data()) {
    chunk = file->mapped_data() + start;
    chunk_keep = std::shared_ptr<const void>(file, file.get());
  } else {
    auto buf = std::make_shared<std::string>(static_cast<size_t>(len), '\0');
    SL_RETURN_IF_ERROR(file->ReadAt(static_cast<uint64_t>(start),
                                    std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf->data()), buf->size())));
    chunk = reinterpret_cast<const uint8_t*>(buf->data());
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
  out->refers_to_file = chunk_referenced && file->mapped_data() != nullptr;
  return Status::OK();
}

}  // namespace saleslake::parquet
