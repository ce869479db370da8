// `saleslake query` outputs do what they say: the format follows --output's extension, several
// statements give several results, every failure gives a non-zero exit, tables are truncated
// only when asked, and cells print as people read them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

class QueryOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    ASSERT_EQ(Run({"generate", "--rows", "300"}).exit_code, 0);
    ASSERT_EQ(Run({"crawl"}).exit_code, 0);
  }
  CommandResult Run(std::vector<std::string> args) { return RunSaleslakeIn(lake_, std::move(args)); }
  CommandResult RunStdin(std::vector<std::string> args, const std::string& in) {
    args.insert(args.begin(), {"--lake", lake_});
    return RunSaleslake(args, in);
  }
  TempDir dir_;
  std::string lake_;
};

TEST_F(QueryOutputTest, OutputFormatFollowsTheExtensionUnlessFormatSaysOtherwise) {
  auto r = Run({"query", "SELECT 1 AS a, 'x,y' AS b", "--output", dir_.Join("o.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_.Join("o.csv")), "a,b\n1,\"x,y\"\n");
  r = Run({"query", "SELECT 1 AS a", "--output", dir_.Join("o.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_.Join("o.json")), "[\n  {\"a\": 1}\n]\n");
  r = Run({"query", "SELECT 1 AS a", "--output", dir_.Join("t.csv"), "--format", "table"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ReadFile(dir_.Join("t.csv")).find("(1 row)"), std::string::npos);
  r = Run({"query", "SELECT 1 AS a", "--output", dir_.Join("o.parquet")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RunSaleslake({"cat", dir_.Join("o.parquet")}).out, "a\n1\n");
}

TEST_F(QueryOutputTest, SeveralStatementsInTheArgumentAFileAndOnStdin) {
  auto r = Run({"query", "SELECT 1 AS a; SELECT 2 AS b", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\n1\n\nb\n2\n");
  r = Run({"query", "SELECT 1 AS a; SELECT 2 AS b", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[\n[\n  {\"a\": 1}\n],\n[\n  {\"b\": 2}\n]\n]\n");

  const std::string script = dir_.Join("two.sql");
  WriteFile(script, "SELECT 1 AS a;\nCREATE VIEW v AS SELECT 3 AS c;\nSELECT c FROM v;\n");
  r = Run({"query", "-f", script, "--output", dir_.Join("r.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_.Join("r-1.csv")), "a\n1\n");
  EXPECT_EQ(ReadFile(dir_.Join("r-3.csv")), "c\n3\n");
  WriteFile(script, "SELECT 1 AS a;\nCREATE VIEW w AS SELECT 3 AS c;\nSELECT c FROM w;\n");
  r = Run({"query", "-f", script, "--output", dir_.Join("r.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_.Join("r.json")),
            "[\n[\n  {\"a\": 1}\n],\n{\"message\": \"CREATE VIEW\"},\n[\n  {\"c\": 3}\n]\n]\n");
}

// --timing puts each statement's run time under it: "(N rows, S s)" under rows, "(S s)" under
// the message of a statement without rows.
TEST_F(QueryOutputTest, TimingUnderRowsAndUnderMessages) {
  auto r = Run({"query", "--timing", "CREATE VIEW tv AS SELECT 1 AS a; SELECT a FROM tv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  static const std::regex kWant("CREATE VIEW\n\\([0-9]+\\.[0-9]{3} s\\)\n(.|\n)*\\(1 row, [0-9]+\\.[0-9]{3} s\\)\n");
  EXPECT_TRUE(std::regex_match(r.out, kWant)) << r.out;
  r = Run({"query", "CREATE VIEW tw AS SELECT 1 AS a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "CREATE VIEW\n");
  // A statement that read lake files says how much, as Athena's "data scanned", before its time:
  // here the whole raw CSV file (a CSV is read whole).
  uint64_t csv_bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(lake_ + "/raw_data"))
    if (e.is_regular_file()) csv_bytes += e.file_size();
  r = Run({"query", "--timing", "SELECT count(*) AS n FROM raw_sales"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  static const std::regex kScanned("(?:.|\n)*\\(1 row, ([0-9.]+) KB scanned, [0-9]+\\.[0-9]{3} s\\)\n");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.out, m, kScanned)) << r.out;
  EXPECT_GT(csv_bytes, 1000u);
  EXPECT_NEAR(std::stod(m[1].str()) * 1000, static_cast<double>(csv_bytes), csv_bytes * 0.01) << r.out;
  // Formats without a footer keep their data clean: the same figures go to stderr.
  r = Run({"query", "--timing", "--format", "csv", "SELECT count(*) AS n FROM raw_sales"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n300\n");
  EXPECT_TRUE(std::regex_match(r.err, std::regex("\\(1 row, [0-9.]+ KB scanned, [0-9]+\\.[0-9]{3} s\\)\n"))) << r.err;
}

TEST_F(QueryOutputTest, AnyFailedStatementMakesTheExitNonZero) {
  // Piped statements: the failing one is reported, the others still run, the exit is 1.
  auto r = RunStdin({"query", "--format", "csv"}, "SELECT 1 AS a;\nSELECT nope;\nSELECT 2 AS b;\n");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("a\n1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("b\n2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("line 2:8: column 'nope' not found"), std::string::npos) << r.err;
  // A script stops at its first failure, keeps what ran, names the file and the line.
  const std::string script = dir_.Join("bad.sql");
  WriteFile(script, "SELECT 1 AS a;\n\nSELECT nope;\nSELECT 2 AS b;\n");
  r = Run({"query", "-f", script, "--format", "csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "a\n1\n");
  EXPECT_EQ(r.err, "saleslake: error: " + script + ": line 3:8: column 'nope' not found\n");
  // In the argument: the statement's own position in the text.
  r = Run({"query", "SELECT 1; SELECT nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("statement 2: line 1:18: column 'nope' not found"), std::string::npos) << r.err;
}

TEST_F(QueryOutputTest, TablesAreWholeOffATerminalAndTruncatedOnRequest) {
  auto all = Run({"query", "SELECT customer_id FROM raw_sales"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 2 + 300 + 1);
  EXPECT_EQ(all.out.find("more rows"), std::string::npos);
  auto few = Run({"query", "SELECT customer_id FROM raw_sales", "--max-rows", "6"});
  ASSERT_EQ(few.exit_code, 0) << few.err;
  EXPECT_NE(few.out.find("… 294 more rows …\n"), std::string::npos) << few.out;
  EXPECT_NE(few.out.find("(300 rows, 6 shown)"), std::string::npos) << few.out;
  EXPECT_EQ(Run({"query", "SELECT customer_id FROM raw_sales", "--max-rows", "0"}).out, all.out);
}

TEST_F(QueryOutputTest, CellsReadAsPeopleReadThem) {
  auto t = Run({"query", "SELECT 0.1e0 + 0.2e0 AS d, 'two\nlines' AS s"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("0.3 | two\\nlines"), std::string::npos) << t.out;
  EXPECT_EQ(std::count(t.out.begin(), t.out.end(), '\n'), 4) << t.out;
  // CSV keeps every digit and byte.
  auto c = Run({"query", "SELECT 0.1e0 + 0.2e0 AS d, 'two\nlines' AS s", "--format", "csv"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "d,s\n0.30000000000000004,\"two\nlines\"\n");
  // DECIMAL keeps its scale.
  auto d = Run({"query", "SELECT CAST(2.5 AS DECIMAL(10,2)) AS m"});
  EXPECT_NE(d.out.find("2.50"), std::string::npos) << d.out;
}

TEST_F(QueryOutputTest, ParquetOfABareNull) {
  auto r = Run({"query", "SELECT NULL AS n, 1 AS k", "--format", "parquet", "--output", dir_.Join("n.parquet")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RunSaleslake({"cat", dir_.Join("n.parquet")}).out, "n,k\n,1\n");
}

TEST_F(QueryOutputTest, LineMode) {
  auto r = Run({"query", "SELECT 1 AS id, 'x' AS name", "--format", "line"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "  id = 1\nname = x\n");
}

}  // namespace
}  // namespace saleslake::testing
