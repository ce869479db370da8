// Query limits: the memory limit (enforced in hash aggregation, hash join, sort and window
// buffers), the time limit and cancellation. Small generated tables; no timing assertions.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "sql/exec/executor.h"  // MemoryCatalog, MemoryTable: inside src/sql
#include "sql/result_format.h"
#include "sql/sql.h"

namespace saleslake::sql {
namespace {

// n rows of (id BIGINT, k BIGINT = id % groups), in batches of kBatchRows.
std::shared_ptr<MemoryTable> Numbers(const std::string& name, int64_t n, int64_t groups) {
  Schema schema;
  schema.fields.push_back(Field{"id", DataType::Int64(), true});
  schema.fields.push_back(Field{"k", DataType::Int64(), true});
  std::vector<Batch> batches;
  for (int64_t start = 0; start < n; start += static_cast<int64_t>(kBatchRows)) {
    size_t rows = static_cast<size_t>(std::min<int64_t>(n - start, static_cast<int64_t>(kBatchRows)));
    Batch b;
    b.num_rows = rows;
    ColumnVector id(DataType::Int64(), rows), k(DataType::Int64(), rows);
    id.Resize(rows);
    k.Resize(rows);
    for (size_t i = 0; i < rows; ++i) {
      id.data<int64_t>()[i] = start + static_cast<int64_t>(i);
      k.data<int64_t>()[i] = (start + static_cast<int64_t>(i)) % groups;
    }
    b.columns.push_back(std::move(id));
    b.columns.push_back(std::move(k));
    batches.push_back(std::move(b));
  }
  return MemoryTable::Make(name, schema, std::move(batches), 4096);
}

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    catalog_ = std::make_shared<MemoryCatalog>();
    catalog_->AddTable(Numbers("big", 40000, 20000));
    catalog_->AddTable(Numbers("small", 3000, 3000));
  }
  static void TearDownTestSuite() { catalog_.reset(); }

  static Result<StatementResult> Run(const std::string& sql, ExecOptions exec) {
    auto engine = Engine::Open({.catalog = catalog_, .exec = exec});
    if (!engine.ok()) return engine.status();
    return (*engine)->Execute(sql);
  }

  static std::shared_ptr<MemoryCatalog> catalog_;
};

std::shared_ptr<MemoryCatalog> LimitsTest::catalog_;

// Each query returns one small row, so the memory it needs is held inside one operator.
const char* const kOperatorQueries[] = {
    "SELECT count(*) FROM (SELECT k, sum(id) FROM big GROUP BY k)",                      // aggregate
    "SELECT count(*) FROM big a JOIN big b ON a.id = b.id",                               // join build
    "SELECT max(id) FROM (SELECT id FROM big ORDER BY k DESC, id)",                       // sort
    "SELECT max(r) FROM (SELECT row_number() OVER (PARTITION BY k ORDER BY id) AS r FROM big)",  // window
};

TEST_F(LimitsTest, TinyMemoryLimitFailsEachOperatorWithOneClearError) {
  for (const char* sql : kOperatorQueries) {
    auto r = Run(sql, {.memory_limit_bytes = 64 * 1024});
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << sql;
    EXPECT_NE(r.status().message().find("query exceeded memory limit of 64.0 KB"), std::string::npos)
        << sql << ": " << r.status().message();
  }
}

TEST_F(LimitsTest, SameQueriesRunWithinAnAmpleLimit) {
  for (const char* sql : kOperatorQueries) {
    auto r = Run(sql, {.memory_limit_bytes = int64_t{512} << 20});
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    EXPECT_EQ(r->result.num_rows(), 1u) << sql;
  }
}

TEST_F(LimitsTest, DefaultLimitIsSetAndZeroMeansNone) {
  ExecOptions defaults;
  EXPECT_EQ(defaults.memory_limit_bytes, ExecOptions::kDefaultMemoryLimit);
  EXPECT_TRUE(Run(kOperatorQueries[0], defaults).ok());
  EXPECT_TRUE(Run(kOperatorQueries[0], {.memory_limit_bytes = 0}).ok());
}

// A join without a predicate (and a join whose keys repeat) streams its result in bounded
// pieces: 9M pairs counted under a 16 MB limit; a result that is kept (ORDER BY) fails with the
// memory limit's error instead of taking the machine.
TEST_F(LimitsTest, CrossProductStreamsWithinTheLimitOrFailsClearly) {
  auto r = Run("SELECT count(*), sum(a.id + b.id) FROM small a CROSS JOIN small b",
               {.memory_limit_bytes = int64_t{16} << 20});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(CellText(r->result.batches[0].columns[0], 0), "9000000");
  EXPECT_EQ(CellText(r->result.batches[0].columns[1], 0), "26991000000");  // 2 * 3000 * (0+...+2999)
  auto many = Run("SELECT count(*) FROM small a JOIN small b ON a.k % 3 = b.k % 3",
                  {.memory_limit_bytes = int64_t{16} << 20});
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(CellText(many->result.batches[0].columns[0], 0), "3000000");  // 3 keys x 1000^2
  auto kept = Run("SELECT a.id, b.id FROM small a CROSS JOIN small b ORDER BY 1, 2",
                  {.memory_limit_bytes = int64_t{16} << 20});
  ASSERT_FALSE(kept.ok());
  EXPECT_EQ(kept.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(kept.status().message().find("query exceeded memory limit of 16.0 MB"), std::string::npos)
      << kept.status().message();
}

// SELECT DISTINCT counts the bytes of its keys, not a fixed 48 per row: 40000 keys of ~210
// bytes hold ~10 MB (the old charge, 1.9 MB, fit in a 4 MB limit); short keys still fit.
TEST_F(LimitsTest, DistinctCountsTheBytesItsKeysHold) {
  auto wide = Run("SELECT count(*) FROM (SELECT DISTINCT id, lpad(CAST(id AS VARCHAR), 200, 'x') FROM big)",
                  {.memory_limit_bytes = int64_t{4} << 20});
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.status().code(), StatusCode::kResourceExhausted);
  auto narrow = Run("SELECT count(*) FROM (SELECT DISTINCT id, k FROM big)", {.memory_limit_bytes = int64_t{4} << 20});
  ASSERT_TRUE(narrow.ok()) << narrow.status().ToString();
  EXPECT_EQ(CellText(narrow->result.batches[0].columns[0], 0), "40000");
}

// 40000 x 40000 rows would run for minutes: the time limit must stop it at its next check.
TEST_F(LimitsTest, TimeLimitStopsACrossJoin) {
  auto r = Run("SELECT count(*) FROM big a CROSS JOIN big b", {.timeout = std::chrono::milliseconds(1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_NE(r.status().message().find("time limit"), std::string::npos) << r.status().message();
}

TEST_F(LimitsTest, TimeLimitAppliesToEachStatementFromItsStart) {
  auto engine = Engine::Open({.catalog = catalog_, .exec = {.timeout = std::chrono::seconds(600)}});
  ASSERT_TRUE(engine.ok());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE((*engine)->Execute("SELECT count(*) FROM small").ok());
}

TEST_F(LimitsTest, CancelFlagStopsARunningQuery) {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancel = true;
  });
  auto r = Run("SELECT count(*) FROM big a CROSS JOIN big b", {.cancel = &cancel});
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(r.status().message(), "query cancelled");
}

TEST_F(LimitsTest, CancelledBeforeStartFailsAtOnce) {
  std::atomic<bool> cancel{true};
  auto r = Run("SELECT k, count(*) FROM big GROUP BY k", {.cancel = &cancel});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace saleslake::sql
