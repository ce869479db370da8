// Writer -> reader round trips: random schemas x null densities x codecs x page versions x
// dictionary on/off x row counts around page and row-group boundaries (fixed seeds).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/thread_pool.h"

#include "formats/parquet/parquet.h"
#include "formats/parquet/parquet_test_util.h"

namespace saleslake::parquet {
namespace {

using testutil::CellValue;
using testutil::ReadAll;
using testutil::StringOutputStream;

const DataType kTypes[] = {DataType::Boolean(),      DataType::Int32(),       DataType::Int64(),
                           DataType::Float(),        DataType::Double(),      DataType::Varchar(),
                           DataType::Date(),         DataType::Timestamp(),   DataType::Decimal(9, 2),
                           DataType::Decimal(18, 4), DataType::Decimal(38, 6), DataType::Decimal(25, 0)};

// Fills rows [0, n) of `v` with random values; `null_rate` of them NULL; `distinct` bounds the
// number of different values (small = dictionary friendly).
void Fill(ColumnVector& v, size_t n, double null_rate, int distinct, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  auto pick = [&]() -> int64_t {
    int64_t k = static_cast<int64_t>(rng() % static_cast<uint64_t>(distinct));
    return distinct > 1000 ? static_cast<int64_t>(rng()) : k * 7919 - 3000;
  };
  v.Resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (null_rate > 0 && u(rng) < null_rate) {
      v.SetNull(i);
      continue;
    }
    int64_t x = pick();
    switch (v.type().id) {
      case TypeId::kBoolean: v.data<uint8_t>()[i] = x & 1; break;
      case TypeId::kInt32: v.data<int32_t>()[i] = static_cast<int32_t>(x); break;
      case TypeId::kInt64: v.data<int64_t>()[i] = x; break;
      case TypeId::kFloat: v.data<float>()[i] = static_cast<float>(x % 100000) / 8.0f; break;
      case TypeId::kDouble: v.data<double>()[i] = static_cast<double>(x) / 3.0; break;
      case TypeId::kDate: v.data<int32_t>()[i] = static_cast<int32_t>(x % 100000); break;
      case TypeId::kTimestamp: v.data<int64_t>()[i] = x / 7; break;
      case TypeId::kVarchar: {
        std::string s = "v" + std::to_string(x);
        if (x % 5 == 0) s.clear();
        if (x % 11 == 0) s += std::string(static_cast<size_t>(x % 300 + 300) % 300, 'x');
        v.SetString(i, s);
        break;
      }
      case TypeId::kDecimal: {
        const DataType& t = v.type();
        if (t.is_wide_decimal()) {
          __int128 w = static_cast<__int128>(x) * 997 * (x % 3 == 0 ? -1 : 1);  // fits DECIMAL(25)
          std::memcpy(v.data<uint8_t>() + i * 16, &w, 16);
        } else {
          int64_t lim = t.precision >= 18 ? INT64_MAX / 2 : static_cast<int64_t>(std::pow(10, t.precision)) - 1;
          v.data<int64_t>()[i] = x % lim;
        }
        break;
      }
      default: break;
    }
  }
}

struct Case {
  Compression codec;
  bool v2;
  bool dict;
  double null_rate;
  int distinct;
  size_t rows;
  int64_t rg_rows;
  size_t page_size;
};

void RunCase(const Case& c, uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "codec " << CompressionName(c.codec) << " v2 " << c.v2
                                    << " dict " << c.dict << " nulls " << c.null_rate << " distinct "
                                    << c.distinct << " rows " << c.rows << " rg " << c.rg_rows
                                    << " seed " << seed);
  std::mt19937_64 rng(seed);
  Schema schema;
  for (size_t i = 0; i < std::size(kTypes); ++i) {
    schema.fields.push_back(Field{"c" + std::to_string(i), kTypes[i], c.null_rate > 0 || i % 2 == 0});
  }
  WriterOptions opts;
  opts.compression = c.codec;
  opts.data_page_v2 = c.v2;
  opts.dictionary = c.dict;
  opts.row_group_rows = c.rg_rows;
  opts.page_size = c.page_size;
  StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, opts);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::vector<std::vector<Value>> expected;
  size_t written = 0;
  while (written < c.rows) {
    size_t n = std::min<size_t>(c.rows - written, 1 + rng() % kBatchRows);
    Batch b(schema, n);
    for (size_t col = 0; col < schema.size(); ++col) {
      Fill(b.columns[col], n, schema[col].nullable ? c.null_rate : 0, c.distinct, rng);
    }
    b.SetRows(n);
    for (size_t r = 0; r < n; ++r) {
      std::vector<Value> row;
      for (auto& col : b.columns) row.push_back(CellValue(col, r));
      expected.push_back(std::move(row));
    }
    ASSERT_TRUE((*w)->Write(b).ok());
    written += n;
  }
  auto stats = (*w)->Close();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->num_rows, static_cast<int64_t>(c.rows));
  EXPECT_EQ(stats->file_size, out.data().size());

  auto rows = ReadAll(out.data());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), expected.size());
  for (size_t r = 0; r < expected.size(); ++r) {
    for (size_t col = 0; col < schema.size(); ++col) {
      ASSERT_TRUE((*rows)[r][col] == expected[r][col])
          << "row " << r << " col " << col << ": " << (*rows)[r][col].ToString() << " vs "
          << expected[r][col].ToString();
    }
  }
  // Footer statistics agree with the data.
  std::shared_ptr<const io::RandomAccessFile> f(io::MakeMemoryFile(out.data()));
  auto reader = ParquetReader::Open(f);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->num_rows(), static_cast<int64_t>(c.rows));
  FileStats fs = (*reader)->file_stats();
  for (size_t col = 0; col < schema.size(); ++col) {
    Value mn, mx;
    int64_t nulls = 0;
    for (auto& row : expected) {
      const Value& v = row[col];
      if (v.is_null()) {
        ++nulls;
        continue;
      }
      if (mn.is_null() || v.Compare(mn) < 0) mn = v;
      if (mx.is_null() || v.Compare(mx) > 0) mx = v;
    }
    EXPECT_EQ(fs.columns[col].null_count, nulls) << "col " << col;
    if (!mn.is_null() && schema[col].type.id != TypeId::kFloat && schema[col].type.id != TypeId::kDouble) {
      EXPECT_TRUE(fs.columns[col].min == mn) << "col " << col << " " << fs.columns[col].min.ToString() << " vs " << mn.ToString();
      EXPECT_TRUE(fs.columns[col].max == mx) << "col " << col << " " << fs.columns[col].max.ToString() << " vs " << mx.ToString();
      EXPECT_TRUE(stats->columns[col].min == mn) << "col " << col;
      EXPECT_TRUE(stats->columns[col].max == mx) << "col " << col;
    }
  }
}

TEST(ParquetRoundTrip, EveryCodecAndPageVersion) {
  const Compression codecs[] = {Compression::kUncompressed, Compression::kSnappy, Compression::kGzip,
                                Compression::kZstd,         Compression::kLz4Raw, Compression::kLz4Hadoop,
                                Compression::kBrotli};
  uint64_t seed = 1;
  for (Compression codec : codecs) {
    for (bool v2 : {false, true}) {
      RunCase({codec, v2, true, 0.2, 50, 3000, 1 << 20, 4096}, seed++);
    }
  }
}

TEST(ParquetRoundTrip, RowCountsAtBoundaries) {
  uint64_t seed = 100;
  for (size_t rows : {size_t{0}, size_t{1}, size_t{2047}, size_t{2048}, size_t{2049}, size_t{5000}}) {
    for (bool dict : {false, true}) {
      RunCase({Compression::kZstd, false, dict, 0.1, 20, rows, 1000, 2048}, seed++);
    }
  }
}

TEST(ParquetRoundTrip, NullDensitiesAndCardinalities) {
  uint64_t seed = 200;
  for (double nulls : {0.0, 0.01, 0.5, 1.0}) {
    for (int distinct : {1, 100, 100000}) {
      const uint64_t s = seed++;
      RunCase({Compression::kSnappy, (s & 1) != 0, true, nulls, distinct, 2500, 1200, 1024}, s);
    }
  }
}

TEST(ParquetRoundTrip, DictionaryFallbackAndSelection) {
  // High cardinality strings overflow the dictionary mid-chunk; a selection picks live rows.
  Schema schema{{Field{"s", DataType::Varchar(), true}, Field{"i", DataType::Int64(), false}}};
  WriterOptions opts;
  opts.page_size = 4096;
  StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, opts);
  ASSERT_TRUE(w.ok());
  std::vector<std::string> want;
  for (int b = 0; b < 40; ++b) {
    Batch batch(schema, kBatchRows);
    batch.SetRows(kBatchRows);
    for (size_t r = 0; r < kBatchRows; ++r) {
      batch.columns[0].SetString(r, b < 5 ? "low" + std::to_string(r % 3) : "high" + std::to_string(b * 100000 + r));
      batch.columns[1].data<int64_t>()[r] = static_cast<int64_t>(r);
    }
    SelectionVector sel(kBatchRows);
    size_t k = 0;
    for (size_t r = 0; r < kBatchRows; r += 3) sel.Set(k++, static_cast<uint32_t>(r));
    sel.Resize(k);
    for (size_t i = 0; i < k; ++i) want.push_back(std::string(batch.columns[0].GetValue<std::string_view>(sel.Get(i))));
    batch.selection = std::move(sel);
    ASSERT_TRUE((*w)->Write(batch).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  auto rows = ReadAll(out.data());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ((*rows)[i][0].string_value(), want[i]) << i;
  EXPECT_EQ((*rows)[1][1].int_value(), 3);
}

TEST(ParquetRoundTrip, LargeRowGroupOverOneMillionRows) {
  Schema schema{{Field{"id", DataType::Int64(), false}, Field{"region", DataType::Varchar(), true}}};
  WriterOptions opts;
  opts.row_group_rows = 600000;
  StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, opts);
  ASSERT_TRUE(w.ok());
  const char* regions[] = {"north", "south", "east", "west"};
  const size_t total = 1'100'000;
  for (size_t done = 0; done < total; done += kBatchRows) {
    size_t n = std::min(kBatchRows, total - done);
    Batch b(schema, n);
    b.SetRows(n);
    for (size_t r = 0; r < n; ++r) {
      b.columns[0].data<int64_t>()[r] = static_cast<int64_t>(done + r);
      if ((done + r) % 17 == 0) b.columns[1].SetNull(r);
      else b.columns[1].SetString(r, regions[(done + r) % 4]);
    }
    ASSERT_TRUE((*w)->Write(b).ok());
  }
  auto st = (*w)->Close();
  ASSERT_TRUE(st.ok());
  std::shared_ptr<const io::RandomAccessFile> f(io::MakeMemoryFile(out.data()));
  auto reader = ParquetReader::Open(f);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->num_row_groups(), 2);
  EXPECT_EQ((*reader)->row_group_num_rows(0), 600000);
  int64_t sum = 0, next = 0, nulls = 0;
  bool dict_seen = false;
  for (int g = 0; g < 2; ++g) {
    ASSERT_TRUE((*reader)->ReadRowGroup(g, {0, 1}, [&](Batch& b) {
      dict_seen |= b.columns[1].encoding() == VectorEncoding::kDictionary;
      for (size_t r = 0; r < b.num_rows; ++r) {
        int64_t id = b.columns[0].data<int64_t>()[r];
        EXPECT_EQ(id, next++);
        sum += id;
        if (!b.columns[1].IsValid(r)) ++nulls;
        else if (b.columns[1].GetValue<std::string_view>(r) != regions[id % 4]) return Status::Internal("bad region");
      }
      return Status::OK();
    }).ok());
  }
  EXPECT_TRUE(dict_seen);
  EXPECT_EQ(next, static_cast<int64_t>(total));
  EXPECT_EQ(sum, static_cast<int64_t>(total) * (static_cast<int64_t>(total) - 1) / 2);
  EXPECT_EQ(nulls, static_cast<int64_t>((total + 16) / 17));
  ColumnStats s = (*reader)->row_group_stats(1, 0);
  EXPECT_EQ(s.min.int_value(), 600000);
  EXPECT_EQ(s.max.int_value(), static_cast<int64_t>(total) - 1);
  EXPECT_FALSE(StatsMayContain(s, Value::Int64(0), Value::Int64(10)));
  EXPECT_TRUE(StatsMayContain(s, Value::Int64(700000), Value()));
}

TEST(ParquetWriter, RejectsBadInput) {
  Schema schema{{Field{"x", DataType::Int32(), false}}};
  StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, WriterOptions{});
  ASSERT_TRUE(w.ok());
  Batch b(schema, 4);
  b.SetRows(4);
  b.columns[0].SetNull(2);
  Status s = (*w)->Write(b);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'x'"), std::string::npos);
  Schema wrong{{Field{"x", DataType::Int64(), true}}};
  Batch b2(wrong, 1);
  b2.SetRows(1);
  EXPECT_EQ((*w)->Write(b2).code(), StatusCode::kInvalidArgument);
  Schema interval{{Field{"i", DataType::IntervalType(), true}}};
  EXPECT_EQ(ParquetWriter::Open(&out, interval, WriterOptions{}).status().code(), StatusCode::kNotImplemented);
  EXPECT_EQ(ParseCompression("zip").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseCompression("ZSTD"), Compression::kZstd);
  EXPECT_EQ(*ParseCompression("none"), Compression::kUncompressed);
}

}  // namespace
}  // namespace saleslake::parquet

namespace saleslake::parquet {
namespace {

// ReadRowGroup is documented thread-safe: read every row group from several threads at once
// (twice each) and check the sums.
TEST(ParquetReader, ConcurrentRowGroupReads) {
  Schema schema{{Field{"k", DataType::Int64(), true}, Field{"s", DataType::Varchar(), true}}};
  WriterOptions opts;
  opts.row_group_rows = 10000;
  opts.compression = Compression::kSnappy;
  testutil::StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, opts);
  ASSERT_TRUE(w.ok());
  for (size_t done = 0; done < 80000; done += kBatchRows) {
    Batch b(schema, kBatchRows);
    b.SetRows(kBatchRows);
    for (size_t r = 0; r < kBatchRows; ++r) {
      b.columns[0].data<int64_t>()[r] = static_cast<int64_t>(done + r);
      b.columns[1].SetString(r, "s" + std::to_string((done + r) % 7));
    }
    ASSERT_TRUE((*w)->Write(b).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  std::shared_ptr<const io::RandomAccessFile> f(io::MakeMemoryFile(out.data()));
  auto reader = ParquetReader::Open(f);
  ASSERT_TRUE(reader.ok());
  const int groups = (*reader)->num_row_groups();
  ASSERT_GT(groups, 8);
  std::vector<int64_t> sums(static_cast<size_t>(groups) * 2, 0);
  std::vector<Status> st(sums.size());
  ThreadPool pool(4);
  pool.ParallelFor(sums.size(), [&](size_t i) {
    st[i] = (*reader)->ReadRowGroup(static_cast<int>(i % groups), {1, 0}, [&](Batch& b) {
      for (size_t r = 0; r < b.num_rows; ++r) {
        int64_t k = b.columns[1].data<int64_t>()[r];
        if (b.columns[0].GetValue<std::string_view>(r) != "s" + std::to_string(k % 7)) {
          return Status::Internal("mismatch");
        }
        sums[i] += k;
      }
      return Status::OK();
    });
  });
  int64_t total = 0;
  for (size_t i = 0; i < sums.size(); ++i) {
    ASSERT_TRUE(st[i].ok()) << st[i].ToString();
    total += sums[i];
  }
  EXPECT_EQ(total, 2 * (int64_t{81920} * 81919 / 2));  // 40 batches of 2048 rows, each group read twice
}

}  // namespace
}  // namespace saleslake::parquet

namespace saleslake::parquet {
namespace {

// Late materialisation: the filter's column is decoded first; batches it rules out are not
// passed on and, when it rules out the whole row group, the other columns are never decoded
// (the probe shows them as all-null constants).
TEST(ParquetReader, FilteredReadSkipsBatchesAndUndecodedColumns) {
  Schema schema{{Field{"k", DataType::Int64(), true}, Field{"v", DataType::Double(), true},
                 Field{"s", DataType::Varchar(), true}}};
  WriterOptions opts;
  opts.row_group_rows = 10000;
  testutil::StringOutputStream out;
  auto w = ParquetWriter::Open(&out, schema, opts);
  ASSERT_TRUE(w.ok());
  Batch b(schema, 10000);
  b.SetRows(10000);
  for (size_t r = 0; r < 10000; ++r) {
    b.columns[0].data<int64_t>()[r] = r >= 4100 && r < 4110 ? 7 : static_cast<int64_t>(r % 5);
    if (r % 9 == 0) b.columns[1].SetNull(r);
    else b.columns[1].data<double>()[r] = 0.5 * static_cast<double>(r);
    b.columns[2].SetString(r, "s" + std::to_string(r));
  }
  ASSERT_TRUE((*w)->Write(b).ok());
  ASSERT_TRUE((*w)->Close().ok());
  std::shared_ptr<const io::RandomAccessFile> f(io::MakeMemoryFile(out.data()));
  auto reader = ParquetReader::Open(f);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->num_row_groups(), 1);

  auto wants = [](int64_t key) {
    ParquetReader::BatchFilter filter;
    filter.positions = {1};  // k, second in the column list below
    filter.any_row = [key](Batch& probe) {
      EXPECT_EQ(probe.columns[0].encoding(), VectorEncoding::kConstant);  // v: not decoded yet
      EXPECT_FALSE(probe.columns[0].IsValid(0));
      for (size_t r = 0; r < probe.num_rows; ++r)
        if (probe.columns[1].GetValue<int64_t>(r) == key) return true;
      return false;
    };
    return filter;
  };
  std::vector<size_t> firsts;
  auto got = (*reader)->ReadRowGroupFiltered(0, {1, 0, 2}, wants(7), [&](Batch& batch) {
    // The batch holds every column, decoded, in the order asked.
    std::string_view s0 = batch.columns[2].GetValue<std::string_view>(0);
    size_t row0 = std::stoul(std::string(s0.substr(1)));
    firsts.push_back(row0);
    for (size_t r = 0; r < batch.num_rows; ++r) {
      size_t row = row0 + r;
      EXPECT_EQ(batch.columns[0].IsValid(r), row % 9 != 0);
      if (row % 9 != 0) {
        EXPECT_EQ(batch.columns[0].GetValue<double>(r), 0.5 * static_cast<double>(row));
      }
    }
    return Status::OK();
  });
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 4u);  // of five 2048-row batches, only rows 4096-6143 hold k = 7
  EXPECT_EQ(firsts, std::vector<size_t>{4096});

  // Nothing matches: no batch reaches the sink, and v and s are never decoded.
  size_t passed = 0;
  got = (*reader)->ReadRowGroupFiltered(0, {1, 0, 2}, wants(5), [&](Batch&) {
    ++passed;
    return Status::OK();
  });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 5u);
  EXPECT_EQ(passed, 0u);
  // No filter: every batch.
  got = (*reader)->ReadRowGroupFiltered(0, {1, 0, 2}, ParquetReader::BatchFilter{}, [&](Batch&) {
    ++passed;
    return Status::OK();
  });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 0u);
  EXPECT_EQ(passed, 5u);
}

}  // namespace
}  // namespace saleslake::parquet
