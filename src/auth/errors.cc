// Typed auth errors carried in a Status, the injectable clocks and AWS time formats.
#include <ctime>
#include <mutex>

#include "auth/auth.h"

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

// ---- clocks

namespace {
class WallClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};
int64_t ToNs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

Clock& SystemClock() {
  static WallClock clock;
  return clock;
}

ManualClock::ManualClock(TimePoint start) : ns_(ToNs(start)) {}
TimePoint ManualClock::Now() const {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::nanoseconds(ns_.load(std::memory_order_acquire))));
}
void ManualClock::Set(TimePoint t) { ns_.store(ToNs(t), std::memory_order_release); }
void ManualClock::Advance(std::chrono::nanoseconds d) {
  ns_.fetch_add(d.count(), std::memory_order_acq_rel);
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

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}
}  // namespace

std::string FormatAmzDate(TimePoint t) { return FormatUtc(t, "%Y%m%dT%H%M%SZ"); }
std::string FormatIso8601(TimePoint t) { return FormatUtc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::optional<TimePoint> ParseTime(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  size_t pos = 0;
  bool basic = s.size() == 16 && s[8] == 'T' && s[15] == 'Z';  // 20130524T000000Z
  if (basic) {
    if (!Digits(s, 0, 4, &y) || !Digits(s, 4, 2, &mo) || !Digits(s, 6, 2, &d) ||
        !Digits(s, 9, 2, &h) || !Digits(s, 11, 2, &mi) || !Digits(s, 13, 2, &se)) {
      return std::nullopt;
    }
  } else {
    // 2013-05-24, 2013-05-24T00:00:00Z, 2013-05-24T00:00:00.123Z, ...+01:00
    if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
        s[7] != '-' || !Digits(s, 8, 2, &d)) {
      return std::nullopt;
    }
    pos = 10;
    int offset_s = 0;
    if (pos < s.size()) {
      if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
      if (!Digits(s, pos + 1, 2, &h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
          !Digits(s, pos + 4, 2, &mi)) {
        return std::nullopt;
      }
      pos += 6;
      if (pos < s.size() && s[pos] == ':') {
        if (!Digits(s, pos + 1, 2, &se)) return std::nullopt;
        pos += 3;
      }
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      }
      if (pos < s.size()) {
        if (s[pos] == 'Z' || s[pos] == 'z') {
          ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
          int oh, om;
          if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
              !Digits(s, pos + 4, 2, &om)) {
            return std::nullopt;
          }
          offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
          pos += 6;
        } else {
          return std::nullopt;
        }
      }
      if (pos != s.size()) return std::nullopt;
    }
    se -= offset_s;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return std::nullopt;
  // Days from civil (H. Hinnant's algorithm), so no timegm/TZ dependence.
  int yy = y - (mo <= 2);
  int era = (yy >= 0 ? yy : yy - 399) / 400;
  unsigned yoe = static_cast<unsigned>(yy - era * 400);
  unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se;
  return TimePoint(std::chrono::seconds(secs));
}

std::optional<std::string_view> HttpRequestView::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace saleslake::auth
