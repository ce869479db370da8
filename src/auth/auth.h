// auth: who is calling and may they do it — IAM (users, groups, access keys, inline policies,
// login profiles) stored in the lake, AWS Signature Version 4 verification, the IAM policy
// language and its evaluation, and the append-only audit log.
//
// How the server uses it, once per request:
//   1. auth::Iam::Verify(view, "s3", clock.Now())   -> Authenticated (or a typed error)
//   2. read the body through a ChunkedBodyDecoder made from that Authenticated (it checks the
//      x-amz-content-sha256 hash, aws-chunked signatures and trailer checksums)
//   3. auth::Iam::Authorize({principal, "s3:GetObject", "arn:aws:s3:::b/k", context, policy})
//   4. auth::AuditLog::Record(...) for every denial and every write.
//
// Errors: every failure is a Status whose message starts with an AWS error code name and ": "
// ("SignatureDoesNotMatch: ..."); ErrorCodeOf() recovers the code, ErrorMessageOf() the text and
// HttpStatusOf() the status AWS uses. The StatusCode is kPermissionDenied for authentication and
// authorization failures, kInvalidArgument for malformed input, kNotFound / kAlreadyExists for
// IAM entities.
//
// Thread safety: Iam is safe for concurrent use (readers share a snapshot; writers serialise and
// publish a new one). Policy and Decision are values. A ChunkedBodyDecoder has one owner.
// AuditLog::Record may be called from many threads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "io/object_store.h"

namespace saleslake::auth {

// ---------------------------------------------------------------------------------------------
// Time

// The injectable clock lives in common (everything that depends on "now" in auth — skew,
// presigned expiry, key and user creation dates, audit lines, aws:CurrentTime — asks one).
using saleslake::Clock;
using saleslake::ManualClock;
using saleslake::SystemClock;
using saleslake::TimePoint;

// "20130524T000000Z" <-> TimePoint (UTC). ISO-8601 "2013-05-24T00:00:00Z" too for parsing.
std::string FormatAmzDate(TimePoint t);
// "2013-05-24T00:00:00Z" (what the AWS CLI prints for CreateDate).
std::string FormatIso8601(TimePoint t);
std::optional<TimePoint> ParseTime(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Errors

enum class ErrorCode {
  kNone = 0,
  // authentication
  kMissingAuthenticationToken,   // no Authorization header and no presigned query
  kAuthorizationHeaderMalformed,
  kAuthorizationQueryParametersError,
  kInvalidAccessKeyId,           // unknown key id
  kSignatureDoesNotMatch,
  kRequestTimeTooSkewed,         // header-signed request more than 15 minutes off
  kAccessDenied,                 // inactive key, expired presigned URL, or a policy said no
  kXAmzContentSHA256Mismatch,    // body hash differs from x-amz-content-sha256
  kInvalidDigest,                // malformed x-amz-content-sha256 / checksum header
  kBadDigest,                    // a trailer checksum does not match the payload
  kIncompleteBody,               // body shorter than declared / framing cut short
  kInvalidChunkSizeError,        // malformed aws-chunked framing
  kInvalidRequest,               // unsupported combination (e.g. unknown x-amz-trailer)
  kExpiredToken,                 // temporary credentials past their expiration
  kInvalidToken,                 // a session token that is malformed, forged or for a deleted role
  // IAM management
  kNoSuchEntity,
  kEntityAlreadyExists,
  kDeleteConflict,
  kMalformedPolicyDocument,
  kInvalidInput,
  kLimitExceeded,
  kInternalError,
};

// "SignatureDoesNotMatch", ...
std::string_view ErrorCodeName(ErrorCode code);
// The HTTP status AWS answers with (403 for auth failures, 400 for malformed input, 404
// NoSuchEntity, 409 EntityAlreadyExists / DeleteConflict, 500 InternalError).
int HttpStatusOf(ErrorCode code);
// Builds the Status described at the top of this file.
Status MakeError(ErrorCode code, std::string_view message);
// kNone for OK; kInternalError for a Status that did not come from MakeError (I/O etc.).
ErrorCode ErrorCodeOf(const Status& status);
// The message without the "Code: " prefix.
std::string_view ErrorMessageOf(const Status& status);

// ---------------------------------------------------------------------------------------------
// Requests and principals

// One HTTP request as the server parsed it, protocol-neutral and non-owning where it can be.
struct HttpRequestView {
  std::string_view method;     // "GET"
  std::string_view raw_path;   // percent-encoded as on the wire, without the query
  std::string_view raw_query;  // after '?', as on the wire ("" when none)
  // Every header in arrival order; names lower-case, values as received. Repeated names allowed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string source_ip;       // the peer address ("127.0.0.1", "::1")
  bool secure_transport = false;  // TLS
  // The whole body, for requests that carry no x-amz-content-sha256 (the JSON and query
  // protocols sign the body's hash): the server reads the (size-limited) body first and passes
  // it here. Unused when x-amz-content-sha256 is present.
  std::optional<std::string_view> body;

  // The first value of a header (name lower-case), or nullopt.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

struct Principal {
  std::string account_id;     // 12 digits
  std::string user_name;      // "" for anonymous
  std::string user_id;        // "AIDA..." (aws:userid)
  std::string arn;            // arn:aws:iam::<acct>:user/<name>, or "*" for anonymous
  std::string access_key_id;  // the key that signed the request ("" for anonymous)
  // An assumed role's session (STS temporary credentials): user_name is then empty, arn is
  // arn:aws:sts::<acct>:assumed-role/<role>/<session>, user_id is "AROA...:<session>".
  std::string role_name;
  std::string role_arn;       // arn:aws:iam::<acct>:role/<path><name>
  bool anonymous() const { return user_name.empty() && role_name.empty(); }
};

// How the request body is protected; the ChunkedBodyDecoder enforces it.
enum class PayloadMode {
  kSha256,                  // x-amz-content-sha256 is the hex SHA-256 of the body: verify it
  kUnsigned,                // UNSIGNED-PAYLOAD (or a presigned URL): nothing to verify
  kStreamingSigned,         // STREAMING-AWS4-HMAC-SHA256-PAYLOAD: chained chunk signatures
  kStreamingSignedTrailer,  // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  kStreamingUnsignedTrailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

// What a valid signature established, and what the server must still check on the body.
struct Authenticated {
  Principal principal;
  bool presigned = false;
  TimePoint request_time{};          // X-Amz-Date
  PayloadMode payload = PayloadMode::kUnsigned;
  std::string payload_sha256_hex;    // kSha256: the hash the body must have (lower-case hex)
  // Streaming forms: x-amz-decoded-content-length (the payload size after decoding), and the
  // trailer header the client announced in x-amz-trailer ("x-amz-checksum-crc32"), if any.
  std::optional<uint64_t> decoded_content_length;
  std::string trailer_header;
  // Signed-chunk forms: the chain's state (seed signature, scope, signing key). Opaque to the
  // server; ChunkedBodyDecoder::Create reads it.
  std::string seed_signature;
  std::string amz_date;
  std::string scope;                 // 20130524/us-east-1/s3/aws4_request
  std::array<uint8_t, 32> signing_key{};
};

// ---------------------------------------------------------------------------------------------
// Payload checksums (x-amz-checksum-crc32 / crc32c / crc64nvme / sha1 / sha256)

class PayloadChecksum {
 public:
  // `header` is the lower-case header name, e.g. "x-amz-checksum-crc32c"; InvalidRequest for an
  // unknown algorithm.
  static Result<PayloadChecksum> Create(std::string_view header);
  PayloadChecksum(PayloadChecksum&&) noexcept;
  PayloadChecksum& operator=(PayloadChecksum&&) noexcept;
  ~PayloadChecksum();
  void Update(std::string_view data);
  // Base64 of the big-endian digest, as the header carries it. Call once.
  std::string FinishBase64();
  const std::string& header() const;

 private:
  struct State;
  explicit PayloadChecksum(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// Reads a request body incrementally and checks it against what the signature promised:
//   kSha256 -> SHA-256 of the body vs x-amz-content-sha256 (XAmzContentSHA256Mismatch at Finish)
//   kUnsigned -> bytes pass through
//   streaming -> aws-chunked framing decoded; chunk signatures verified against the chain from
//     the seed signature (SignatureDoesNotMatch), trailer checksum verified (BadDigest), the
//     decoded length vs x-amz-decoded-content-length (IncompleteBody), malformed framing
//     (InvalidChunkSizeError / IncompleteBody).
// Feed may be called with any split of the raw bytes; payload bytes are appended to `out` as
// soon as they are known (a signed chunk's bytes only after its signature verified).
class ChunkedBodyDecoder {
 public:
  struct Limits {
    uint64_t max_chunk_size = 64ull << 20;  // one aws-chunked chunk
    size_t max_trailer_bytes = 16 << 10;
  };
  static Result<ChunkedBodyDecoder> Create(const Authenticated& auth, Limits limits);
  static Result<ChunkedBodyDecoder> Create(const Authenticated& auth) { return Create(auth, Limits{}); }
  ChunkedBodyDecoder(ChunkedBodyDecoder&&) noexcept;
  ChunkedBodyDecoder& operator=(ChunkedBodyDecoder&&) noexcept;
  ~ChunkedBodyDecoder();

  // Consumes raw body bytes; appends decoded payload to `out`. After an error the decoder is
  // stuck in that error. Without aws-chunked framing (framed() false) the payload is the raw
  // bytes themselves: `out` may then be null, and the bytes are only checked, not copied.
  Status Feed(std::string_view raw, std::string* out);
  // True when the body carries aws-chunked framing that Feed removes.
  bool framed() const;
  // Call when the raw body ended: checks that the framing is complete and every digest matched.
  Status Finish();
  // True once the final chunk (and trailer) has been read; later bytes are an error.
  bool done() const;
  uint64_t payload_bytes() const;
  // The trailer checksum ("x-amz-checksum-crc32", base64 value) once done, when one was sent.
  std::optional<std::pair<std::string, std::string>> trailer_checksum() const;

 private:
  struct State;
  explicit ChunkedBodyDecoder(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// ---------------------------------------------------------------------------------------------
// SigV4 building blocks (exposed for the fuzz target, the tests and test clients)

namespace sigv4 {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kStreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
constexpr std::string_view kStreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
constexpr std::string_view kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
constexpr int64_t kMaxSkewSeconds = 15 * 60;
constexpr int64_t kMaxPresignSeconds = 7 * 24 * 3600;

struct Credential {
  std::string access_key_id;
  std::string date;     // yyyymmdd
  std::string region;
  std::string service;
  std::string terminator;  // must be aws4_request
  std::string Scope() const;  // date/region/service/aws4_request
};

// "AWS4-HMAC-SHA256 Credential=AKIA.../20130524/us-east-1/s3/aws4_request,
//  SignedHeaders=host;range;x-amz-date, Signature=<64 hex>"
struct ParsedAuthorization {
  Credential credential;
  std::vector<std::string> signed_headers;  // lower-case, in the order given
  std::string signature;                    // lower-case hex
};
// AuthorizationHeaderMalformed with the reason.
Result<ParsedAuthorization> ParseAuthorization(std::string_view header);
// "AKIA.../20130524/us-east-1/s3/aws4_request"
Result<Credential> ParseCredential(std::string_view text);

// Canonical URI: S3 encodes the decoded path once and never normalises it; other services
// encode twice (AWS's rule). InvalidArgument on malformed percent-encoding.
Result<std::string> CanonicalUri(std::string_view raw_path, std::string_view service);
// Canonical query: parameters decoded, re-encoded, sorted by name then value; the presigned
// X-Amz-Signature is left out when `drop_signature`.
Result<std::string> CanonicalQuery(std::string_view raw_query, bool drop_signature);
// Trims and collapses inner runs of spaces; repeated headers joined with ','.
std::string CanonicalHeaderValue(std::string_view value);

// The whole canonical request (method, URI, query, headers, signed header list, payload hash).
Result<std::string> CanonicalRequest(const HttpRequestView& request,
                                     std::span<const std::string> signed_headers,
                                     std::string_view payload_hash, std::string_view service,
                                     bool presigned);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
std::array<uint8_t, 32> SigningKey(std::string_view secret, std::string_view date,
                                   std::string_view region, std::string_view service);
std::string HexHmac(std::span<const uint8_t> key, std::string_view data);
std::string HexSha256(std::string_view data);
// Constant-time equality (length leaks, content does not).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Signs `request` as a client would (Authorization header value). For tests and test clients.
struct SignInput {
  std::string access_key_id;
  std::string secret;
  std::string region = "us-east-1";
  std::string service = "s3";
  std::string amz_date;  // FormatAmzDate(now)
  std::vector<std::string> signed_headers;  // lower-case; must include host
  std::string payload_hash;                 // hex, UNSIGNED-PAYLOAD or a STREAMING-* value
};
Result<std::string> AuthorizationHeader(const HttpRequestView& request, const SignInput& in);
// The signature of a presigned request whose raw_query already holds every X-Amz-* parameter
// except X-Amz-Signature.
Result<std::string> PresignSignature(const HttpRequestView& request, const SignInput& in);

}  // namespace sigv4

// ---------------------------------------------------------------------------------------------
// The IAM policy language

// A parsed, validated policy document. Parse() refuses anything AWS would refuse at put time
// with MalformedPolicyDocument and "line L, column C (byte B): reason".
class Policy {
 public:
  static Result<Policy> Parse(std::string_view json);
  // `for_resource`: a bucket policy (Principal/NotPrincipal required in every statement);
  // identity policies must not have one.
  static Result<Policy> Parse(std::string_view json, bool for_resource);
  // A role's trust (assume-role) policy: Principal required, no Resource (the role is implied).
  static Result<Policy> ParseTrust(std::string_view json);
  Policy(const Policy&);
  Policy& operator=(const Policy&);
  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;
  ~Policy();

  const std::string& text() const;  // the document as given
  size_t num_statements() const;
  // Whether evaluating this policy may read a request's context: a statement has a Condition
  // or a Resource with a policy variable ("${aws:username}"). Iam::Authorize builds the
  // context only for requests that meet such a policy.
  bool reads_context() const;

  struct Rep;  // parsed statements; complete only inside the module
  const Rep& rep() const { return *rep_; }

 private:
  explicit Policy(std::shared_ptr<const Rep> rep);
  std::shared_ptr<const Rep> rep_;  // immutable, shared between copies
};

// Condition keys of one request: "aws:SourceIp", "aws:SecureTransport" ("true"/"false"),
// "aws:CurrentTime" (ISO 8601), "aws:username", "s3:prefix", ... Names compare
// case-insensitively; a key may have several values.
using RequestContext = std::map<std::string, std::vector<std::string>>;

struct NamedPolicy {
  std::string name;  // for the audit line: "user/alice/ReadOnly", "group/devs/RW", "bucket"
  Policy policy;
};

struct AuthzRequest {
  Principal principal;
  std::string action;    // "s3:GetObject"
  std::string resource;  // "arn:aws:s3:::my-analytics-bucket/raw_data/x.csv"
  // Extra condition keys. Iam::Authorize fills aws:username, aws:userid, aws:PrincipalArn,
  // aws:PrincipalAccount and aws:CurrentTime (from its clock) when absent; the server adds
  // aws:SourceIp and aws:SecureTransport (RequestContextFor does that from the request).
  RequestContext context;
  const Policy* resource_policy = nullptr;  // the bucket policy, if the bucket has one
};

enum class DecisionKind { kAllowed, kExplicitDeny, kImplicitDeny };

struct Decision {
  DecisionKind kind = DecisionKind::kImplicitDeny;
  std::string policy;     // which policy decided ("" for an implicit deny)
  std::string statement;  // its Sid, or "#<index>" (0-based) when it has none
  bool allowed() const { return kind == DecisionKind::kAllowed; }
  // "allowed" | "explicitDeny" | "implicitDeny" (the simulate-principal-policy spelling).
  std::string_view KindName() const;
};

// Evaluates as AWS documents it for one account: an explicit Deny in any policy wins; otherwise
// an Allow in an identity policy or in the resource policy (for a statement whose Principal
// names this user, "*" or the user id) allows; otherwise implicit deny. A resource policy whose
// Principal is only the account (root / account id) does not grant by itself: it delegates to
// the identity policies, as AWS does within an account. Deny statements naming the account
// apply to every principal in it.
Decision Evaluate(const AuthzRequest& request, std::span<const NamedPolicy> identity_policies);

// aws:SourceIp, aws:SecureTransport and aws:CurrentTime for a request.
RequestContext RequestContextFor(const HttpRequestView& request, TimePoint now);

// ---------------------------------------------------------------------------------------------
// IAM: the account's users, groups, keys and policies, stored under _system/iam/

struct UserInfo {
  std::string user_name;
  std::string user_id;  // AIDA + 17 chars
  std::string arn;
  std::string path = "/";
  TimePoint create_date{};
};

struct GroupInfo {
  std::string group_name;
  std::string group_id;  // AGPA...
  std::string arn;       // arn:aws:iam::<acct>:group/<name>
  std::string path = "/";
  TimePoint create_date{};
};

struct RoleInfo {
  std::string role_name;
  std::string role_id;  // AROA...
  std::string arn;      // arn:aws:iam::<acct>:role/<path><name>
  std::string path = "/";
  TimePoint create_date{};
  std::string assume_role_policy;  // the trust policy document
  int max_session_duration = 3600;  // seconds
};

// Temporary credentials from AssumeRole. The session token is stateless: it names the role,
// session and expiry and is authenticated with the lake key; the secret is derived from it.
struct TemporaryCredentials {
  std::string access_key_id;  // ASIA + 16 chars
  std::string secret_access_key;
  std::string session_token;
  TimePoint expiration{};
  std::string assumed_role_arn;  // arn:aws:sts::<acct>:assumed-role/<role>/<session>
  std::string assumed_role_id;   // AROA...:<session>
};

// Whose inline policies an operation is about.
enum class PolicyOwner { kUser, kGroup, kRole };

struct AccessKeyInfo {
  std::string user_name;
  std::string access_key_id;  // AKIA + 16 chars
  bool active = true;
  std::string secret_access_key;  // only filled by CreateAccessKey
  TimePoint create_date{};
  std::string StatusName() const { return active ? "Active" : "Inactive"; }
};

struct IamOptions {
  Clock* clock = nullptr;  // nullptr: ProcessClock() (the system clock outside tests)
  // Open creates the account (id, store layout) when absent; otherwise a missing IAM store is
  // kNotFound.
  bool create = false;
  // PBKDF2-HMAC-SHA256 rounds for new login profiles (stored with each hash).
  int password_iterations = 600000;
  // The server re-reads the store at most this often (Verify/Authorize call MaybeReload).
  std::chrono::milliseconds reload_interval{1000};
};

struct SimulationResult {
  std::string action;
  std::string resource;
  Decision decision;
};

class Iam {
 public:
  // Opens IAM over `store` (which must outlive it). Reads the lake key `_system/secret.key`
  // (secrets at rest are AES-256-GCM encrypted with a key derived from it).
  static Result<std::unique_ptr<Iam>> Open(io::ObjectStore& store, IamOptions options);
  ~Iam();

  const std::string& account_id() const;
  Clock& clock() const;

  // Re-reads the store now / only when reload_interval passed since the last check.
  Status Reload();
  Status MaybeReload();

  // ---- authentication
  // Verifies the SigV4 signature of `request` for `service` ("s3") at `now`.
  Result<Authenticated> Verify(const HttpRequestView& request, std::string_view service,
                               TimePoint now);
  // STS AssumeRole: `caller` may assume `role_arn` when the role's trust policy and the caller's
  // identity policies allow sts:AssumeRole on it (evaluated like a bucket policy: a trust policy
  // naming only the account delegates to the identity policies). `decision` receives the
  // decision for the audit line. AccessDenied, NoSuchEntity for an unknown role, InvalidInput for
  // a bad session name or duration (900 s to the role's maximum).
  Result<TemporaryCredentials> AssumeRole(const Principal& caller, std::string_view role_arn,
                                          std::string_view session_name, int duration_seconds,
                                          const RequestContext& context, Decision* decision);

  // Console password check (constant time in the hash comparison). AccessDenied when wrong.
  Result<Principal> CheckPassword(std::string_view user_name, std::string_view password);

  // ---- authorization
  // Evaluate() over the principal's user and group inline policies and the resource policy.
  Decision Authorize(const AuthzRequest& request);
  // The same, where `request_context` gives the keys the request itself carries
  // (RequestContextFor: aws:SourceIp, aws:SecureTransport, aws:UserAgent, ...), added to
  // request.context where absent. It is called, and Authorize's own keys (aws:CurrentTime,
  // aws:username, ...) are filled, only when a policy evaluated reads the context
  // (Policy::reads_context): a request that no Condition or policy variable looks at does not
  // pay for building that map of strings (a third of a small GET's authorization).
  Decision Authorize(const AuthzRequest& request, const std::function<RequestContext()>& request_context);
  // simulate-principal-policy: `source_arn` is a user or role ARN of this account; each action is
  // evaluated against each resource (["*"] when empty) with `context` (the CLI's
  // --context-entries). Uses Authorize, so it agrees with the server.
  Result<std::vector<SimulationResult>> SimulatePrincipalPolicy(
      std::string_view source_arn, std::span<const std::string> actions,
      std::span<const std::string> resources, const RequestContext& context,
      const Policy* resource_policy = nullptr);
  // The principal an ARN / user name names (kNoSuchEntity when unknown).
  Result<Principal> PrincipalForUser(std::string_view user_name);

  // ---- management (each is one atomic update of the store; concurrent updates from other
  // processes are retried on the new state)
  Result<UserInfo> CreateUser(std::string_view user_name, std::string_view path = "/");
  Result<UserInfo> GetUser(std::string_view user_name);
  Result<std::vector<UserInfo>> ListUsers();
  // DeleteConflict while the user has keys, policies, a login profile or groups (as AWS).
  Status DeleteUser(std::string_view user_name);

  // Roles: the trust policy is validated by Policy::ParseTrust.
  Result<RoleInfo> CreateRole(std::string_view role_name, std::string_view assume_role_policy,
                              std::string_view path = "/", int max_session_duration = 3600);
  Result<RoleInfo> GetRole(std::string_view role_name);
  Result<std::vector<RoleInfo>> ListRoles();
  // DeleteConflict while the role has inline policies (as AWS). Sessions of a deleted role stop
  // working at once.
  Status DeleteRole(std::string_view role_name);

  Result<GroupInfo> CreateGroup(std::string_view group_name, std::string_view path = "/");
  Result<std::vector<GroupInfo>> ListGroups();
  Result<std::vector<GroupInfo>> ListGroupsForUser(std::string_view user_name);
  Result<std::vector<UserInfo>> GetGroupUsers(std::string_view group_name);
  Status AddUserToGroup(std::string_view group_name, std::string_view user_name);
  Status RemoveUserFromGroup(std::string_view group_name, std::string_view user_name);
  Status DeleteGroup(std::string_view group_name);

  // LimitExceeded past 2 keys per user, as AWS.
  Result<AccessKeyInfo> CreateAccessKey(std::string_view user_name);
  Result<std::vector<AccessKeyInfo>> ListAccessKeys(std::string_view user_name);
  Status UpdateAccessKey(std::string_view user_name, std::string_view access_key_id, bool active);
  Status DeleteAccessKey(std::string_view user_name, std::string_view access_key_id);

  // Inline policies of a user, group or role. Put validates (MalformedPolicyDocument with the
  // position) and replaces; the size limits are AWS's per owner kind.
  Status PutInlinePolicy(PolicyOwner kind, std::string_view owner, std::string_view policy_name,
                         std::string_view document);
  Result<std::string> GetInlinePolicy(PolicyOwner kind, std::string_view owner, std::string_view policy_name);
  Result<std::vector<std::string>> ListInlinePolicies(PolicyOwner kind, std::string_view owner);
  Status DeleteInlinePolicy(PolicyOwner kind, std::string_view owner, std::string_view policy_name);
  // The user and group forms (the AWS CLI's put-user-policy, put-group-policy, ...).
  Status PutUserPolicy(std::string_view user_name, std::string_view policy_name,
                       std::string_view document);
  Result<std::string> GetUserPolicy(std::string_view user_name, std::string_view policy_name);
  Result<std::vector<std::string>> ListUserPolicies(std::string_view user_name);
  Status DeleteUserPolicy(std::string_view user_name, std::string_view policy_name);
  Status PutGroupPolicy(std::string_view group_name, std::string_view policy_name,
                        std::string_view document);
  Result<std::string> GetGroupPolicy(std::string_view group_name, std::string_view policy_name);
  Result<std::vector<std::string>> ListGroupPolicies(std::string_view group_name);
  Status DeleteGroupPolicy(std::string_view group_name, std::string_view policy_name);

  // Console login profile: PBKDF2-HMAC-SHA256 with a random salt.
  Status CreateLoginProfile(std::string_view user_name, std::string_view password);
  Status DeleteLoginProfile(std::string_view user_name);

 private:
  struct Rep;
  explicit Iam(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// The policy `init` gives the admin user (every action on every resource).
constexpr std::string_view kAdministratorAccessPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";

// What `init` does: when the account has no user named "admin", creates it with
// kAdministratorAccessPolicy (inline, named AdministratorAccess) and one access key, returned
// with its secret; nullopt when the admin already exists (init is idempotent).
Result<std::optional<AccessKeyInfo>> EnsureAdmin(Iam& iam);

// ---------------------------------------------------------------------------------------------
// Audit log: _system/audit/YYYY-MM-DD.jsonl, one JSON object per line, appended with a single
// write (O_APPEND, 0600) per line on a local lake; elsewhere one object per line.

struct AuditRecord {
  TimePoint time{};
  std::string principal;  // ARN, or "anonymous"
  std::string access_key_id;
  std::string source_ip;
  std::string action;
  std::string resource;
  Decision decision;
  std::string request_id;  // optional
  int http_status = 0;     // optional (0: not written)
};

class AuditLog {
 public:
  explicit AuditLog(io::ObjectStore& store);
  // Appends one line. Thread-safe.
  Status Record(const AuditRecord& record);
  // The JSON line (without '\n') Record writes.
  static std::string ToJsonLine(const AuditRecord& record);

 private:
  io::ObjectStore& store_;
};

}  // namespace saleslake::auth
