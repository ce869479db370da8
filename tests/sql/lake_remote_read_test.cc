// A lake table read through a store that says it is remote (an S3 URI) over local files: the
// requests a query makes before and while it scans — what each costs a round trip on S3.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "io/local_store.h"
#include "sql/sql.h"
#include "sql_test_util.h"
#include "support/forwarding_store.h"
#include "support/test_support.h"

namespace saleslake::sql {
namespace {

// The local store under an S3 URI, recording its listings and how many OpenReads were in
// flight at once. An OpenRead waits (up to 2 s) for a second one to start, so that opens
// issued one after another show a concurrency of 1 and opens issued ahead show more.
// What the scan told a file and asked of it, in order, over all files: "hint" (WillRead, one per
// range) and "read" (ReadAt) with the file's key, offset and length.
struct FileEvent {
  std::string what, key;
  uint64_t offset, length;
};
struct FileEvents {
  std::mutex mu;
  std::vector<FileEvent> list;
  void Add(FileEvent e) {
    std::lock_guard<std::mutex> lock(mu);
    list.push_back(std::move(e));
  }
};

// A local file read as a remote one is (no mapping: every chunk is a ReadAt), recording hints and
// reads. The first read of a column chunk (anything hinted) takes 50 ms, so that the footers
// opened ahead are open by the time the worker moves on.
class RecordingFile final : public io::RandomAccessFile {
 public:
  RecordingFile(std::unique_ptr<io::RandomAccessFile> base, std::string key, FileEvents* events)
      : base_(std::move(base)), key_(std::move(key)), events_(events) {}
  uint64_t size() const override { return base_->size(); }
  const std::string& name() const override { return base_->name(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    bool hinted = false;
    {
      std::lock_guard<std::mutex> lock(events_->mu);
      for (const auto& e : events_->list) hinted |= e.what == "hint" && e.key == key_ && e.offset == offset;
    }
    if (hinted && !slowed_.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    events_->Add({"read", key_, offset, out.size()});
    return base_->ReadAt(offset, out);
  }
  void WillRead(std::span<const io::ByteRange> ranges) const override {
    for (const auto& r : ranges) events_->Add({"hint", key_, r.offset, r.length});
  }

 private:
  std::unique_ptr<io::RandomAccessFile> base_;
  std::string key_;
  FileEvents* events_;
  static inline std::atomic<bool> slowed_{false};
};

class RemoteLikeStore final : public saleslake::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::unique_ptr<io::RandomAccessFile>> OpenRead(std::string_view k) const override {
    if (k.ends_with(".parquet")) {
      std::unique_lock<std::mutex> lock(mu_);
      ++opens_;
      if (fail_opens_ > 0) {
        --fail_opens_;
        return Status::IOError("GET s3://test-bucket/lake/" + std::string(k) + ": HTTP 500 InternalError");
      }
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::milliseconds(2000), [&] { return in_flight_ > 1; });
      --in_flight_;
    }
    if (record_ != nullptr && k.ends_with(".parquet")) {
      SL_ASSIGN_OR_RETURN(auto f, base_->OpenRead(k));
      return std::unique_ptr<io::RandomAccessFile>(new RecordingFile(std::move(f), std::string(k), record_));
    }
    return base_->OpenRead(k);
  }
  // Records the tail size asked for (0 = the store's guess), then opens as OpenRead does.
  Result<std::unique_ptr<io::RandomAccessFile>> OpenReadTail(std::string_view k, uint64_t tail) const override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tails_[std::string(k)] = tail;
    }
    return OpenRead(k);
  }
  void Record(FileEvents* events) { record_ = events; }
  Result<std::vector<io::ObjectInfo>> List(std::string_view p) const override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      lists_.emplace_back(p);
      cv_.notify_all();
      if (fail_lists_ > 0 && p.ends_with("/metadata/")) {
        --fail_lists_;
        return Status::IOError("GET s3://test-bucket/?list-type=2: HTTP 500 InternalError");
      }
    }
    return base_->List(p);
  }
  // Records every GET. After WaitInGets(get, list), a GET of a key containing `get` waits (up to
  // 2 s) for a listing of a prefix ending in `list` to start, and overlapped() says whether one
  // did meanwhile: requests issued one after another would wait in vain.
  Result<std::string> Get(std::string_view k) const override {
    std::unique_lock<std::mutex> lock(mu_);
    gets_.emplace_back(k);
    if (!wait_get_.empty() && k.find(wait_get_) != std::string_view::npos) {
      auto listed = [&] {
        for (const auto& l : lists_)
          if (l.ends_with(wait_list_)) return true;
        return false;
      };
      overlapped_ = cv_.wait_for(lock, std::chrono::milliseconds(2000), listed);
    }
    lock.unlock();
    return base_->Get(k);
  }
  void WaitInGets(std::string get, std::string list) {
    std::lock_guard<std::mutex> lock(mu_);
    wait_get_ = std::move(get);
    wait_list_ = std::move(list);
    overlapped_ = false;
  }
  bool overlapped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return overlapped_;
  }
  std::vector<std::string> gets() const {
    std::lock_guard<std::mutex> lock(mu_);
    return gets_;
  }
  std::map<std::string, uint64_t> tails() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tails_;
  }
  // The next `n` listings of a table's metadata/ fail (as a LIST that gave up would).
  void FailMetadataLists(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_lists_ = n;
  }
  Status Append(std::string_view k, std::string_view d) override { return io::ObjectStore::Append(k, d); }  // as S3
  std::string uri() const override { return "s3://test-bucket/lake"; }

  std::vector<std::string> lists() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lists_;
  }
  int max_in_flight() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }
  int opens() const {
    std::lock_guard<std::mutex> lock(mu_);
    return opens_;
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    lists_.clear();
    gets_.clear();
    tails_.clear();
    max_in_flight_ = opens_ = 0;
  }
  // The next `n` opens of a Parquet file fail (as a GET that gave up would).
  void FailOpens(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_opens_ = n;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<std::string> lists_;
  mutable std::vector<std::string> gets_;
  mutable std::map<std::string, uint64_t> tails_;
  mutable int in_flight_ = 0, max_in_flight_ = 0, opens_ = 0, fail_opens_ = 0, fail_lists_ = 0;
  std::string wait_get_, wait_list_;
  mutable bool overlapped_ = false;
  FileEvents* record_ = nullptr;
};

class LakeRemoteReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(s.ok());
    local_ = std::move(*s);
    remote_ = std::make_unique<RemoteLikeStore>(local_.get());
    auto c = catalog::Catalog::Open(remote_.get());
    ASSERT_TRUE(c.ok());
    cat_ = std::move(*c);
    // Four partitions: four Parquet files.
    auto e = Engine::OpenLake(remote_.get(), cat_.get(), {});
    ASSERT_TRUE(e.ok());
    auto r = (*e)->Execute(
        "CREATE TABLE sales WITH (partitioned_by = 'region') AS SELECT * FROM (VALUES (1, 10.0, 'N'), "
        "(2, 20.0, 'S'), (3, 30.0, 'E'), (4, 40.0, 'W'), (5, 50.0, 'N')) AS t(id, amount, region)");
    ASSERT_TRUE(r.ok()) << r.status().message();
    remote_->Reset();
  }
  std::unique_ptr<Engine> Fresh(int threads) {
    EngineOptions o;
    o.exec.max_threads = static_cast<size_t>(threads);
    auto e = Engine::OpenLake(remote_.get(), cat_.get(), o);
    EXPECT_TRUE(e.ok());
    return std::move(*e);
  }

  testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> local_;
  std::unique_ptr<RemoteLikeStore> remote_;
  std::unique_ptr<catalog::Catalog> cat_;
};

// A table named in the query is loaded by its name: the catalog's whole listing (every table's
// versions, snapshots and manifests) is not read to find it.
TEST_F(LakeRemoteReadTest, TableLoadedByNameWithoutListingTheCatalog) {
  EXPECT_EQ(testutil::RowsText(*Fresh(1), "SELECT sum(amount) FROM sales"), "150.0\n");
  for (const std::string& p : remote_->lists()) EXPECT_NE(p, "catalog/tables/") << "listed the whole catalog";
  // Another letter case still finds it (the listing is the fall-back).
  EXPECT_EQ(testutil::RowsText(*Fresh(1), "SELECT count(*) FROM SALES"), "5\n");
  auto missing = Fresh(1)->Execute("SELECT * FROM nosuch");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nosuch"), std::string::npos) << missing.status().message();
}

// With one worker, the files' footers are still fetched ahead of it, several at once.
TEST_F(LakeRemoteReadTest, FootersOfRemoteFilesAreOpenedAhead) {
  EXPECT_EQ(testutil::RowsText(*Fresh(1), "SELECT region, sum(amount) FROM sales GROUP BY region ORDER BY region"),
            "E|30.0\nN|60.0\nS|20.0\nW|40.0\n");
  EXPECT_EQ(remote_->opens(), 4);  // each file opened once
  EXPECT_GE(remote_->max_in_flight(), 2);
}

// Column chunks on a remote store are hinted before they are read, each once, and those of the
// next files while the worker still reads the current one (read-ahead): with one worker, some
// file's chunks are hinted before the chunks of the file read before it are all read.
TEST_F(LakeRemoteReadTest, ColumnChunksOfTheNextFilesAreHintedAhead) {
  FileEvents events;
  remote_->Record(&events);
  EXPECT_EQ(testutil::RowsText(*Fresh(1), "SELECT region, sum(amount) FROM sales GROUP BY region ORDER BY region"),
            "E|30.0\nN|60.0\nS|20.0\nW|40.0\n");
  std::lock_guard<std::mutex> lock(events.mu);
  std::vector<std::string> order;  // files in the order the worker read their chunks
  std::map<std::string, size_t> first_hint, last_chunk_read;
  int chunk_reads = 0;
  for (size_t i = 0; i < events.list.size(); ++i) {
    const FileEvent& e = events.list[i];
    if (e.what == "hint") {
      first_hint.emplace(e.key, i);
      continue;
    }
    bool hinted = false;
    for (size_t j = 0; j < i; ++j) {
      const FileEvent& h = events.list[j];
      hinted |= h.what == "hint" && h.key == e.key && h.offset == e.offset && h.length == e.length;
    }
    if (!hinted) continue;  // the footer
    ++chunk_reads;
    if (std::find(order.begin(), order.end(), e.key) == order.end()) order.push_back(e.key);
    last_chunk_read[e.key] = i;
  }
  EXPECT_EQ(chunk_reads, 4);  // amount's chunk in each of the four files, each hinted first
  ASSERT_EQ(order.size(), 4u);
  bool ahead = false;
  for (size_t k = 1; k < order.size(); ++k) ahead |= first_hint.at(order[k]) < last_chunk_read.at(order[k - 1]);
  EXPECT_TRUE(ahead) << "no file's chunks were hinted while the file before it was read";
}


// A scan that reads its filter's column first (late materialisation) hints only that column's
// chunks (the others are read only for batches where some row passes); without a filter, every
// column read is hinted.
TEST_F(LakeRemoteReadTest, AFilteredScanHintsOnlyItsFilterColumns) {
  auto hints_per_file = [&](const std::string& sql, const std::string& want) {
    FileEvents events;
    remote_->Record(&events);
    EXPECT_EQ(testutil::RowsText(*Fresh(1), sql), want) << sql;
    remote_->Record(nullptr);
    std::lock_guard<std::mutex> lock(events.mu);
    std::map<std::string, std::set<std::pair<uint64_t, uint64_t>>> ranges;  // distinct hinted ranges
    for (const FileEvent& e : events.list)
      if (e.what == "hint") ranges[e.key].insert({e.offset, e.length});
    std::map<std::string, size_t> hints;
    for (const auto& [key, r] : ranges) hints[key] = r.size();
    return hints;
  };
  auto all = hints_per_file("SELECT sum(amount), sum(id) FROM sales", "150.0|15\n");
  EXPECT_EQ(all.size(), 4u);
  for (const auto& [key, n] : all) EXPECT_EQ(n, 2u) << key;  // id's and amount's chunks
  auto filtered = hints_per_file("SELECT sum(amount) FROM sales WHERE id = 3", "30.0\n");
  EXPECT_GE(filtered.size(), 1u);
  for (const auto& [key, n] : filtered) EXPECT_EQ(n, 1u) << key;  // id's chunk only
}

// Two scans of one table in a query (q25 of the dashboard suite: a CROSS JOIN of two aggregates)
// open each file once: the second takes the footers the first fetched, and still hints its
// chunks ahead. A later query of the same engine (a server's) opens none.
TEST_F(LakeRemoteReadTest, TwoScansOfOneTableOpenEachFileOnce) {
  // The events outlive the engines: the files opened stay with their table (and record) after
  // the query.
  FileEvents first_events, second_events;
  // Per file: how many hints and the distinct ranges hinted. A scan's worker hints its own file's
  // chunks and, when the footers opened ahead are ready in time, the next files' too, so a file
  // is hinted once or twice per scan depending on timing (under a sanitizer on a loaded machine
  // either happens): the counts are bounded, the ranges exact.
  struct Hints {
    int count = 0;
    std::set<std::pair<uint64_t, uint64_t>> ranges;
  };
  auto hints_per_file = [&](Engine& engine, FileEvents& events, const std::string& sql, const std::string& want) {
    remote_->Record(&events);
    EXPECT_EQ(testutil::RowsText(engine, sql), want) << sql;
    remote_->Record(nullptr);
    std::lock_guard<std::mutex> lock(events.mu);
    std::map<std::string, Hints> hints;
    for (const FileEvent& e : events.list)
      if (e.what == "hint") {
        ++hints[e.key].count;
        hints[e.key].ranges.insert({e.offset, e.length});
      }
    return hints;
  };
  const auto one_scan = hints_per_file(*Fresh(1), first_events, "SELECT sum(amount) FROM sales", "150.0\n");
  ASSERT_EQ(one_scan.size(), 4u);
  remote_->Reset();
  auto engine = Fresh(1);
  const auto two_scans = hints_per_file(
      *engine, second_events,
      "SELECT r.region, r.revenue, t.total FROM (SELECT region, sum(amount) AS revenue FROM sales GROUP BY region) r "
      "CROSS JOIN (SELECT sum(amount) AS total FROM sales) t ORDER BY r.region",
      "E|30.0|150.0\nN|60.0|150.0\nS|20.0|150.0\nW|40.0|150.0\n");
  EXPECT_EQ(remote_->opens(), 4);
  ASSERT_EQ(two_scans.size(), 4u);
  for (const auto& [key, h] : two_scans) {  // both scans hint the same chunks
    EXPECT_GE(h.count, 2) << key;
    EXPECT_LE(h.count, 4) << key;
    EXPECT_EQ(h.ranges, one_scan.at(key).ranges) << key;
  }
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT sum(amount) FROM sales"), "150.0\n");
  EXPECT_EQ(remote_->opens(), 4);
}

// A file whose open failed is not kept: the query fails with the error, the next scan of the
// table opens it again and gets every row.
TEST_F(LakeRemoteReadTest, AFailedOpenIsNotKeptForTheNextScan) {
  auto engine = Fresh(1);
  remote_->FailOpens(1);
  auto failed = engine->Execute("SELECT sum(amount) FROM sales");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("HTTP 500"), std::string::npos) << failed.status().message();
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT sum(amount) FROM sales"), "150.0\n");
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT count(*), sum(id) FROM sales"), "5|15\n");
}

// On a remote lake a file's end is fetched by the size its footer will have, predicted from the
// footers of the table's files opened before (their row groups and rows): every file opened once
// a footer is known asks for its own footer and a few bytes more, neither a fixed guess that
// over-reads small footers nor one that leaves large ones to a second GET.
TEST_F(LakeRemoteReadTest, FooterSizesArePredictedFromTheFilesOpenedBefore) {
  std::string values;
  for (int i = 0; i < 12; ++i)
    values += (i ? ", " : "") + std::string("(") + std::to_string(i) + ", " + std::to_string(i) + ".5, 'r" +
              std::to_string(i) + "')";
  auto r = Fresh(1)->Execute("CREATE TABLE wide WITH (partitioned_by = 'region') AS SELECT * FROM (VALUES " + values +
                             ") AS t(id, amount, region)");
  ASSERT_TRUE(r.ok()) << r.status().message();
  remote_->Reset();
  EXPECT_EQ(testutil::RowsText(*Fresh(1), "SELECT sum(id) FROM wide"), "66\n");
  const auto tails = remote_->tails();
  ASSERT_EQ(tails.size(), 12u);
  int predicted = 0;
  for (const auto& [key, tail] : tails) {
    if (tail == 0) continue;  // opened before any footer of the table was known
    ++predicted;
    auto f = local_->OpenRead(key);
    ASSERT_TRUE(f.ok());
    auto len = (*f)->ReadString((*f)->size() - 8, 4);
    ASSERT_TRUE(len.ok());
    const uint64_t footer = static_cast<uint8_t>((*len)[0]) | static_cast<uint64_t>(static_cast<uint8_t>((*len)[1])) << 8;
    EXPECT_GE(tail, footer + 8) << key;        // the whole footer, its length and magic
    EXPECT_LE(tail, footer + 8 + 128) << key;  // and little more
  }
  EXPECT_GE(predicted, 12 - 4);  // at most one per fetcher (4) opened before the first footer was read
}

// The binder asks for a view and then, there being none, for the table of that name: on a
// remote lake the table's lookup starts alongside the view's GET, not after it. A lookup of the
// same table version again (the next query of a server, a second scan) reads no metadata file
// again: one listing. A failed lookup fails the query cleanly, and the next one works.
TEST_F(LakeRemoteReadTest, TheTableLookupGoesOutWithTheViewsAndIsNotReadTwice) {
  remote_->WaitInGets("queries/views/", "/metadata/");
  auto engine = Fresh(1);
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT sum(amount) FROM sales"), "150.0\n");
  EXPECT_TRUE(remote_->overlapped()) << "the table's metadata was listed only after the view's GET";
  remote_->WaitInGets("", "");
  auto metadata_gets = [&] {
    int n = 0;
    for (const std::string& k : remote_->gets()) n += k.find("/metadata/") != std::string::npos;
    return n;
  };
  remote_->Reset();
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT count(*) FROM sales s1 JOIN sales s2 ON s1.id = s2.id"), "5\n");
  EXPECT_EQ(metadata_gets(), 0) << ::testing::PrintToString(remote_->gets());
  int listings = 0;
  for (const std::string& p : remote_->lists()) listings += p.ends_with("/metadata/");
  EXPECT_EQ(listings, 2);  // one per name looked up
  remote_->FailMetadataLists(2);  // both the lookup started with the view's GET and a retry, if any
  auto failed = engine->Execute("SELECT sum(amount) FROM sales");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("HTTP 500"), std::string::npos) << failed.status().message();
  remote_->FailMetadataLists(0);
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT sum(amount) FROM sales"), "150.0\n");
  // A view still wins over a table lookup that went out with it.
  ASSERT_TRUE(engine->Execute("CREATE VIEW big AS SELECT * FROM sales WHERE amount > 25").ok());
  EXPECT_EQ(testutil::RowsText(*engine, "SELECT count(*) FROM big"), "3\n");
}

// The rewrite by materialized views lists the views after the query is bound: on a remote lake
// that listing goes out when the statement starts, alongside the table's lookup (here: before the
// table's snapshot is read), instead of one more round trip after it.
TEST_F(LakeRemoteReadTest, TheMaterializedViewsAreListedWhileTheTableIsLookedUp) {
  remote_->WaitInGets("/snapshots/", "queries/materialized_views/");
  EXPECT_EQ(testutil::RowsText(*Fresh(1), "SELECT sum(amount) FROM sales"), "150.0\n");
  EXPECT_TRUE(remote_->overlapped()) << "the materialized views were listed only after the table's lookup";
}

}  // namespace
}  // namespace saleslake::sql
