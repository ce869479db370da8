// The reader's state shared by its parts: the column layout (Leaf), one decoded column chunk
// (Chunk) and ParquetReader::Impl. Internal to formats/parquet.
//   reader_footer.cc  footer, metadata and schema mapping (Impl::Init, Impl::MapLeaf)
//   reader_pages.cc   page decoding (ChunkDecoder, internal/page_decoder.h)
//   reader_chunk.cc   reading one column chunk's pages (Impl::DecodeChunk)
//   reader_stats.cc   statistics and pruning (Impl::Stats, row_group_stats, file_stats)
//   reader_describe.cc  parquet-meta (DescribeMetadata)
//   reader.cc         the public surface: Open, accessors, ReadRowGroup(Filtered)
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/batch.h"
#include "common/value.h"
#include "formats/parquet/internal/metadata.h"
#include "formats/parquet/internal/reader_internal.h"
#include "formats/parquet/parquet.h"

namespace saleslake::parquet {
namespace internal {

// One leaf column of the file: where it is in the Parquet schema and how its values convert.
struct Leaf {
  int schema_index = 0;
  int32_t physical = 0;
  int32_t type_length = 0;
  int max_def = 0;
  Conversion conv = Conversion::kCopy32;
  DataType type;
  ColumnInfo info;
  bool unsigned_order = false;  // statistics compare unsigned (UINT_* types)
};

// The decoded form of one column chunk.
struct Chunk {
  DataType type;
  size_t width = 0;          // bytes per row in `data` (4 in dictionary mode)
  bool dict_mode = false;    // `data` holds uint32 indices into `dict`
  size_t rows = 0;
  // Row values; not zero-filled when allocated: every row is written by the page that holds it
  // (null rows as zeros), and only rows < `rows` are read.
  std::unique_ptr<uint64_t[]> data;
  size_t data_words = 0;
  std::vector<uint64_t> validity;  // empty = all valid
  std::shared_ptr<ColumnVector> dict;
  std::vector<std::shared_ptr<const void>> keep;  // buffers string views point into
  bool refers_to_file = false;  // values point into the mapped file's bytes (uncompressed pages)
  bool read_mapped = false;     // its bytes were read through the file's mapping (uncompressed)

  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(data.get()); }
  // Room for n rows of `width` bytes, keeping the first `rows` rows.
  void Reserve(size_t n) {
    size_t words = (n * width + 7) / 8;
    if (data_words < words) {
      size_t grown = std::max(words, data_words * 3 / 2);
      auto fresh = std::make_unique_for_overwrite<uint64_t[]>(std::max<size_t>(grown, 1));
      if (rows > 0) std::memcpy(fresh.get(), data.get(), rows * width);
      data = std::move(fresh);
      data_words = grown;
    }
    if (!validity.empty() && validity.size() < (n + 63) / 64) {
      validity.resize(std::max((n + 63) / 64, validity.size() * 3 / 2), ~uint64_t{0});
    }
  }
};

}  // namespace internal

struct ParquetReader::Impl {
  std::shared_ptr<const io::RandomAccessFile> file;
  std::string name;
  uint64_t file_size = 0;
  uint64_t footer_start = 0;
  internal::FileMetaData md;
  Schema schema;
  std::vector<internal::Leaf> leaves;
  std::vector<std::pair<std::string, std::string>> kv;
  int64_t num_rows = 0;

  Status Err(StatusCode code, const std::string& msg) const {
    return Status(code, fmt::format("{}: {}", name, msg));
  }
  Status Init();
  Status MapLeaf(const internal::SchemaElement& e, internal::Leaf* leaf);
  Status DecodeChunk(int rg, int col, internal::Chunk* out) const;
  // Lets the mapped bytes of row group `rg` leave the process (RandomAccessFile::DoneWith), once
  // more than ReaderLimits::resident_mapped_bytes of decoded chunks (`weight`: this read's) wait
  // after it. Thread-safe.
  void ReleaseRowGroup(int rg, uint64_t weight) const;
  ColumnStats Stats(const internal::Leaf& leaf, const internal::ColumnMetaData& m, int64_t rows) const;
  std::optional<Value> StatValue(const internal::Leaf& leaf, std::string_view bytes) const;
};

}  // namespace saleslake::parquet
