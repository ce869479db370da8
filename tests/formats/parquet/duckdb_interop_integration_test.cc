// Interop with DuckDB (the oracle): files we write with every type x codec x page version read
// back in DuckDB with the same values and types; files DuckDB writes (every type, zstd/snappy/
// uncompressed, dictionary on/off, V1/V2) read back in saleslake identically.
#include <gtest/gtest.h>

#include <random>

#include "formats/parquet/csv_compare.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"
#include "support/test_support.h"

namespace saleslake {
namespace {

using testing::RunDuckDb;
using testing::RunSaleslake;
using testing::TempDir;

Schema AllTypes() {
  return Schema{{Field{"b", DataType::Boolean(), true}, Field{"i32", DataType::Int32(), false},
                 Field{"i64", DataType::Int64(), true}, Field{"f", DataType::Float(), true},
                 Field{"d", DataType::Double(), true}, Field{"s", DataType::Varchar(), true},
                 Field{"dt", DataType::Date(), true}, Field{"ts", DataType::Timestamp(), true},
                 Field{"dec9", DataType::Decimal(9, 2), true}, Field{"dec18", DataType::Decimal(18, 4), true},
                 Field{"dec38", DataType::Decimal(38, 6), true}}};
}

Status WriteSample(const std::string& path, parquet::Compression codec, bool v2) {
  Schema schema = AllTypes();
  SL_ASSIGN_OR_RETURN(auto out, io::OpenLocalWrite(path));
  parquet::WriterOptions opts;
  opts.compression = codec;
  opts.data_page_v2 = v2;
  opts.row_group_rows = 1500;
  opts.page_size = 8192;
  SL_ASSIGN_OR_RETURN(auto w, parquet::ParquetWriter::Open(out.get(), schema, opts));
  std::mt19937_64 rng(42);
  const char* words[] = {"United Kingdom", "España", "日本", "a,b", "quote\"d", "", "line\nbreak", "x"};
  for (int b = 0; b < 2; ++b) {
    const size_t n = 1700;
    Batch batch(schema, n);
    batch.SetRows(n);
    for (size_t r = 0; r < n; ++r) {
      int64_t k = static_cast<int64_t>(b * n + r);
      auto maybe_null = [&](size_t col) {
        if ((k + static_cast<int64_t>(col)) % 13 == 0) {
          batch.columns[col].SetNull(r);
          return true;
        }
        return false;
      };
      if (!maybe_null(0)) batch.columns[0].data<uint8_t>()[r] = k % 3 == 0;
      batch.columns[1].data<int32_t>()[r] = static_cast<int32_t>(k * 7 - 5000);
      if (!maybe_null(2)) batch.columns[2].data<int64_t>()[r] = static_cast<int64_t>(rng() >> 3) - (int64_t{1} << 59);
      if (!maybe_null(3)) batch.columns[3].data<float>()[r] = static_cast<float>(k) / 16.0f - 40.0f;
      if (!maybe_null(4)) batch.columns[4].data<double>()[r] = k == 5 ? -0.0 : static_cast<double>(k) * 0.001 - 0.5;
      if (!maybe_null(5)) batch.columns[5].SetString(r, std::string(words[k % 8]) + (k % 4 == 0 ? std::to_string(k) : ""));
      if (!maybe_null(6)) batch.columns[6].data<int32_t>()[r] = static_cast<int32_t>(k * 3 - 2000);
      if (!maybe_null(7)) batch.columns[7].data<int64_t>()[r] = k * 86'400'123'457 - 100'000'000'000;
      if (!maybe_null(8)) batch.columns[8].data<int64_t>()[r] = k * 37 % 100000 - 50000;
      if (!maybe_null(9)) batch.columns[9].data<int64_t>()[r] = k * 1234567 - 500000000;
      if (!maybe_null(10)) {
        __int128 v = static_cast<__int128>(k) * 123456789012345678 * (k % 2 ? -1 : 1);
        std::memcpy(batch.columns[10].data<uint8_t>() + r * 16, &v, 16);
      }
    }
    SL_RETURN_IF_ERROR(w->Write(batch));
  }
  SL_RETURN_IF_ERROR(w->Close().status());
  return out->Commit();
}

void ExpectCsvEqual(const std::string& what, const std::string& got_text, const std::string& want_text) {
  auto got = ParseCsv(got_text);
  auto want = ParseCsv(want_text);
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t r = 0; r < want.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size()) << what << " row " << r;
    for (size_t c = 0; c < want[r].size(); ++c) {
      ASSERT_TRUE(SameCell(got[r][c], want[r][c]))
          << what << " row " << r << " column " << want[0][c] << ": ours '" << got[r][c]
          << "' duckdb '" << want[r][c] << "'";
    }
  }
}

TEST(ParquetDuckDbInterop, DuckDbReadsOurFiles) {
  SL_REQUIRE_DUCKDB();
  TempDir dir;
  struct Variant {
    parquet::Compression codec;
    bool v2;
  };
  std::vector<Variant> variants;
  for (auto c : {parquet::Compression::kUncompressed, parquet::Compression::kSnappy, parquet::Compression::kGzip,
                 parquet::Compression::kZstd, parquet::Compression::kLz4Raw, parquet::Compression::kBrotli}) {
    variants.push_back({c, false});
    variants.push_back({c, true});
  }
  std::string sql;
  for (size_t i = 0; i < variants.size(); ++i) {
    std::string p = dir.Join("ours" + std::to_string(i) + ".parquet");
    Status s = WriteSample(p, variants[i].codec, variants[i].v2);
    ASSERT_TRUE(s.ok()) << s.ToString();
    sql += "COPY (SELECT * FROM read_parquet('" + p + "')) TO '" + dir.Join("duck" + std::to_string(i) + ".csv") +
           "' (HEADER);\n";
  }
  sql += "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('" +
         dir.Join("ours0.parquet") + "'));\n";
  auto res = RunDuckDb(sql);
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out,
            "column_name,column_type\nb,BOOLEAN\ni32,INTEGER\ni64,BIGINT\nf,FLOAT\nd,DOUBLE\ns,VARCHAR\n"
            "dt,DATE\nts,TIMESTAMP WITH TIME ZONE\ndec9,\"DECIMAL(9,2)\"\ndec18,\"DECIMAL(18,4)\"\n"
            "dec38,\"DECIMAL(38,6)\"\n");
  for (size_t i = 0; i < variants.size(); ++i) {
    std::string p = dir.Join("ours" + std::to_string(i) + ".parquet");
    auto cat = RunSaleslake({"cat", p});
    ASSERT_EQ(cat.exit_code, 0) << cat.err;
    std::string duck = testing::ReadFile(dir.Join("duck" + std::to_string(i) + ".csv"));
    ExpectCsvEqual(std::string(parquet::CompressionName(variants[i].codec)) + (variants[i].v2 ? " v2" : " v1"),
                   cat.out, duck);
    EXPECT_EQ(ParseCsv(duck).size(), 3401u);
  }
}

TEST(ParquetDuckDbInterop, WeReadDuckDbFiles) {
  SL_REQUIRE_DUCKDB();
  TempDir dir;
  std::string sql =
      "CREATE TABLE t AS SELECT "
      "CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 = 0 END AS b, i::INTEGER AS i32, "
      "CASE WHEN i % 11 = 0 THEN NULL ELSE i * 1000003 - 7000000 END::BIGINT AS i64, "
      "(i / 8.0)::FLOAT AS f, CASE WHEN i = 3 THEN 'NaN'::DOUBLE ELSE i * 0.25 - 3 END AS d, "
      "CASE WHEN i % 5 = 0 THEN NULL ELSE ['alpha', 'beta', 'gamma, delta', 'ñ', ''][i % 5 + 1] || (i % 50)::VARCHAR END AS s, "
      "DATE '2020-01-01' + (i % 400)::INTEGER AS dt, "
      "TIMESTAMP '2021-03-04 05:06:07' + to_microseconds(i * 1234567) AS ts, "
      "(i * 3 % 10000 / 100.0)::DECIMAL(9,2) AS dec9, (i * 77 / 10000.0)::DECIMAL(18,4) AS dec18, "
      "(i::DECIMAL(38,6) * 98765432101.123 - 5e15)::DECIMAL(38,6) AS dec38, (i % 300)::SMALLINT AS i16, "
      "(i % 100)::TINYINT AS i8, from_hex(printf('%04x', i)) AS bl, (i * 3)::UINTEGER AS u32 "
      "FROM range(6000) r(i);\n";
  sql += "COPY t TO '" + dir.Join("expected.csv") + "' (HEADER);\n";
  std::vector<std::string> files;
  for (std::string codec : {"zstd", "snappy", "uncompressed"}) {
    for (std::string extra : {"", ", DICTIONARY_SIZE_LIMIT 1", ", PARQUET_VERSION V2"}) {
      std::string p = dir.Join("duck" + std::to_string(files.size()) + ".parquet");
      sql += "COPY t TO '" + p + "' (FORMAT parquet, COMPRESSION " + codec + ", ROW_GROUP_SIZE 2048" + extra + ");\n";
      files.push_back(p);
    }
  }
  sql += "SELECT 1;\n";
  auto res = RunDuckDb(sql);
  ASSERT_EQ(res.exit_code, 0) << res.err;
  std::string want = testing::ReadFile(dir.Join("expected.csv"));
  for (const std::string& f : files) {
    auto cat = RunSaleslake({"cat", f});
    ASSERT_EQ(cat.exit_code, 0) << f << ": " << cat.err;
    ExpectCsvEqual(f, cat.out, want);
  }
}

}  // namespace
}  // namespace saleslake
