// The HTTP layer in process: which requests are answered where (I/O thread or worker pool).
#include <gtest/gtest.h>

#include "common/clock.h"
#include "io/local_store.h"
#include "server/server.h"
#include "server/server_test_util.h"

namespace saleslake::server {
namespace {

using saleslake::testing::HttpReply;
using saleslake::testing::Key;
using saleslake::testing::RawExchange;
using saleslake::testing::SignedRequest;

std::string ObjectPolicy(const char* effect) {
  return std::string(R"({"Version":"2012-10-17","Statement":[{"Effect":")") + effect +
         R"(","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"}]})";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_path_ = dir_.Join("lake");
    auto init = saleslake::testing::RunSaleslakeIn(lake_path_, {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto lake = io::LocalStore::Open(lake_path_, /*create=*/false);
    ASSERT_TRUE(lake.ok()) << lake.status().ToString();
    lake_ = std::move(*lake);
    ASSERT_TRUE(lake_->Put("raw_data/small.csv", "id\n1\n").ok());
  }

  // A server whose worker pool takes no request at all: everything handed to it gets 503.
  void StartWithNoQueue() {
    ServerOptions o;
    o.port = 0;
    o.lake = lake_.get();
    o.no_auth = true;
    o.access_log = "";
    o.max_queued_requests = 0;
    auto server = Server::Start(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  // A server with IAM on `clock` (also the gate's clock).
  void StartWithIam(Clock* clock) {
    ServerOptions o;
    o.port = 0;
    o.lake = lake_.get();
    o.access_log = "";
    o.clock = clock;
    auto server = Server::Start(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  saleslake::testing::TempDir dir_;
  std::string lake_path_;
  std::unique_ptr<io::LocalStore> lake_;
  ManualClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<Server> server_;
};

TEST_F(HttpServerTest, AnObjectGetOverALocalLakeIsAnsweredWithoutTheWorkerPool) {
  StartWithNoQueue();
  int port = server_->port();
  HttpReply get = RawExchange(port, "GET /my-analytics-bucket/raw_data/small.csv HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.body, "id\n1\n");
  HttpReply head = RawExchange(port, "HEAD /my-analytics-bucket/raw_data/small.csv HTTP/1.1\r\nHost: x\r\n\r\n",
                               10000, /*head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], "5");
  // A missing object is answered there too, in S3's format.
  HttpReply missing = RawExchange(port, "GET /my-analytics-bucket/raw_data/none.csv HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("<Code>NoSuchKey</Code>"), std::string::npos) << missing.body;
  // Everything else goes to the pool, which here refuses it: a listing, a PUT, a JSON API call.
  HttpReply list = RawExchange(port, "GET /my-analytics-bucket?list-type=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(list.status, 503);
  HttpReply put = RawExchange(port, "PUT /my-analytics-bucket/raw_data/b.csv HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Length: 2\r\n\r\nab");
  EXPECT_EQ(put.status, 503);
  EXPECT_NE(put.body.find("SlowDown"), std::string::npos) << put.body;
  HttpReply acl = RawExchange(port, "GET /my-analytics-bucket/raw_data/small.csv?tagging HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(acl.status, 503);
}

// The gate looks at the bucket policy's file at most once a second of its clock (a stat per
// request was 2.4% of a small GET's CPU), and at once after the server itself wrote it.
TEST_F(HttpServerTest, TheBucketPolicyIsLookedAtOnceASecondAndAtOnceAfterAPutThroughTheServer) {
  Key key = saleslake::testing::CreateUserWithKey(
      lake_path_, "reader", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})");
  ManualClock& clock = clock_;  // outlives the server (TearDown stops it)
  StartWithIam(&clock);
  int port = server_->port();
  auto get = [&] { return RawExchange(port, SignedRequest("GET", "/my-analytics-bucket/raw_data/small.csv", port, key)); };
  EXPECT_EQ(get().status, 200);
  // Through the server: in force for the very next request.
  HttpReply put = RawExchange(port, SignedRequest("PUT", "/my-analytics-bucket?policy", port, key, ObjectPolicy("Deny")));
  ASSERT_EQ(put.status, 204) << put.body;
  EXPECT_EQ(get().status, 403);
  // Behind the server's back: seen once the clock has moved on by a second.
  ASSERT_TRUE(lake_->Put("_system/s3/bucket-policy.json", ObjectPolicy("Allow")).ok());
  EXPECT_EQ(get().status, 403);
  clock.Advance(std::chrono::milliseconds(1100));
  EXPECT_EQ(get().status, 200);
  // A delete through the server, at once too.
  ASSERT_TRUE(lake_->Put("_system/s3/bucket-policy.json", ObjectPolicy("Deny")).ok());
  clock.Advance(std::chrono::milliseconds(1100));
  EXPECT_EQ(get().status, 403);
  HttpReply del = RawExchange(port, SignedRequest("DELETE", "/my-analytics-bucket?policy", port, key));
  ASSERT_EQ(del.status, 204) << del.body;
  EXPECT_EQ(get().status, 200);
}

}  // namespace
}  // namespace saleslake::server
