// `saleslake query` end to end: a generated lake, CSV table from the crawler, a partitioned
// Parquet table made by CREATE TABLE AS, output formats, pruning, errors and exit codes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

class QueryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    auto g = Run({"generate", "--rows", "3000", "--seed", "7"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    auto c = Run({"crawl"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  CommandResult Run(std::vector<std::string> args) { return RunSaleslakeIn(lake_, std::move(args)); }

  TempDir dir_;
  std::string lake_;
};

TEST_F(QueryCliTest, CsvTableAndFormats) {
  auto r = Run({"query", "SELECT count(*) AS n FROM raw_sales", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n3000\n");
  auto j = Run({"query", "SELECT 1 AS a, 'x' AS b, NULL AS c", "--format", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out, "[\n  {\"a\": 1, \"b\": \"x\", \"c\": null}\n]\n");
  auto t = Run({"query", "SELECT 42 AS answer"});
  ASSERT_EQ(t.exit_code, 0);
  EXPECT_NE(t.out.find("answer"), std::string::npos);
  EXPECT_NE(t.out.find("(1 row"), std::string::npos);
}

TEST_F(QueryCliTest, CtasPartitionedParquetMatchesCsv) {
  auto c = Run({"query",
                "CREATE TABLE sales_data WITH (partitioned_by = ARRAY['region']) AS "
                "SELECT purchase_date, customer_id, amount, status, region FROM raw_sales"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "CREATE TABLE: 3000 rows\n");
  auto a = Run({"query", "SELECT region, count(*), round(sum(amount), 2) FROM raw_sales GROUP BY region ORDER BY region", "--format", "csv"});
  auto b = Run({"query", "SELECT region, count(*), round(sum(amount), 2) FROM sales_data GROUP BY region ORDER BY region", "--format", "csv"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  // A filter on the partition column reads one file and skips the others.
  auto e = Run({"query", "EXPLAIN ANALYZE SELECT count(*) FROM sales_data WHERE region = 'Oceania'", "--format", "csv"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("files read: 1, skipped:"), std::string::npos) << e.out;
}

TEST(QueryCliRowGroupTest, FiltersSkipRowGroupsByTheirOwnStatistics) {
  // One Parquet file of ten 100-row row groups over ascending ids: a filter on the id reads one
  // row group, skips nine, and the answer is unchanged.
  TempDir dir;
  std::string lake = dir.Join("lake");
  auto sl = [&](std::vector<std::string> args) { return testing::RunSaleslakeIn(lake, std::move(args)); };
  ASSERT_EQ(sl({"init"}).exit_code, 0);
  std::string csv = "id,v\n";
  for (int i = 1; i <= 1000; ++i) csv += std::to_string(i) + "," + std::to_string(2 * i) + "\n";
  WriteFile(dir.Join("seq.csv"), csv);
  auto conv = RunSaleslake({"convert", dir.Join("seq.csv"), dir.Join("seq.parquet"), "--row-group-size", "100"});
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  ASSERT_EQ(sl({"upload", dir.Join("seq.parquet")}).exit_code, 0);
  auto crawl = sl({"crawl"});
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  const std::string q = "SELECT count(*) AS n, sum(v) AS s FROM raw_sales WHERE id > 950";
  auto r = sl({"query", q, "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n,s\n50,97550\n");
  auto e = sl({"query", "EXPLAIN ANALYZE " + q, "--format", "csv"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("files read: 1, skipped: 0, row groups read: 1, skipped: 9"), std::string::npos) << e.out;
  auto all = sl({"query", "SELECT count(*) AS n FROM raw_sales WHERE id > 0 AND v < 100000", "--format", "csv"});
  EXPECT_EQ(all.out, "n\n1000\n");
}

TEST(QueryCliRowGroupTest, LargeFileIsReadInPartsByEveryWorker) {
  // 300,000 rows in row groups of 40,000 (8 groups; the last one short): more rows than one part
  // holds, so the file is read as 3 morsels, each the row groups starting in its share of the
  // rows. Every row is read once: counts, sums, filters and row order agree with the data.
  TempDir dir;
  std::string lake = dir.Join("lake");
  auto sl = [&](std::vector<std::string> args) { return testing::RunSaleslakeIn(lake, std::move(args)); };
  ASSERT_EQ(sl({"init"}).exit_code, 0);
  std::string csv = "id,k,s\n";
  for (int i = 1; i <= 300000; ++i) csv += fmt::format("{},{},{}\n", i, i % 7, i % 3 == 0 ? "x" : "yy");
  WriteFile(dir.Join("big.csv"), csv);
  auto conv = RunSaleslake({"convert", dir.Join("big.csv"), dir.Join("big.parquet"), "--row-group-size", "40000"});
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  ASSERT_EQ(sl({"upload", dir.Join("big.parquet")}).exit_code, 0);
  ASSERT_EQ(sl({"crawl"}).exit_code, 0);
  auto q = [&](const std::string& sql) {
    auto r = sl({"query", sql, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
    return r.out;
  };
  EXPECT_EQ(q("SELECT count(*) AS n, sum(id) AS s, min(id) AS lo, max(id) AS hi FROM raw_sales"),
            "n,s,lo,hi\n300000,45000150000,1,300000\n");
  EXPECT_EQ(q("SELECT k, count(*) AS n FROM raw_sales GROUP BY k ORDER BY k"),
            "k,n\n0,42857\n1,42858\n2,42857\n3,42857\n4,42857\n5,42857\n6,42857\n");
  EXPECT_EQ(q("SELECT count(*) AS n, sum(id) AS s FROM raw_sales WHERE s = 'x' AND id > 250000"),
            "n,s\n16667,4583441667\n");
  // Without ORDER BY, a plain scan keeps the file's order across its parts.
  auto all = q("SELECT id FROM raw_sales WHERE id % 50000 = 1");
  EXPECT_EQ(all, "id\n1\n50001\n100001\n150001\n200001\n250001\n");
  auto e = sl({"query", "EXPLAIN ANALYZE SELECT count(*) FROM raw_sales WHERE id > 290000", "--format", "csv"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.out.find("files read: 1, skipped: 0, row groups read: 1, skipped: 7"), std::string::npos) << e.out;
}

TEST(QueryCliRowGroupTest, FiltersSkipBatchesBeforeDecodingTheOtherColumns) {
  // One row group of 10,000 rows (five 2048-row batches): k = 7 only on rows 4100-4109, all in
  // the third batch. The scan decodes k first and never passes (or decodes the other columns
  // of) batches where the filter selects nothing; answers are those of every row.
  TempDir dir;
  std::string lake = dir.Join("lake");
  auto sl = [&](std::vector<std::string> args) { return testing::RunSaleslakeIn(lake, std::move(args)); };
  ASSERT_EQ(sl({"init"}).exit_code, 0);
  std::string csv = "id,k,v,s\n";
  for (int i = 0; i < 10000; ++i) {
    int k = i >= 4100 && i < 4110 ? 7 : i % 5;
    csv += fmt::format("{},{},{},x{}\n", i, k, 3 * i, i);
  }
  WriteFile(dir.Join("t.csv"), csv);
  auto conv = RunSaleslake({"convert", dir.Join("t.csv"), dir.Join("t.parquet")});
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  ASSERT_EQ(sl({"upload", dir.Join("t.parquet")}).exit_code, 0);
  ASSERT_EQ(sl({"crawl"}).exit_code, 0);
  auto q = [&](const std::string& sql) {
    auto r = sl({"query", sql, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << sql << ": " << r.err;
    return r.out;
  };
  const std::string seven = "SELECT count(*) AS n, sum(v) AS s FROM raw_sales WHERE k = 7";
  EXPECT_EQ(q(seven), "n,s\n10,123135\n");  // 3 * (4100 + ... + 4109)
  std::string e = q("EXPLAIN ANALYZE " + seven);
  EXPECT_NE(e.find("batches skipped by filters: 4"), std::string::npos) << e;
  // No row has k = 5, though k's statistics (0 to 7) cannot rule it out: every batch skipped.
  EXPECT_EQ(q("SELECT count(*) AS n, max(v) AS m FROM raw_sales WHERE k = 5"), "n,m\n0,\n");
  e = q("EXPLAIN ANALYZE SELECT count(*) AS n, max(v) AS m FROM raw_sales WHERE k = 5");
  EXPECT_NE(e.find("batches skipped by filters: 5"), std::string::npos) << e;
  // A string filter column; two filters, each matching rows of its own batches.
  EXPECT_EQ(q("SELECT id, v FROM raw_sales WHERE s = 'x9999'"), "id,v\n9999,29997\n");
  EXPECT_EQ(q("SELECT count(*) AS n FROM raw_sales WHERE k = 7 AND id < 4105"), "n\n5\n");
  EXPECT_EQ(q("SELECT count(*) AS n FROM raw_sales WHERE k = 7 AND id > 8000"), "n\n0\n");
  // A filter reading every scanned column still answers over all rows.
  EXPECT_EQ(q("SELECT count(*) AS n FROM raw_sales WHERE k = 3"), "n\n1998\n");
}

TEST_F(QueryCliTest, ScriptsViewsAndErrors) {
  std::string file = dir_.Join("q.sql");
  WriteFile(file, "CREATE VIEW big AS SELECT * FROM raw_sales WHERE amount > 100;\n"
                  "SELECT count(*) > 0 AS any FROM big;\n");
  auto s = Run({"query", "-f", file, "--format", "csv"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, "CREATE VIEW\nany\ntrue\n");
  auto bad = Run({"query", "SELECT amnt FROM raw_sales"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "saleslake: error: line 1:8: column 'amnt' not found; did you mean 'amount'?\n");
  auto usage = Run({"query", "SELECT 1", "--format", "xml"});
  EXPECT_EQ(usage.exit_code, 2);
}

TEST_F(QueryCliTest, MemoryAndTimeLimits) {
  const std::string cross = "SELECT a.customer_id, count(*) FROM raw_sales a CROSS JOIN raw_sales b GROUP BY 1";
  auto m = Run({"query", cross, "--memory-limit", "1"});
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_NE(m.err.find("query exceeded memory limit of 1.0 MB"), std::string::npos) << m.err;
  auto t = Run({"query", "SELECT count(*) FROM raw_sales a CROSS JOIN raw_sales b", "--timeout", "0.001"});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.err.find("time limit"), std::string::npos) << t.err;
  // The limits are per statement: a generous one lets every statement of a script run.
  std::string file = dir_.Join("limits.sql");
  WriteFile(file, "SELECT 1;\nSELECT count(*) FROM raw_sales;\n");
  auto s = Run({"query", "-f", file, "--timeout", "600", "--memory-limit", "0", "--format", "csv"});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("3000"), std::string::npos) << s.out;
  EXPECT_EQ(Run({"query", "SELECT 1", "--timeout", "-1"}).exit_code, 2);
}

// Ctrl-C in the REPL cancels the running statement, not the REPL: the next statement runs.
// SIGINT is sent repeatedly until the statement reports its cancellation (no timing assumption).
TEST_F(QueryCliTest, CtrlCInReplCancelsTheRunningStatement) {
  std::string fifo = dir_.Join("in"), out = dir_.Join("out"), err = dir_.Join("err");
  std::string script =
      "set -u; mkfifo '" + fifo + "'; '" SALESLAKE_BINARY "' --lake '" + lake_ + "' query --format csv < '" +
      fifo + "' > '" + out + "' 2> '" + err + "' & pid=$!; exec 3> '" + fifo + "';"
      " echo 'SELECT 1 AS ready;' >&3;"
      " for i in $(seq 1 600); do grep -q ready '" + out + "' && break; sleep 0.05; done;"
      " echo 'SELECT count(DISTINCT a.amount * b.amount + a.amount) FROM raw_sales a CROSS JOIN raw_sales b;' >&3;"
      " for i in $(seq 1 600); do kill -INT $pid; grep -q cancelled '" + err + "' && break; sleep 0.05; done;"
      " echo 'SELECT 42 AS answer;' >&3; exec 3>&-; wait $pid; echo \"exit=$?\"";
  auto r = RunProgram({"bash", "-c", script});
  EXPECT_NE(r.out.find("exit=0"), std::string::npos) << r.out << r.err;
  EXPECT_NE(ReadFile(err).find("error: query cancelled"), std::string::npos) << ReadFile(err);
  EXPECT_NE(ReadFile(out).find("answer\n42\n"), std::string::npos) << ReadFile(out);
}

}  // namespace
}  // namespace saleslake::testing
