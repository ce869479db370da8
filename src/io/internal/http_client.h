// A small blocking HTTP/1.1 client for the S3 store. https:// goes through libcurl, whose easy
// handles are pooled, so connections (and TLS sessions) are reused across requests and threads.
// Plain http:// (a server on loopback or in the LAN: `saleslake serve`, MinIO) goes over our own
// sockets (plain_http.cc), keep-alive connections pooled alike: loading libcurl and the ~23
// libraries it needs costs ~27 ms of CPU in every process, a quarter of a small query's.
// Thread safety: Send may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace saleslake::io {
struct CurlLibrary;
}  // namespace saleslake::io

namespace saleslake::io::internal {

struct HttpOptions {
  int64_t connect_timeout_ms = 10'000;
  // A transfer slower than 1 KB/s for this long is abandoned (a stalled connection); there is
  // no overall limit because large objects legitimately take long.
  int64_t stall_timeout_ms = 60'000;
};

struct HttpCall {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
  // The size of the answer's body when known (a ranged GET): reserved up front, so a large body
  // is not copied again each time its string grows.
  size_t expect_body = 0;
  // Where a 206 answer's body goes, straight from the socket (a ranged read into its caller's
  // buffer: no intermediate string); HttpResult::into_bytes says how much arrived. More than
  // fits is a transport error. Other answers' bodies go to HttpResult::body as usual.
  std::span<uint8_t> into;
};

struct HttpResult {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  size_t into_bytes = 0;  // bytes written to HttpCall::into
  const std::string* Header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // kIOError for transport failures (refused, reset, timed out, truncated body) with the
  // reason and the URL; any HTTP status is a result.
  Result<HttpResult> Send(const HttpCall& call);

 private:
  Result<HttpResult> SendCurl(const HttpCall& call);
  void* Take(const CurlLibrary& curl);
  void Give(const CurlLibrary& curl, void* handle);
  HttpOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // GUARDED_BY(mu_): CURL* handles with their connection caches
  std::unique_ptr<class PlainHttp> plain_;  // http:// (plain_http.cc)
};

// Plain HTTP/1.1 over TCP (no TLS): the http:// half of HttpClient. Idle keep-alive connections
// are pooled per host and port (at most 16); a pooled connection the server closed meanwhile is
// replaced once, transparently, when nothing of the answer arrived on it. Thread-safe.
class PlainHttp {
 public:
  explicit PlainHttp(HttpOptions options);
  ~PlainHttp();
  PlainHttp(const PlainHttp&) = delete;
  PlainHttp& operator=(const PlainHttp&) = delete;
  // `call.url` must start with "http://". Errors as HttpClient::Send.
  Result<HttpResult> Send(const HttpCall& call);

 private:
  struct Pool;
  HttpOptions options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace saleslake::io::internal
