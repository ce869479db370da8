// The split store of a server over a lake that is not local: the serving machine's keys go to
// the state directory, all others to the lake, and listings merge both.
#include "server/internal/served_lake.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "server/internal/gate.h"
#include "server/internal/s3.h"
#include "server/internal/util.h"
#include "server/test_request.h"
#include "support/test_support.h"

namespace saleslake::server::internal {
namespace {

class ServedLakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto lake = io::LocalStore::Open(lake_dir_.path(), false);
    auto state = io::LocalStore::Open(state_dir_.path(), false);
    ASSERT_TRUE(lake.ok() && state.ok());
    lake_ = std::move(*lake);
    state_ = std::move(*state);
    served_ = MakeServedLake(*lake_, *state_);
  }

  static bool FileExists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  }

  static std::vector<std::string> Keys(const Result<std::vector<io::ObjectInfo>>& listed) {
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok())
      for (const auto& o : *listed) keys.push_back(o.key);
    return keys;
  }

  saleslake::testing::TempDir lake_dir_, state_dir_;
  std::unique_ptr<io::LocalStore> lake_, state_;
  std::unique_ptr<io::ObjectStore> served_;
};

TEST_F(ServedLakeTest, RoutesTheServingMachinesKeysToTheStateDirectory) {
  EXPECT_TRUE(IsLocalStateKey("_system/audit/2026-01-01.jsonl"));
  EXPECT_TRUE(IsLocalStateKey("_system/events.jsonl"));
  EXPECT_TRUE(IsLocalStateKey("_system/events/done.jsonl"));
  EXPECT_TRUE(IsLocalStateKey("_system/s3/uploads/abc/part-00001"));
  EXPECT_TRUE(IsLocalStateKey("streams/sales/shard-0/seg"));
  // Shared with the CLI and other machines: the lake's.
  EXPECT_FALSE(IsLocalStateKey("_system/events/inbox/20260101T000000Z-0123.json"));  // a CLI's event
  EXPECT_FALSE(IsLocalStateKey("_system/iam/state-1.json"));
  EXPECT_FALSE(IsLocalStateKey("_system/locks/job-my-etl-job.lock"));
  EXPECT_FALSE(IsLocalStateKey("_system/s3/bucket-policy.json"));
  EXPECT_FALSE(IsLocalStateKey("raw_data/sales.csv"));
  EXPECT_FALSE(IsLocalStateKey("catalog/sales_data/metadata/v1.json"));

  ASSERT_TRUE(served_->Put("raw_data/a.csv", "x,y\n").ok());
  ASSERT_TRUE(served_->Append("_system/audit/d.jsonl", "{}\n").ok());
  ASSERT_TRUE(served_->Append("_system/events.jsonl", "{\"id\":\"1\"}\n").ok());
  ASSERT_TRUE(served_->PutIfAbsent("_system/locks/job-j.lock", "me").ok());
  EXPECT_TRUE(FileExists(lake_dir_.Join("raw_data/a.csv")));
  EXPECT_FALSE(FileExists(state_dir_.Join("raw_data/a.csv")));
  EXPECT_TRUE(FileExists(state_dir_.Join("_system/audit/d.jsonl")));
  EXPECT_FALSE(FileExists(lake_dir_.Join("_system/audit/d.jsonl")));
  EXPECT_TRUE(FileExists(state_dir_.Join("_system/events.jsonl")));
  EXPECT_TRUE(FileExists(lake_dir_.Join("_system/locks/job-j.lock")));

  // Every operation on a key reaches the same place.
  EXPECT_EQ(served_->Get("_system/audit/d.jsonl").ValueOr(""), "{}\n");
  EXPECT_TRUE(served_->Exists("_system/events.jsonl").ValueOr(false));
  EXPECT_EQ(served_->Stat("raw_data/a.csv").ValueOr(io::ObjectInfo{}).size, 4u);
  ASSERT_TRUE(served_->Delete("_system/audit/d.jsonl").ok());
  EXPECT_FALSE(FileExists(state_dir_.Join("_system/audit/d.jsonl")));
  EXPECT_EQ(served_->uri(), lake_->uri());
}

TEST_F(ServedLakeTest, ListingsMergeBothAndHideStaleStateKeysInTheLake) {
  ASSERT_TRUE(lake_->Put("_system/events/inbox/20260101T000000Z-1.json", "{}").ok());  // from a CLI
  ASSERT_TRUE(lake_->Put("_system/events/checkpoints/old.json", "stale").ok());   // never shown
  ASSERT_TRUE(lake_->Put("pipeline.yaml", "tables: []\n").ok());
  ASSERT_TRUE(state_->Put("_system/events/checkpoints/rules.json", "{}").ok());
  ASSERT_TRUE(state_->Put("_system/events.jsonl", "").ok());
  ASSERT_TRUE(state_->Put("streams/s/shard-0/0.log", "").ok());

  EXPECT_EQ(Keys(served_->List("_system/events/")),
            (std::vector<std::string>{"_system/events/checkpoints/rules.json",
                                      "_system/events/inbox/20260101T000000Z-1.json"}));
  EXPECT_EQ(Keys(served_->List("_system/events/checkpoints/")),
            (std::vector<std::string>{"_system/events/checkpoints/rules.json"}));
  EXPECT_EQ(Keys(served_->List("")),
            (std::vector<std::string>{"_system/events.jsonl", "_system/events/checkpoints/rules.json",
                                      "_system/events/inbox/20260101T000000Z-1.json", "pipeline.yaml",
                                      "streams/s/shard-0/0.log"}));
  EXPECT_EQ(Keys(served_->List("raw_data/")), std::vector<std::string>{});
  EXPECT_EQ(served_->Get("_system/events/checkpoints/old.json").status().code(), StatusCode::kNotFound);
}

// The S3 API over a lake that is not local: an object's body is read on the handler's worker
// (never left to the connection's I/O thread, where a round trip to S3 would stall every other
// connection); a local lake's body still streams from the file.
TEST_F(ServedLakeTest, GetObjectOfALakeElsewhereIsReadOnTheWorker) {
  std::string content(300 << 10, 'x');
  ASSERT_TRUE(lake_->Put("raw_data/a.csv", content).ok());
  std::unique_ptr<Gate> gate = MakeOpenGate();
  auto get = [&](S3Service& service, const std::string& range) -> HttpResponse {
    HttpRequest request = MakeRequest("GET", "/my-analytics-bucket/raw_data/a.csv");
    if (!range.empty()) request.headers.emplace("range", range);
    auto decoded = DecodeS3Request(request, "my-analytics-bucket");
    EXPECT_TRUE(std::holds_alternative<S3Request>(decoded));
    Outcome out = service.Handle(std::get<S3Request>(decoded), request, Principal{}, *gate);
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(out));
    return std::holds_alternative<HttpResponse>(out) ? std::get<HttpResponse>(out) : HttpResponse{};
  };
  S3Service elsewhere(served_.get(), state_.get(), "my-analytics-bucket");
  HttpResponse whole = get(elsewhere, "");
  EXPECT_FALSE(whole.file.has_value());
  EXPECT_TRUE(whole.body == content);
  HttpResponse part = get(elsewhere, "bytes=10-19");
  EXPECT_EQ(part.status, 206);
  EXPECT_FALSE(part.file.has_value());
  EXPECT_EQ(part.body, "xxxxxxxxxx");
  S3Service local(lake_.get(), lake_.get(), "my-analytics-bucket");
  HttpResponse streamed = get(local, "");
  ASSERT_TRUE(streamed.file.has_value());
  EXPECT_EQ(streamed.file->length, content.size());
}

// An object written to a local lake outside S3 (a job's Parquet file) has no recorded ETag: the
// first GET hashes it (the MD5, as S3 computes it). A large one's ETag is then kept in a sidecar,
// so a restarted server reads it from there instead of hashing the whole object again (the
// first query after `serve` started hashed every file it read); a small one's is not kept
// (hashing it again is cheaper than a durable write).
TEST_F(ServedLakeTest, TheHashedEtagOfALargeObjectIsKeptForTheNextServer) {
  std::string large(2 << 20, 'p'), small(100 << 10, 's');
  ASSERT_TRUE(lake_->Put("processed_data/t/part-1.parquet", large).ok());
  ASSERT_TRUE(lake_->Put("processed_data/t/part-2.parquet", small).ok());
  std::unique_ptr<Gate> gate = MakeOpenGate();
  auto etag_of = [&](S3Service& service, const std::string& key) -> std::string {
    HttpRequest request = MakeRequest("GET", "/my-analytics-bucket/" + key);
    request.headers.emplace("range", "bytes=0-9");
    auto decoded = DecodeS3Request(request, "my-analytics-bucket");
    EXPECT_TRUE(std::holds_alternative<S3Request>(decoded));
    Outcome out = service.Handle(std::get<S3Request>(decoded), request, Principal{}, *gate);
    if (!std::holds_alternative<HttpResponse>(out)) return "";
    for (const auto& [name, value] : std::get<HttpResponse>(out).headers)
      if (name == "ETag") return value;
    return "";
  };
  {
    S3Service first(lake_.get(), lake_.get(), "my-analytics-bucket");
    EXPECT_EQ(etag_of(first, "processed_data/t/part-1.parquet"), "\"" + HexEncode(Md5(large)) + "\"");
    EXPECT_EQ(etag_of(first, "processed_data/t/part-2.parquet"), "\"" + HexEncode(Md5(small)) + "\"");
  }
  const std::string sidecar = "_system/s3/meta/processed_data/t/part-1.parquet.json";
  auto kept = lake_->Get(sidecar);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_NE(kept->find(HexEncode(Md5(large))), std::string::npos) << *kept;
  EXPECT_FALSE(lake_->Exists("_system/s3/meta/processed_data/t/part-2.parquet.json").ValueOr(true));
  // The next server takes the kept ETag as it is (here one we changed): it did not hash again.
  std::string changed = *kept;
  changed.replace(changed.find(HexEncode(Md5(large))), 32, std::string(32, 'a'));
  ASSERT_TRUE(lake_->Put(sidecar, changed).ok());
  S3Service second(lake_.get(), lake_.get(), "my-analytics-bucket");
  EXPECT_EQ(etag_of(second, "processed_data/t/part-1.parquet"), "\"" + std::string(32, 'a') + "\"");
}

}  // namespace
}  // namespace saleslake::server::internal
