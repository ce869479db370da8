// What no polite client sends: path escapes, malformed bodies, bad ranges, unknown operations,
// oversized and truncated requests, idle and slowloris connections, and SIGKILL mid-write.
// The server must answer each with the protocol's error and keep serving everyone else.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    ASSERT_EQ(RunSaleslakeIn(lake_, {"init"}).exit_code, 0);
    WriteFile(dir_.Join("outside.txt"), "SECRET-OUTSIDE-THE-LAKE");
  }
  void Start(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--no-auth", "--access-log", dir_.Join("access.jsonl")});
    std::string err;
    ASSERT_TRUE(server_.Start(lake_, extra, &err)) << err;
  }
  HttpReply Do(const std::string& method, const std::string& target, const std::string& body = "",
               const std::string& extra_headers = "") {
    std::string raw = method + " " + target + " HTTP/1.1\r\nhost: 127.0.0.1\r\n" + extra_headers +
                      "content-length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return RawExchange(server_.port(), raw, 10000, method == "HEAD");
  }
  bool Healthy() { return Do("GET", "/healthz").status == 200; }

  TempDir dir_;
  std::string lake_;
  ServerProcess server_;
};

TEST_F(HostileTest, PathEscapesNeverLeaveTheLake) {
  Start();
  const char* escapes[] = {
      "/../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/outside.txt", "/a/../../outside.txt",
      "/%2e%2e%2foutside.txt", "/..%2foutside.txt", "//outside.txt", "/%2f..%2foutside.txt",
      "/./../outside.txt", "/%252e%252e/outside.txt", "/..%5coutside.txt", "/a%00/../../outside.txt",
      "/raw_data/../../outside.txt", "/raw_data/%2e%2e/%2e%2e/outside.txt", "/.%2e/outside.txt",
      "/%2e./outside.txt", "/raw_data//../outside.txt", "/_system/secret.key", "/_system/../../outside.txt",
  };
  int n = 0;
  for (const char* e : escapes) {
    std::string target = std::string("/my-analytics-bucket") + e;
    for (const char* method : {"GET", "PUT", "DELETE"}) {
      auto r = Do(method, target, std::string(method) == "PUT" ? "overwritten" : "");
      EXPECT_TRUE(r.status == 400 || r.status == 403) << method << " " << target << " -> " << r.status;
      EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << target;
      EXPECT_NE(r.body.find("<Error><Code>"), std::string::npos) << target;
      ++n;
    }
  }
  EXPECT_GE(n, 45);
  EXPECT_EQ(ReadFile(dir_.Join("outside.txt")), "SECRET-OUTSIDE-THE-LAKE");
  // The bucket-less spellings of the same.
  EXPECT_EQ(Do("GET", "/../outside.txt").status, 400);
  EXPECT_TRUE(Healthy());
}

TEST_F(HostileTest, MalformedBodiesRangesAndUnknownOperations) {
  Start();
  const std::string b = "/my-analytics-bucket";
  ASSERT_EQ(Do("PUT", b + "/raw_data/x.txt", "0123456789").status, 200);
  for (const char* xml : {"", "garbage", "<Delete>", "<Delete><Object><Key>a</Key></Object>",
                          "<Delete><Object></Object></Delete>", "<?xml?><!DOCTYPE a><Delete/>",
                          "<Delete>&xxe;</Delete>", "\xff\xfe<Delete/>"}) {
    auto r = Do("POST", b + "?delete", xml);
    EXPECT_EQ(r.status, 400) << xml;
    EXPECT_NE(r.body.find("MalformedXML"), std::string::npos) << xml << r.body;
  }
  auto create = Do("POST", b + "/raw_data/m.bin?uploads");
  ASSERT_EQ(create.status, 200);
  std::string id = create.body.substr(create.body.find("<UploadId>") + 10, 32);
  auto complete = Do("POST", b + "/raw_data/m.bin?uploadId=" + id, "<CompleteMultipartUpload><Part>");
  EXPECT_EQ(complete.status, 400);
  EXPECT_NE(complete.body.find("MalformedXML"), std::string::npos);
  auto missing_part = Do("POST", b + "/raw_data/m.bin?uploadId=" + id,
                         "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>");
  EXPECT_EQ(missing_part.status, 400);
  EXPECT_NE(missing_part.body.find("InvalidPart"), std::string::npos);
  EXPECT_EQ(Do("POST", b + "/raw_data/m.bin?uploadId=../../etc", "<x/>").status, 404);
  EXPECT_EQ(Do("PUT", b + "/raw_data/m.bin?partNumber=0&uploadId=" + id, "x").status, 400);

  // Ranges: unsatisfiable -> 416; malformed -> ignored (the whole object), as S3 does.
  EXPECT_EQ(Do("GET", b + "/raw_data/x.txt", "", "range: bytes=100-\r\n").status, 416);
  EXPECT_EQ(Do("GET", b + "/raw_data/x.txt", "", "range: bytes=5-2\r\n").status, 200);
  EXPECT_EQ(Do("GET", b + "/raw_data/x.txt", "", "range: bytes=abc\r\n").status, 200);
  auto suffix = Do("GET", b + "/raw_data/x.txt", "", "range: bytes=-3\r\n");
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, "789");
  EXPECT_EQ(suffix.headers["content-range"], "bytes 7-9/10");
  // Conditionals.
  auto etag = Do("HEAD", b + "/raw_data/x.txt").headers["etag"];
  EXPECT_EQ(Do("GET", b + "/raw_data/x.txt", "", "if-none-match: " + etag + "\r\n").status, 304);
  EXPECT_EQ(Do("GET", b + "/raw_data/x.txt", "", "if-match: \"nope\"\r\n").status, 412);
  EXPECT_EQ(Do("PUT", b + "/raw_data/x.txt", "new", "if-none-match: *\r\n").status, 412);
  EXPECT_EQ(Do("PUT", b + "/raw_data/x.txt", "new", "content-md5: AAAAAAAAAAAAAAAAAAAAAA==\r\n").status, 400);

  // Unknown operations in each protocol, each in its own error format.
  auto json = Do("POST", "/", "{}", "x-amz-target: Kinesis_20131202.Nope\r\ncontent-type: application/x-amz-json-1.1\r\n");
  EXPECT_EQ(json.status, 400);
  EXPECT_NE(json.body.find("\"__type\":\"UnknownOperationException\""), std::string::npos) << json.body;
  auto query = Do("POST", "/", "Action=Nope&Version=2010-03-31", "content-type: application/x-www-form-urlencoded\r\n");
  EXPECT_EQ(query.status, 400);
  EXPECT_NE(query.body.find("<Code>InvalidAction</Code>"), std::string::npos) << query.body;
  EXPECT_EQ(Do("PATCH", b + "/raw_data/x.txt").status, 405);
  EXPECT_EQ(Do("GET", b + "/raw_data/x.txt?acl").status, 501);
  EXPECT_EQ(Do("GET", "/other-bucket?list-type=2").status, 404);
  // Managed prefixes are read-only; _system/ is invisible.
  EXPECT_EQ(Do("PUT", b + "/processed_data/x", "x").status, 403);
  auto listing = Do("GET", b + "?list-type=2");
  EXPECT_EQ(listing.body.find("_system"), std::string::npos);
  EXPECT_TRUE(Healthy());
}

TEST_F(HostileTest, OversizedTruncatedAndMalformedRequests) {
  Start({"--max-body-mb", "1"});
  const std::string b = "/my-analytics-bucket";
  // Declared too large: refused before the body is read.
  auto big = RawExchange(server_.port(), "PUT " + b + "/raw_data/big HTTP/1.1\r\nhost: x\r\ncontent-length: 2000000\r\n\r\n");
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(big.body.find("EntityTooLarge"), std::string::npos);
  // Chunked transfer beyond the limit.
  std::string chunk(600000, 'x');
  char hex[16];
  std::snprintf(hex, sizeof hex, "%zx", chunk.size());
  std::string chunked = "PUT " + b + "/raw_data/big HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" +
                        hex + "\r\n" + chunk + "\r\n" + hex + "\r\n" + chunk + "\r\n0\r\n\r\n";
  EXPECT_EQ(RawExchange(server_.port(), chunked).status, 400);
  // A huge header section.
  EXPECT_EQ(RawExchange(server_.port(), "GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + std::string(20000, 'a') + "\r\n\r\n").status, 431);
  // Garbage instead of HTTP.
  EXPECT_EQ(RawExchange(server_.port(), "\x16\x03\x01 hello\r\n\r\n").status, 400);
  EXPECT_EQ(RawExchange(server_.port(), "GET /healthz HTTP/1.1\r\ncontent-length: -5\r\n\r\n").status, 400);
  // Truncated body: the client goes away mid-body; nothing is written.
  {
    int fd = Connect(server_.port());
    ASSERT_GE(fd, 0);
    std::string part = "PUT " + b + "/raw_data/trunc HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\nonly-a-little";
    ASSERT_GT(send(fd, part.data(), part.size(), MSG_NOSIGNAL), 0);
    close(fd);
  }
  EXPECT_TRUE(Healthy());
  EXPECT_EQ(Do("HEAD", b + "/raw_data/trunc").status, 404);
  EXPECT_FALSE(std::filesystem::exists(lake_ + "/raw_data/trunc"));
}

TEST_F(HostileTest, IdleConnectionsAndSlowlorisDoNotStarveOthers) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  ASSERT_GE(rl.rlim_cur, 1200u) << "the test needs 1,100 descriptors";
  Start({"--idle-timeout-ms", "3000"});
  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) {
    int fd = Connect(server_.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  // Slowloris: 20 clients trickle a header that never ends.
  std::vector<int> slow;
  for (int i = 0; i < 20; ++i) {
    int fd = Connect(server_.port());
    ASSERT_GE(fd, 0);
    send(fd, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  // Normal requests succeed meanwhile.
  ASSERT_EQ(Do("PUT", "/my-analytics-bucket/raw_data/n.txt", "normal").status, 200);
  for (int round = 0; round < 5; ++round) {
    for (int fd : slow) send(fd, "x-a: b\r\n", 8, MSG_NOSIGNAL);
    auto r = Do("GET", "/my-analytics-bucket/raw_data/n.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "normal");
  }
  auto metrics = Do("GET", "/metrics");
  size_t at = metrics.body.find("\nsaleslake_open_connections ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoi(metrics.body.substr(at + 28)), 1000);
  // The server cuts the slowloris clients off at the header deadline (bounded wait).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t closed = 0;
  while (closed < slow.size() && std::chrono::steady_clock::now() < deadline) {
    closed = 0;
    for (int fd : slow) {
      send(fd, "x-a: b\r\n", 8, MSG_NOSIGNAL);
      pollfd p{fd, POLLIN, 0};
      char c;
      if (poll(&p, 1, 0) > 0 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0) ++closed;
    }
    if (closed < slow.size()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(closed, slow.size());
  for (int fd : idle) close(fd);
  for (int fd : slow) close(fd);
  EXPECT_TRUE(Healthy());
  EXPECT_EQ(server_.Stop(), 0);
}

TEST_F(HostileTest, SigkillMidWriteLeavesNothingVisible) {
  Start();
  const std::string b = "/my-analytics-bucket";
  auto create = Do("POST", b + "/raw_data/mp.bin?uploads");
  ASSERT_EQ(create.status, 200);
  std::string id = create.body.substr(create.body.find("<UploadId>") + 10, 32);
  ASSERT_EQ(Do("PUT", b + "/raw_data/mp.bin?partNumber=1&uploadId=" + id, std::string(6 << 20, 'a')).status, 200);
  // A part and a PutObject each half sent when the server dies.
  int part_fd = Connect(server_.port());
  int put_fd = Connect(server_.port());
  ASSERT_GE(part_fd, 0);
  ASSERT_GE(put_fd, 0);
  std::string part = "PUT " + b + "/raw_data/mp.bin?partNumber=2&uploadId=" + id +
                     " HTTP/1.1\r\nhost: x\r\ncontent-length: 4000000\r\n\r\n" + std::string(1000000, 'b');
  std::string put = "PUT " + b + "/raw_data/put.bin HTTP/1.1\r\nhost: x\r\ncontent-length: 4000000\r\n\r\n" +
                    std::string(1000000, 'c');
  send(part_fd, part.data(), part.size(), MSG_NOSIGNAL);
  send(put_fd, put.data(), put.size(), MSG_NOSIGNAL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the server read some of it
  server_.Kill();
  close(part_fd);
  close(put_fd);

  Start();
  EXPECT_EQ(Do("HEAD", b + "/raw_data/put.bin").status, 404);
  EXPECT_EQ(Do("HEAD", b + "/raw_data/mp.bin").status, 404);
  auto list = Do("GET", b + "?list-type=2&prefix=raw_data/");
  EXPECT_EQ(list.body.find("put.bin"), std::string::npos);
  EXPECT_EQ(list.body.find("mp.bin"), std::string::npos);
  // The upload survived the restart with its one complete part, and can be aborted.
  auto parts = Do("GET", b + "/raw_data/mp.bin?uploadId=" + id);
  EXPECT_EQ(parts.status, 200);
  EXPECT_NE(parts.body.find("<PartNumber>1</PartNumber>"), std::string::npos);
  EXPECT_EQ(parts.body.find("<PartNumber>2</PartNumber>"), std::string::npos);
  EXPECT_EQ(Do("DELETE", b + "/raw_data/mp.bin?uploadId=" + id).status, 204);
  EXPECT_EQ(Do("GET", b + "/raw_data/mp.bin?uploadId=" + id).status, 404);
  EXPECT_EQ(server_.Stop(), 0);
}

}  // namespace
}  // namespace saleslake::testing
