// ParquetWriter details the round trips do not see: when the dictionary is given up, and the
// page statistics of strings (checked page by page through the page index).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "formats/parquet/internal/metadata.h"
#include "formats/parquet/parquet.h"
#include "formats/parquet/parquet_test_util.h"

namespace saleslake::parquet {
namespace {

using testutil::ReadAll;
using testutil::StringOutputStream;

internal::FileMetaData Footer(const std::string& file) {
  uint32_t len;
  std::memcpy(&len, file.data() + file.size() - 8, 4);
  internal::FileMetaData md;
  Status s = internal::DecodeFileMetaData(
      reinterpret_cast<const uint8_t*>(file.data() + file.size() - 8 - len), len, &md);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return md;
}

// Entries of the chunk's dictionary page (0 when it has none).
int32_t DictionaryEntries(const std::string& file, const internal::ColumnMetaData& m) {
  if (!m.dictionary_page_offset) return 0;
  internal::PageHeader h;
  size_t used = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(file.data()) + *m.dictionary_page_offset;
  Status s = internal::DecodePageHeader(p, file.size() - *m.dictionary_page_offset, &h, &used);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return h.dictionary_page_header ? h.dictionary_page_header->num_values : -1;
}

bool HasEncoding(const internal::ColumnMetaData& m, int32_t e) {
  return std::find(m.encodings.begin(), m.encodings.end(), e) != m.encodings.end();
}

TEST(ParquetWriterTest, GivesUpTheDictionaryOfNearlyUniqueValuesAfter4096) {
  // Unique doubles and strings stop hashing at the first check past 4096 values; a column with
  // 3000 values, uniformly drawn (55% new at 4096), keeps its dictionary for the whole chunk.
  Schema schema{{Field{"d", DataType::Double(), true}, Field{"s", DataType::Varchar(), true},
                 Field{"k", DataType::Int64(), true}}};
  StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, WriterOptions{});
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(5);
  const size_t total = 30000;
  for (size_t done = 0; done < total; done += kBatchRows) {
    size_t n = std::min(kBatchRows, total - done);
    Batch b(schema, n);
    b.SetRows(n);
    for (size_t r = 0; r < n; ++r) {
      b.columns[0].data<double>()[r] = static_cast<double>(done + r) / 7;
      b.columns[1].SetString(r, "id-" + std::to_string(rng()));
      b.columns[2].data<int64_t>()[r] = static_cast<int64_t>(rng() % 3000);
    }
    ASSERT_TRUE((*w)->Write(b).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  internal::FileMetaData md = Footer(out.data());
  ASSERT_EQ(md.row_groups.size(), 1u);
  const auto& cols = md.row_groups[0].columns;
  for (int c : {0, 1}) {
    const internal::ColumnMetaData& m = *cols[c].meta_data;
    EXPECT_EQ(DictionaryEntries(out.data(), m), 4096) << "column " << c;
    EXPECT_TRUE(HasEncoding(m, internal::kPlain)) << "column " << c;
  }
  const internal::ColumnMetaData& k = *cols[2].meta_data;
  EXPECT_GT(DictionaryEntries(out.data(), k), 2900);  // random draws: nearly all 3000 seen
  EXPECT_FALSE(HasEncoding(k, internal::kPlain));
  auto rows = ReadAll(out.data());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), total);
  EXPECT_EQ((*rows)[29999][0].double_value(), 29999.0 / 7);
}

TEST(ParquetWriterTest, StringPageStatisticsOrderLikeMemcmp) {
  // Strings that tie on their first eight bytes, are prefixes of each other, hold NUL bytes or
  // bytes >= 0x80: every page's min and max in the page index (and the chunk's) must be what
  // byte-wise comparison gives. Batches are written with selections and NULLs, as the ETL does.
  Schema schema{{Field{"s", DataType::Varchar(), true}}};
  WriterOptions opts;
  opts.page_size = 1024;  // a page every 1024 rows
  opts.dictionary = false;
  StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, opts);
  ASSERT_TRUE(w.ok());
  std::mt19937_64 rng(17);
  const std::string alphabet("\0a\x7f\x80\xff", 5);
  std::vector<std::optional<std::string>> want;
  while (want.size() < 20000) {
    Batch b(schema, kBatchRows);
    b.SetRows(kBatchRows);
    for (size_t r = 0; r < kBatchRows; ++r) {
      if (rng() % 10 == 0) {
        b.columns[0].SetNull(r);
        continue;
      }
      std::string s = rng() % 2 ? "prefix--" : "";
      for (size_t len = rng() % 12; len > 0; --len) s += alphabet[rng() % alphabet.size()];
      b.columns[0].SetString(r, s);
    }
    SelectionVector sel(kBatchRows);
    size_t k = 0;
    for (size_t r = 0; r < kBatchRows; ++r)
      if (rng() % 4 != 0) sel.Set(k++, static_cast<uint32_t>(r));
    sel.Resize(k);
    for (size_t i = 0; i < k; ++i) {
      const ColumnVector& v = b.columns[0];
      if (v.IsValid(sel.Get(i))) want.emplace_back(std::string(v.GetValue<std::string_view>(sel.Get(i))));
      else want.emplace_back(std::nullopt);
    }
    b.selection = std::move(sel);
    ASSERT_TRUE((*w)->Write(b).ok());
  }
  auto stats = (*w)->Close();
  ASSERT_TRUE(stats.ok());

  internal::FileMetaData md = Footer(out.data());
  const std::string& file = out.data();
  const auto* base = reinterpret_cast<const uint8_t*>(file.data());
  size_t pages = 0;
  int64_t group_first_row = 0;
  for (const internal::RowGroup& rg : md.row_groups) {
    const internal::ColumnChunk& cc = rg.columns[0];
    ASSERT_TRUE(cc.column_index_offset && cc.offset_index_offset);
    internal::ColumnIndex ci;
    internal::OffsetIndex oi;
    ASSERT_TRUE(internal::DecodeColumnIndex(base + *cc.column_index_offset, *cc.column_index_length, &ci).ok());
    ASSERT_TRUE(internal::DecodeOffsetIndex(base + *cc.offset_index_offset, *cc.offset_index_length, &oi).ok());
    ASSERT_EQ(ci.min_values.size(), oi.page_locations.size());
    for (size_t p = 0; p < oi.page_locations.size(); ++p, ++pages) {
      int64_t begin = group_first_row + oi.page_locations[p].first_row_index;
      int64_t end = p + 1 < oi.page_locations.size() ? group_first_row + oi.page_locations[p + 1].first_row_index
                                                     : group_first_row + rg.num_rows;
      std::optional<std::string> mn, mx;
      for (int64_t r = begin; r < end; ++r) {
        if (!want[static_cast<size_t>(r)]) continue;
        const std::string& s = *want[static_cast<size_t>(r)];
        if (!mn || s < *mn) mn = s;
        if (!mx || *mx < s) mx = s;
      }
      ASSERT_TRUE(mn.has_value());
      EXPECT_EQ(ci.min_values[p], *mn) << "page " << p;
      EXPECT_EQ(ci.max_values[p], *mx) << "page " << p;
    }
    group_first_row += rg.num_rows;
  }
  EXPECT_GT(pages, 10u);
  std::string mn = "\xff", mx;
  for (const auto& s : want) {
    if (!s) continue;
    mn = std::min(mn, *s);
    mx = std::max(mx, *s);
  }
  EXPECT_EQ(stats->columns[0].min.string_value(), mn);
  EXPECT_EQ(stats->columns[0].max.string_value(), mx);
}

}  // namespace
}  // namespace saleslake::parquet
