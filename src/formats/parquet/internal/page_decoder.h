// Page decoding of one column chunk into a Chunk: dictionary and data pages (v1 and v2),
// levels, encodings, conversion to logical values. Internal to formats/parquet.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/batch.h"
#include "formats/parquet/internal/metadata.h"
#include "formats/parquet/internal/reader_impl.h"

namespace saleslake::parquet::internal {

// Everything needed while decoding one column chunk.
struct ChunkDecoder {
  const Leaf& leaf;
  int32_t codec;
  const std::shared_ptr<const void>& file_keep;
  Chunk* out;
  size_t rows_expected;

  // Dictionary in logical form (flat vector) and its physical size.
  std::shared_ptr<ColumnVector> dict;
  size_t dict_size = 0;
  bool seen_data_page = false;

  std::vector<uint64_t> present_bits;  // per page: bit i set = row i has a value
  // Dictionary indices of a page; grown without zero-filling (the decoder writes each one).
  std::unique_ptr<uint32_t[]> indices;
  size_t indices_cap = 0;
  std::vector<uint64_t> scratch;    // physical values before conversion

  Status Corrupt(const std::string& msg) const { return Status::Corruption(msg); }

  // Decodes `n` physical values of `encoding` from [p, end) into dst (physical layout).
  Status DecodePhysical(int32_t encoding, const uint8_t* p, const uint8_t* end, size_t n,
                        uint8_t* dst, const std::shared_ptr<const void>& page_keep);
  // Converts n physical values in src to logical values at dst.
  Status Convert(const uint8_t* src, size_t n, uint8_t* dst);
  Status DataPage(const PageHeader& h, const uint8_t* page, size_t page_size,
                  std::shared_ptr<const void> page_keep, size_t* rows_done);
  Status DictPage(const PageHeader& h, const uint8_t* page, size_t size,
                  std::shared_ptr<const void> page_keep);
  Status LeaveDictMode();
};

}  // namespace saleslake::parquet::internal
