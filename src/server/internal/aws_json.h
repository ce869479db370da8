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
#include "server/internal/util.h"

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

// A NextToken: Base64 of "<scope>|<offset>", where the scope is the query id or the listing
// ("tables", "runs:<job>"), so a token of another listing is refused (nullopt).
inline std::string PageToken(const std::string& scope, uint64_t offset) {
  return Base64Encode(scope + "|" + std::to_string(offset));
}
inline std::optional<uint64_t> ParsePageToken(const std::string& token, const std::string& scope) {
  auto text = Base64Decode(token);
  if (!text || text->rfind(scope + "|", 0) != 0) return std::nullopt;
  std::string digits = text->substr(scope.size() + 1);
  if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

// Adds operation `op` of a JSON 1.1 API whose handlers are members of `service`:
// target "<target_prefix><op>", IAM action "<iam_prefix>:<op>".
template <class S>
void AddMemberOperation(Dispatcher& d, S* service, const std::string& api, const std::string& target_prefix,
                        const std::string& op,
                        std::function<std::string(const nlohmann::json&)> resource,
                        Outcome (S::*handler)(const nlohmann::json&, const Principal&, const HttpRequest&)) {
  d.AddJsonOperation(api, target_prefix + op,
                     JsonOperation{api + ":" + op, std::move(resource),
                                   [service, handler](const nlohmann::json& in, const Principal& p,
                                                      const HttpRequest& r) { return (service->*handler)(in, p, r); }});
}

}  // namespace saleslake::server::internal
