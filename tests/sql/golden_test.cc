// Runs the SQL case corpus (tests/sql/cases/**/*.test) over the Parquet tables in tests/sql/data
// and compares with the DuckDB-produced expectations (tools/sql_goldens.mjs regenerates them).
// Comparison: NULL = empty field; numbers to 1e-9 relative; row order only for `query ordered`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/parquet/parquet.h"
#include "io/object_store.h"
#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/result_format.h"
#include "sql/sql.h"
#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

namespace fs = std::filesystem;
using testutil::LoadParquet;
using testutil::ParseCsvLine;

std::string SourceDir() { return SALESLAKE_SOURCE_DIR; }

bool ParseNumber(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// Timestamps: drop a fractional part of zeros (DuckDB prints .5, we print .500000).
std::string NormalizeText(std::string s) {
  if (s.size() >= 20 && s[4] == '-' && s[10] == ' ' && s[13] == ':' && s.find('.') == 19) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "True") return "true";
  if (s == "False") return "false";
  return s;
}

bool CellEquals(const std::string& a, const std::string& b) {
  std::string x = NormalizeText(a), y = NormalizeText(b);
  if (x == y) return true;
  double p, q;
  if (ParseNumber(x, &p) && ParseNumber(y, &q)) {
    if (p == q) return true;
    double diff = std::fabs(p - q);
    return diff <= 1e-9 * std::max(std::fabs(p), std::fabs(q)) || diff < 1e-12;
  }
  return false;
}

std::string SortKey(const std::vector<std::string>& row) {
  std::string k;
  for (const auto& c : row) {
    double v;
    std::string n = NormalizeText(c);
    if (ParseNumber(n, &v)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g", v);
      n = buf;
    }
    k += n + '\x1f';
  }
  return k;
}

struct Case {
  int line = 0;
  bool is_error = false;
  bool ordered = false;
  std::string sql;
  std::vector<std::string> expected;  // CSV lines (first is the header for queries)
};

std::vector<Case> ParseCases(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<Case> out;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& l = lines[i];
    if (l.rfind("query", 0) != 0 && l.rfind("error", 0) != 0) {
      ++i;
      continue;
    }
    Case c;
    c.line = static_cast<int>(i + 1);
    c.is_error = l.rfind("error", 0) == 0;
    c.ordered = l.find("ordered") != std::string::npos;
    ++i;
    while (i < lines.size() && lines[i].rfind("----", 0) != 0) c.sql += lines[i++] + "\n";
    if (i < lines.size() && lines[i] == "----duckdb") {
      ++i;
      while (i < lines.size() && lines[i] != "----") ++i;
    }
    ++i;
    while (i < lines.size() && !lines[i].empty()) c.expected.push_back(lines[i++]);
    out.push_back(std::move(c));
  }
  return out;
}

class GoldenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    catalog_ = std::make_shared<MemoryCatalog>();
    for (const char* t : {"sales", "customers", "products", "empty_sales"})
      catalog_->AddTable(LoadParquet(t, SourceDir() + "/tests/sql/data/" + t + ".parquet"));
  }
  static void TearDownTestSuite() { catalog_.reset(); }

  void RunFile(const std::string& rel) {
    auto engine = Engine::Open({.catalog = catalog_});
    ASSERT_TRUE(engine.ok());
    std::string path = SourceDir() + "/tests/sql/cases/" + rel;
    auto cases = ParseCases(path);
    ASSERT_FALSE(cases.empty()) << path;
    for (const Case& c : cases) {
      std::string where = rel + ":" + std::to_string(c.line) + ": " + c.sql;
      auto r = (*engine)->Execute(c.sql);
      if (c.is_error) {
        ASSERT_FALSE(c.expected.empty()) << where;
        if (r.ok()) {
          ADD_FAILURE() << where << "expected an error containing: " << c.expected[0];
          continue;
        }
        EXPECT_NE(r.status().message().find(c.expected[0]), std::string::npos)
            << where << "got: " << r.status().message();
        continue;
      }
      if (!r.ok()) {
        ADD_FAILURE() << where << "failed: " << r.status().ToString();
        continue;
      }
      std::vector<std::vector<std::string>> got, want;
      for (const auto& b : r->result.batches)
        for (size_t i = 0; i < b.num_rows; ++i) {
          std::vector<std::string> row;
          for (size_t k = 0; k < b.columns.size(); ++k) row.push_back(CellText(b.columns[k], i, ""));
          got.push_back(std::move(row));
        }
      for (size_t i = 1; i < c.expected.size(); ++i)
        want.push_back(c.expected[i] == "NULL" ? std::vector<std::string>{""} : ParseCsvLine(c.expected[i]));
      if (!c.ordered) {
        auto by_key = [](const auto& a, const auto& b) { return SortKey(a) < SortKey(b); };
        std::sort(got.begin(), got.end(), by_key);
        std::sort(want.begin(), want.end(), by_key);
      }
      if (got.size() != want.size()) {
        ADD_FAILURE() << where << "row count " << got.size() << ", expected " << want.size();
        continue;
      }
      for (size_t i = 0; i < got.size(); ++i) {
        bool same = got[i].size() == want[i].size();
        for (size_t k = 0; same && k < got[i].size(); ++k) same = CellEquals(got[i][k], want[i][k]);
        if (!same) {
          std::string g, w;
          for (const auto& x : got[i]) g += x + ",";
          for (const auto& x : want[i]) w += x + ",";
          ADD_FAILURE() << where << "row " << i << ": got " << g << " expected " << w;
          break;
        }
      }
    }
  }

  static std::shared_ptr<MemoryCatalog> catalog_;
};

std::shared_ptr<MemoryCatalog> GoldenTest::catalog_;

TEST_F(GoldenTest, Select) { RunFile("select/basic.test"); }
TEST_F(GoldenTest, Aggregates) { RunFile("aggregate/aggregates.test"); }
TEST_F(GoldenTest, Grouping) { RunFile("aggregate/grouping.test"); }
TEST_F(GoldenTest, Joins) { RunFile("join/joins.test"); }
TEST_F(GoldenTest, Windows) { RunFile("window/windows.test"); }
TEST_F(GoldenTest, RangeFrames) { RunFile("window/range_frames.test"); }
TEST_F(GoldenTest, Strings) { RunFile("function/strings.test"); }
TEST_F(GoldenTest, Dates) { RunFile("function/dates.test"); }
TEST_F(GoldenTest, Math) { RunFile("function/math.test"); }
TEST_F(GoldenTest, SetOperations) { RunFile("setop/setops.test"); }
TEST_F(GoldenTest, Subqueries) { RunFile("subquery/subqueries.test"); }
TEST_F(GoldenTest, CorrelatedSubqueries) { RunFile("subquery/correlated.test"); }
TEST_F(GoldenTest, TrinoSemantics) { RunFile("trino/semantics.test"); }
TEST_F(GoldenTest, Errors) { RunFile("error/errors.test"); }

// Every case file is listed above (a new file must be added here).
TEST_F(GoldenTest, EveryFileIsRun) {
  std::set<std::string> listed = {
      "select/basic.test",      "aggregate/aggregates.test", "aggregate/grouping.test",
      "join/joins.test",        "window/windows.test",       "window/range_frames.test",
      "function/strings.test",  "function/dates.test",       "function/math.test",
      "setop/setops.test",      "subquery/subqueries.test",  "subquery/correlated.test",
      "trino/semantics.test",   "error/errors.test"};
  for (const auto& e : fs::recursive_directory_iterator(SourceDir() + "/tests/sql/cases")) {
    if (e.path().extension() != ".test") continue;
    std::string rel = fs::relative(e.path(), SourceDir() + "/tests/sql/cases").string();
    EXPECT_TRUE(listed.count(rel)) << rel << " is not run by golden_test.cc";
  }
}

}  // namespace
}  // namespace saleslake::sql
