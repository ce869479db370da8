// Materialized views through `saleslake query`: a refresh SIGKILLed before its commit leaves the
// previous version whole, and the next refresh completes.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

class MatViewCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    ASSERT_EQ(Run({"init"}).exit_code, 0);
  }
  CommandResult Run(std::vector<std::string> args) { return RunSaleslakeIn(lake_, std::move(args)); }
  std::string Query(const std::string& sql) {
    auto r = Run({"query", "--format", "csv", sql});
    EXPECT_EQ(r.exit_code, 0) << sql << ": " << r.err;
    return r.out;
  }
  size_t ViewFiles() {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(lake_ + "/processed_data/v", ec);
         it != std::filesystem::recursive_directory_iterator(); ++it)
      if (it->path().extension() == ".parquet") ++n;
    return n;
  }

  TempDir dir_;
  std::string lake_;
};

TEST_F(MatViewCliTest, KilledRefreshLeavesThePreviousVersion) {
  Query("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) AS x(k, v)");
  Query("CREATE MATERIALIZED VIEW v AS SELECT k, sum(v) AS s, count(*) AS n FROM t GROUP BY k");
  const std::string before = "k,s,n\na,4,2\nb,2,1\n";
  ASSERT_EQ(Query("SELECT k, s, n FROM v ORDER BY k"), before);
  Query("INSERT INTO t VALUES ('a', 10), ('c', 5)");
  size_t files = ViewFiles();
  // Every catalog commit of this process pauses before its publish: kill the refresh once its
  // new data files exist.
  int pid = SpawnSaleslake({"--lake", lake_, "query", "REFRESH MATERIALIZED VIEW v"},
                           {"SALESLAKE_TEST_COMMIT_PAUSE_MS=60000"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(KillWhen(pid, [&] { return ViewFiles() > files; }));
  EXPECT_EQ(Query("SELECT k, s, n FROM v ORDER BY k"), before);  // the old version, whole
  EXPECT_NE(Query("SHOW MATERIALIZED VIEWS").find("stale (1 commit(s) behind)"), std::string::npos);
  auto r = Run({"query", "REFRESH MATERIALIZED VIEW v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("incremental"), std::string::npos) << r.out;
  EXPECT_EQ(Query("SELECT k, s, n FROM v ORDER BY k"), "k,s,n\na,14,3\nb,2,1\nc,5,1\n");
  // The rewritten answer equals the base table's.
  EXPECT_EQ(Query("SELECT k, sum(v) FROM t GROUP BY k ORDER BY k"), "k,_col1\na,14\nb,2\nc,5\n");
  EXPECT_NE(Query("EXPLAIN SELECT k, sum(v) FROM t GROUP BY k").find("v answers"), std::string::npos);
}

// count(DISTINCT) views commit their side table first, then the view: a kill between the two
// leaves the previous view (the side table ahead of it), and the next refresh completes.
TEST_F(MatViewCliTest, KilledBetweenSideTableAndViewCommits) {
  Query("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('a', 1)) AS x(k, v)");
  Query("CREATE MATERIALIZED VIEW v AS SELECT k, count(DISTINCT v) AS d, count(*) AS n FROM t GROUP BY k");
  const std::string before = "k,d,n\na,1,2\nb,1,1\n";
  ASSERT_EQ(Query("SELECT k, d, n FROM v ORDER BY k"), before);
  Query("INSERT INTO t VALUES ('a', 10), ('c', 5), ('a', 1)");
  size_t files = ViewFiles();
  // Each commit pauses 10 s: the side table's is published first, then the view's new files
  // appear and its commit waits; the kill lands there.
  int pid = SpawnSaleslake({"--lake", lake_, "query", "REFRESH MATERIALIZED VIEW v"},
                           {"SALESLAKE_TEST_COMMIT_PAUSE_MS=10000"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(KillWhen(pid, [&] { return ViewFiles() > files; }, 60000));
  EXPECT_EQ(Query("SELECT k, d, n FROM v ORDER BY k"), before);
  EXPECT_EQ(Query("SELECT count(*) AS pairs FROM v__distinct_0"), "pairs\n4\n");  // already ahead
  auto r = Run({"query", "REFRESH MATERIALIZED VIEW v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("incremental"), std::string::npos) << r.out;
  EXPECT_EQ(Query("SELECT k, d, n FROM v ORDER BY k"), "k,d,n\na,2,4\nb,1,1\nc,1,1\n");
  EXPECT_EQ(Query("SELECT count(DISTINCT v) AS d FROM t"), "d\n4\n");
  EXPECT_NE(Query("EXPLAIN SELECT count(DISTINCT v) FROM t").find("v answers"), std::string::npos);
}

// A partitioned view's refresh rewrites only the touched partitions (files removed and added in
// one commit): killed before that commit, the previous version stays whole.
TEST_F(MatViewCliTest, KilledPartialRefreshLeavesThePreviousVersion) {
  Query("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('a', 3), ('c', 4)) AS x(k, v)");
  Query("CREATE MATERIALIZED VIEW v WITH (partitioned_by = ARRAY['k']) AS "
        "SELECT k, sum(v) AS s, count(DISTINCT v) AS d FROM t GROUP BY k");
  const std::string before = "k,s,d\na,4,2\nb,2,1\nc,4,1\n";
  ASSERT_EQ(Query("SELECT k, s, d FROM v ORDER BY k"), before);
  Query("INSERT INTO t VALUES ('a', 10), ('a', 1)");
  size_t files = ViewFiles();
  int pid = SpawnSaleslake({"--lake", lake_, "query", "REFRESH MATERIALIZED VIEW v"},
                           {"SALESLAKE_TEST_COMMIT_PAUSE_MS=10000"});
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(KillWhen(pid, [&] { return ViewFiles() > files; }, 60000));
  EXPECT_EQ(Query("SELECT k, s, d FROM v ORDER BY k"), before);  // the old version, whole
  auto r = Run({"query", "REFRESH MATERIALIZED VIEW v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("incremental"), std::string::npos) << r.out;
  EXPECT_EQ(Query("SELECT k, s, d FROM v ORDER BY k"), "k,s,d\na,15,3\nb,2,1\nc,4,1\n");
  EXPECT_EQ(Query("SELECT k, sum(v) AS s, count(DISTINCT v) AS d FROM t GROUP BY k ORDER BY k"),
            "k,s,d\na,15,3\nb,2,1\nc,4,1\n");
}

TEST_F(MatViewCliTest, OnCommitViewFollowsEtlCommits) {
  auto load = [&](const std::string& rows, const std::string& seed) {
    std::string csv = dir_.Join("sales-" + seed + ".csv");
    ASSERT_EQ(Run({"generate", "--rows", rows, "--seed", seed, "--out", csv}).exit_code, 0);
    ASSERT_EQ(Run({"upload", csv}).exit_code, 0);
    ASSERT_EQ(Run({"crawl"}).exit_code, 0);
    auto job = Run({"start-job", "--job-name", "my-etl-job", "--format", "json"});
    ASSERT_EQ(job.exit_code, 0) << job.err;
    EXPECT_EQ(job.out.find("view_refresh_failed"), std::string::npos) << job.out;
  };
  load("400", "1");
  Query("CREATE MATERIALIZED VIEW v WITH (refresh = 'on_commit') AS "
        "SELECT region, count(*) AS n, sum(amount) AS s FROM sales_data GROUP BY region");
  load("100", "2");
  std::string show = Query("SHOW MATERIALIZED VIEWS");
  EXPECT_NE(show.find(",fresh,"), std::string::npos) << show;
  EXPECT_NE(show.find("incremental: base snapshot 1 -> 2"), std::string::npos) << show;
  EXPECT_NE(Query("EXPLAIN REFRESH v").find("refresh: nothing to do"), std::string::npos);
  // The view's rows are the base table's (a filter on a non-key keeps the planner off the view).
  EXPECT_EQ(Query("SELECT region, n FROM v ORDER BY region"),
            Query("SELECT region, count(*) AS n FROM sales_data WHERE amount IS NULL OR amount = amount "
                  "GROUP BY region ORDER BY region"));
}

}  // namespace
}  // namespace saleslake::testing
