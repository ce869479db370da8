// `saleslake convert`: CSV in, Parquet out, checked by reading the Parquet file back in DuckDB.
#include <gtest/gtest.h>
#include <zlib.h>

#include "support/test_support.h"

namespace saleslake {
namespace {

using testing::RunDuckDb;
using testing::RunSaleslake;

std::string GzipText(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(ConvertTest, TypedParquetReadableByDuckDb) {
  SL_REQUIRE_DUCKDB();
  testing::TempDir dir;
  std::string csv =
      "\xEF\xBB\xBFid,name,amount,day,ts\r\n"
      "1,\"Smith, J\",12.5,2025-08-01,12/1/2010 08:26\r\n"
      "2,\"multi\nline \"\"quoted\"\"\",NA,2025-08-02,12/13/2010 17:05\r\n"
      "\r\n"
      "3,,-7,,1/2/2011 0:00\r\n";
  testing::WriteFile(dir.Join("in.csv.gz"), GzipText(csv));
  auto r = RunSaleslake({"convert", dir.Join("in.csv.gz"), dir.Join("out.parquet")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 rows (0 rejected, 1 blank lines)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("id BIGINT, name VARCHAR, amount DOUBLE, day DATE, ts TIMESTAMP"),
            std::string::npos)
      << r.out;
  auto d = RunDuckDb("SELECT id, name, amount, day, strftime(ts, '%Y-%m-%d %H:%M') AS ts FROM "
                     "read_parquet('" + dir.Join("out.parquet") + "') ORDER BY id");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out,
            "id,name,amount,day,ts\n"
            "1,\"Smith, J\",12.5,2025-08-01,2010-12-01 08:26\n"
            "2,\"multi\nline \"\"quoted\"\"\",,2025-08-02,2010-12-13 17:05\n"
            "3,,-7,,2011-01-02 00:00\n");
}

TEST(ConvertTest, KeepsFileOrderAcrossManyMorsels) {
  SL_REQUIRE_DUCKDB();
  testing::TempDir dir;
  std::string csv = "n,txt\n";
  for (int i = 0; i < 20000; ++i)
    csv += std::to_string(i) + (i % 7 == 0 ? ",\"a\nb\"\n" : ",x\n");
  testing::WriteFile(dir.Join("in.csv"), csv);
  auto r = RunSaleslake({"convert", dir.Join("in.csv"), dir.Join("out.parquet"),
                         "--morsel-bytes", "4096", "--row-group-size", "5000",
                         "--compression", "snappy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Row i of the file must be row i of the Parquet file.
  auto d = RunDuckDb("SELECT count(*) AS rows, sum(CASE WHEN n = rn - 1 THEN 1 ELSE 0 END) AS "
                     "in_place, count(DISTINCT txt) AS texts FROM (SELECT n, txt, row_number() "
                     "OVER () AS rn FROM read_parquet('" + dir.Join("out.parquet") + "'))");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "rows,in_place,texts\n20000,20000,2\n");
}

TEST(ConvertTest, BadRowsFailUnlessAllowed) {
  testing::TempDir dir;
  std::string csv = "n,v\n";
  for (int i = 0; i < 500; ++i) csv += std::to_string(i) + ",1.5\n";
  csv += "oops,2\n";
  testing::WriteFile(dir.Join("in.csv"), csv);
  auto r = RunSaleslake({"convert", dir.Join("in.csv"), dir.Join("out.parquet")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "saleslake: error: " + dir.Join("in.csv") +
                       ":502: cannot parse 'oops' as BIGINT in column n; to convert the other rows and "
                       "skip up to N bad ones, pass --max-errors N (now 0)\n");
  EXPECT_TRUE(testing::ReadFile(dir.Join("out.parquet")).empty());  // nothing half-written
  r = RunSaleslake({"convert", dir.Join("in.csv"), dir.Join("out.parquet"), "--max-errors", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(":502: cannot parse 'oops'"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("500 rows (1 rejected"), std::string::npos) << r.out;
}

TEST(ConvertTest, UsageAndInputErrors) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("in.csv"), "a\n1\n");
  auto r = RunSaleslake({"convert", dir.Join("in.csv"), dir.Join("o.parquet"), "--compression",
                         "lzma"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("lzma"), std::string::npos);
  r = RunSaleslake({"convert", dir.Join("missing.csv"), dir.Join("o.parquet")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.csv"), std::string::npos);
  r = RunSaleslake({"convert", dir.Join("in.csv")});
  EXPECT_EQ(r.exit_code, 2);
  r = RunSaleslake({"convert", dir.Join("in.csv"), dir.Join("o.parquet"), "--row-group-size", "0"});
  EXPECT_EQ(r.exit_code, 2);
  testing::WriteFile(dir.Join("empty.csv"), "");
  r = RunSaleslake({"convert", dir.Join("empty.csv"), dir.Join("o.parquet")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("empty file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace saleslake
