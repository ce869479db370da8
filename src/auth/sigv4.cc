// AWS Signature Version 4: canonical requests, signing keys and the verification of header-
// signed and presigned requests.
#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <unordered_map>

#include "auth/internal/crypto.h"
#include "auth/internal/verify.h"
#include "common/thread_annotations.h"

namespace saleslake::auth {

using internal::HmacSha256;
using internal::Sha256;

namespace {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> SplitHeaderList(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    size_t semi = list.find(';');
    out.emplace_back(list.substr(0, semi));
    if (semi == std::string_view::npos) break;
    list.remove_prefix(semi + 1);
  }
  return out;
}

Status ValidateSignedHeaders(const std::vector<std::string>& names, ErrorCode code) {
  if (names.empty()) return MakeError(code, "SignedHeaders is empty");
  bool host = false;
  for (const auto& h : names) {
    if (h.empty()) return MakeError(code, "SignedHeaders has an empty name");
    for (char ch : h) {
      if (ch >= 'A' && ch <= 'Z') return MakeError(code, "SignedHeaders must be lower-case: '" + h + "'");
      if (ch <= ' ' || ch == ':' || ch == 0x7f) {
        return MakeError(code, "SignedHeaders has an invalid name '" + h + "'");
      }
    }
    host |= h == "host";
  }
  if (!host) return MakeError(code, "SignedHeaders must include host");
  return Status::OK();
}
}  // namespace

namespace internal {

std::optional<TimePoint> ParseHttpDate(std::string_view s) {
  // "Fri, 24 May 2013 00:00:00 GMT"
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  s.remove_prefix(comma + 2);
  if (s.size() != 24 || s.substr(20) != " GMT") return std::nullopt;
  std::string_view mon = s.substr(3, 3);
  int m = 0;
  for (int i = 0; i < 12; ++i) {
    if (kMonths[i] == mon) m = i + 1;
  }
  if (m == 0) return std::nullopt;
  std::string iso = std::string(s.substr(7, 4)) + "-" + (m < 10 ? "0" : "") + std::to_string(m) +
                    "-" + std::string(s.substr(0, 2)) + "T" + std::string(s.substr(12, 8)) + "Z";
  return ParseTime(iso);
}

}  // namespace internal

namespace sigv4 {

std::string Credential::Scope() const {
  return date + "/" + region + "/" + service + "/" + terminator;
}

Result<Credential> ParseCredential(std::string_view text) {
  Credential c;
  std::string_view parts[5];
  size_t n = 0;
  // The key id is the first segment; the last four are the scope.
  for (int i = 0; i < 4; ++i) {
    size_t slash = text.rfind('/');
    if (slash == std::string_view::npos) {
      return MakeError(ErrorCode::kAuthorizationHeaderMalformed,
                       "the Credential must have the form <key>/<date>/<region>/<service>/aws4_request");
    }
    parts[4 - i] = text.substr(slash + 1);
    text = text.substr(0, slash);
    ++n;
  }
  parts[0] = text;
  c.access_key_id = std::string(parts[0]);
  c.date = std::string(parts[1]);
  c.region = std::string(parts[2]);
  c.service = std::string(parts[3]);
  c.terminator = std::string(parts[4]);
  if (c.access_key_id.empty()) {
    return MakeError(ErrorCode::kAuthorizationHeaderMalformed, "the Credential has no access key id");
  }
  bool date_ok = c.date.size() == 8 &&
                 std::all_of(c.date.begin(), c.date.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (!date_ok) {
    return MakeError(ErrorCode::kAuthorizationHeaderMalformed,
                     "the Credential date '" + c.date + "' is not yyyymmdd");
  }
  if (c.region.empty() || c.service.empty()) {
    return MakeError(ErrorCode::kAuthorizationHeaderMalformed, "the Credential has an empty region or service");
  }
  if (c.terminator != "aws4_request") {
    return MakeError(ErrorCode::kAuthorizationHeaderMalformed,
                     "the Credential must end with aws4_request, not '" + c.terminator + "'");
  }
  return c;
}

Result<ParsedAuthorization> ParseAuthorization(std::string_view header) {
  const ErrorCode kBad = ErrorCode::kAuthorizationHeaderMalformed;
  header = Trim(header);
  if (header.substr(0, kAlgorithm.size()) != kAlgorithm || header.size() == kAlgorithm.size() ||
      header[kAlgorithm.size()] != ' ') {
    return MakeError(kBad, "the algorithm must be AWS4-HMAC-SHA256");
  }
  header.remove_prefix(kAlgorithm.size() + 1);
  ParsedAuthorization out;
  bool have_cred = false, have_headers = false, have_sig = false;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view part = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return MakeError(kBad, "expected Name=Value, got '" + std::string(part.substr(0, 64)) + "'");
    }
    std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "Credential") {
      if (have_cred) return MakeError(kBad, "Credential appears twice");
      SL_ASSIGN_OR_RETURN(out.credential, ParseCredential(value));
      have_cred = true;
    } else if (name == "SignedHeaders") {
      if (have_headers) return MakeError(kBad, "SignedHeaders appears twice");
      out.signed_headers = SplitHeaderList(value);
      SL_RETURN_IF_ERROR(ValidateSignedHeaders(out.signed_headers, kBad));
      have_headers = true;
    } else if (name == "Signature") {
      if (have_sig) return MakeError(kBad, "Signature appears twice");
      if (!IsLowerHex(value, 64)) {
        return MakeError(kBad, "Signature must be 64 lower-case hex digits");
      }
      out.signature = std::string(value);
      have_sig = true;
    } else {
      return MakeError(kBad, "unknown component '" + std::string(name.substr(0, 64)) + "'");
    }
  }
  if (!have_cred) return MakeError(kBad, "missing Credential");
  if (!have_headers) return MakeError(kBad, "missing SignedHeaders");
  if (!have_sig) return MakeError(kBad, "missing Signature");
  return out;
}

namespace {
bool Unreserved(unsigned char c, bool keep_slash) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
}

// True when `raw` is already what PercentEncode(PercentDecode(raw)) gives: unreserved characters
// and upper-case %XX escapes of reserved bytes only. Such text (what SDKs send: a presigned
// URL's parameters, an object's path) is its own canonical form, so it is used as it is instead
// of being decoded and encoded again (those copies were most of a presigned GET's allocations).
bool IsCanonicallyEncoded(std::string_view raw, bool keep_slash) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (Unreserved(c, keep_slash)) continue;
    if (c != '%' || i + 2 >= raw.size()) return false;
    const char h = raw[i + 1], l = raw[i + 2];
    auto upper_hex = [](char x) { return (x >= '0' && x <= '9') || (x >= 'A' && x <= 'F'); };
    if (!upper_hex(h) || !upper_hex(l)) return false;
    if (Unreserved(static_cast<unsigned char>(HexDigitValue(h) * 16 + HexDigitValue(l)), keep_slash)) return false;
    i += 2;
  }
  return true;
}
}  // namespace

Result<std::string> CanonicalUri(std::string_view raw_path, std::string_view service) {
  if (raw_path.empty()) return std::string("/");
  if (service == "s3" && IsCanonicallyEncoded(raw_path, /*keep_slash=*/true)) return std::string(raw_path);
  std::optional<std::string> decoded = PercentDecode(raw_path);
  if (!decoded) return Status::InvalidArgument("malformed percent-encoding in the path");
  std::string once = PercentEncode(*decoded, /*keep_slash=*/true);
  if (service == "s3") return once;
  return PercentEncode(once, /*keep_slash=*/true);
}

Result<std::string> CanonicalQuery(std::string_view raw_query, bool drop_signature) {
  // Each parameter as (encoded key, encoded value): views of the raw query where it is already
  // canonical, else of re-encoded copies kept in `owned` (reserved up front: the views must not
  // move).
  std::vector<std::pair<std::string_view, std::string_view>> params;
  std::vector<std::string> owned;
  const size_t count = static_cast<size_t>(std::count(raw_query.begin(), raw_query.end(), '&')) + 1;
  params.reserve(count);
  owned.reserve(2 * count);
  auto canonical = [&owned](std::string_view raw) -> std::optional<std::string_view> {
    if (IsCanonicallyEncoded(raw, /*keep_slash=*/false)) return raw;
    std::optional<std::string> decoded = PercentDecode(raw);
    if (!decoded) return std::nullopt;
    owned.push_back(PercentEncode(*decoded));
    return std::string_view(owned.back());
  };
  while (!raw_query.empty()) {
    size_t amp = raw_query.find('&');
    std::string_view part = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::optional<std::string_view> k = canonical(part.substr(0, eq));
    std::optional<std::string_view> v =
        eq == std::string_view::npos ? std::string_view() : canonical(part.substr(eq + 1));
    if (!k || !v) return Status::InvalidArgument("malformed percent-encoding in the query string");
    // The canonical encoding of a name is unique, so comparing it is comparing the decoded name.
    if (drop_signature && *k == "X-Amz-Signature") continue;
    params.emplace_back(*k, *v);
  }
  std::sort(params.begin(), params.end());
  size_t size = 0;
  for (const auto& [k, v] : params) size += k.size() + v.size() + 2;
  std::string out;
  out.reserve(size);
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string CanonicalHeaderValue(std::string_view value) {
  value = Trim(value);
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

Result<std::string> CanonicalRequest(const HttpRequestView& request,
                                     std::span<const std::string> signed_headers,
                                     std::string_view payload_hash, std::string_view service,
                                     bool presigned) {
  SL_ASSIGN_OR_RETURN(std::string uri, CanonicalUri(request.raw_path, service));
  SL_ASSIGN_OR_RETURN(std::string query, CanonicalQuery(request.raw_query, presigned));
  std::string out;
  out.reserve(256 + request.raw_path.size() + request.raw_query.size());
  out.append(request.method).append("\n").append(uri).append("\n").append(query).append("\n");
  std::string names;
  for (const std::string& h : signed_headers) {
    out.append(h).append(":");
    bool first = true;
    for (const auto& [k, v] : request.headers) {
      if (k != h) continue;
      if (!first) out.push_back(',');
      out.append(CanonicalHeaderValue(v));
      first = false;
    }
    out.push_back('\n');
    if (!names.empty()) names.push_back(';');
    names.append(h);
  }
  out.append("\n").append(names).append("\n").append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out;
  out.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(HexSha256(canonical_request));
  return out;
}

namespace {

std::array<uint8_t, 32> DeriveSigningKey(std::string_view secret, std::string_view date,
                                         std::string_view region, std::string_view service) {
  std::string k0 = "AWS4" + std::string(secret);
  auto k1 = HmacSha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(k0.data()), k0.size()), date);
  OPENSSL_cleanse(k0.data(), k0.size());
  auto k2 = HmacSha256(k1, region);
  auto k3 = HmacSha256(k2, service);
  return HmacSha256(k3, "aws4_request");
}

// Derived keys by (secret, date, region, service). The four HMACs were 5.5% of the server's CPU
// per request (perf of Athena polls); a key serves every request of its day. Bounded: emptied
// when full (a new day, many keys), which only costs re-deriving.
class SigningKeyCache {
 public:
  std::array<uint8_t, 32> Get(std::string_view secret, std::string_view date, std::string_view region,
                              std::string_view service) {
    std::string id;
    id.reserve(secret.size() + date.size() + region.size() + service.size() + 3);
    id.append(secret).append(1, '\0').append(date).append(1, '\0').append(region).append(1, '\0').append(service);
    {
      MutexLock lock(mu_);
      if (auto it = keys_.find(id); it != keys_.end()) {
        OPENSSL_cleanse(id.data(), id.size());
        return it->second;
      }
    }
    const std::array<uint8_t, 32> key = DeriveSigningKey(secret, date, region, service);
    MutexLock lock(mu_);
    if (keys_.size() >= kMaxKeys) Clear();
    keys_.emplace(std::move(id), key);
    return key;
  }
 private:
  static constexpr size_t kMaxKeys = 1024;
  void Clear() SL_REQUIRES(mu_) {
    for (auto& [id, key] : keys_) {
      OPENSSL_cleanse(const_cast<char*>(id.data()), id.size());
      OPENSSL_cleanse(key.data(), key.size());
    }
    keys_.clear();
  }
  Mutex mu_;
  std::unordered_map<std::string, std::array<uint8_t, 32>> keys_ SL_GUARDED_BY(mu_);
};

}  // namespace

std::array<uint8_t, 32> SigningKey(std::string_view secret, std::string_view date,
                                   std::string_view region, std::string_view service) {
  static SigningKeyCache* cache = new SigningKeyCache();  // never destroyed: used until exit
  return cache->Get(secret, date, region, service);
}

std::string HexHmac(std::span<const uint8_t> key, std::string_view data) {
  return HexEncode(HmacSha256(key, data));
}

std::string HexSha256(std::string_view data) { return Sha256Hex(data); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {
Result<std::string> SignatureFor(const HttpRequestView& request, const SignInput& in,
                                 bool presigned) {
  SL_ASSIGN_OR_RETURN(std::string creq, CanonicalRequest(request, in.signed_headers,
                                                         in.payload_hash, in.service, presigned));
  std::string date = in.amz_date.substr(0, 8);
  std::string scope = date + "/" + in.region + "/" + in.service + "/aws4_request";
  auto key = SigningKey(in.secret, date, in.region, in.service);
  return HexHmac(key, StringToSign(in.amz_date, scope, creq));
}
}  // namespace

Result<std::string> AuthorizationHeader(const HttpRequestView& request, const SignInput& in) {
  SL_ASSIGN_OR_RETURN(std::string sig, SignatureFor(request, in, false));
  std::string names;
  for (const auto& h : in.signed_headers) names += (names.empty() ? "" : ";") + h;
  return std::string(kAlgorithm) + " Credential=" + in.access_key_id + "/" +
         in.amz_date.substr(0, 8) + "/" + in.region + "/" + in.service +
         "/aws4_request, SignedHeaders=" + names + ", Signature=" + sig;
}

Result<std::string> PresignSignature(const HttpRequestView& request, const SignInput& in) {
  return SignatureFor(request, in, true);
}

}  // namespace sigv4

// ---------------------------------------------------------------------------------------------

namespace internal {
namespace {

// Decoded query parameters (first value wins for our X-Amz-* lookups).
std::optional<std::string> QueryParam(std::string_view raw_query, std::string_view name) {
  while (!raw_query.empty()) {
    size_t amp = raw_query.find('&');
    std::string_view part = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    size_t eq = part.find('=');
    std::string_view raw_key = part.substr(0, eq);
    // A key without escapes is its decoded self: compared without a copy (six lookups a request).
    if (raw_key.find('%') == std::string_view::npos) {
      if (raw_key != name) continue;
    } else if (std::optional<std::string> k = PercentDecode(raw_key); !k || *k != name) {
      continue;
    }
    if (eq == std::string_view::npos) return std::string();
    return PercentDecode(part.substr(eq + 1));
  }
  return std::nullopt;
}

bool HasQueryAuth(std::string_view raw_query) {
  return raw_query.find("X-Amz-Signature") != std::string_view::npos ||
         raw_query.find("X-Amz-Credential") != std::string_view::npos ||
         raw_query.find("X-Amz-Algorithm") != std::string_view::npos;
}

// Payload mode from x-amz-content-sha256 (header-signed requests).
Status ApplyPayloadHeader(const HttpRequestView& request, std::string_view service,
                          std::string* payload_hash, Authenticated* out) {
  auto h = request.Header("x-amz-content-sha256");
  if (!h) {
    if (service == "s3") {
      return MakeError(ErrorCode::kInvalidRequest,
                       "missing required header for this request: x-amz-content-sha256");
    }
    // JSON / query protocols: the body's hash is part of the signature, so it is checked here.
    *payload_hash = sigv4::HexSha256(request.body ? *request.body : std::string_view());
    out->payload = PayloadMode::kUnsigned;
    return Status::OK();
  }
  std::string_view v = *h;
  *payload_hash = std::string(v);
  if (IsLowerHex(v, 64)) {
    out->payload = PayloadMode::kSha256;
    out->payload_sha256_hex = std::string(v);
    return Status::OK();
  }
  if (v == sigv4::kUnsignedPayload) {
    out->payload = PayloadMode::kUnsigned;
    return Status::OK();
  }
  if (v == sigv4::kStreamingSigned) {
    out->payload = PayloadMode::kStreamingSigned;
  } else if (v == sigv4::kStreamingSignedTrailer) {
    out->payload = PayloadMode::kStreamingSignedTrailer;
  } else if (v == sigv4::kStreamingUnsignedTrailer) {
    out->payload = PayloadMode::kStreamingUnsignedTrailer;
  } else {
    return MakeError(ErrorCode::kInvalidDigest,
                     "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or the "
                     "hex SHA-256 of the body");
  }
  if (auto len = request.Header("x-amz-decoded-content-length")) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(len->data(), len->data() + len->size(), n);
    if (ec != std::errc() || p != len->data() + len->size()) {
      return MakeError(ErrorCode::kInvalidRequest, "x-amz-decoded-content-length is not a number");
    }
    out->decoded_content_length = n;
  } else if (out->payload == PayloadMode::kStreamingSigned) {
    return MakeError(ErrorCode::kInvalidRequest,
                     "a STREAMING-AWS4-HMAC-SHA256-PAYLOAD request needs x-amz-decoded-content-length");
  }
  if (auto t = request.Header("x-amz-trailer")) {
    std::string name(sigv4::CanonicalHeaderValue(*t));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (out->payload == PayloadMode::kStreamingSigned) {
      return MakeError(ErrorCode::kInvalidRequest, "x-amz-trailer needs a *-TRAILER payload mode");
    }
    out->trailer_header = name;
  }
  return Status::OK();
}

Result<Authenticated> Finish(const HttpRequestView& request, std::string_view service,
                             const sigv4::Credential& cred, std::span<const std::string> signed_names,
                             const std::string& signature, const std::string& amz_date,
                             const std::string& payload_hash, bool presigned,
                             const KeyLookup& lookup, Authenticated out) {
  if (cred.service != service) {
    return MakeError(presigned ? ErrorCode::kAuthorizationQueryParametersError
                               : ErrorCode::kAuthorizationHeaderMalformed,
                     "the credential scope names service '" + cred.service + "', expected '" +
                         std::string(service) + "'");
  }
  if (amz_date.substr(0, 8) != cred.date) {
    return MakeError(presigned ? ErrorCode::kAuthorizationQueryParametersError
                               : ErrorCode::kAuthorizationHeaderMalformed,
                     "the credential date " + cred.date + " is not the request date " +
                         amz_date.substr(0, 8));
  }
  std::optional<KeyRecord> key = lookup(cred.access_key_id);
  if (!key) {
    return MakeError(ErrorCode::kInvalidAccessKeyId,
                     "the access key id " + cred.access_key_id + " does not exist");
  }
  auto creq = sigv4::CanonicalRequest(request, signed_names, payload_hash, service, presigned);
  if (!creq.ok()) {
    return MakeError(ErrorCode::kSignatureDoesNotMatch, ErrorMessageOf(creq.status()));
  }
  std::string scope = cred.Scope();
  auto signing_key = sigv4::SigningKey(key->secret, cred.date, cred.region, cred.service);
  std::string expected = sigv4::HexHmac(signing_key, sigv4::StringToSign(amz_date, scope, *creq));
  if (!sigv4::ConstantTimeEquals(expected, signature)) {
    return MakeError(ErrorCode::kSignatureDoesNotMatch,
                     "the request signature we calculated does not match the signature you "
                     "provided; check your key and signing method");
  }
  if (!key->active) {
    return MakeError(ErrorCode::kAccessDenied, "the access key " + cred.access_key_id + " is inactive");
  }
  out.principal = key->principal;
  out.principal.access_key_id = cred.access_key_id;
  out.presigned = presigned;
  out.seed_signature = signature;
  out.amz_date = amz_date;
  out.scope = scope;
  out.signing_key = signing_key;
  return out;
}

}  // namespace

Result<Authenticated> VerifyRequest(const HttpRequestView& request, std::string_view service,
                                    TimePoint now, const KeyLookup& lookup) {
  Authenticated out;
  auto authz = request.Header("authorization");
  if (authz) {
    if (authz->substr(0, 4) == "AWS ") {
      return MakeError(ErrorCode::kInvalidRequest,
                       "the authorization mechanism you have provided is not supported; use "
                       "AWS4-HMAC-SHA256");
    }
    SL_ASSIGN_OR_RETURN(auto parsed, sigv4::ParseAuthorization(*authz));
    std::string amz_date;
    std::optional<TimePoint> t;
    if (auto d = request.Header("x-amz-date")) {
      amz_date = std::string(*d);
      if (amz_date.size() == 16) t = ParseTime(amz_date);
    } else if (auto hd = request.Header("date")) {
      t = ParseHttpDate(*hd);
      if (t) amz_date = FormatAmzDate(*t);
    } else {
      return MakeError(ErrorCode::kAccessDenied,
                       "AWS authentication requires a valid Date or x-amz-date header");
    }
    if (!t) {
      return MakeError(ErrorCode::kAccessDenied,
                       "AWS authentication requires a valid Date or x-amz-date header");
    }
    auto skew = std::chrono::duration_cast<std::chrono::seconds>(now - *t).count();
    if (skew > sigv4::kMaxSkewSeconds || skew < -sigv4::kMaxSkewSeconds) {
      return MakeError(ErrorCode::kRequestTimeTooSkewed,
                       "the difference between the request time " + FormatIso8601(*t) +
                           " and the server time " + FormatIso8601(now) + " is too large");
    }
    out.request_time = *t;
    std::string payload_hash;
    SL_RETURN_IF_ERROR(ApplyPayloadHeader(request, service, &payload_hash, &out));
    return Finish(request, service, parsed.credential, parsed.signed_headers, parsed.signature,
                  amz_date, payload_hash, false, lookup, std::move(out));
  }
  if (!HasQueryAuth(request.raw_query)) {
    return MakeError(ErrorCode::kMissingAuthenticationToken,
                     "the request carries no Authorization header and no X-Amz-Signature");
  }
  const ErrorCode kBad = ErrorCode::kAuthorizationQueryParametersError;
  auto alg = QueryParam(request.raw_query, "X-Amz-Algorithm");
  auto cred_text = QueryParam(request.raw_query, "X-Amz-Credential");
  auto date = QueryParam(request.raw_query, "X-Amz-Date");
  auto expires = QueryParam(request.raw_query, "X-Amz-Expires");
  auto headers = QueryParam(request.raw_query, "X-Amz-SignedHeaders");
  auto sig = QueryParam(request.raw_query, "X-Amz-Signature");
  if (!alg || !cred_text || !date || !expires || !headers || !sig) {
    return MakeError(kBad,
                     "a presigned request needs X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, "
                     "X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
  }
  if (*alg != sigv4::kAlgorithm) return MakeError(kBad, "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
  auto cred = sigv4::ParseCredential(*cred_text);
  if (!cred.ok()) return MakeError(kBad, ErrorMessageOf(cred.status()));
  std::optional<TimePoint> t = date->size() == 16 ? ParseTime(*date) : std::nullopt;
  if (!t) return MakeError(kBad, "X-Amz-Date must be yyyymmddThhmmssZ");
  int64_t secs = 0;
  auto [p, ec] = std::from_chars(expires->data(), expires->data() + expires->size(), secs);
  if (ec != std::errc() || p != expires->data() + expires->size() || secs < 1) {
    return MakeError(kBad, "X-Amz-Expires must be a positive number of seconds");
  }
  if (secs > sigv4::kMaxPresignSeconds) {
    return MakeError(kBad, "X-Amz-Expires must be less than a week (in seconds); that is, the "
                           "given X-Amz-Expires must be less than 604800 seconds");
  }
  auto signed_headers = SplitHeaderList(*headers);
  SL_RETURN_IF_ERROR(ValidateSignedHeaders(signed_headers, kBad));
  if (!IsLowerHex(*sig, 64)) return MakeError(kBad, "X-Amz-Signature must be 64 lower-case hex digits");
  if (now > *t + std::chrono::seconds(secs)) {
    return MakeError(ErrorCode::kAccessDenied, "request has expired (X-Amz-Date " +
                                                   FormatIso8601(*t) + " + " +
                                                   std::to_string(secs) + " s)");
  }
  if (*t - now > std::chrono::seconds(sigv4::kMaxSkewSeconds)) {
    return MakeError(ErrorCode::kAccessDenied, "request is not valid yet (X-Amz-Date " +
                                                   FormatIso8601(*t) + ")");
  }
  out.request_time = *t;
  // Presigned URLs sign no body, unless the client put a hash in a signed header.
  std::string payload_hash(sigv4::kUnsignedPayload);
  out.payload = PayloadMode::kUnsigned;
  if (auto h = request.Header("x-amz-content-sha256");
      h && std::find(signed_headers.begin(), signed_headers.end(), "x-amz-content-sha256") !=
               signed_headers.end()) {
    SL_RETURN_IF_ERROR(ApplyPayloadHeader(request, service, &payload_hash, &out));
  }
  return Finish(request, service, *cred, signed_headers, *sig, *date, payload_hash, true, lookup,
                std::move(out));
}

}  // namespace internal
}  // namespace saleslake::auth
