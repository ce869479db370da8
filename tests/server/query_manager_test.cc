// QueryManager: the queue behind Athena, Trino and the console, over a real engine on an empty
// lake (queries over VALUES): states, paging, errors, cancellation, the concurrency limit,
// redaction, idle release of results, the history bound, and results spooled to disk.
#include "server/internal/query_manager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <condition_variable>
#include <future>
#include <mutex>
#include <utility>

#include "catalog/catalog.h"
#include "io/local_store.h"
#include "sql/sql.h"
#include "support/test_support.h"

namespace saleslake::server::internal {
namespace {

using namespace std::chrono_literals;

// 10^n rows: the cross join of n ten-row VALUES lists.
std::string Digits(int n) {
  std::string sql = "SELECT ";
  for (int i = 0; i < n; ++i) sql += (i ? " + " : "") + std::string("d") + std::to_string(i) + ".x * " + std::to_string(static_cast<int64_t>(std::pow(10, i)));
  sql += " AS n FROM ";
  for (int i = 0; i < n; ++i) {
    sql += (i ? " CROSS JOIN " : "") + std::string("(VALUES 0,1,2,3,4,5,6,7,8,9) d") + std::to_string(i) + "(x)";
  }
  return sql;
}

class QueryManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto cat = catalog::Catalog::Open(store_.get());
    ASSERT_TRUE(cat.ok());
    catalog_ = std::move(*cat);
    auto engine = sql::Engine::OpenLake(store_.get(), catalog_.get());
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  std::unique_ptr<QueryManager> Make(QueryManagerOptions options) {
    options.clock = &clock_;
    auto qm = QueryManager::Create(engine_.get(), std::move(options));
    EXPECT_TRUE(qm.ok()) << qm.status().ToString();
    return std::move(*qm);
  }

  QueryInfo WaitFinal(QueryManager& qm, const std::string& id) {
    for (int i = 0; i < 600; ++i) {  // bounded: 600 x up to 100 ms
      auto info = qm.Wait(id, 100ms);
      EXPECT_TRUE(info.ok());
      if (!info.ok() || IsFinal(info->state)) return info.ok() ? *info : QueryInfo{};
    }
    ADD_FAILURE() << "query " << id << " did not finish";
    return {};
  }

  testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<sql::Engine> engine_;
  ManualClock clock_{FromEpochMs(1'750'000'000'000)};
};

TEST_F(QueryManagerTest, RunsAQueryAndPagesItsRows) {
  auto qm = Make({});
  auto id = qm->Submit({.sql = Digits(3) + " ORDER BY n", .user = "alice", .source = "test"});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->size(), 36u);  // a UUID
  QueryInfo info = WaitFinal(*qm, *id);
  ASSERT_EQ(info.state, QueryState::kSucceeded) << info.error;
  EXPECT_EQ(info.rows, 1000u);
  ASSERT_EQ(info.schema.size(), 1u);
  EXPECT_EQ(info.schema[0].name, "n");
  EXPECT_TRUE(info.started.has_value());
  EXPECT_TRUE(info.finished.has_value());

  uint64_t offset = 0, pages = 0;
  while (true) {
    auto page = qm->Fetch(*id, offset, 300);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (size_t r = 0; r < page->rows.size(); ++r) {
      ASSERT_EQ(page->rows[r][0], std::to_string(offset + r));
    }
    offset += page->rows.size();
    ++pages;
    if (page->complete) break;
    ASSERT_LT(pages, 10u);
  }
  EXPECT_EQ(offset, 1000u);
  EXPECT_EQ(pages, 4u);
  auto past = qm->Fetch(*id, 5000, 10);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->rows.empty());
  EXPECT_TRUE(past->complete);
}

TEST_F(QueryManagerTest, SqlErrorsFailTheQueryWithTheEnginesMessage) {
  auto qm = Make({});
  auto id = qm->Submit({.sql = "SELECT nope FROM (VALUES 1) t(x)", .user = "alice"});
  ASSERT_TRUE(id.ok());
  QueryInfo info = WaitFinal(*qm, *id);
  EXPECT_EQ(info.state, QueryState::kFailed);
  EXPECT_NE(info.error.find("line 1:8"), std::string::npos) << info.error;
  EXPECT_EQ(qm->Fetch(*id, 0, 10).status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(qm->Submit({.sql = "  ; "}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(qm->Get("no-such-id").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(qm->Cancel("no-such-id").code(), StatusCode::kNotFound);
}

// A query past its time limit (its request's, else the manager's default) FAILS with the
// limit in its message; one within it succeeds. (10^9 rows cannot be counted in 100 ms.)
TEST_F(QueryManagerTest, QueriesPastTheirTimeLimitFail) {
  auto qm = Make({.max_running = 2, .default_time_limit = 100ms});
  const std::string slow = "SELECT count(*) FROM (" + Digits(9) + ") t";
  auto by_default = qm->Submit({.sql = slow, .user = "a"});
  auto own = qm->Submit({.sql = slow, .user = "a", .time_limit = 200ms});
  ASSERT_TRUE(by_default.ok() && own.ok());
  QueryInfo a = WaitFinal(*qm, *by_default), b = WaitFinal(*qm, *own);
  EXPECT_EQ(a.state, QueryState::kFailed);
  EXPECT_EQ(a.error, "Query exceeded the time limit of 0.10s");
  EXPECT_EQ(b.state, QueryState::kFailed);
  EXPECT_EQ(b.error, "Query exceeded the time limit of 0.20s");
  auto quick = qm->Submit({.sql = "SELECT 1 AS one", .user = "a", .time_limit = 60s});
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(WaitFinal(*qm, *quick).state, QueryState::kSucceeded);
  // A cancellation stays a cancellation under a limit.
  auto cancelled = qm->Submit({.sql = slow, .user = "a", .time_limit = 60s});
  ASSERT_TRUE(cancelled.ok());
  for (int i = 0; i < 100 && qm->Get(*cancelled)->state != QueryState::kRunning; ++i) (void)qm->Wait(*cancelled, 50ms);
  ASSERT_TRUE(qm->Cancel(*cancelled).ok());
  EXPECT_EQ(WaitFinal(*qm, *cancelled).state, QueryState::kCancelled);
}

TEST_F(QueryManagerTest, CancelsQueuedAndRunningQueriesAndHonoursTheLimit) {
  auto qm = Make({.max_running = 1});
  auto slow = qm->Submit({.sql = "SELECT count(*) FROM (" + Digits(9) + ") t", .user = "a"});
  ASSERT_TRUE(slow.ok());
  auto queued = qm->Submit({.sql = "SELECT 1", .user = "b"});
  ASSERT_TRUE(queued.ok());
  // Bounded wait until the slow one runs; the second stays queued behind the limit of one.
  for (int i = 0; i < 100 && qm->Get(*slow)->state != QueryState::kRunning; ++i) (void)qm->Wait(*slow, 50ms);
  ASSERT_EQ(qm->Get(*slow)->state, QueryState::kRunning);
  EXPECT_EQ(qm->Get(*queued)->state, QueryState::kQueued);

  ASSERT_TRUE(qm->Cancel(*queued).ok());
  EXPECT_EQ(qm->Get(*queued)->state, QueryState::kCancelled);
  ASSERT_TRUE(qm->Cancel(*slow).ok());
  EXPECT_EQ(WaitFinal(*qm, *slow).state, QueryState::kCancelled);
  EXPECT_TRUE(qm->Cancel(*slow).ok());  // already final: nothing changes

  auto next = qm->Submit({.sql = "SELECT 2 AS two", .user = "c"});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(WaitFinal(*qm, *next).state, QueryState::kSucceeded);

  auto history = qm->List();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].id, *next);  // newest first
  EXPECT_EQ(history[2].request.user, "a");
}

TEST_F(QueryManagerTest, WorkgroupLimitsAreReplacedWhileQueriesWait) {
  auto qm = Make({.max_running = 2, .workgroup_max_running = {{"tiny", 1}}});
  auto slow = qm->Submit({.sql = "SELECT count(*) FROM (" + Digits(9) + ") t", .workgroup = "tiny"});
  ASSERT_TRUE(slow.ok());
  auto next = qm->Submit({.sql = "SELECT 1", .workgroup = "tiny"});
  ASSERT_TRUE(next.ok());
  for (int i = 0; i < 100 && qm->Get(*slow)->state != QueryState::kRunning; ++i) (void)qm->Wait(*slow, 50ms);
  ASSERT_EQ(qm->Get(*slow)->state, QueryState::kRunning);
  EXPECT_EQ(qm->Get(*next)->state, QueryState::kQueued);
  // A raised limit (pipeline.yaml reloaded) lets the waiting query start beside the slow one.
  qm->SetWorkgroupLimits({{"tiny", 2}});
  EXPECT_EQ(WaitFinal(*qm, *next).state, QueryState::kSucceeded);
  EXPECT_EQ(qm->Get(*slow)->state, QueryState::kRunning);
  ASSERT_TRUE(qm->Cancel(*slow).ok());
  EXPECT_EQ(WaitFinal(*qm, *slow).state, QueryState::kCancelled);
}

// The succeeded listener (Athena's result file, with its fsyncs) runs beside the runners: while
// it is busy with one query, the next one runs and succeeds, even with a single runner. It used
// to run on the runner, so the next query waited QUEUED until the file was written.
TEST_F(QueryManagerTest, ASlowSucceededListenerHoldsNoRunner) {
  auto qm = Make({.max_running = 1});
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::mutex mu;
  std::condition_variable announced_cv;
  std::vector<std::string> announced;
  std::vector<size_t> fetched;
  qm->SetSucceededListener([&](const QueryInfo& q) {
    auto page = qm->Fetch(q.id, 0, 10);  // a listener may read the rows
    {
      std::lock_guard lock(mu);
      announced.push_back(q.id);
      fetched.push_back(page.ok() ? page->rows.size() : 0);
    }
    announced_cv.notify_all();
    if (q.rows == 1) {  // the first query: busy until the test lets it go
      entered.set_value();
      released.wait();
    }
  });
  struct Releaser {  // never leaves the listener blocked or running, whatever fails below
    std::promise<void>* p;
    QueryManager* qm;
    bool done = false;
    void Release() {
      if (!std::exchange(done, true)) p->set_value();
    }
    ~Releaser() {
      Release();
      qm->SetSucceededListener({});  // returns once a call in progress has returned
    }
  } releaser{&release, qm.get()};

  auto first = qm->Submit({.sql = "SELECT 1", .announce = true});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(entered.get_future().wait_for(60s), std::future_status::ready);
  // A query that does not ask to be announced (Trino's, the console's) ends and is answered
  // at once, behind no listener.
  auto quiet = qm->Submit({.sql = "SELECT 3"});
  ASSERT_TRUE(quiet.ok());
  auto quiet_end = qm->Wait(*quiet, 30s);
  ASSERT_TRUE(quiet_end.ok());
  EXPECT_EQ(quiet_end->state, QueryState::kSucceeded);
  EXPECT_FALSE(quiet_end->listener_pending);
  auto second = qm->Submit({.sql = "SELECT * FROM (VALUES 1, 2) t(x)", .announce = true});
  ASSERT_TRUE(second.ok());
  // Bounded: without a free runner this stays QUEUED and the loop ends after 10 s.
  QueryState state = QueryState::kQueued;
  for (int i = 0; i < 100 && !IsFinal(state); ++i) state = qm->Wait(*second, 100ms)->state;
  EXPECT_EQ(state, QueryState::kSucceeded);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(announced, std::vector<std::string>{*first});  // the first call is still in progress
  }
  // Both SUCCEEDED, neither announced yet: Wait holds out for the listener (Athena reports such a
  // query RUNNING, its result file not written yet).
  EXPECT_TRUE(qm->Get(*first)->listener_pending);
  auto waited = qm->Wait(*second, 50ms);
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ(waited->state, QueryState::kSucceeded);
  EXPECT_TRUE(waited->listener_pending);
  releaser.Release();
  {
    std::unique_lock lock(mu);
    announced_cv.wait_for(lock, 60s, [&] { return announced.size() == 2; });
    EXPECT_EQ(announced, (std::vector<std::string>{*first, *second}));  // in the order they ended
    EXPECT_EQ(fetched, (std::vector<size_t>{1, 2}));
  }
  waited = qm->Wait(*second, 60s);  // answers once the listener has returned
  ASSERT_TRUE(waited.ok());
  EXPECT_FALSE(waited->listener_pending);
  EXPECT_FALSE(qm->Get(*first)->listener_pending);
}

TEST_F(QueryManagerTest, QueueIsBounded) {
  auto qm = Make({.max_running = 1, .max_queued = 2});
  auto slow = qm->Submit({.sql = "SELECT count(*) FROM (" + Digits(9) + ") t"});
  ASSERT_TRUE(slow.ok());
  for (int i = 0; i < 100 && qm->Get(*slow)->state != QueryState::kRunning; ++i) (void)qm->Wait(*slow, 50ms);
  ASSERT_TRUE(qm->Submit({.sql = "SELECT 1"}).ok());
  ASSERT_TRUE(qm->Submit({.sql = "SELECT 1"}).ok());
  EXPECT_EQ(qm->Submit({.sql = "SELECT 1"}).status().code(), StatusCode::kResourceExhausted);
}

TEST_F(QueryManagerTest, RedactedColumnsComeBackNull) {
  auto qm = Make({});
  auto id = qm->Submit({.sql = "SELECT 'C1' AS Customer_ID, 5 AS amount", .redact_columns = {"customer_id"}});
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(WaitFinal(*qm, *id).state, QueryState::kSucceeded);
  auto page = qm->Fetch(*id, 0, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->rows.size(), 1u);
  EXPECT_FALSE(page->rows[0][0].has_value());
  EXPECT_EQ(page->rows[0][1], "5");
}

TEST_F(QueryManagerTest, RedactedColumnsCannotLeaveUnderAnotherName) {
  auto qm = Make({});
  for (const char* sql : {"SELECT customer_id AS c FROM (VALUES 'C1') t(customer_id)",
                          "SELECT upper(customer_id) AS customer_id FROM (VALUES 'C1') t(customer_id) WHERE customer_id <> ''",
                          "SELECT count(DISTINCT \"Customer_Id\") FROM (VALUES 'C1') t(customer_id)"}) {
    auto id = qm->Submit({.sql = sql, .redact_columns = {"customer_id"}});
    ASSERT_TRUE(id.ok());
    QueryInfo info = WaitFinal(*qm, *id);
    EXPECT_EQ(info.state, QueryState::kFailed) << sql;
    EXPECT_EQ(info.error_code, StatusCode::kPermissionDenied) << sql;
  }
  // Named as itself (and in a string literal): allowed, and NULL.
  auto id = qm->Submit({.sql = "SELECT *, 'customer_id' AS label FROM (VALUES 'C1') t(customer_id)",
                        .redact_columns = {"customer_id"}});
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(WaitFinal(*qm, *id).state, QueryState::kSucceeded);
  auto page = qm->Fetch(*id, 0, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(page->rows[0][0].has_value());
  EXPECT_EQ(page->rows[0][1], "customer_id");
}

TEST_F(QueryManagerTest, IdleResultsAreReleasedAndHistoryIsBounded) {
  auto qm = Make({.max_history = 2, .result_idle_timeout = 60s});
  auto a = qm->Submit({.sql = "SELECT 1"});
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(WaitFinal(*qm, *a).state, QueryState::kSucceeded);
  clock_.Advance(59s);
  ASSERT_TRUE(qm->Fetch(*a, 0, 10).ok());  // a fetch counts as use
  clock_.Advance(59s);
  ASSERT_TRUE(qm->Fetch(*a, 0, 10).ok());
  clock_.Advance(61s);
  EXPECT_EQ(qm->Fetch(*a, 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(qm->Get(*a)->results_released);

  for (int i = 0; i < 2; ++i) {
    auto id = qm->Submit({.sql = "SELECT 1"});
    ASSERT_TRUE(id.ok());
    ASSERT_EQ(WaitFinal(*qm, *id).state, QueryState::kSucceeded);
  }
  (void)qm->Submit({.sql = "SELECT 1"});  // sweeps: three finished, two kept
  EXPECT_EQ(qm->Get(*a).status().code(), StatusCode::kNotFound);
}

TEST_F(QueryManagerTest, LargeResultsSpoolToDiskAndPageBack) {
  testing::TempDir spool_dir;
  auto qm = Make({.max_running = 1, .spool_after_bytes = 64 << 10, .spool_dir = spool_dir.path()});
  auto id = qm->Submit({.sql = Digits(5) + " ORDER BY n"});
  ASSERT_TRUE(id.ok());
  QueryInfo info = WaitFinal(*qm, *id);
  ASSERT_EQ(info.state, QueryState::kSucceeded) << info.error;
  EXPECT_EQ(info.rows, 100000u);
  // The first batches (up to 64 KiB of text, a few thousand rows) stay in memory; the rest is
  // on disk.
  EXPECT_GT(info.spooled_rows, 90000u);
  EXPECT_LT(info.spooled_rows, info.rows);
  uint64_t next = 0;
  for (uint64_t offset = 0;; offset += 777) {  // pages that straddle memory and spool
    auto page = qm->Fetch(*id, offset, 777);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->rows) ASSERT_EQ(r[0], std::to_string(next++));
    if (page->complete) break;
    ASSERT_EQ(page->rows.size(), 777u);
  }
  EXPECT_EQ(next, 100000u);
  EXPECT_TRUE(std::filesystem::is_empty(spool_dir.path()));
  qm->Release(*id);
  EXPECT_EQ(qm->Fetch(*id, 0, 10).status().code(), StatusCode::kNotFound);
}

// Every cell of a query's result, a row per line, cells joined by '|' (NULL as \N).
std::string AllRows(QueryManager& qm, const std::string& id) {
  std::string text;
  for (uint64_t offset = 0;;) {
    auto page = qm.Fetch(id, offset, 1000);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return text;
    for (const auto& row : page->rows) {
      for (size_t c = 0; c < row.size(); ++c) text += (c ? "|" : "") + row[c].value_or("\\N");
      text += "\n";
    }
    offset += page->rows.size();
    if (page->complete || page->rows.empty()) return text;
  }
}

// Athena's result reuse: an earlier result answers only the same text for the same asker (user
// and column access), within the max age by the clock, while the tables read are unchanged.
TEST_F(QueryManagerTest, ReusesAResultForTheSameAskerWhileItsTablesAreUnchanged) {
  ASSERT_TRUE(engine_->Execute("CREATE TABLE sales AS SELECT * FROM (VALUES ('c1', 1), ('c2', 2)) t(customer_id, n)").ok());
  auto qm = Make({});
  const std::optional<std::chrono::milliseconds> hour = std::chrono::minutes(60);
  auto run = [&](const std::string& sql, const std::string& user, std::optional<std::chrono::milliseconds> reuse,
                 std::vector<std::string> redact = {}) {
    auto id = qm->Submit({.sql = sql, .user = user, .redact_columns = std::move(redact), .reuse_max_age = reuse});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    QueryInfo info = id.ok() ? WaitFinal(*qm, *id) : QueryInfo{};
    EXPECT_EQ(info.state, QueryState::kSucceeded) << sql << ": " << info.error;
    return info;
  };
  const std::string sql = "SELECT customer_id, n FROM sales ORDER BY n";
  QueryInfo first = run(sql, "alice", std::nullopt);
  EXPECT_EQ(first.reused_from, "");
  EXPECT_GT(first.bytes_scanned, 0u);
  QueryInfo again = run(sql, "alice", hour);
  EXPECT_EQ(again.reused_from, first.id);
  EXPECT_EQ(again.bytes_scanned, 0u);
  EXPECT_EQ(again.rows, 2u);
  EXPECT_EQ(AllRows(*qm, again.id), "c1|1\nc2|2\n");
  EXPECT_EQ(AllRows(*qm, again.id), AllRows(*qm, first.id));
  // Without reuse asked, another user, other column access or other text: it runs.
  EXPECT_EQ(run(sql, "alice", std::nullopt).reused_from, "");
  EXPECT_EQ(run(sql, "bob", hour).reused_from, "");
  QueryInfo redacted = run(sql, "alice", hour, {"customer_id"});
  EXPECT_EQ(redacted.reused_from, "");
  EXPECT_EQ(AllRows(*qm, redacted.id), "\\N|1\n\\N|2\n");
  EXPECT_EQ(run(sql + " ", "alice", hour).reused_from, "");

  // Past the max age (the clock's), it runs again; the new result is then the newest to reuse.
  clock_.Advance(std::chrono::minutes(61));
  QueryInfo late = run(sql, "alice", hour);
  EXPECT_EQ(late.reused_from, "");
  EXPECT_EQ(run(sql, "alice", hour).reused_from, late.id);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(run(sql, "alice", std::chrono::minutes(1)).reused_from, "");

  // Statements other than queries always run (both INSERTs add their row); after the commit the
  // old result is not reused.
  const std::string insert = "INSERT INTO sales VALUES ('c3', 3)";
  EXPECT_EQ(run(insert, "alice", hour).reused_from, "");
  EXPECT_EQ(run(insert, "alice", hour).reused_from, "");
  QueryInfo after = run(sql, "alice", hour);
  EXPECT_EQ(after.reused_from, "");
  EXPECT_EQ(AllRows(*qm, after.id), "c1|1\nc2|2\nc3|3\nc3|3\n");

  // A redefined view changes the answer without a commit: not reused.
  ASSERT_TRUE(engine_->Execute("CREATE VIEW v AS SELECT n FROM sales").ok());
  QueryInfo view = run("SELECT sum(n) AS s FROM v", "alice", hour);
  EXPECT_EQ(AllRows(*qm, view.id), "9\n");
  EXPECT_EQ(run("SELECT sum(n) AS s FROM v", "alice", hour).reused_from, view.id);
  ASSERT_TRUE(engine_->Execute("CREATE OR REPLACE VIEW v AS SELECT n * 10 AS n FROM sales").ok());
  QueryInfo redefined = run("SELECT sum(n) AS s FROM v", "alice", hour);
  EXPECT_EQ(redefined.reused_from, "");
  EXPECT_EQ(AllRows(*qm, redefined.id), "90\n");
}

// A reused result shares the earlier one's rows, in memory and in its spool file (no copy), and
// keeps them when the earlier query's results are released.
TEST_F(QueryManagerTest, AReusedResultSharesTheSpooledRows) {
  testing::TempDir spool_dir;
  auto qm = Make({.max_running = 1, .spool_after_bytes = 4 << 10, .spool_dir = spool_dir.path()});
  const std::string sql = Digits(4) + " ORDER BY n";
  auto first = qm->Submit({.sql = sql});
  ASSERT_TRUE(first.ok());
  QueryInfo info = WaitFinal(*qm, *first);
  ASSERT_GT(info.spooled_rows, 5000u);
  auto second = qm->Submit({.sql = sql, .reuse_max_age = std::chrono::minutes(5)});
  ASSERT_TRUE(second.ok());
  QueryInfo reused = WaitFinal(*qm, *second);
  EXPECT_EQ(reused.reused_from, *first);
  EXPECT_EQ(reused.spooled_rows, info.spooled_rows);
  const std::string want = AllRows(*qm, *first);
  qm->Release(*first);
  EXPECT_EQ(qm->Fetch(*first, 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(AllRows(*qm, *second), want);
  EXPECT_EQ(std::count(want.begin(), want.end(), '\n'), 10000);
  // A released result is no longer a candidate.
  auto third = qm->Submit({.sql = sql, .reuse_max_age = std::chrono::minutes(5)});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(WaitFinal(*qm, *third).reused_from, "");
}

TEST_F(QueryManagerTest, ASpoolThatCannotBeMadeFailsTheQuery) {
  auto qm = Make({.spool_after_bytes = 16, .spool_dir = dir_.Join("no/such/folder")});
  auto id = qm->Submit({.sql = Digits(3)});
  ASSERT_TRUE(id.ok());
  QueryInfo info = WaitFinal(*qm, *id);
  EXPECT_EQ(info.state, QueryState::kFailed);
  EXPECT_NE(info.error.find("result spool"), std::string::npos) << info.error;
}

}  // namespace
}  // namespace saleslake::server::internal
