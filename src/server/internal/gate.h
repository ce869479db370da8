// The server's seam to authentication and authorization (src/auth implements the real one).
//
// Every request passes Authenticate (signature, presigned URL, aws-chunked body decoding) and
// then Authorize for the operation's IAM action and resource ARN; nothing else in the server
// decides who may do what.
// Thread safety: implementations are called from many worker threads at once.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "server/internal/api_error.h"
#include "server/internal/http_types.h"

namespace saleslake::server::internal {

struct Principal {
  std::string arn;            // "arn:aws:iam::000000000000:user/alice"
  std::string user;           // "alice"
  std::string access_key_id;  // "" when anonymous
  std::string account_id;
  std::string user_id;        // "AIDA...", or "AROA...:<session>" for an assumed role
  std::string role_name;      // an assumed role's session: the role ("" for users)
  std::string role_arn;
};

// Temporary credentials of an assumed role (STS AssumeRole).
struct SessionCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string expiration;  // ISO 8601
  std::string assumed_role_arn;
  std::string assumed_role_id;
};

// Condition keys beyond those the gate reads from the request itself (aws:SourceIp,
// aws:SecureTransport, aws:CurrentTime): e.g. "s3:prefix" for ListBucket.
using ConditionContext = std::map<std::string, std::string>;

class Gate {
 public:
  virtual ~Gate() = default;
  // Verifies the request's credentials. On success the body is the decoded payload (aws-chunked
  // framing removed, trailing checksums verified) and the principal is returned.
  virtual std::optional<ApiError> Authenticate(HttpRequest& request, Principal* principal) = 0;
  // Decides whether `principal` may perform `action` ("s3:GetObject") on `resource`
  // ("arn:aws:s3:::bucket/key"). nullopt = allowed; otherwise AccessDenied (audited).
  virtual std::optional<ApiError> Authorize(const Principal& principal, std::string_view action,
                                            std::string_view resource, const HttpRequest& request,
                                            const ConditionContext& context) = 0;
  // Records a write that was allowed and done (the audit log of writes).
  virtual void AuditWrite(const Principal& /*principal*/, std::string_view /*action*/,
                          std::string_view /*resource*/, const HttpRequest& /*request*/) {}
  // STS AssumeRole for `principal`: the role's trust policy and the caller's identity policies
  // decide; the decision is audited like any other. Unavailable without IAM (--no-auth).
  virtual std::variant<SessionCredentials, ApiError> AssumeRole(const Principal& /*principal*/,
                                                                std::string_view /*role_arn*/,
                                                                std::string_view /*session_name*/,
                                                                int /*duration_seconds*/,
                                                                const HttpRequest& /*request*/) {
    return MakeError(400, "InvalidAction", "AssumeRole needs IAM: this server runs with --no-auth");
  }
  // The web console's sign-in: a user's console password (login profile). On success fills
  // `principal`; AccessDenied otherwise (also when this gate has no passwords).
  virtual std::optional<ApiError> CheckPassword(std::string_view /*user_name*/,
                                                std::string_view /*password*/,
                                                const HttpRequest& /*request*/,
                                                Principal* /*principal*/) {
    return MakeError(403, "AccessDenied", "console passwords are not available");
  }
  // Whether a request without any credentials may scrape /metrics.
  virtual bool open() const = 0;
  // Tells the gate that the bucket policy was just written or deleted through the server, so
  // that the next Authorize reads it (gates may cache it between looks at its file).
  virtual void BucketPolicyChanged() {}
  // Refuses a bucket policy document the evaluator would not accept (MalformedPolicy).
  virtual std::optional<ApiError> ValidateBucketPolicy(std::string_view /*document*/) {
    return std::nullopt;
  }
};

// --no-auth: every request is the anonymous admin; aws-chunked bodies are still decoded and
// their trailing checksums verified.
std::unique_ptr<Gate> MakeOpenGate();

// Removes aws-chunked framing from `body` (chunk signatures are not checked here: that is the
// gate's job) and verifies any x-amz-checksum-* trailer. Trailers are returned in `trailers`.
std::optional<ApiError> DecodeAwsChunked(std::string& body, HeaderMap* trailers);

// True when the request carries an aws-chunked body (Content-Encoding or x-amz-content-sha256).
bool IsAwsChunked(const HttpRequest& request);

}  // namespace saleslake::server::internal
