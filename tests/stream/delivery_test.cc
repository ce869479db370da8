#include "stream/delivery.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "io/local_store.h"
#include "support/test_support.h"

namespace saleslake::stream {
namespace {

using saleslake::testing::ReadFile;
using saleslake::testing::TempDir;

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lake = io::LocalStore::Open(dir_.Join("lake"), true);
    ASSERT_TRUE(lake.ok());
    lake_ = std::move(*lake);
    StoreOptions o;
    o.root = dir_.Join("lake/streams");
    o.clock = &clock_;
    auto s = StreamStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->CreateStream("sales-events", 2, false).ok());
    spec_.stream = "sales-events";
    spec_.shards = 2;
    spec_.buffer_mb = 1;
    spec_.buffer_seconds = 60;
  }
  std::unique_ptr<Delivery> Make() {
    return std::make_unique<Delivery>(
        store_.get(), dir_.Join("lake/streams"), lake_.get(), spec_, std::vector<std::string>{"amount", "region"},
        [this](const std::string& key) -> Result<LoadReport> {
          loaded_.push_back(key);
          return LoadReport{"run-" + std::to_string(loaded_.size()), "succeeded", 1, 0};
        },
        &clock_);
  }
  void Put(size_t n, size_t bytes) {
    std::vector<PutEntry> entries;
    for (size_t i = 0; i < n; ++i) {
      entries.push_back({"k" + std::to_string(i), "", R"({"amount":1,"region":")" + std::string(bytes, 'x') + "\"}"});
    }
    ASSERT_TRUE(store_->PutBatch("sales-events", entries).ok());
  }

  TempDir dir_;
  ManualClock clock_{FromEpochMs(1'764'950'400'000)};  // 2025-12-05T16:00:00Z
  std::unique_ptr<io::LocalStore> lake_;
  std::unique_ptr<StreamStore> store_;
  DeliverySpec spec_;
  std::vector<std::string> loaded_;
};

TEST_F(DeliveryTest, DueAfterTheIntervalOrOnceTheBufferSizeIsReached) {
  auto d = Make();
  const int64_t last = ToEpochMs(clock_.Now());
  EXPECT_FALSE(d->Due(last));
  Put(100, 1000);  // ~100 KB: under buffer_mb
  EXPECT_FALSE(d->Due(last));
  EXPECT_GT(d->BacklogBytes(), 100u * 1000);
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_TRUE(d->Due(last));
  EXPECT_FALSE(d->Due(ToEpochMs(clock_.Now())));
  Put(1000, 1000);  // past 1 MB: due at once
  EXPECT_TRUE(d->Due(ToEpochMs(clock_.Now())));
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(d->Due(ToEpochMs(clock_.Now())));  // the backlog is what is left after 1 MB
}

TEST_F(DeliveryTest, EachDeliveryJournalsStreamDeliveredAndARunEntryOnceEvenWhenRedone) {
  auto d = Make();
  Put(10, 5);
  ASSERT_TRUE(store_->Put("sales-events", {"bad", "", "not json"}).ok());
  auto r = d->RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->records, 11u);
  EXPECT_EQ(r->staged, 10u);
  EXPECT_EQ(r->quarantined, 1u);
  ASSERT_EQ(loaded_.size(), 1u);
  std::string events = ReadFile(dir_.Join("lake/_system/events.jsonl"));
  size_t at = events.find("\"type\":\"stream.delivered\"");
  ASSERT_NE(at, std::string::npos) << events;
  auto line = nlohmann::json::parse(events.substr(events.rfind('\n', at) + 1, events.find('\n', at) - events.rfind('\n', at) - 1));
  EXPECT_EQ(line["stream"], "sales-events");
  EXPECT_EQ(line["records"], 11);
  EXPECT_EQ(line["job_run_id"], "run-1");
  const std::string run_id = line["run_id"];
  EXPECT_EQ(run_id.rfind("20251205T160000Z-", 0), 0u) << run_id;
  auto run = nlohmann::json::parse(ReadFile(dir_.Join("lake/_system/runs/stream:sales-events/" + run_id + ".json")));
  EXPECT_EQ(run["job"], "stream:sales-events");
  EXPECT_EQ(run["status"], "succeeded");
  EXPECT_EQ(run["rows_read"], 11);
  EXPECT_EQ(run["rows_quarantined"], 1);
  // Nothing new: no delivery, no event.
  r = d->RunOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records, 0u);
  EXPECT_EQ(ReadFile(dir_.Join("lake/_system/events.jsonl")), events);

  // A crash after the event and before the range was marked delivered redoes the same range:
  // the event comes again with the same id (consumers know it) and the run entry is rewritten.
  const std::string state_path = dir_.Join("lake/streams/sales-events/delivery.json");
  auto state = nlohmann::json::parse(ReadFile(state_path));
  nlohmann::json redo{{"committed", {0, 0}},
                      {"pending", {{"to", state["committed"]}, {"columns", {"amount", "region"}},
                                   {"planned_ms", 1'764'950'400'000}}}};
  saleslake::testing::WriteFile(state_path, redo.dump());
  r = d->RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->records, 11u);
  std::string again = ReadFile(dir_.Join("lake/_system/events.jsonl"));
  const std::string id = line["id"];
  size_t first = again.find(id), second = again.find(id, first + 1);
  EXPECT_NE(second, std::string::npos) << again;
  EXPECT_EQ(again.find(id, second + 1), std::string::npos);
  size_t runs = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.Join("lake/_system/runs/stream:sales-events"))) {
    runs += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(runs, 1u);
}

}  // namespace
}  // namespace saleslake::stream
