// An HttpRequest as the HTTP layer would hand it to the dispatcher (unit tests of src/server).
#pragma once

#include <string>

#include "server/internal/http_types.h"

namespace saleslake::server::internal {

inline HttpRequest MakeRequest(std::string method, const std::string& target,
                               const std::string& host = "127.0.0.1:8080") {
  HttpRequest r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.raw_path = target.substr(0, q);
  r.raw_query = q == std::string::npos ? "" : target.substr(q + 1);
  r.headers.emplace("host", host);
  return r;
}

}  // namespace saleslake::server::internal
