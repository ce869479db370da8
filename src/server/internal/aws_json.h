// Small helpers the JSON 1.1 APIs of Glue and Athena share: a 200 response with a JSON body,
// their error values, epoch-second timestamps, and reading typed fields of a request body
// without letting nlohmann's exceptions out. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "server/internal/dispatch.h"

namespace saleslake::server::internal {

inline HttpResponse JsonOk(const nlohmann::json& body) {
  HttpResponse r;
  r.Set("Content-Type", "application/x-amz-json-1.1");
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

inline ApiError JsonError(std::string code, std::string message, int status = 400) {
  return MakeError(status, std::move(code), std::move(message));
}

// Seconds since the epoch with milliseconds, as the AWS SDKs read JSON 1.1 timestamps.
inline double EpochSeconds(TimePoint t) { return static_cast<double>(ToEpochMs(t)) / 1000.0; }

// A string member, or "" when absent or not a string.
inline std::string StringField(const nlohmann::json& in, const char* name) {
  auto it = in.find(name);
  return it != in.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// An integer member: nullopt when absent; kInvalidArgument when present but not an integer.
inline Result<std::optional<int64_t>> IntField(const nlohmann::json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return Status::InvalidArgument(std::string(name) + " must be an integer");
  return std::optional<int64_t>(it->get<int64_t>());
}

}  // namespace saleslake::server::internal
