// An error as the AWS protocols report it: HTTP status, error code and message. Each protocol
// renders it in its own format in one place (dispatch.cc: RenderError).
#pragma once

#include <string>

namespace saleslake::server::internal {

struct ApiError {
  int http_status = 500;
  std::string code = "InternalError";
  std::string message;
  std::string resource;  // S3 <Resource>, when known
};

inline ApiError MakeError(int status, std::string code, std::string message) {
  return ApiError{status, std::move(code), std::move(message), ""};
}

}  // namespace saleslake::server::internal
