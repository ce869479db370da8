#include "stream/metrics.h"

#include <nlohmann/json.hpp>

#include "stream/delivery.h"
#include "support/test_support.h"

namespace saleslake::stream {
namespace {

using saleslake::testing::TempDir;

constexpr int64_t kStart = 1'700'000'040'000;  // a minute boundary

class StreamMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    metrics_.reset();
    store_.reset();
    StoreOptions o;
    o.root = dir_.Join("streams");
    o.clock = &clock_;
    auto s = StreamStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    MetricsOptions mo;
    mo.clock = &clock_;
    metrics_ = std::make_unique<StreamMetrics>(store_.get(), mo);
  }
  void Put(const std::string& stream, const std::vector<std::string>& datas) {
    std::vector<PutEntry> entries;
    for (size_t i = 0; i < datas.size(); ++i) entries.push_back({"k" + std::to_string(i), "", datas[i]});
    auto r = store_->PutBatch(stream, entries);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const auto& x : *r) ASSERT_TRUE(x.status.ok());
  }
  static std::string Sale(const std::string& region, const std::string& amount, const std::string& status) {
    return R"({"purchase_date":"2025-08-01","customer_id":"C1","product_id":"P1","amount":)" + amount +
           R"(,"region":")" + region + R"(","status":")" + status + R"("})";
  }
  std::vector<MetricsRow> Rows(const std::string& stream = "") {
    auto r = metrics_->Rows(stream);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<MetricsRow>{};
  }

  TempDir dir_;
  ManualClock clock_{FromEpochMs(kStart + 5'000)};
  std::unique_ptr<StreamStore> store_;
  std::unique_ptr<StreamMetrics> metrics_;
};

TEST_F(StreamMetricsTest, CountsAcknowledgedRecordsPerMinuteAndRegionAtTheNextRead) {
  ASSERT_TRUE(store_->CreateStream("sales-events", 4, false).ok());
  EXPECT_TRUE(Rows().empty());
  Put("sales-events", {Sale("Africa", "10.50", "COMPLETED"), Sale("Africa", "\"2.25\"", " refunded "),
                       Sale("Oceania", "5000", "OUT"), "not json", "[1,2]",
                       R"({"region":"Africa","amount":" 1.25 ","status":"PENDING"})",
                       R"({"amount":"7","status":"COMPLETED"})"});
  // Visible at the next read: no delivery, no background work.
  auto rows = Rows("sales-events");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].region, std::optional<std::string>("Africa"));
  EXPECT_EQ(rows[0].window_start_ms, kStart);
  EXPECT_EQ(rows[0].orders, 3);
  EXPECT_DOUBLE_EQ(rows[0].revenue, 14.0);
  EXPECT_EQ(rows[0].refunds, 1);
  EXPECT_EQ(rows[0].out_rows, 0);
  EXPECT_EQ(rows[1].region, std::optional<std::string>("Oceania"));
  EXPECT_EQ(rows[1].out_rows, 1);
  EXPECT_DOUBLE_EQ(rows[1].revenue, 5000.0);
  // No region: the object without one and the two records delivery quarantines.
  EXPECT_FALSE(rows[2].region.has_value());
  EXPECT_EQ(rows[2].orders, 1);
  EXPECT_EQ(rows[2].invalid, 2);
  EXPECT_DOUBLE_EQ(rows[2].revenue, 7.0);

  // The next minute is a new window; the earlier one keeps its figures.
  clock_.Advance(std::chrono::seconds(60));
  Put("sales-events", {Sale("Africa", "1", "COMPLETED")});
  rows = Rows();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3].window_start_ms, kStart + 60'000);
  EXPECT_EQ(rows[3].orders, 1);
  EXPECT_EQ(rows[0].orders, 3);
}

TEST_F(StreamMetricsTest, SurviveARestartRebuiltFromTheLogAndForgetPastTheHorizon) {
  ASSERT_TRUE(store_->CreateStream("s", 2, false).ok());
  Put("s", {Sale("Asia Pacific", "1", "COMPLETED"), Sale("Asia Pacific", "2", "COMPLETED")});
  clock_.Advance(std::chrono::hours(12));
  Put("s", {Sale("Africa", "3", "COMPLETED")});
  auto before = Rows();
  ASSERT_EQ(before.size(), 2u);
  Reopen();
  auto after = Rows();
  ASSERT_EQ(after.size(), 2u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].window_start_ms, before[i].window_start_ms);
    EXPECT_EQ(after[i].region, before[i].region);
    EXPECT_EQ(after[i].orders, before[i].orders);
    EXPECT_DOUBLE_EQ(after[i].revenue, before[i].revenue);
  }
  // 24 h after the first put its window is gone, for the running metrics and after a restart.
  clock_.Advance(std::chrono::hours(12) + std::chrono::minutes(1));
  auto later = Rows();
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].region, std::optional<std::string>("Africa"));
  Reopen();
  later = Rows();
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].orders, 1);
}

TEST_F(StreamMetricsTest, CsvStreamsAndReCreatedOrDeletedStreams) {
  ASSERT_TRUE(store_->CreateStream("lines", 1, false).ok());
  metrics_->Format("lines", "csv", {"purchase_date", "customer_id", "product_id", "amount", "region", "status"});
  Put("lines", {"2025-08-01,C1,\"P1, gift\",12.5,Middle East,REFUNDED", "2025-08-01,C2,P2,,Middle East"});
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].region, std::optional<std::string>("Middle East"));
  EXPECT_EQ(rows[0].orders, 2);
  EXPECT_DOUBLE_EQ(rows[0].revenue, 12.5);
  EXPECT_EQ(rows[0].refunds, 1);
  // A stream deleted and created again starts from nothing.
  ASSERT_TRUE(store_->DeleteStream("lines").ok());
  EXPECT_TRUE(Rows().empty());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->CreateStream("lines", 1, false).ok());
  Put("lines", {"2025-08-01,C3,P3,1,Africa,COMPLETED"});
  rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].region, std::optional<std::string>("Africa"));
}

TEST(RecordFieldsTest, JsonAndCsvAsDeliveryStagesThem) {
  std::vector<std::optional<std::string>> f;
  std::string reason;
  const std::vector<std::string> cols = {"a", "b", "c"};
  ASSERT_TRUE(RecordFields("json", R"({"a":"x","b":1.5,"z":true})", cols, &f, &reason));
  EXPECT_EQ(f[0], std::optional<std::string>("x"));
  EXPECT_EQ(f[1], std::optional<std::string>("1.5"));
  EXPECT_FALSE(f[2].has_value());
  EXPECT_FALSE(RecordFields("json", "nope", cols, &f, &reason));
  EXPECT_EQ(reason, "not JSON");
  EXPECT_FALSE(RecordFields("json", "3", cols, &f, &reason));
  EXPECT_EQ(reason, "not a JSON object");
  ASSERT_TRUE(RecordFields("csv", "\"q \"\"x\"\", y\",,z", cols, &f, &reason));
  EXPECT_EQ(f[0], std::optional<std::string>("q \"x\", y"));
  EXPECT_EQ(f[1], std::optional<std::string>(""));
  EXPECT_EQ(f[2], std::optional<std::string>("z"));
}

// RecordFields reads flat objects without a JSON tree; whatever it takes or leaves to the tree,
// the fields and reasons are the tree's: compared here with the tree's reading itself.
TEST(RecordFieldsTest, FlatObjectsReadAsTheTreeReadsThem) {
  const std::vector<std::string> cols = {"amount", "region", "status", "n"};
  auto tree = [&](const std::string& text, std::vector<std::optional<std::string>>* out) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return std::string("not JSON");
    if (!j.is_object()) return std::string("not a JSON object");
    out->assign(cols.size(), std::nullopt);
    for (size_t c = 0; c < cols.size(); ++c) {
      auto v = j.find(cols[c]);
      if (v == j.end() || v->is_null()) continue;
      (*out)[c] = v->is_string() ? v->get<std::string>() : v->dump();
    }
    return std::string();
  };
  const std::vector<std::string> samples = {
      R"({"purchase_date":"2025-08-01","customer_id":"CUST-1","amount":123.45,"region":"North America","status":"COMPLETED"})",
      R"({})", R"( { "amount" : 12.50 , "region":"X" } )", R"({"amount":1e2,"n":-0})", R"({"amount":-12,"n":12345678901234567890})",
      R"({"amount":99999999999999999999999,"n":0.1})", R"({"amount":"12.5","status":null,"region":true,"n":false})",
      R"({"region":"a","region":"b"})", R"({"region":"a"b"})", R"({"region":"é"})", "{\"region\":\"\xc3\xa9\"}",
      "{\"region\":\"\xff\"}", R"({"region":{"x":1},"n":[1,2]})", R"({"amount":01})", R"({"amount":1.})", R"({"amount":.5})",
      R"({"amount":-})", R"({"amount":1e})", R"({"a":1,})", R"({"a" 1})", R"({"a":1}x)", R"({"a":1} )", R"({"a":nul})",
      R"({"a":nullx})", R"({"a":true})", R"("text")", "3", "[1]", "nope", "", "{", "{\"region\":\"a\tb\"}",
      R"({"n":1.7976931348623157e309})", R"({"n":123.450000000000003})", R"({"n":-1.5E-3})",
      R"({"n":0})", R"({"n":-5})", R"({"n":123456789012345678})", R"({"n":-123456789012345678})",
      R"({"n":1234567890123456789})", R"({"n":1.5e-7})", R"({"n":1E+2})", R"({"n":0.000001})", R"({"n":1e-400})",
      R"({"n":100.00})", R"({"n":5.0})", R"({"n":1e15})", R"({"n":1e16})", R"({"n":0.0001})", R"({"n":-0.0})",
  };
  for (const std::string& text : samples) {
    std::vector<std::optional<std::string>> got, want;
    std::string reason;
    const bool ok = RecordFields("json", text, cols, &got, &reason);
    const std::string want_reason = tree(text, &want);
    EXPECT_EQ(ok, want_reason.empty()) << text;
    if (ok) {
      EXPECT_EQ(got, want) << text;
    } else {
      EXPECT_EQ(reason, want_reason) << text;
    }
  }
}

}  // namespace
}  // namespace saleslake::stream
