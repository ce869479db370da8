// The request and response as handlers see them, independent of the HTTP library.
// Thread safety: values, owned by one request at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/object_store.h"

namespace saleslake::server::internal {

// Header names are stored lower-case (HTTP names are case-insensitive).
using HeaderMap = std::multimap<std::string, std::string>;

struct HttpRequest {
  std::string method;        // "GET", "PUT", ...
  std::string target;        // as sent: "/bucket/key?x=y" (still percent-encoded)
  std::string raw_path;      // target before '?', still percent-encoded
  std::string raw_query;     // after '?', still percent-encoded ("" when none)
  HeaderMap headers;
  std::string body;          // the whole body, after transfer decoding
  std::string remote_ip;
  uint16_t remote_port = 0;
  bool secure = false;       // arrived over TLS
  std::string request_id;

  // The first value of a header (name lower-case), or nullptr.
  const std::string* Header(std::string_view name) const {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? nullptr : &it->second;
  }
  std::string HeaderOr(std::string_view name, std::string fallback = "") const {
    const std::string* v = Header(name);
    return v ? *v : std::move(fallback);
  }
};

// A response body that is a byte range of a lake object (streamed, never copied whole).
struct FileRange {
  std::shared_ptr<io::RandomAccessFile> file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<FileRange> file;  // when set, the body is this range instead of `body`
  // HEAD: Content-Length says this many bytes, but none are sent.
  std::optional<uint64_t> head_length;

  void Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  uint64_t body_size() const { return file ? file->length : body.size(); }
};

}  // namespace saleslake::server::internal
