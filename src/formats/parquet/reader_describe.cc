// ParquetReader::DescribeMetadata: the parquet-meta view of a file.
#include <fmt/format.h>

#include "common/json.h"
#include "formats/parquet/internal/reader_impl.h"

namespace saleslake::parquet {

using namespace internal;  // NOLINT: this file is the module's inside

namespace {

std::string StatText(const Value& v) {
  if (v.is_null()) return "";
  return v.ToString();
}

}  // namespace

std::string ParquetReader::DescribeMetadata(bool json) const {
  const Impl& im = *impl_;
  const FileMetaData& md = im.md;
  std::string o;
  if (!json) {
    o += fmt::format("file: {}\nsize: {} bytes\ncreated_by: {}\nformat version: {}\nrows: {}\nrow groups: {}\n",
                     im.name, im.file_size, md.created_by.value_or(""), md.version, im.num_rows,
                     md.row_groups.size());
    for (const auto& [k, v] : im.kv) {
      o += fmt::format("metadata: {} = {}\n", k, v.size() > 200 ? v.substr(0, 200) + "..." : v);
    }
    o += "schema:\n";
    for (size_t c = 0; c < im.leaves.size(); ++c) {
      const ColumnInfo& ci = im.leaves[c].info;
      o += fmt::format("  {}: {} {}{} -> {}\n", ci.name, ci.required ? "REQUIRED" : "OPTIONAL",
                       ci.physical_type, ci.logical_type.empty() ? "" : " (" + ci.logical_type + ")",
                       im.leaves[c].type.ToString());
    }
    for (size_t g = 0; g < md.row_groups.size(); ++g) {
      const RowGroup& rg = md.row_groups[g];
      o += fmt::format("row group {}: {} rows, {} bytes uncompressed\n", g, rg.num_rows, rg.total_byte_size);
      for (size_t c = 0; c < rg.columns.size(); ++c) {
        const ColumnMetaData& m = *rg.columns[c].meta_data;
        std::string encs;
        for (int32_t e : m.encodings) encs += std::string(encs.empty() ? "" : ",") + EncodingName(e);
        ColumnStats s = row_group_stats(static_cast<int>(g), static_cast<int>(c));
        o += fmt::format("  {}: {} values, codec {}, encodings {}, {} -> {} bytes, offset {}",
                         im.leaves[c].info.name, m.num_values, CodecName(m.codec), encs,
                         m.total_uncompressed_size, m.total_compressed_size, m.data_page_offset);
        if (s.has_null_count) o += fmt::format(", nulls {}", s.null_count);
        if (!s.min.is_null()) o += fmt::format(", min {}, max {}", StatText(s.min), StatText(s.max));
        o += "\n";
      }
    }
    return o;
  }
  o += "{";
  o += fmt::format("\"file\":{},\"size\":{},\"created_by\":{},\"version\":{},\"num_rows\":{},",
                   JsonQuote(im.name), im.file_size, JsonQuote(md.created_by.value_or("")),
                   md.version, im.num_rows);
  o += "\"key_value_metadata\":{";
  for (size_t i = 0; i < im.kv.size(); ++i) {
    o += fmt::format("{}{}:{}", i ? "," : "", JsonQuote(im.kv[i].first), JsonQuote(im.kv[i].second));
  }
  o += "},\"schema\":[";
  for (size_t c = 0; c < im.leaves.size(); ++c) {
    const ColumnInfo& ci = im.leaves[c].info;
    o += fmt::format("{}{{\"name\":{},\"repetition\":\"{}\",\"physical_type\":\"{}\",\"logical_type\":{},\"type\":{}}}",
                     c ? "," : "", JsonQuote(ci.name), ci.required ? "REQUIRED" : "OPTIONAL",
                     ci.physical_type, JsonQuote(ci.logical_type),
                     JsonQuote(im.leaves[c].type.ToString()));
  }
  o += "],\"row_groups\":[";
  for (size_t g = 0; g < md.row_groups.size(); ++g) {
    const RowGroup& rg = md.row_groups[g];
    o += fmt::format("{}{{\"num_rows\":{},\"total_byte_size\":{},\"columns\":[", g ? "," : "",
                     rg.num_rows, rg.total_byte_size);
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const ColumnChunk& cc = rg.columns[c];
      const ColumnMetaData& m = *cc.meta_data;
      std::string encs;
      for (size_t i = 0; i < m.encodings.size(); ++i) {
        encs += fmt::format("{}\"{}\"", i ? "," : "", EncodingName(m.encodings[i]));
      }
      ColumnStats s = row_group_stats(static_cast<int>(g), static_cast<int>(c));
      o += fmt::format(
          "{}{{\"column\":{},\"codec\":\"{}\",\"encodings\":[{}],\"num_values\":{},"
          "\"total_uncompressed_size\":{},\"total_compressed_size\":{},\"data_page_offset\":{},"
          "\"dictionary_page_offset\":{},\"has_column_index\":{},\"has_offset_index\":{},"
          "\"null_count\":{},\"min\":{},\"max\":{}}}",
          c ? "," : "", JsonQuote(im.leaves[c].info.name), CodecName(m.codec), encs, m.num_values,
          m.total_uncompressed_size, m.total_compressed_size, m.data_page_offset,
          m.dictionary_page_offset ? std::to_string(*m.dictionary_page_offset) : "null",
          cc.column_index_offset.has_value(), cc.offset_index_offset.has_value(),
          s.has_null_count ? std::to_string(s.null_count) : "null",
          s.min.is_null() ? "null" : JsonQuote(StatText(s.min)),
          s.max.is_null() ? "null" : JsonQuote(StatText(s.max)));
    }
    o += "]}";
  }
  o += "]}\n";
  return o;
}

}  // namespace saleslake::parquet
