// The console's streams and events views (console_ops.h): system.streams read back per stream,
// the tails of JSON-lines files, and the events page's view of a lake (rules from pipeline.yaml,
// newest events first, dead letters split between rules and topics, no confirmation tokens).
#include "server/internal/console_ops.h"
#include "server/internal/kinesis_api.h"

#include <gtest/gtest.h>

#include "io/local_store.h"
#include "sql/exec/executor.h"  // MemoryCatalog
#include "support/test_support.h"

namespace saleslake::server::internal {
namespace {

using nlohmann::json;

std::vector<Value> ShardRow(const std::string& stream, const std::string& shard, int64_t records, bool delivered) {
  return {Value::Varchar(stream), Value::Varchar(shard), Value::Varchar("ACTIVE"), Value::Varchar("PROVISIONED"),
          Value::Int64(24), Value::Timestamp(1'764'957'600'000'000), Value::Int64(records),
          delivered ? Value::Varchar("sales_data") : Value::Null(DataType::Varchar()),
          delivered ? Value::Int64(7) : Value::Null(DataType::Int64()),
          delivered ? Value::Int64(700) : Value::Null(DataType::Int64())};
}

TEST(ConsoleOpsTest, StreamsGroupTheShardsOfEachStreamAndSumTheirRecords) {
  auto tables = std::make_shared<sql::SystemTables>();
  auto engine = sql::Engine::Open({.catalog = std::make_shared<sql::MemoryCatalog>(), .system_tables = tables});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  // Without the table (a server without streams): kNotFound.
  EXPECT_EQ(StreamsJson(**engine).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(tables->Register("system.streams", SystemStreamsSchema(), [] {
    return Result<sql::SystemTableRows>(sql::SystemTableRows{ShardRow("b-stream", "shardId-000000000001", 5, false),
                                                             ShardRow("a-stream", "shardId-000000000000", 3, true),
                                                             ShardRow("b-stream", "shardId-000000000000", 2, false),
                                                             ShardRow("a-stream", "shardId-000000000001", 4, true)});
  }).ok());
  auto j = StreamsJson(**engine);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  const json& s = (*j)["streams"];
  ASSERT_EQ(s.size(), 2u) << j->dump();
  EXPECT_EQ(s[0]["name"], "a-stream");
  EXPECT_EQ(s[0]["records"], 7);
  EXPECT_EQ(s[0]["delivery_table"], "sales_data");
  EXPECT_EQ(s[0]["backlog_records"], 7);
  EXPECT_EQ(s[0]["backlog_bytes"], 700);
  EXPECT_EQ(s[0]["retention_hours"], 24);
  ASSERT_EQ(s[0]["shards"].size(), 2u);
  EXPECT_EQ(s[0]["shards"][0], (json{{"shard_id", "shardId-000000000000"}, {"records", 3}}));
  EXPECT_EQ(s[1]["name"], "b-stream");
  EXPECT_EQ(s[1]["records"], 7);
  EXPECT_TRUE(s[1]["delivery_table"].is_null());
  EXPECT_TRUE(s[1]["backlog_records"].is_null());
  EXPECT_EQ(s[1]["shards"][1]["records"], 5);
}

class ConsoleEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.path(), true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void Put(const std::string& key, const std::string& text) { ASSERT_TRUE(store_->Put(key, text).ok()) << key; }

  saleslake::testing::TempDir dir_;
  std::unique_ptr<io::LocalStore> store_;
};

TEST_F(ConsoleEventsTest, TailKeepsTheLastCompleteLinesAndCountsThem) {
  size_t total = 99;
  auto none = TailJsonLines(*store_, "absent.jsonl", 5, &total);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(total, 0u);
  // A torn last line (an append in progress) is not a line yet; a line that is not JSON is
  // counted but not shown.
  Put("log.jsonl", "{\"n\":1}\n{\"n\":2}\nnot json\n{\"n\":4}\n{\"n\":5");
  auto tail = TailJsonLines(*store_, "log.jsonl", 3, &total);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(total, 4u);
  EXPECT_EQ(*tail, json::parse(R"([{"n":2},{"n":4}])"));
}

TEST_F(ConsoleEventsTest, EventsPageShowsRulesNewestEventsDeadLettersAndTopicsWithoutTokens) {
  Put("pipeline.yaml", R"(rules:
  - name: crawl-uploads
    pattern: {type: [object.created]}
    targets:
      - crawler: sales_raw
  - name: nightly
    schedule: rate(1 day)
    targets:
      - command: /bin/true
topics:
  - name: pipeline-alerts
    subscriptions:
      - protocol: file
        endpoint: _system/alerts/a.jsonl
)");
  std::string journal;
  for (int i = 1; i <= 60; ++i) journal += "{\"id\":\"e" + std::to_string(i) + "\",\"type\":\"object.created\",\"time\":\"t\"}\n";
  Put("_system/events.jsonl", journal);
  Put("_system/events/runs/nightly.jsonl", "{\"event\":\"e1\",\"attempt\":1,\"exit_code\":1}\n{\"event\":\"e1\",\"attempt\":2,\"exit_code\":0}\n");
  Put("_system/dlq/nightly.jsonl", "{\"rule\":\"nightly\",\"reason\":\"exit 1\"}\n");
  Put("_system/dlq/sns-pipeline-alerts.jsonl", "{\"reason\":\"HTTP 500\"}\n{\"reason\":\"HTTP 502\"}\n");
  Put("_system/sns/state.json", R"({"topics": [{"name": "pipeline-alerts", "declared": true}],
    "subscriptions": [{"arn": "arn:aws:sns:us-east-1:0:pipeline-alerts:1", "topic_arn": "arn:aws:sns:us-east-1:0:pipeline-alerts",
      "protocol": "https", "endpoint": "https://example.com/h", "confirmed": false, "declared": false, "token": "secret-token"}]})");

  auto all = EventsJson(*store_, 50, true, true);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  const json& j = *all;
  ASSERT_EQ(j["rules"].size(), 2u) << j.dump();
  EXPECT_EQ(j["rules"][0]["name"], "crawl-uploads");
  EXPECT_EQ(j["rules"][0]["pattern"], json::parse(R"({"type": ["object.created"]})"));
  EXPECT_EQ(j["rules"][0]["targets"][0], (json{{"kind", "crawler"}, {"name", "sales_raw"}}));
  EXPECT_EQ(j["rules"][1]["schedule"], "rate(1 day)");
  EXPECT_EQ(j["rules"][1]["runs_total"], 2);
  EXPECT_EQ(j["rules"][1]["runs"][0]["attempt"], 2);  // newest first
  EXPECT_EQ(j["events_total"], 60);
  ASSERT_EQ(j["events"].size(), 50u);
  EXPECT_EQ(j["events"][0]["id"], "e60");
  EXPECT_EQ(j["events"][49]["id"], "e11");
  ASSERT_EQ(j["dead_letters"].size(), 2u);
  EXPECT_EQ(j["dead_letters"][0]["name"], "nightly");
  EXPECT_EQ(j["dead_letters"][1]["name"], "pipeline-alerts");
  EXPECT_EQ(j["dead_letters"][1]["total"], 2);
  EXPECT_EQ(j["dead_letters"][1]["recent"][0]["reason"], "HTTP 502");
  ASSERT_EQ(j["topics"].size(), 1u);
  ASSERT_EQ(j["subscriptions"].size(), 1u);
  EXPECT_EQ(j["subscriptions"][0]["endpoint"], "https://example.com/h");
  EXPECT_EQ(j.dump().find("secret-token"), std::string::npos);

  // Only what the principal may see: topics without rules, and the other way round.
  auto topics_only = EventsJson(*store_, 50, false, true);
  ASSERT_TRUE(topics_only.ok());
  EXPECT_FALSE(topics_only->contains("rules"));
  EXPECT_FALSE(topics_only->contains("events"));
  ASSERT_EQ((*topics_only)["dead_letters"].size(), 1u);
  EXPECT_EQ((*topics_only)["dead_letters"][0]["name"], "pipeline-alerts");
  auto rules_only = EventsJson(*store_, 50, true, false);
  ASSERT_TRUE(rules_only.ok());
  EXPECT_FALSE(rules_only->contains("subscriptions"));
  ASSERT_EQ((*rules_only)["dead_letters"].size(), 1u);
  EXPECT_EQ((*rules_only)["dead_letters"][0]["name"], "nightly");
}

}  // namespace
}  // namespace saleslake::server::internal

namespace saleslake::server::internal {
namespace {

// The page's SQL tokenizer (web/console/sql_highlight.js), run by node outside a browser; the
// browser test checks the overlay and that markup in SQL stays text.
TEST(ConsoleWebTest, SqlTokenizerSplitsKeywordsStringsNumbersCommentsAndIdentifiers) {
  auto r = saleslake::testing::RunProgram(
      {"node", "--no-warnings", std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/sql_highlight_check.mjs"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("sql highlight ok"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace saleslake::server::internal
