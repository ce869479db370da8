#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "catalog/internal/json_codec.h"
#include "io/local_store.h"
#include "support/forwarding_store.h"
#include "support/test_support.h"

namespace saleslake::catalog {
namespace {

using saleslake::testing::TempDir;

TableSpec SalesSpec(std::string name = "sales") {
  TableSpec spec;
  spec.name = std::move(name);
  spec.format = FileFormat::kParquet;
  spec.location = "processed_data/" + spec.name + "/";
  spec.schema.fields = {{"purchase_date", DataType::Date(), true},
                        {"amount", DataType::Double(), true},
                        {"region", DataType::Varchar(), true}};
  spec.partition_keys = {"region"};
  return spec;
}

DataFile MakeFile(const std::string& key, const std::string& region, int64_t rows) {
  DataFile f;
  f.key = key;
  f.size = static_cast<uint64_t>(rows * 10);
  f.row_count = rows;
  f.partition_values = {{"region", region}};
  f.column_stats = {{"amount", Value::Double(1.5), Value::Double(99.25), 0, 0},
                    {"purchase_date", Value::Date(20301), Value::Date(20330), 2, 0}};
  return f;
}

Catalog::ChangeFn Append(std::vector<DataFile> files) {
  return [files](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.add_files = files;
    return c;
  };
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto c = Catalog::Open(store_.get());
    ASSERT_TRUE(c.ok());
    catalog_ = std::move(*c);
  }
  TempDir dir_;
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, CreateLoadAndList) {
  auto created = catalog_->CreateTable(SalesSpec());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)->version, 1);
  auto again = catalog_->CreateTable(SalesSpec());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec("other")).ok());

  auto tables = catalog_->ListTables();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, (std::vector<std::string>{"other", "sales"}));

  auto t = catalog_->LoadTable("sales");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->spec.location, "processed_data/sales/");
  EXPECT_EQ((*t)->schema(), SalesSpec().schema);
  EXPECT_EQ((*t)->spec.partition_keys, std::vector<std::string>{"region"});
  EXPECT_EQ((*t)->current_snapshot_id, 0);
  auto files = catalog_->ListFiles(**t);
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(files->empty());

  EXPECT_EQ(catalog_->LoadTable("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->LoadTable("../x").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, CreateRejectsBadSpecs) {
  TableSpec bad = SalesSpec();
  bad.partition_keys = {"nope"};
  EXPECT_EQ(catalog_->CreateTable(bad).status().code(), StatusCode::kInvalidArgument);
  bad = SalesSpec();
  bad.location = "processed_data/x";  // no trailing slash
  EXPECT_EQ(catalog_->CreateTable(bad).status().code(), StatusCode::kInvalidArgument);
  bad = SalesSpec();
  bad.schema.fields.push_back({"amount", DataType::Int64(), true});
  EXPECT_EQ(catalog_->CreateTable(bad).status().code(), StatusCode::kInvalidArgument);
  bad = SalesSpec("1abc");
  EXPECT_EQ(catalog_->CreateTable(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, AppendRemoveOverwriteAndTimeTravel) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  auto r1 = catalog_->Commit("sales", Append({MakeFile("processed_data/sales/region=EU/a.parquet", "EU", 10)}));
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->metadata->current_snapshot_id, 1);
  auto r2 = catalog_->Commit("sales", Append({MakeFile("processed_data/sales/region=US/b.parquet", "US", 20),
                                              MakeFile("processed_data/sales/region=US/c.parquet", "US", 5)}));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->metadata->current_snapshot_id, 2);
  const SnapshotInfo* s2 = r2->metadata->current_snapshot();
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(s2->parent_id, 1);
  EXPECT_EQ(s2->total_files, 3);
  EXPECT_EQ(s2->total_rows, 35);

  auto files = catalog_->ListFiles(*r2->metadata);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0], MakeFile("processed_data/sales/region=EU/a.parquet", "EU", 10));
  const ColumnStats* st = (*files)[1].FindStats("purchase_date");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->min, Value::Date(20301));
  EXPECT_EQ(st->null_count, 2);
  EXPECT_EQ((*files)[1].PartitionPath(), "region=US");

  // Remove one file.
  auto r3 = catalog_->Commit("sales", [](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.operation = "delete";
    c.remove_files = {"processed_data/sales/region=US/b.parquet"};
    return c;
  });
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(r3->metadata->current_snapshot()->total_files, 2);
  EXPECT_EQ(r3->metadata->current_snapshot()->total_rows, 15);
  auto f3 = catalog_->ListFiles(*r3->metadata);
  ASSERT_TRUE(f3.ok());
  ASSERT_EQ(f3->size(), 2u);
  EXPECT_EQ((*f3)[1].key, "processed_data/sales/region=US/c.parquet");

  // Removing an unknown file is a clear error and changes nothing.
  auto bad = catalog_->Commit("sales", [](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.remove_files = {"nope.parquet"};
    return c;
  });
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  // Overwrite.
  auto r4 = catalog_->Commit("sales", [](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.operation = "overwrite";
    c.remove_all_files = true;
    c.add_files = {MakeFile("processed_data/sales/region=EU/z.parquet", "EU", 7)};
    return c;
  });
  ASSERT_TRUE(r4.ok());
  auto latest = catalog_->LoadTable("sales");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->current_snapshot_id, 4);
  auto f4 = catalog_->ListFiles(**latest);
  ASSERT_TRUE(f4.ok());
  ASSERT_EQ(f4->size(), 1u);
  EXPECT_EQ((*f4)[0].key, "processed_data/sales/region=EU/z.parquet");

  // Time travel: every older snapshot still reads as it was.
  auto old1 = catalog_->ListFiles(**latest, 1);
  ASSERT_TRUE(old1.ok());
  ASSERT_EQ(old1->size(), 1u);
  EXPECT_EQ((*old1)[0].key, "processed_data/sales/region=EU/a.parquet");
  auto old2 = catalog_->ListFiles(**latest, 2);
  ASSERT_TRUE(old2.ok());
  EXPECT_EQ(old2->size(), 3u);
  EXPECT_EQ(catalog_->ListFiles(**latest, 99).status().code(), StatusCode::kNotFound);
  const SnapshotInfo* asof = (*latest)->SnapshotAsOf((*latest)->FindSnapshot(2)->timestamp_ms);
  ASSERT_NE(asof, nullptr);
  EXPECT_GE(asof->id, 2);
}

TEST_F(CatalogTest, PartitionValuesMustMatchKeys) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  DataFile f = MakeFile("processed_data/sales/x.parquet", "EU", 1);
  f.partition_values = {{"country", std::string("DE")}};
  auto r = catalog_->Commit("sales", Append({f}));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("partition"), std::string::npos);
}

TEST_F(CatalogTest, SchemaHistory) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  Schema wider = SalesSpec().schema;
  wider.fields.insert(wider.fields.begin() + 2, Field{"status", DataType::Varchar(), true});
  auto r = catalog_->Commit("sales", [&](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.operation = "schema";
    c.new_schema = wider;
    return c;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->committed);
  auto t = catalog_->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->schema(), wider);
  ASSERT_EQ((*t)->schemas.size(), 2u);
  EXPECT_EQ((*t)->schemas[0].schema, SalesSpec().schema);
  EXPECT_EQ((*t)->current_schema_id, 2);
  EXPECT_EQ((*t)->current_snapshot_id, 0);  // schema-only change makes no snapshot

  // The same schema again commits nothing.
  auto same = catalog_->Commit("sales", [&](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.new_schema = wider;
    return c;
  });
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->committed);
  EXPECT_EQ(same->metadata->version, (*t)->version);
}

TEST_F(CatalogTest, StaleBaseIsAborted) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  auto base = catalog_->LoadTable("sales");
  ASSERT_TRUE(base.ok());
  TableChange a;
  a.add_files = {MakeFile("processed_data/sales/region=EU/a.parquet", "EU", 1)};
  ASSERT_TRUE(catalog_->CommitOnce(**base, a).ok());
  TableChange b;
  b.add_files = {MakeFile("processed_data/sales/region=EU/b.parquet", "EU", 1)};
  auto lost = catalog_->CommitOnce(**base, b);
  EXPECT_EQ(lost.status().code(), StatusCode::kAborted);
  // The loser's manifests were cleaned up: one manifest (a's) remains.
  auto manifests = store_->List("catalog/tables/sales/manifests/");
  ASSERT_TRUE(manifests.ok());
  EXPECT_EQ(manifests->size(), 1u);
  auto t = catalog_->LoadTable("sales");
  auto files = catalog_->ListFiles(**t);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].key, "processed_data/sales/region=EU/a.parquet");
}

// The lake's store, recording the order of the syncs of objects and of the metadata publishes.
class SyncRecordingStore final : public saleslake::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status Sync(std::string_view k) override {
    Record("sync " + std::string(k));
    return base_->Sync(k);
  }
  Status PutIfAbsent(std::string_view k, std::string_view d) override {
    Status s = base_->PutIfAbsent(k, d);
    if (s.ok() && k.find("/metadata/") != std::string_view::npos) Record("publish " + std::string(k));
    return s;
  }
  std::vector<std::string> Events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  void Record(std::string e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

// A commit of files written unsynced syncs each of them before it publishes the version that
// references them (and syncs nothing without sync_added_files); a file it cannot sync fails the
// commit with nothing published and its manifests removed.
TEST_F(CatalogTest, UnsyncedAddedFilesAreSyncedBeforeThePublish) {
  SyncRecordingStore rec(store_.get());
  auto cat = Catalog::Open(&rec);
  ASSERT_TRUE(cat.ok());
  ASSERT_TRUE((*cat)->CreateTable(SalesSpec()).ok());
  std::vector<DataFile> files;
  for (int i = 0; i < 5; ++i) {
    std::string key = "processed_data/sales/region=EU/u" + std::to_string(i) + ".parquet";
    auto out = store_->OpenWriteUnsynced(key);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append("bytes").ok());
    ASSERT_TRUE((*out)->Commit().ok());
    files.push_back(MakeFile(key, "EU", 3));
  }
  const std::vector<std::string> created = rec.Events();
  ASSERT_EQ(created.size(), 1u);  // CreateTable's version 1
  auto r = (*cat)->Commit("sales", [&](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.add_files = files;
    c.sync_added_files = true;
    return c;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> events = rec.Events();
  ASSERT_EQ(events.size(), created.size() + files.size() + 1);
  EXPECT_EQ(events.back(), "publish catalog/tables/sales/metadata/v" + std::string(19, '0') + "2.json");
  std::set<std::string> synced(events.begin() + 1, events.end() - 1);
  for (const DataFile& f : files) EXPECT_EQ(synced.count("sync " + f.key), 1u) << f.key;

  // Without the flag the files are the writer's business: no sync.
  ASSERT_TRUE((*cat)->Commit("sales", Append({MakeFile("processed_data/sales/region=EU/d.parquet", "EU", 1)})).ok());
  events = rec.Events();
  EXPECT_EQ(events.back().rfind("publish ", 0), 0u);
  EXPECT_EQ(events[events.size() - 2].rfind("publish ", 0), 0u);

  // A file that is not there cannot be made durable: the commit fails, version 3 stays current,
  // and the attempt's manifests are gone.
  auto manifests_before = store_->List("catalog/tables/sales/");
  ASSERT_TRUE(manifests_before.ok());
  auto base = (*cat)->LoadTable("sales");
  ASSERT_TRUE(base.ok());
  TableChange missing;
  missing.add_files = {MakeFile("processed_data/sales/region=EU/missing.parquet", "EU", 1)};
  missing.sync_added_files = true;
  auto failed = (*cat)->CommitOnce(**base, missing);
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("missing.parquet"), std::string::npos) << failed.status().ToString();
  auto now = (*cat)->LoadTable("sales");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ((*now)->version, 3);
  auto manifests_after = store_->List("catalog/tables/sales/");
  ASSERT_TRUE(manifests_after.ok());
  EXPECT_EQ(manifests_after->size(), manifests_before->size());
}

TEST_F(CatalogTest, ConcurrentThreadsLoseNoUpdate) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  constexpr int kThreads = 4, kCommits = 15;
  std::atomic<int> failures{0}, retried{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        std::string key = "processed_data/sales/region=EU/t" + std::to_string(t) + "-" +
                          std::to_string(i) + ".parquet";
        auto r = catalog_->Commit("sales", Append({MakeFile(key, "EU", 1)}));
        if (!r.ok()) ++failures;
        else if (r->attempts > 1) ++retried;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto t = catalog_->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->current_snapshot_id, kThreads * kCommits);
  auto files = catalog_->ListFiles(**t);
  ASSERT_TRUE(files.ok());
  std::set<std::string> keys;
  for (const DataFile& f : *files) keys.insert(f.key);
  EXPECT_EQ(keys.size(), static_cast<size_t>(kThreads * kCommits));
  EXPECT_EQ((*t)->current_snapshot()->total_files, kThreads * kCommits);
}

TEST_F(CatalogTest, ConcurrentProcessesLoseNoUpdate) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  constexpr int kProcs = 3, kCommits = 12;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Work in a fresh thread: LocalStore names its temporaries with a thread_local generator
      // that a forked child would otherwise inherit, already seeded, from the parent.
      int code = 0;
      std::thread worker([&] {
        auto store = io::LocalStore::Open(dir_.path(), false);
        if (!store.ok()) { code = 3; return; }
        auto cat = Catalog::Open(store->get());
        if (!cat.ok()) { code = 4; return; }
        for (int i = 0; i < kCommits; ++i) {
          std::string key = "processed_data/sales/region=US/p" + std::to_string(p) + "-" +
                            std::to_string(i) + ".parquet";
          auto r = (*cat)->Commit("sales", Append({MakeFile(key, "US", 2)}));
          if (!r.ok()) {
            std::fprintf(stderr, "child %d: %s\n", p, r.status().ToString().c_str());
            code = 5;
            return;
          }
        }
      });
      worker.join();
      _exit(code);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto t = catalog_->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  auto files = catalog_->ListFiles(**t);
  ASSERT_TRUE(files.ok());
  std::set<std::string> keys;
  for (const DataFile& f : *files) keys.insert(f.key);
  EXPECT_EQ(keys.size(), static_cast<size_t>(kProcs * kCommits));
  EXPECT_EQ((*t)->current_snapshot()->total_rows, 2 * kProcs * kCommits);
}

TEST_F(CatalogTest, SigkillMidCommitKeepsPreviousSnapshot) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  ASSERT_TRUE(catalog_->Commit("sales", Append({MakeFile("processed_data/sales/region=EU/a.parquet", "EU", 3)})).ok());
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    std::thread worker([&] {  // fresh thread: see ConcurrentProcessesLoseNoUpdate
      auto store = io::LocalStore::Open(dir_.path(), false);
      if (!store.ok()) _exit(3);
      CatalogOptions opts;
      opts.before_publish = [&] {
        char c = 'x';
        (void)!write(ready[1], &c, 1);
        for (;;) pause();  // killed here: manifests written, metadata not published
      };
      auto cat = Catalog::Open(store->get(), opts);
      if (!cat.ok()) _exit(4);
      (void)(*cat)->Commit("sales", Append({MakeFile("processed_data/sales/region=EU/b.parquet", "EU", 3)}));
    });
    worker.join();
    _exit(0);
  }
  close(ready[1]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto t = catalog_->LoadTable("sales");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->current_snapshot_id, 1);
  auto files = catalog_->ListFiles(**t);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].key, "processed_data/sales/region=EU/a.parquet");
  // And the table still takes commits.
  auto r = catalog_->Commit("sales", Append({MakeFile("processed_data/sales/region=EU/c.parquet", "EU", 3)}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->metadata->current_snapshot_id, 2);
}

TEST(CatalogExpiryTest, ExpiresOldSnapshotsButKeepsMinCount) {
  TempDir dir;
  auto store = io::LocalStore::Open(dir.path(), true);
  ASSERT_TRUE(store.ok());
  int64_t now = 1'000'000;
  CatalogOptions opts;
  opts.clock = [&] { return now; };
  auto cat = Catalog::Open(store->get(), opts);
  ASSERT_TRUE(cat.ok());
  TableSpec spec = SalesSpec();
  spec.properties = {{"snapshot.retention.min_count", "2"}, {"snapshot.retention.max_age_ms", "1000"}};
  ASSERT_TRUE((*cat)->CreateTable(spec).ok());
  for (int i = 1; i <= 5; ++i) {
    now += 10;
    std::string key = "processed_data/sales/region=EU/f" + std::to_string(i) + ".parquet";
    ASSERT_TRUE((*cat)->Commit("sales", Append({MakeFile(key, "EU", 1)})).ok());
  }
  auto t = (*cat)->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->snapshots.size(), 5u);  // all young
  // Time passes: everything but the newest two expires at the next commit.
  now += 5000;
  auto r = (*cat)->ExpireSnapshots("sales");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->committed);
  t = (*cat)->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ((*t)->snapshots.size(), 2u);
  EXPECT_EQ((*t)->snapshots[0].id, 4);
  EXPECT_EQ((*t)->current_snapshot_id, 5);
  auto gone = (*cat)->ListFiles(**t, 2);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find("expired"), std::string::npos);
  auto s4 = (*cat)->ListFiles(**t, 4);
  ASSERT_TRUE(s4.ok());
  EXPECT_EQ(s4->size(), 4u);
  auto s5 = (*cat)->ListFiles(**t);
  ASSERT_TRUE(s5.ok());
  EXPECT_EQ(s5->size(), 5u);
  // Manifests still referenced by snapshots 4 and 5 (all five) survive; the expired manifest
  // lists are gone.
  auto lists = (*store)->List("catalog/tables/sales/snapshots/");
  ASSERT_TRUE(lists.ok());
  EXPECT_EQ(lists->size(), 2u);
  // Nothing left to expire: no new version.
  auto again = (*cat)->ExpireSnapshots("sales");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->committed);
}

TEST(CatalogExpiryTest, OldMetadataVersionsAreDeleted) {
  TempDir dir;
  auto store = io::LocalStore::Open(dir.path(), true);
  ASSERT_TRUE(store.ok());
  auto cat = Catalog::Open(store->get());
  ASSERT_TRUE(cat.ok());
  TableSpec spec = SalesSpec();
  spec.properties = {{"metadata.retention.versions", "3"}};
  ASSERT_TRUE((*cat)->CreateTable(spec).ok());
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE((*cat)->Commit("sales", Append({MakeFile("processed_data/sales/region=EU/f" + std::to_string(i), "EU", 1)})).ok());
  auto versions = (*store)->List("catalog/tables/sales/metadata/");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 3u);
  auto t = (*cat)->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->version, 7);
}

TEST_F(CatalogTest, ManyAppendsKeepManifestListBounded) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  for (int i = 0; i < 70; ++i)
    ASSERT_TRUE(catalog_->Commit("sales", Append({MakeFile("processed_data/sales/region=EU/f" + std::to_string(i), "EU", 1)})).ok());
  auto t = catalog_->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  auto list = store_->Get((*t)->current_snapshot()->manifest_list);
  ASSERT_TRUE(list.ok());
  auto refs = internal::DecodeManifestList(*list, "x");
  ASSERT_TRUE(refs.ok());
  EXPECT_LE(refs->size(), 64u);
  auto files = catalog_->ListFiles(**t);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 70u);
}

// An incremental reader's delta from the new manifests alone; nullopt where they cannot tell.
TEST_F(CatalogTest, ListAddedFilesSinceASnapshot) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  auto keys = [](const std::vector<DataFile>& files) {
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(f.key);
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::string dir = "processed_data/sales/";
  ASSERT_TRUE(catalog_->Commit("sales", Append({MakeFile(dir + "region=EU/a", "EU", 1)})).ok());
  ASSERT_TRUE(catalog_->Commit("sales", Append({MakeFile(dir + "region=EU/b", "EU", 2),
                                                MakeFile(dir + "region=US/c", "US", 3)})).ok());
  ASSERT_TRUE(catalog_->Commit("sales", Append({MakeFile(dir + "region=US/d", "US", 4)})).ok());
  auto t = catalog_->LoadTable("sales");
  ASSERT_TRUE(t.ok());
  auto added = catalog_->ListAddedFiles(**t, 1);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_TRUE(added->has_value());
  EXPECT_EQ(keys(**added), (std::vector<std::string>{dir + "region=EU/b", dir + "region=US/c", dir + "region=US/d"}));
  added = catalog_->ListAddedFiles(**t, 3);
  ASSERT_TRUE(added.ok() && added->has_value());
  EXPECT_TRUE((*added)->empty());
  EXPECT_FALSE(catalog_->ListAddedFiles(**t, 7)->has_value());  // no such snapshot
  // A removal in between: the listings must be compared.
  ASSERT_TRUE(catalog_->Commit("sales", [&](const TableMetadata&) -> Result<TableChange> {
    TableChange c;
    c.operation = "replace";
    c.remove_files = {dir + "region=EU/a"};
    c.add_files = {MakeFile(dir + "region=EU/e", "EU", 5)};
    return c;
  }).ok());
  ASSERT_TRUE(catalog_->Commit("sales", Append({MakeFile(dir + "region=EU/f", "EU", 6)})).ok());
  t = catalog_->LoadTable("sales");
  EXPECT_FALSE(catalog_->ListAddedFiles(**t, 3)->has_value());
  added = catalog_->ListAddedFiles(**t, 4);  // after the removal: appends only
  ASSERT_TRUE(added.ok() && added->has_value());
  EXPECT_EQ(keys(**added), (std::vector<std::string>{dir + "region=EU/f"}));
  // Past 64 manifests a commit merges the small ones, older files included: from before the
  // merge the answer is nullopt or exactly the appended files, never more.
  for (int i = 0; i < 70; ++i) {
    auto before = catalog_->LoadTable("sales");
    ASSERT_TRUE(before.ok());
    std::string key = dir + "region=EU/g" + std::to_string(i);
    ASSERT_TRUE(catalog_->Commit("sales", Append({MakeFile(key, "EU", 1)})).ok());
    auto after = catalog_->LoadTable("sales");
    auto got = catalog_->ListAddedFiles(**after, (*before)->current_snapshot_id);
    ASSERT_TRUE(got.ok());
    if (got->has_value()) {
      EXPECT_EQ(keys(**got), std::vector<std::string>{key}) << i;
    }
  }
}

TEST_F(CatalogTest, CorruptMetadataIsAClearError) {
  ASSERT_TRUE(catalog_->CreateTable(SalesSpec()).ok());
  ASSERT_TRUE(store_->Put("catalog/tables/sales/metadata/v00000000000000000002.json", "{not json").ok());
  auto t = catalog_->LoadTable("sales");
  EXPECT_EQ(t.status().code(), StatusCode::kCorruption);
  EXPECT_NE(t.status().message().find("v00000000000000000002.json"), std::string::npos);
}

TEST(CatalogJsonTest, ValuesRoundTrip) {
  std::vector<Value> values = {Value::Boolean(true),       Value::Int32(-7),
                               Value::Int64(1LL << 60),    Value::Double(2.5),
                               Value::Date(20301),         Value::Timestamp(1754000000123456),
                               Value::Decimal(-12345, 9, 2), Value::Varchar("héllo \"x\""),
                               Value::Decimal(static_cast<__int128>(1) << 100, 38, 4), Value()};
  for (const Value& v : values) {
    auto back = internal::ValueFromJson(internal::ValueToJson(v).dump());
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->ToString(), v.ToString());
    EXPECT_EQ(back->type(), v.type());
  }
  for (const char* bad : {R"({"type": "DATE", "v": "x"})", R"({"type": "INTEGER", "v": 4294967296})",
                          R"({"type": "DOUBLE", "v": "many"})", R"({"v": 1})", R"([1])", "{", R"({"type": "NOPE", "v": 1})"}) {
    EXPECT_FALSE(internal::ValueFromJson(bad).ok()) << bad;
  }
  auto interval = internal::ValueFromJson(internal::ValueToJson(Value::FromInterval(Interval{1, 2, 3})).dump());
  ASSERT_TRUE(interval.ok()) << interval.status().ToString();
  EXPECT_EQ(interval->ToString(), Value::FromInterval(Interval{1, 2, 3}).ToString());
}

TEST(PartitionEscapeTest, HiveEscapes) {
  EXPECT_EQ(EscapePartitionValue("a b/c=d%"), "a b%2Fc%3Dd%25");
  EXPECT_EQ(UnescapePartitionValue("a%20b%2Fc%3Dd%25"), "a b/c=d%");
  EXPECT_EQ(UnescapePartitionValue("bad%zz%4"), "bad%zz%4");
  EXPECT_EQ(UnescapePartitionValue(EscapePartitionValue("x:y#z")), "x:y#z");
}

}  // namespace
}  // namespace saleslake::catalog

namespace saleslake::catalog {
namespace {

TEST_F(CatalogTest, NonUtf8StatsAndNamesDoNotBreakCommits) {
  TableSpec spec = SalesSpec();
  spec.properties["note"] = std::string("caf\xE9");  // Latin-1 text from a CSV header
  ASSERT_TRUE(catalog_->CreateTable(spec).ok());
  DataFile f = MakeFile("processed_data/sales/region=EU/bin.parquet", "EU", 4);
  f.column_stats.push_back({"payload", Value::Varchar(std::string("\xFF\x00\x01", 3)),
                            Value::Varchar(std::string("\xFF\xFE", 2)), 1, 0});
  auto r = catalog_->Commit("sales", Append({f}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto files = catalog_->ListFiles(*r->metadata);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  const ColumnStats* st = (*files)[0].FindStats("payload");
  ASSERT_NE(st, nullptr);
  EXPECT_TRUE(st->min.is_null());  // dropped, not mangled
  EXPECT_TRUE(st->max.is_null());
  EXPECT_EQ(st->null_count, 1);
  EXPECT_EQ((*files)[0].FindStats("amount")->max, Value::Double(99.25));
}

}  // namespace
}  // namespace saleslake::catalog
