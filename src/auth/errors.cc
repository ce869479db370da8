// Typed auth errors carried in a Status, the injectable clocks and AWS time formats.
#include <cstdint>
#include <ctime>
#include <mutex>

#include "auth/auth.h"
#include "common/types.h"

namespace saleslake::auth {
namespace {

struct ErrorInfo {
  ErrorCode code;
  std::string_view name;
  int http;
  StatusCode status;
};

constexpr ErrorInfo kErrors[] = {
    {ErrorCode::kNone, "OK", 200, StatusCode::kOk},
    {ErrorCode::kMissingAuthenticationToken, "MissingAuthenticationToken", 403, StatusCode::kPermissionDenied},
    {ErrorCode::kAuthorizationHeaderMalformed, "AuthorizationHeaderMalformed", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kAuthorizationQueryParametersError, "AuthorizationQueryParametersError", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kInvalidAccessKeyId, "InvalidAccessKeyId", 403, StatusCode::kPermissionDenied},
    {ErrorCode::kSignatureDoesNotMatch, "SignatureDoesNotMatch", 403, StatusCode::kPermissionDenied},
    {ErrorCode::kRequestTimeTooSkewed, "RequestTimeTooSkewed", 403, StatusCode::kPermissionDenied},
    {ErrorCode::kAccessDenied, "AccessDenied", 403, StatusCode::kPermissionDenied},
    {ErrorCode::kXAmzContentSHA256Mismatch, "XAmzContentSHA256Mismatch", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kInvalidDigest, "InvalidDigest", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kBadDigest, "BadDigest", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kIncompleteBody, "IncompleteBody", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kInvalidChunkSizeError, "InvalidChunkSizeError", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kInvalidRequest, "InvalidRequest", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kExpiredToken, "ExpiredToken", 400, StatusCode::kPermissionDenied},
    {ErrorCode::kInvalidToken, "InvalidToken", 400, StatusCode::kPermissionDenied},
    {ErrorCode::kNoSuchEntity, "NoSuchEntity", 404, StatusCode::kNotFound},
    {ErrorCode::kEntityAlreadyExists, "EntityAlreadyExists", 409, StatusCode::kAlreadyExists},
    {ErrorCode::kDeleteConflict, "DeleteConflict", 409, StatusCode::kAborted},
    {ErrorCode::kMalformedPolicyDocument, "MalformedPolicyDocument", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kInvalidInput, "InvalidInput", 400, StatusCode::kInvalidArgument},
    {ErrorCode::kLimitExceeded, "LimitExceeded", 409, StatusCode::kResourceExhausted},
    {ErrorCode::kInternalError, "InternalError", 500, StatusCode::kInternal},
};

const ErrorInfo& InfoOf(ErrorCode code) {
  for (const auto& e : kErrors) {
    if (e.code == code) return e;
  }
  return kErrors[std::size(kErrors) - 1];
}

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) { return InfoOf(code).name; }
int HttpStatusOf(ErrorCode code) { return InfoOf(code).http; }

Status MakeError(ErrorCode code, std::string_view message) {
  const ErrorInfo& info = InfoOf(code);
  if (code == ErrorCode::kNone) return Status::OK();
  return Status(info.status, std::string(info.name) + ": " + std::string(message));
}

ErrorCode ErrorCodeOf(const Status& status) {
  if (status.ok()) return ErrorCode::kNone;
  const std::string& m = status.message();
  size_t colon = m.find(": ");
  if (colon != std::string::npos) {
    std::string_view name(m.data(), colon);
    for (const auto& e : kErrors) {
      if (e.code != ErrorCode::kNone && e.name == name) return e.code;
    }
  }
  return ErrorCode::kInternalError;
}

std::string_view ErrorMessageOf(const Status& status) {
  const std::string& m = status.message();
  if (ErrorCodeOf(status) == ErrorCode::kInternalError &&
      m.rfind("InternalError: ", 0) != 0) {
    return m;
  }
  size_t colon = m.find(": ");
  return colon == std::string::npos ? std::string_view(m) : std::string_view(m).substr(colon + 2);
}

// ---- time formats

namespace {
std::string FormatUtc(TimePoint t, const char* format) {
  std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string FormatAmzDate(TimePoint t) { return FormatUtc(t, "%Y%m%dT%H%M%SZ"); }
std::string FormatIso8601(TimePoint t) { return FormatUtc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::optional<TimePoint> ParseTime(std::string_view s) {
  std::string text(s);
  // The SigV4 basic form 20130524T000000Z becomes ISO 8601 for common's parser.
  if (s.size() == 16 && s[8] == 'T' && s[15] == 'Z') {
    text = std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
           std::string(s.substr(6, 2)) + "T" + std::string(s.substr(9, 2)) + ":" +
           std::string(s.substr(11, 2)) + ":" + std::string(s.substr(13, 2)) + "Z";
  }
  // A "+hh:mm" / "-hh:mm" offset (common's parser takes UTC only).
  int64_t offset_s = 0;
  if (text.size() > 16 && text[10] == 'T' && (text[text.size() - 6] == '+' || text[text.size() - 6] == '-') &&
      text[text.size() - 3] == ':') {
    std::string_view off = std::string_view(text).substr(text.size() - 6);
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(off[1]) || !digit(off[2]) || !digit(off[4]) || !digit(off[5])) return std::nullopt;
    int h = (off[1] - '0') * 10 + (off[2] - '0'), m = (off[4] - '0') * 10 + (off[5] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    offset_s = (h * 3600 + m * 60) * (off[0] == '+' ? 1 : -1);
    text.resize(text.size() - 6);
  }
  if (text.size() > 10 && text[10] == ' ') return std::nullopt;  // only the 'T' form
  std::optional<int64_t> micros = ParseIsoTimestamp(text);
  // A TimePoint counts nanoseconds in 64 bits (years 1678..2262): dates past that are no time
  // this parser can hold (the conversion would overflow), so they are refused like bad text.
  constexpr int64_t kMaxMicros = INT64_MAX / 1000 - int64_t{86400} * 1000000;
  if (!micros || *micros > kMaxMicros || *micros < -kMaxMicros) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::microseconds(*micros) - std::chrono::seconds(offset_s)));
}

std::optional<std::string_view> HttpRequestView::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace saleslake::auth
