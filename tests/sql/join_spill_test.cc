// Hash joins over the memory limit spill their build and probe rows to partition files (the
// grace hash join in hash_join_op.cc): every join kind gives the same rows spilled or not, the
// query holds no more than the limit, and the spill files go when the query ends, fails or is
// cancelled, or at the next start after a crash. Small generated tables; no timing assertions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sql_test_util.h"
#include "support/test_support.h"

namespace saleslake::sql {
namespace {

namespace fs = std::filesystem;

// n rows of (id BIGINT, k BIGINT = id % keys, NULL for every 97th row, s VARCHAR), in batches.
std::shared_ptr<MemoryTable> Rows(const std::string& name, int64_t n, int64_t keys, int64_t offset) {
  Schema schema;
  schema.fields.push_back(Field{"id", DataType::Int64(), true});
  schema.fields.push_back(Field{"k", DataType::Int64(), true});
  schema.fields.push_back(Field{"s", DataType::Varchar(), true});
  std::vector<Batch> batches;
  for (int64_t start = 0; start < n; start += static_cast<int64_t>(kBatchRows)) {
    size_t rows = static_cast<size_t>(std::min<int64_t>(n - start, static_cast<int64_t>(kBatchRows)));
    Batch b;
    b.num_rows = rows;
    ColumnVector id(DataType::Int64(), rows), k(DataType::Int64(), rows), s(DataType::Varchar(), rows);
    id.Resize(rows);
    k.Resize(rows);
    s.Resize(rows);
    for (size_t i = 0; i < rows; ++i) {
      const int64_t v = start + static_cast<int64_t>(i) + offset;
      id.data<int64_t>()[i] = v;
      k.data<int64_t>()[i] = v % keys;
      if (v % 97 == 0) k.SetNull(i);
      s.SetString(i, "row-" + std::to_string(v * 7919 % 100003));
    }
    b.columns.push_back(std::move(id));
    b.columns.push_back(std::move(k));
    b.columns.push_back(std::move(s));
    batches.push_back(std::move(b));
  }
  return MemoryTable::Make(name, schema, std::move(batches), 4096);
}

class JoinSpillTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    catalog_ = std::make_shared<MemoryCatalog>();
    catalog_->AddTable(Rows("l", 60000, 25000, 10000));
    catalog_->AddTable(Rows("r", 50000, 25000, 0));
    // One key for all its rows: no repartitioning can split it.
    catalog_->AddTable(Rows("one", 40000, 1, 1));
  }
  static void TearDownTestSuite() { catalog_.reset(); }

  static std::unique_ptr<Engine> Open(ExecOptions exec) {
    auto engine = Engine::Open({.catalog = catalog_, .exec = exec});
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(*engine) : nullptr;
  }
  // The rows of `sql`, sorted (a spilled join emits them in partition order).
  static std::vector<std::string> SortedRows(const Engine& engine, const std::string& sql) {
    std::string text = testutil::RowsText(engine, sql);
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = std::min(text.find('\n', pos), text.size());
      lines.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  static std::shared_ptr<MemoryCatalog> catalog_;
  testing::TempDir spill_;
};

std::shared_ptr<MemoryCatalog> JoinSpillTest::catalog_;

constexpr int64_t kLimit = int64_t{1} << 20;  // the build side alone holds several MB

// Each result is kept to a few rows (a buffered result counts against the limit too): a count
// and checksums over every joined pair, so any missing, extra or wrong pair changes them.
#define SL_PAIRS(l, r) \
  "count(*), count(" l "), count(" r "), sum((coalesce(" l ", 0) * 1000003 + coalesce(" r ", 0)) % 999983)"
const char* const kJoins[] = {
    "SELECT " SL_PAIRS("l.id", "r.id") ", sum(length(r.s)) FROM l JOIN r ON l.k = r.k",
    "SELECT " SL_PAIRS("l.id", "r.id") " FROM l JOIN r ON l.k = r.k AND l.id % 3 <> r.id % 3",
    "SELECT " SL_PAIRS("l.id", "r.id") ", sum(length(r.s)) FROM l LEFT JOIN r ON l.k = r.k AND r.id < l.id",
    "SELECT " SL_PAIRS("l.id", "r.id") ", sum(length(l.s)) FROM l RIGHT JOIN r ON l.k = r.k AND r.id > l.id - 20000",
    "SELECT " SL_PAIRS("l.id", "r.id") " FROM l FULL JOIN r ON l.k = r.k AND (l.id + r.id) % 2 = 0",
    "SELECT " SL_PAIRS("id", "k") " FROM l WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.k = l.k AND r.id < 40000)",
    "SELECT " SL_PAIRS("id", "k") " FROM r WHERE EXISTS (SELECT 1 FROM l WHERE l.k = r.k)",
    "SELECT " SL_PAIRS("l.id", "r.id") " FROM l JOIN r ON l.s = r.s AND l.k = r.k",
    "SELECT " SL_PAIRS("l.id", "r.id") " FROM l JOIN r ON l.s = r.s",
    "SELECT " SL_PAIRS("id", "k") " FROM l WHERE EXISTS (SELECT 1 FROM r WHERE r.k = l.k)",
    "SELECT " SL_PAIRS("id", "k") " FROM l WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.k = l.k)",
    "SELECT " SL_PAIRS("id", "k") " FROM r WHERE NOT EXISTS (SELECT 1 FROM l WHERE l.k = r.k AND l.id < 30000)",
};
#undef SL_PAIRS

TEST_F(JoinSpillTest, EveryJoinKindGivesTheSameRowsSpilledOrNot) {
  auto unlimited = Open({.memory_limit_bytes = 0});
  auto limited = Open({.memory_limit_bytes = kLimit, .spill_dir = spill_.path()});
  ASSERT_TRUE(unlimited && limited);
  for (const char* sql : kJoins) {
    auto want = SortedRows(*unlimited, sql);
    ASSERT_FALSE(want.empty()) << sql;
    ASSERT_EQ(want[0].rfind("ERROR", 0), std::string::npos) << sql << ": " << want[0];
    auto got = SortedRows(*limited, sql);
    EXPECT_EQ(got.size(), want.size()) << sql;
    EXPECT_TRUE(got == want) << sql << ": first row " << (got.empty() ? "" : got[0]);
    // It did spill, and held no more than the limit.
    std::string plan = testutil::RowsText(*limited, std::string("EXPLAIN ANALYZE ") + sql);
    EXPECT_NE(plan.find("spilled: "), std::string::npos) << sql << "\n" << plan;
    size_t at = plan.find("peak memory ");
    ASSERT_NE(at, std::string::npos) << plan;
    const int64_t peak_kb = std::stoll(plan.substr(at + 12));
    EXPECT_LE(peak_kb, kLimit / 1024) << sql;
  }
  EXPECT_TRUE(fs::is_empty(spill_.path())) << "spill files left behind";
}

// Before spilling, the join held its whole build before it checked the limit: this build needs
// ~8 MB, so a 1 MB limit failed (or, at a larger scale, the process grew to N x the limit).
TEST_F(JoinSpillTest, PeakStaysWithinTheLimitWhileTheBuildSpills) {
  auto limited = Open({.memory_limit_bytes = kLimit, .spill_dir = spill_.path()});
  std::string plan = testutil::RowsText(*limited, "EXPLAIN ANALYZE SELECT count(*), sum(r.id) FROM l JOIN r ON l.k = r.k");
  ASSERT_EQ(plan.rfind("ERROR", 0), std::string::npos) << plan;
  size_t at = plan.find("peak memory ");
  ASSERT_NE(at, std::string::npos) << plan;
  EXPECT_LE(std::stoll(plan.substr(at + 12)), kLimit / 1024) << plan;
  EXPECT_NE(plan.find("spilled: "), std::string::npos) << plan;
}

TEST_F(JoinSpillTest, OneKeyTooHeavyToFitFailsClearly) {
  auto limited = Open({.memory_limit_bytes = kLimit, .spill_dir = spill_.path()});
  std::string text = testutil::RowsText(*limited, "SELECT count(*) FROM l JOIN one ON l.id = one.k");
  EXPECT_NE(text.find("one join key has too many rows"), std::string::npos) << text;
  EXPECT_TRUE(fs::is_empty(spill_.path())) << "spill files left behind";
}

TEST_F(JoinSpillTest, CancelDuringASpillRemovesItsFiles) {
  std::atomic<bool> cancel{false};
  auto limited = Open({.memory_limit_bytes = kLimit, .cancel = &cancel, .spill_dir = spill_.path()});
  // A cross product after the spilled join keeps the query busy until it is cancelled.
  std::thread canceller([&] {
    // Wait until the spill directory exists, so the cancel arrives while files are there.
    for (int i = 0; i < 2000 && fs::is_empty(spill_.path()); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cancel = true;
  });
  std::string text = testutil::RowsText(
      *limited, "SELECT count(*) FROM (SELECT l.id FROM l JOIN r ON l.k = r.k) a "
      "CROSS JOIN (SELECT id FROM r WHERE id < 3000) b");
  canceller.join();
  EXPECT_EQ(text, "ERROR: query cancelled");
  EXPECT_TRUE(fs::is_empty(spill_.path())) << "spill files left behind";
}

TEST_F(JoinSpillTest, StaleSpillDirectoryOfADeadProcessIsRemoved) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const fs::path dead = fs::path(spill_.path()) / fmt::format("saleslake-spill-{}-0", child);
  const fs::path live = fs::path(spill_.path()) / fmt::format("saleslake-spill-{}-0", getppid());
  const fs::path other = fs::path(spill_.path()) / "keep-me";
  for (const auto& d : {dead, live, other}) {
    fs::create_directories(d);
    std::ofstream(d / "build-0.spill") << "x";
  }
  auto limited = Open({.memory_limit_bytes = kLimit, .spill_dir = spill_.path()});
  std::string text = testutil::RowsText(*limited, "SELECT count(*) FROM l JOIN r ON l.k = r.k");
  ASSERT_EQ(text.rfind("ERROR", 0), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live / "build-0.spill"));
  EXPECT_TRUE(fs::exists(other / "build-0.spill"));
}

}  // namespace
}  // namespace saleslake::sql
