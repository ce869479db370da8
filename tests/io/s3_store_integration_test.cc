// S3Store against a real S3 server: `saleslake serve` on a free loopback port, the lake's admin
// key from `saleslake init`. Round trips, ranged reads, paging, multipart, DeleteObjects, the
// put-if-absent race and reads pinned to the version they opened.
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "io/internal/aws_config.h"
#include "io/s3_store.h"
#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::io {
namespace {

using namespace saleslake::testing;

// The value, or the error as text (a failed expectation then shows why).
std::string V(const Result<std::string>& r) { return r.ok() ? *r : "error: " + r.status().ToString(); }

class S3StoreServe : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunSaleslakeIn(dir_.Join("lake"), {"init"}).exit_code, 0);
    std::string error;
    ASSERT_TRUE(server_.Start(dir_.Join("lake"), {"--access-log", dir_.Join("access.log")}, &error)) << error;
    auto ini = internal::ParseAwsIni(ReadFile(dir_.Join("lake/_system/admin-credentials")));
    key_id_ = ini["saleslake"]["aws_access_key_id"];
    secret_ = ini["saleslake"]["aws_secret_access_key"];
    ASSERT_FALSE(key_id_.empty());
  }
  std::unique_ptr<S3Store> Open(const std::string& prefix = "s3test") {
    S3Options o;
    o.bucket = "my-analytics-bucket";
    o.prefix = prefix;
    o.endpoint = server_.url();
    o.path_style = true;
    o.access_key_id = key_id_;
    o.secret_access_key = secret_;
    o.multipart_threshold = 5u << 20;
    o.part_size = 5u << 20;
    o.sleep_ms = [](int64_t) {};
    auto s = S3Store::Open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  TempDir dir_;
  ServerProcess server_;
  std::string key_id_, secret_;
};

TEST_F(S3StoreServe, RoundTripRangesListAndDelete) {
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->uri(), "s3://my-analytics-bucket/s3test");
  ASSERT_TRUE(store->Put("raw_data/a b.csv", "0123456789").ok());
  ASSERT_TRUE(store->Put("raw_data/x/y.csv", "y").ok());
  ASSERT_TRUE(store->Put("catalog/t.json", "{}").ok());
  // The object is a file of the served lake, under the prefix.
  EXPECT_EQ(ReadFile(dir_.Join("lake/s3test/raw_data/a b.csv")), "0123456789");

  EXPECT_EQ(V(store->Get("raw_data/a b.csv")), "0123456789");
  EXPECT_EQ(V(store->GetRange("raw_data/a b.csv", 3, 4)), "3456");
  EXPECT_EQ(V(store->GetRange("raw_data/a b.csv", 8, 100)), "89");
  EXPECT_EQ(V(store->GetRange("raw_data/a b.csv", 10, 5)), "");
  EXPECT_EQ(store->Get("raw_data/none.csv").status().code(), StatusCode::kNotFound);

  auto info = store->Stat("raw_data/a b.csv");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 10u);
  EXPECT_FALSE(info->etag.empty());
  auto list = store->List("raw_data/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key, "raw_data/a b.csv");
  EXPECT_EQ((*list)[0].etag, info->etag);          // LIST and HEAD agree
  EXPECT_EQ((*list)[0].mtime_ns, info->mtime_ns);  // (change detection compares them)
  EXPECT_EQ((*list)[1].key, "raw_data/x/y.csv");
  EXPECT_EQ(store->List("")->size(), 3u);

  auto f = store->OpenRead("raw_data/a b.csv");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(V((*f)->ReadString(6, 4)), "6789");
  EXPECT_EQ(V((*f)->ReadString(0, 2)), "01");
  EXPECT_FALSE((*f)->ReadString(8, 3).ok());  // past the end

  EXPECT_TRUE(store->Delete("raw_data/x/y.csv").ok());
  EXPECT_EQ(store->Delete("raw_data/x/y.csv").code(), StatusCode::kNotFound);
  EXPECT_FALSE(*store->Exists("raw_data/x/y.csv"));
  ASSERT_TRUE(store->DeleteMany({"raw_data/a b.csv", "catalog/t.json", "raw_data/never.csv"}).ok());
  EXPECT_TRUE(store->List("")->empty());
}

TEST_F(S3StoreServe, ManyKeysArePagedThrough) {
  auto store = Open();
  ASSERT_TRUE(store);
  // The server pages at 1000 keys: 1003 objects need two pages.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 1003; i += 4) {
        char name[32];
        std::snprintf(name, sizeof name, "many/k%05d", i);
        if (!store->Put(name, "v").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  auto list = store->List("many/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1003u);
  EXPECT_EQ(list->front().key, "many/k00000");
  EXPECT_EQ(list->back().key, "many/k01002");
  std::vector<std::string> keys;
  for (const auto& o : *list) keys.push_back(o.key);
  ASSERT_TRUE(store->DeleteMany(keys).ok());
  EXPECT_TRUE(store->List("many/")->empty());
}

TEST_F(S3StoreServe, LargeWritesGoMultipartAndAppearOnlyOnCommit) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::string big(11u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
  {
    auto out = store->OpenWrite("processed_data/big.bin");
    ASSERT_TRUE(out.ok());
    for (size_t off = 0; off < big.size(); off += 1u << 20)
      ASSERT_TRUE((*out)->Append(std::string_view(big).substr(off, 1u << 20)).ok());
    EXPECT_FALSE(*store->Exists("processed_data/big.bin"));  // parts are not the object
    ASSERT_TRUE((*out)->Commit().ok());
  }
  auto info = store->Stat("processed_data/big.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, big.size());
  EXPECT_NE(info->etag.find("-3"), std::string::npos) << info->etag;  // a 3-part multipart ETag
  EXPECT_EQ(V(store->Get("processed_data/big.bin")), big);
  auto f = store->OpenRead("processed_data/big.bin");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(V((*f)->ReadString(big.size() - 8, 8)), big.substr(big.size() - 8));   // a footer read
  EXPECT_EQ(V((*f)->ReadString(5u << 20, 1u << 20)), big.substr(5u << 20, 1u << 20));  // a column chunk

  {
    // Dropped without Commit: nothing appears (the upload is aborted).
    auto out = store->OpenWrite("processed_data/abandoned.bin");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append(big).ok());
  }
  EXPECT_FALSE(*store->Exists("processed_data/abandoned.bin"));
  // Put of a large value takes the same multipart path.
  ASSERT_TRUE(store->Put("processed_data/big2.bin", big).ok());
  EXPECT_EQ(store->Stat("processed_data/big2.bin")->size, big.size());
}

TEST_F(S3StoreServe, PutIfAbsentHasExactlyOneWinner) {
  auto store = Open();
  ASSERT_TRUE(store);
  for (int round = 0; round < 5; ++round) {
    std::string key = "catalog/t/metadata/v" + std::to_string(round) + ".json";
    std::atomic<int> won{0}, lost{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        Status s = store->PutIfAbsent(key, "writer " + std::to_string(t));
        if (s.ok()) ++won;
        else if (s.code() == StatusCode::kAlreadyExists) ++lost;
        else ++other;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(lost.load(), 5);
    EXPECT_EQ(other.load(), 0);
  }
  // A second store (another process's view) sees the same.
  auto other = Open();
  EXPECT_EQ(other->PutIfAbsent("catalog/t/metadata/v0.json", "late").code(), StatusCode::kAlreadyExists);
}

TEST_F(S3StoreServe, AReadNeverMixesTwoVersions) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::string v1(1u << 20, '1');
  ASSERT_TRUE(store->Put("raw_data/v.bin", v1).ok());
  auto f = store->OpenRead("raw_data/v.bin");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(V((*f)->ReadString(0, 10)), std::string(10, '1'));
  ASSERT_TRUE(store->Put("raw_data/v.bin", std::string(1u << 20, '2')).ok());
  auto late = (*f)->ReadString(900'000, 10);  // outside the cached window: a new GET
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kAborted);
  EXPECT_NE(late.status().message().find("changed while it was being read"), std::string::npos);
  EXPECT_NE(late.status().message().find("raw_data/v.bin"), std::string::npos);
}

// What reads cost in requests and bytes, from the server's own access log: opening an object
// is one GET of its end (no HEAD), reads in that end cost nothing, a read reaching into it
// fetches only what precedes it, any other read fetches exactly its range, and small reads of
// the object's start share one window.
TEST_F(S3StoreServe, OpeningFetchesTheEndOnceAndReadsTakeOnlyTheirRanges) {
  auto store = Open();
  ASSERT_TRUE(store);
  const size_t size = 1u << 20;
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i % 251);
  ASSERT_TRUE(store->Put("processed_data/f.parquet", data).ok());

  auto f = store->OpenRead("processed_data/f.parquet");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->size(), size);
  EXPECT_EQ(V((*f)->ReadString(size - 8, 8)), data.substr(size - 8));             // the end: opened with it
  EXPECT_EQ(V((*f)->ReadString(size - 6000, 5000)), data.substr(size - 6000, 5000));
  EXPECT_EQ(V((*f)->ReadString(size - 20000, 18000)), data.substr(size - 20000, 18000));  // only what precedes the end
  EXPECT_EQ(V((*f)->ReadString(100000, 300000)), data.substr(100000, 300000));    // exactly its range
  EXPECT_EQ(V((*f)->ReadString(500000, 100)), data.substr(500000, 100));          // a small chunk: exactly
  EXPECT_EQ(V((*f)->ReadString(0, 4)), data.substr(0, 4));                        // the start: a window
  EXPECT_EQ(V((*f)->ReadString(0, 1000)), data.substr(0, 1000));                  // the same window
  EXPECT_EQ(server_.Stop(), 0);  // its access log is whole once it has stopped

  int gets = 0, heads = 0;
  uint64_t sent = 0;
  std::istringstream lines(ReadFile(dir_.Join("access.log")));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("processed_data/f.parquet") == std::string::npos) continue;
    if (line.find("\"method\":\"HEAD\"") != std::string::npos) ++heads;
    if (line.find("\"method\":\"GET\"") == std::string::npos) continue;
    ++gets;
    size_t at = line.find("\"bytes_out\":");
    ASSERT_NE(at, std::string::npos) << line;
    sent += std::stoull(line.substr(at + 12));
  }
  EXPECT_EQ(heads, 0);
  EXPECT_EQ(gets, 6);
  const uint64_t bodies = 2048 + (6000 - 2048) + (20000 - 2048) + 300000 + 100 + (64u << 10);
  EXPECT_GE(sent, bodies);
  EXPECT_LE(sent, bodies + 6 * 2000) << "headers of six answers at most";
}

TEST_F(S3StoreServe, WrongCredentialsAreDeniedNotRetried) {
  S3Options o;
  o.bucket = "my-analytics-bucket";
  o.prefix = "s3test";
  o.endpoint = server_.url();
  o.path_style = true;
  o.access_key_id = key_id_;
  o.secret_access_key = "not-the-secret";
  int sleeps = 0;
  o.sleep_ms = [&](int64_t) { ++sleeps; };
  auto store = S3Store::Open(std::move(o));
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("pipeline.yaml");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kPermissionDenied) << got.status().ToString();
  EXPECT_NE(got.status().message().find("SignatureDoesNotMatch"), std::string::npos) << got.status().ToString();
  EXPECT_EQ(sleeps, 0);
}

}  // namespace
}  // namespace saleslake::io
