// The 22 TPC-H queries over the shared SF0.1 Parquet files (written by DuckDB), compared with
// DuckDB's answers in tests/sql/tpch/qNN.csv (tools/tpch_goldens.mjs regenerates them). Skips when
// ../shared/testdata is absent.
//
// Rows are compared in order (every query has an ORDER BY that decides it) and exactly, except
// numbers: ours are Trino-typed (avg of DECIMAL(15,2) is DECIMAL(15,2), decimal division keeps a
// scale), DuckDB's are often DOUBLE, so a number of ours with d decimals must be DuckDB's value
// rounded to d decimals (money to the cent), and a DOUBLE equal to 1e-9 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

#include "sql_test_util.h"
#include "support/test_support.h"

namespace saleslake::sql {
namespace {

const char* const kTables[] = {"customer", "lineitem", "nation", "orders",
                               "part",     "partsupp", "region", "supplier"};

bool ParseNumber(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// Decimals after the point in `s` ("12.340" -> 3), -1 with an exponent (a DOUBLE's text).
int Decimals(const std::string& s) {
  if (s.find_first_of("eE") != std::string::npos) return -1;
  size_t dot = s.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

bool CellMatches(const std::string& ours, const std::string& duck) {
  if (ours == duck) return true;
  double a, b;
  if (!ParseNumber(ours, &a) || !ParseNumber(duck, &b)) return false;
  double rel = 1e-9 * std::max(std::fabs(a), std::fabs(b));
  int d = Decimals(ours);
  // A value printed with d decimals is the exact value rounded to d: half a unit of its last digit.
  double tol = d >= 0 && d < 12 ? 0.5 * std::pow(10.0, -d) + rel : rel;
  return std::fabs(a - b) <= tol;
}

class TpchTest : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::SharedTestData("tpch-sf0.1");
    if (dir_.empty()) return;
    catalog_ = std::make_shared<MemoryCatalog>();
    for (const char* t : kTables)
      catalog_->AddTable(testutil::LoadParquet(t, dir_ + "/" + t + ".parquet", 16 * 1024));
  }
  static void TearDownTestSuite() { catalog_.reset(); }
  static std::string dir_;
  static std::shared_ptr<MemoryCatalog> catalog_;
};

std::string TpchTest::dir_;
std::shared_ptr<MemoryCatalog> TpchTest::catalog_;

// Runs query `q` with `exec` and compares its rows with DuckDB's.
void CheckQuery(int q, const std::string& dir, const std::shared_ptr<MemoryCatalog>& catalog,
                const ExecOptions& exec) {
  const std::string name = fmt::format("q{:02d}", q);
  std::string sql = testing::ReadFile(dir + "/queries/" + name + ".sql");
  ASSERT_FALSE(sql.empty()) << name;
  while (!sql.empty() && (sql.back() == '\n' || sql.back() == ';' || sql.back() == ' ')) sql.pop_back();
  auto engine = Engine::Open({.catalog = catalog, .exec = exec});
  ASSERT_TRUE(engine.ok());
  auto r = (*engine)->Execute(sql);
  ASSERT_TRUE(r.ok()) << name << ": " << r.status().ToString();
  if (exec.memory_limit_bytes > 0) {  // the spill run: it did spill
    auto plan = (*engine)->Execute("EXPLAIN ANALYZE " + sql);
    ASSERT_TRUE(plan.ok()) << name << ": " << plan.status().ToString();
    std::string text;
    for (const auto& b : plan->result.batches)
      for (size_t i = 0; i < b.num_rows; ++i) text += CellText(b.columns[0], i) + "\n";
    EXPECT_NE(text.find("spilled: "), std::string::npos) << name << "\n" << text;
  }

  std::vector<std::vector<std::string>> want;
  {
    std::string text = testing::ReadFile(std::string(SALESLAKE_SOURCE_DIR) + "/tests/sql/tpch/" + name + ".csv");
    size_t pos = 0;
    bool header = true;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (header) {
        header = false;
        continue;
      }
      want.push_back(testutil::ParseCsvLine(line));
    }
  }
  std::vector<std::vector<std::string>> got;
  for (const auto& b : r->result.batches)
    for (size_t i = 0; i < b.num_rows; ++i) {
      std::vector<std::string> row;
      for (size_t k = 0; k < b.columns.size(); ++k) row.push_back(CellText(b.columns[k], i, ""));
      got.push_back(std::move(row));
    }
  ASSERT_EQ(got.size(), want.size()) << name << ": row count";
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].size(), want[i].size()) << name << " row " << i;
    for (size_t k = 0; k < got[i].size(); ++k)
      EXPECT_TRUE(CellMatches(got[i][k], want[i][k]))
          << name << " row " << i << " column " << k << ": ours " << got[i][k] << ", DuckDB " << want[i][k];
  }
}

TEST_P(TpchTest, MatchesDuckDb) {
  if (dir_.empty()) GTEST_SKIP() << "../shared/testdata/tpch-sf0.1 is absent";
  CheckQuery(GetParam(), dir_, catalog_, {});
}

// Queries whose join builds are far over a 3 MB limit while their aggregates and sorts (which do
// not spill yet) fit in it: the joins spill (grace hash join) and the rows stay DuckDB's.
class TpchSpillTest : public TpchTest {};

TEST_P(TpchSpillTest, MatchesDuckDbSpilled) {
  if (dir_.empty()) GTEST_SKIP() << "../shared/testdata/tpch-sf0.1 is absent";
  testing::TempDir spill;
  CheckQuery(GetParam(), dir_, catalog_, {.memory_limit_bytes = int64_t{3} << 20, .spill_dir = spill.path()});
}

INSTANTIATE_TEST_SUITE_P(Queries, TpchSpillTest, ::testing::Values(8, 9, 10),
                         [](const ::testing::TestParamInfo<int>& p) { return fmt::format("Q{:02d}", p.param); });

INSTANTIATE_TEST_SUITE_P(Queries, TpchTest, ::testing::Range(1, 23),
                         [](const ::testing::TestParamInfo<int>& p) { return fmt::format("Q{:02d}", p.param); });

}  // namespace
}  // namespace saleslake::sql
