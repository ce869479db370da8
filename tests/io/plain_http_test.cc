// The http:// transport of the S3 store's HTTP client (PlainHttp): keep-alive connections, the
// body framings, a pooled connection the server closed meanwhile, truncated bodies, and that a
// process talking to an http:// endpoint never loads libcurl.
#include "io/internal/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_request.h"
#include "support/test_support.h"

namespace saleslake::io::internal {
namespace {

// Serves the scripted answers (raw bytes after the request's headers and body arrived), several
// requests per connection; an answer marked `close` closes the connection after it (without
// saying so, as a server whose idle timeout struck would). Counts connections.
struct Answer {
  std::string raw;
  bool close = false;
};

class KeepAliveServer {
 public:
  explicit KeepAliveServer(std::vector<Answer> script) : script_(script.begin(), script.end()) {
    fd_ = saleslake::testing::ListenLoopback(&port_, 16);
    thread_ = std::thread([this] { Loop(); });
  }
  ~KeepAliveServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int connections() const { return connections_; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      while (!stop_ && ServeOne(c)) {
      }
      close(c);
    }
  }
  // One request on connection `c`; false when the connection is to be closed.
  bool ServeOne(int c) {
    std::string in;
    size_t head_end = 0;
    if (!saleslake::testing::ReadHttpRequest(c, &in, &head_end)) return false;
    Answer a{"HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n", true};
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(in);
      if (!script_.empty()) {
        a = script_.front();
        script_.pop_front();
      }
    }
    (void)!write(c, a.raw.data(), a.raw.size());
    return !a.close;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::mutex mu_;
  std::deque<Answer> script_;
  std::vector<std::string> requests_;
};

HttpCall Get(const std::string& url) {
  HttpCall c;
  c.method = "GET";
  c.url = url;
  c.headers = {{"host", "127.0.0.1"}, {"x-amz-date", "20261206T000000Z"}};
  return c;
}

// Three answers on one connection: framed by Content-Length, chunked (with a trailer), and a
// 206 straight into the caller's buffer; then a PUT's body and a HEAD's empty answer.
TEST(PlainHttp, KeepsTheConnectionAndReadsEveryFraming) {
  KeepAliveServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"e1\"\r\n\r\nhello"},
                          {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\n"
                           "Trailer-A: b\r\n\r\n"},
                          {"HTTP/1.1 206 Partial\r\nContent-Range: bytes 2-5/10\r\nContent-Length: 4\r\n\r\n2345"},
                          {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
                          {"HTTP/1.1 200 OK\r\nContent-Length: 123\r\n\r\n"}});
  HttpClient client(HttpOptions{});
  auto a = client.Send(Get(server.url("/b/k1")));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "hello");
  ASSERT_NE(a->Header("etag"), nullptr);
  EXPECT_EQ(*a->Header("etag"), "\"e1\"");
  auto b = client.Send(Get(server.url("/b/k2?list-type=2")));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->body, "wikipedia");
  std::string into(4, '#');
  HttpCall ranged = Get(server.url("/b/k3"));
  ranged.into = std::span<uint8_t>(reinterpret_cast<uint8_t*>(into.data()), into.size());
  auto c = client.Send(ranged);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->status, 206);
  EXPECT_EQ(c->into_bytes, 4u);
  EXPECT_EQ(into, "2345");
  HttpCall put = Get(server.url("/b/k4"));
  put.method = "PUT";
  put.body = "payload";
  auto d = client.Send(put);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  HttpCall head = Get(server.url("/b/k5"));
  head.method = "HEAD";
  auto e = client.Send(head);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->body.empty());
  EXPECT_EQ(server.connections(), 1);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[1].rfind("GET /b/k2?list-type=2 HTTP/1.1\r\n", 0), 0u) << requests[1];
  EXPECT_NE(requests[3].find("content-length: 7\r\n\r\npayload"), std::string::npos) << requests[3];
  EXPECT_EQ(requests[4].rfind("HEAD /b/k5 HTTP/1.1\r\n", 0), 0u) << requests[4];
}

// A pooled connection the server closed while it was idle fails before any answer arrives: the
// request goes again, once, on a new connection. A body cut short, or longer than the buffer
// it goes to, is an error naming the URL (the store's retries take it from there).
TEST(PlainHttp, AClosedIdleConnectionIsReplacedAndShortBodiesAreErrors) {
  KeepAliveServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", /*close=*/true},
                          {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"},
                          {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", true},
                          {"HTTP/1.1 206 Partial\r\nContent-Length: 6\r\n\r\n123456"}});
  HttpClient client(HttpOptions{});
  auto a = client.Send(Get(server.url("/b/a")));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = client.Send(Get(server.url("/b/b")));  // its pooled connection is closed
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->body, "yes");
  EXPECT_EQ(server.connections(), 2);
  auto c = client.Send(Get(server.url("/b/c")));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("10 of 100 bytes"), std::string::npos) << c.status().ToString();
  EXPECT_NE(c.status().message().find("/b/c"), std::string::npos) << c.status().ToString();
  std::string small(4, '#');
  HttpCall ranged = Get(server.url("/b/d"));
  ranged.into = std::span<uint8_t>(reinterpret_cast<uint8_t*>(small.data()), small.size());
  auto d = client.Send(ranged);
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(server.requests().size(), 4u);  // the failed ones were not sent twice
  auto refused = HttpClient(HttpOptions{}).Send(Get("http://127.0.0.1:1/b/x"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("cannot connect"), std::string::npos) << refused.status().ToString();
}

bool CurlMapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream all;
  all << maps.rdbuf();
  return all.str().find("libcurl") != std::string::npos;
}

// Loading libcurl and the libraries it needs costs ~27 ms of CPU per process: a process whose
// lake is on an http:// endpoint never does (checked in a child process, whatever other tests
// of this binary loaded).
TEST(PlainHttp, AnHttpEndpointDoesNotLoadLibcurl) {
  KeepAliveServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}});
  const std::string url = server.url("/b/k");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const bool before = CurlMapped();
    auto r = HttpClient(HttpOptions{}).Send(Get(url));
    _exit(before ? 3 : !r.ok() ? 2 : CurlMapped() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "another test of this process loaded libcurl already";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: libcurl was loaded, 2: the request failed";
}

}  // namespace
}  // namespace saleslake::io::internal
