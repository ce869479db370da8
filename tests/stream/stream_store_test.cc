#include "stream/stream.h"

#include <map>
#include <thread>

#include "support/test_support.h"

namespace saleslake::stream {
namespace {

using saleslake::testing::TempDir;

class StreamStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    StoreOptions o;
    o.root = dir_.Join("streams");
    o.clock = &clock_;
    o.max_shards = 10;
    auto s = StreamStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  TempDir dir_;
  ManualClock clock_{FromEpochMs(1'700'000'000'000)};
  std::unique_ptr<StreamStore> store_;
};

TEST_F(StreamStoreTest, CreateDescribeListDelete) {
  ASSERT_TRUE(store_->CreateStream("orders", 4, false).ok());
  EXPECT_EQ(KinesisErrorOf(store_->CreateStream("orders", 4, false)), "ResourceInUseException");
  EXPECT_EQ(KinesisErrorOf(store_->CreateStream("big", 7, false)), "LimitExceededException");
  EXPECT_EQ(KinesisErrorOf(store_->CreateStream("bad/name", 1, false)), "InvalidArgumentException");
  ASSERT_TRUE(store_->CreateStream("od", 0, true).ok());
  auto d = store_->Describe("orders");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->shards.size(), 4u);
  EXPECT_EQ(d->shards[2].shard_id, "shardId-000000000002");
  EXPECT_EQ(d->shards[1].starting_hash_key, "85070591730234615865843651857942052864");
  Reopen();  // shape, retention and tags survive
  ASSERT_TRUE(store_->SetRetention("orders", 48, true).ok());
  ASSERT_TRUE(store_->AddTags("orders", {{"team", "sales"}}).ok());
  Reopen();
  d = store_->Describe("orders");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->shards.size(), 4u);
  EXPECT_EQ(d->retention_hours, 48);
  EXPECT_EQ(d->tags.at("team"), "sales");
  EXPECT_EQ(KinesisErrorOf(store_->SetRetention("orders", 30, true)), "InvalidArgumentException");
  EXPECT_EQ(KinesisErrorOf(store_->SetRetention("orders", 9000, true)), "InvalidArgumentException");
  EXPECT_EQ(store_->ListStreams(), (std::vector<std::string>{"od", "orders"}));
  ASSERT_TRUE(store_->DeleteStream("orders").ok());
  EXPECT_EQ(KinesisErrorOf(store_->Describe("orders").status()), "ResourceNotFoundException");
  Reopen();
  EXPECT_EQ(store_->ListStreams(), (std::vector<std::string>{"od"}));
}

TEST_F(StreamStoreTest, PutRoutesByHashKeyAndReadsBackInOrder) {
  ASSERT_TRUE(store_->CreateStream("s", 4, false).ok());
  std::vector<PutEntry> batch;
  for (int i = 0; i < 200; ++i) batch.push_back({"key" + std::to_string(i % 17), "", "rec" + std::to_string(i)});
  // Explicit hash keys: the last key of shard 0 and the first of shard 3.
  batch.push_back({"x", "85070591730234615865843651857942052863", "explicit0"});
  batch.push_back({"x", "255211775190703847597530955573826158592", "explicit3"});
  auto r = store_->PutBatch("s", batch);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[200].shard_id, "shardId-000000000000");
  EXPECT_EQ((*r)[201].shard_id, "shardId-000000000003");
  std::map<std::string, std::vector<std::string>> expected;
  for (size_t i = 0; i < r->size(); ++i) {
    ASSERT_TRUE((*r)[i].status.ok());
    expected[(*r)[i].shard_id].push_back(batch[i].data);
  }
  // A key always lands in the same shard.
  std::map<std::string, std::string> shard_of_key;
  for (size_t i = 0; i < 200; ++i) {
    auto [it, fresh] = shard_of_key.emplace(batch[i].partition_key, (*r)[i].shard_id);
    EXPECT_EQ(it->second, (*r)[i].shard_id);
  }
  Reopen();
  size_t total = 0;
  for (const auto& [shard, datas] : expected) {
    auto it = store_->GetShardIterator("s", shard, IteratorType::kTrimHorizon, "", 0);
    ASSERT_TRUE(it.ok());
    std::vector<std::string> got;
    std::string iter = *it;
    for (int round = 0; round < 100; ++round) {
      auto g = store_->GetRecords(iter, 7);
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      for (auto& rec : g->records) got.push_back(rec.data);
      iter = g->next_iterator;
      if (g->records.empty()) break;
    }
    EXPECT_EQ(got, datas);
    total += got.size();
  }
  EXPECT_EQ(total, batch.size());
  EXPECT_EQ(KinesisErrorOf(store_->Put("s", {"k", "340282366920938463463374607431768211456", "x"}).status()),
            "InvalidArgumentException");
  EXPECT_EQ(KinesisErrorOf(store_->Put("nope", {"k", "", "x"}).status()), "ResourceNotFoundException");
}

// Concurrent PutRefs whose records span every shard (each call queues on all its shards before
// waiting for any): every record is stored once, where its placement says, and each caller's
// records keep their order within a shard.
TEST_F(StreamStoreTest, ConcurrentBatchesOverAllShardsLoseNothingAndKeepOrder) {
  ASSERT_TRUE(store_->CreateStream("s", 4, false).ok());
  constexpr int kThreads = 6, kBatches = 15, kPer = 40;
  std::vector<std::vector<PutPlacement>> placed(kThreads * kBatches);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<std::string> keys, data;
        for (int i = 0; i < kPer; ++i) {
          keys.push_back("k" + std::to_string(i));
          data.push_back(std::to_string(t) + "/" + std::to_string(b * kPer + i));
        }
        std::vector<PutEntryRef> refs;
        for (int i = 0; i < kPer; ++i) refs.push_back({keys[static_cast<size_t>(i)], "", data[static_cast<size_t>(i)]});
        auto r = store_->PutRefs("s", refs);
        ASSERT_TRUE(r.ok());
        placed[static_cast<size_t>(t * kBatches + b)] = *r;
      }
    });
  }
  for (auto& th : threads) th.join();
  std::map<std::pair<int, uint64_t>, std::string> where;  // (shard, ordinal) -> data
  for (int t = 0; t < kThreads; ++t) {
    for (int b = 0; b < kBatches; ++b) {
      const auto& r = placed[static_cast<size_t>(t * kBatches + b)];
      ASSERT_EQ(r.size(), static_cast<size_t>(kPer));
      for (int i = 0; i < kPer; ++i) {
        ASSERT_TRUE(r[static_cast<size_t>(i)].status.ok());
        auto [it, fresh] = where.emplace(std::make_pair(r[static_cast<size_t>(i)].shard, r[static_cast<size_t>(i)].ordinal),
                                         std::to_string(t) + "/" + std::to_string(b * kPer + i));
        EXPECT_TRUE(fresh) << "two records at one position";
      }
    }
  }
  size_t total = 0;
  for (int shard = 0; shard < 4; ++shard) {
    auto recs = store_->ReadShard("s", shard, 0, 100000);
    ASSERT_TRUE(recs.ok());
    std::map<int, int> last;  // caller -> its last record number seen in this shard
    for (const StreamRecord& rec : *recs) {
      EXPECT_EQ(where[std::make_pair(shard, rec.position)], rec.data);
      const int t = std::stoi(rec.data.substr(0, rec.data.find('/')));
      const int n = std::stoi(rec.data.substr(rec.data.find('/') + 1));
      if (last.count(t)) {
        EXPECT_GT(n, last[t]) << rec.data;
      }
      last[t] = n;
    }
    total += recs->size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kBatches * kPer));
}

TEST_F(StreamStoreTest, IteratorTypesAndExpiry) {
  ASSERT_TRUE(store_->CreateStream("s", 1, false).ok());
  const std::string shard = "shardId-000000000000";
  std::vector<std::string> seqs;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(std::chrono::seconds(10));
    auto p = store_->Put("s", {"k", "", "r" + std::to_string(i)});
    ASSERT_TRUE(p.ok());
    seqs.push_back(p->sequence_number);
  }
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]);
  auto first_data = [&](IteratorType t, const std::string& seq, int64_t ts) -> std::string {
    auto it = store_->GetShardIterator("s", shard, t, seq, ts);
    if (!it.ok()) return "error:" + KinesisErrorOf(it.status());
    auto g = store_->GetRecords(*it, 1);
    if (!g.ok()) return "error:" + KinesisErrorOf(g.status());
    return g->records.empty() ? "" : g->records[0].data;
  };
  EXPECT_EQ(first_data(IteratorType::kTrimHorizon, "", 0), "r0");
  EXPECT_EQ(first_data(IteratorType::kLatest, "", 0), "");
  EXPECT_EQ(first_data(IteratorType::kAtSequenceNumber, seqs[2], 0), "r2");
  EXPECT_EQ(first_data(IteratorType::kAfterSequenceNumber, seqs[2], 0), "r3");
  EXPECT_EQ(first_data(IteratorType::kAtTimestamp, "", 1'700'000'000'000 + 35'000), "r3");
  EXPECT_EQ(first_data(IteratorType::kAtSequenceNumber, "999", 0), "error:InvalidArgumentException");
  EXPECT_EQ(KinesisErrorOf(store_->GetShardIterator("s", "shardId-000000000001", IteratorType::kLatest, "", 0).status()),
            "ResourceNotFoundException");

  auto it = store_->GetShardIterator("s", shard, IteratorType::kTrimHorizon, "", 0);
  ASSERT_TRUE(it.ok());
  auto g = store_->GetRecords(*it, 2);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->millis_behind_latest, 20'000);  // r2 arrived at +30 s, now is +50 s
  std::string tampered = *it;
  tampered[tampered.size() - 1] = tampered.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(KinesisErrorOf(store_->GetRecords(tampered, 1).status()), "InvalidArgumentException");
  clock_.Advance(std::chrono::minutes(5) + std::chrono::milliseconds(1));
  EXPECT_EQ(KinesisErrorOf(store_->GetRecords(*it, 1).status()), "ExpiredIteratorException");
  // The store's key survives a restart, so an unexpired iterator still works after it.
  auto fresh = store_->GetShardIterator("s", shard, IteratorType::kTrimHorizon, "", 0);
  ASSERT_TRUE(fresh.ok());
  Reopen();
  EXPECT_TRUE(store_->GetRecords(*fresh, 1).ok());
  // A recreated stream of the same name does not accept the old stream's iterators.
  ASSERT_TRUE(store_->DeleteStream("s").ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->CreateStream("s", 1, false).ok());
  EXPECT_EQ(KinesisErrorOf(store_->GetRecords(*fresh, 1).status()), "ResourceNotFoundException");
}

TEST(StreamStoreLimitTest, ShardRateLimitFailsRecordsNotTheBatch) {
  TempDir dir;
  ManualClock clock(FromEpochMs(1'700'000'000'000));
  StoreOptions o;
  o.root = dir.Join("streams");
  o.clock = &clock;
  o.shard_records_per_second = 3;
  auto store = StreamStore::Open(o);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateStream("s", 1, false).ok());
  std::vector<PutEntry> batch(5, PutEntry{"k", "", "d"});
  auto r = (*store)->PutBatch("s", batch);
  ASSERT_TRUE(r.ok());
  int failed = 0;
  for (const auto& x : *r) failed += x.status.ok() ? 0 : 1;
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(KinesisErrorOf((*r)[4].status), "ProvisionedThroughputExceededException");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE((*store)->Put("s", batch[0]).ok());
}

}  // namespace
}  // namespace saleslake::stream
