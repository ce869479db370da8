// What a hash join's build side holds: a build whose every row has its own key (an aggregate
// grouped by the join keys, a primary key) keeps no per-row chains, and joins over it give the
// same rows as over a build with a repeated key. Small in-memory tables; no timing assertions.
#include <gtest/gtest.h>

#include <string>

#include "sql_test_util.h"

namespace saleslake::sql {
namespace {

constexpr int64_t kRows = 100000;

// n rows of (id BIGINT, v BIGINT = id * 3); id runs 0..n-1, except that with `repeat` the last
// row repeats id 0 (one key twice: the build is not unique). Every 1000th v is NULL.
std::shared_ptr<MemoryTable> Rows(const std::string& name, int64_t n, bool repeat) {
  Schema schema;
  schema.fields.push_back(Field{"id", DataType::Int64(), true});
  schema.fields.push_back(Field{"v", DataType::Int64(), true});
  std::vector<Batch> batches;
  for (int64_t start = 0; start < n; start += static_cast<int64_t>(kBatchRows)) {
    size_t rows = static_cast<size_t>(std::min<int64_t>(n - start, static_cast<int64_t>(kBatchRows)));
    Batch b;
    b.num_rows = rows;
    ColumnVector id(DataType::Int64(), rows), v(DataType::Int64(), rows);
    id.Resize(rows);
    v.Resize(rows);
    for (size_t i = 0; i < rows; ++i) {
      const int64_t r = start + static_cast<int64_t>(i);
      id.data<int64_t>()[i] = repeat && r == n - 1 ? 0 : r;
      v.data<int64_t>()[i] = r * 3;
      if (r % 1000 == 999) v.SetNull(i);
    }
    b.columns.push_back(std::move(id));
    b.columns.push_back(std::move(v));
    batches.push_back(std::move(b));
  }
  return MemoryTable::Make(name, schema, std::move(batches), 8192);
}

class JoinBuildTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    catalog_ = std::make_shared<MemoryCatalog>();
    catalog_->AddTable(Rows("uniq", kRows, false));
    catalog_->AddTable(Rows("dup", kRows, true));
    catalog_->AddTable(Rows("probe", 3 * kRows, false));  // larger: the planner builds the other side
  }
  static void TearDownTestSuite() { catalog_.reset(); }
  static std::shared_ptr<MemoryCatalog> catalog_;

  // The "build: N KB" of the one join in EXPLAIN ANALYZE of `sql`.
  static int64_t BuildKb(const Engine& engine, const std::string& sql) {
    std::string plan = testutil::RowsText(engine, "EXPLAIN ANALYZE " + sql);
    size_t at = plan.find("build: ");
    EXPECT_NE(at, std::string::npos) << plan;
    if (at == std::string::npos) return -1;
    EXPECT_EQ(plan.find("build: ", at + 1), std::string::npos) << plan;
    return std::stoll(plan.substr(at + 7));
  }
};
std::shared_ptr<MemoryCatalog> JoinBuildTest::catalog_;

// Both builds have kRows rows and the same key table (kRows or kRows - 1 keys); the unique one
// holds no chains: 8 bytes a row less (a 4-byte head per key and a 4-byte next per row).
TEST_F(JoinBuildTest, UniqueKeysKeepNoChains) {
  auto engine = testutil::OpenMemoryEngine(catalog_);
  ASSERT_TRUE(engine);
  const int64_t uniq = BuildKb(*engine, "SELECT count(*), sum(b.v) FROM probe p JOIN uniq b ON p.id = b.id");
  const int64_t dup = BuildKb(*engine, "SELECT count(*), sum(b.v) FROM probe p JOIN dup b ON p.id = b.id");
  ASSERT_GT(uniq, 0);
  EXPECT_GE(dup - uniq, kRows * 8 * 9 / 10 / 1024) << "unique " << uniq << " KB, repeated key " << dup << " KB";
}

// A filter on a build column that nothing above reads (v) does not leave that column in the
// build's rows: the build holds the key column only, as without the filter.
TEST_F(JoinBuildTest, AFilterColumnIsNotKeptInTheBuild) {
  auto engine = testutil::OpenMemoryEngine(catalog_);
  ASSERT_TRUE(engine);
  const int64_t plain = BuildKb(*engine, "SELECT count(*) FROM probe p JOIN uniq b ON p.id = b.id");
  const int64_t filtered = BuildKb(*engine, "SELECT count(*) FROM probe p JOIN uniq b ON p.id = b.id WHERE b.v > 10");
  ASSERT_GT(plain, 0);
  // Holding v too would add 8 bytes for each of the ~99,900 rows (780 KB).
  EXPECT_LE(filtered, plain + 100) << "no filter " << plain << " KB, filter on v " << filtered << " KB";
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT count(*) FROM probe p JOIN uniq b ON p.id = b.id WHERE b.v > 10"),
            "99896\n");
}

// Every join kind over the unique build gives what it gives over the one with a repeated key,
// less or more the repeated key's row.
TEST_F(JoinBuildTest, EveryJoinKindOverAUniqueBuild) {
  auto engine = testutil::OpenMemoryEngine(catalog_);
  ASSERT_TRUE(engine);
  struct Case {
    const char* sql;
    const char* uniq;
    const char* dup;
  };
  const Case cases[] = {
      {"SELECT count(*), sum(b.v) FROM probe p JOIN {} b ON p.id = b.id", "100000|14984700300\n",
       "100000|14984700300\n"},
      {"SELECT count(*), count(b.id), sum(b.v) FROM probe p LEFT JOIN {} b ON p.id = b.id",
       "300000|100000|14984700300\n", "300001|100000|14984700300\n"},
      {"SELECT count(*) FROM probe p WHERE EXISTS (SELECT 1 FROM {} b WHERE b.id = p.id)", "100000\n",
       "99999\n"},
      {"SELECT count(*) FROM probe p WHERE NOT EXISTS (SELECT 1 FROM {} b WHERE b.id = p.id)", "200000\n",
       "200001\n"},
      {"SELECT count(*), count(p.id) FROM (SELECT * FROM probe WHERE id % 2 = 0) p RIGHT JOIN {} b ON p.id = b.id",
       "100000|50000\n", "100000|50001\n"},
      {"SELECT count(*), count(p.id), count(b.id) FROM (SELECT * FROM probe WHERE id < 50) p FULL JOIN {} b ON p.id = b.id",
       "100000|50|100000\n", "100000|51|100000\n"},
  };
  for (const Case& c : cases) {
    std::string sql = c.sql;
    const size_t at = sql.find("{}");
    std::string u = sql, d = sql;
    u.replace(at, 2, "uniq");
    d.replace(at, 2, "dup");
    EXPECT_EQ(testutil::RowsText(*engine, u), c.uniq) << u;
    EXPECT_EQ(testutil::RowsText(*engine, d), c.dup) << d;
  }
}

}  // namespace
}  // namespace saleslake::sql
