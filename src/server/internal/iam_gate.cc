// The gate over src/auth: SigV4 (header and presigned), aws-chunked bodies, IAM policies with
// the bucket policy, and the audit log.
#include <sys/stat.h>

#include <chrono>
#include <mutex>

#include "auth/auth.h"
#include "server/internal/server_internal.h"

namespace saleslake::server::internal {

namespace {

constexpr const char* kBucketPolicyKey = "_system/s3/bucket-policy.json";

ApiError FromAuth(const Status& s) {
  auth::ErrorCode code = auth::ErrorCodeOf(s);
  ApiError e;
  e.http_status = auth::HttpStatusOf(code);
  e.code = std::string(auth::ErrorCodeName(code));
  e.message = std::string(auth::ErrorMessageOf(s));
  if (code == auth::ErrorCode::kMissingAuthenticationToken) {
    // S3 answers a request without credentials for a private resource with AccessDenied.
    e.http_status = 403;
    e.code = "AccessDenied";
    e.message = "Access Denied (no credentials: only /healthz answers without a key)";
  }
  return e;
}

auth::HttpRequestView ViewOf(const HttpRequest& request) {
  auth::HttpRequestView v;
  v.method = request.method;
  v.raw_path = request.raw_path;
  v.raw_query = request.raw_query;
  v.headers.assign(request.headers.begin(), request.headers.end());
  v.source_ip = request.remote_ip;
  v.secure_transport = request.secure;
  v.body = std::string_view(request.body);
  return v;
}

auth::Principal AuthPrincipal(const Principal& p) {
  auth::Principal a;
  a.account_id = p.account_id;
  a.user_name = p.user;
  a.user_id = p.user_id;
  a.arn = p.arn;
  a.access_key_id = p.access_key_id;
  a.role_name = p.role_name;
  a.role_arn = p.role_arn;
  return a;
}

class IamGate final : public Gate {
 public:
  IamGate(io::ObjectStore* lake, std::unique_ptr<auth::Iam> iam)
      : lake_(lake), local_(dynamic_cast<io::LocalStore*>(lake)), iam_(std::move(iam)), audit_(*lake) {}

  std::optional<ApiError> Authenticate(HttpRequest& request, Principal* principal) override {
    (void)iam_->MaybeReload();
    auth::HttpRequestView view = ViewOf(request);
    // S3 signs with service "s3"; the JSON and query APIs with their own name, which the
    // credential scope states.
    std::string service = "s3";
    if (request.Header("x-amz-target") || request.raw_path == "/") {
      std::string_view cred;
      if (const std::string* h = request.Header("authorization")) {
        auto parsed = auth::sigv4::ParseAuthorization(*h);
        if (parsed.ok()) service = parsed->credential.service;
      } else if ((cred = request.raw_query).find("X-Amz-Credential=") != std::string_view::npos) {
        service = "s3";
      }
    }
    auto verified = iam_->Verify(view, service, iam_->clock().Now());
    if (!verified.ok()) {
      ApiError e = FromAuth(verified.status());
      Audit(request, nullptr, "auth:Authenticate", "", auth::DecisionKind::kExplicitDeny, e.code, e.http_status);
      return e;
    }
    // The body as the signature promised it (hash checked, aws-chunked framing and trailers
    // decoded and verified). An unsigned, unframed payload (every presigned GET) has nothing to
    // check: its decoder would only pass the bytes through.
    if (verified->payload == auth::PayloadMode::kUnsigned && verified->trailer_header.empty()) {
      TakePrincipal(std::move(verified->principal), principal);
      return std::nullopt;
    }
    auto decoder = auth::ChunkedBodyDecoder::Create(*verified);
    if (!decoder.ok()) return FromAuth(decoder.status());
    // An unframed body stays where it is (checked in place: an 8 MiB part copied into a fresh
    // string was a fifth of a large upload's server time, with its page faults).
    std::string out;
    if (decoder->framed()) out.reserve(request.body.size());
    Status s = decoder->Feed(request.body, decoder->framed() ? &out : nullptr);
    if (s.ok()) s = decoder->Finish();
    if (!s.ok()) return FromAuth(s);
    if (decoder->framed()) request.body = std::move(out);
    TakePrincipal(std::move(verified->principal), principal);
    return std::nullopt;
  }

  static void TakePrincipal(auth::Principal p, Principal* principal) {
    principal->arn = std::move(p.arn);
    principal->user = std::move(p.user_name);
    principal->access_key_id = std::move(p.access_key_id);
    principal->account_id = std::move(p.account_id);
    principal->user_id = std::move(p.user_id);
    principal->role_name = std::move(p.role_name);
    principal->role_arn = std::move(p.role_arn);
  }

  std::optional<ApiError> Authorize(const Principal& principal, std::string_view action,
                                    std::string_view resource, const HttpRequest& request,
                                    const ConditionContext& context) override {
    auth::AuthzRequest req;
    req.principal = AuthPrincipal(principal);
    req.action = std::string(action);
    req.resource = std::string(resource);
    for (const auto& [k, v] : context) req.context[k] = {v};
    std::shared_ptr<const auth::Policy> bucket_policy = BucketPolicy();
    if (resource.rfind("arn:aws:s3:::", 0) == 0) req.resource_policy = bucket_policy.get();
    // Built only if a policy has a Condition or a variable (most requests meet none).
    auth::Decision d = iam_->Authorize(
        req, [&] { return auth::RequestContextFor(ViewOf(request), iam_->clock().Now()); });
    if (d.allowed()) return std::nullopt;
    Audit(request, &principal, std::string(action), std::string(resource), d.kind, "AccessDenied", 403, &d);
    ApiError e = MakeError(403, "AccessDenied", "Access Denied");
    return e;
  }

  void AuditWrite(const Principal& principal, std::string_view action, std::string_view resource,
                  const HttpRequest& request) override {
    Audit(request, &principal, std::string(action), std::string(resource), auth::DecisionKind::kAllowed, "", 200);
  }

  std::variant<SessionCredentials, ApiError> AssumeRole(const Principal& principal, std::string_view role_arn,
                                                        std::string_view session_name, int duration_seconds,
                                                        const HttpRequest& request) override {
    auth::HttpRequestView view = ViewOf(request);
    auth::Decision d;
    auto creds = iam_->AssumeRole(AuthPrincipal(principal), role_arn, session_name, duration_seconds,
                                  auth::RequestContextFor(view, iam_->clock().Now()), &d);
    if (!creds.ok()) {
      ApiError e = FromAuth(creds.status());
      if (e.code == "AccessDenied") {
        Audit(request, &principal, "sts:AssumeRole", std::string(role_arn), d.kind, e.code, e.http_status, &d);
      }
      return e;
    }
    Audit(request, &principal, "sts:AssumeRole", std::string(role_arn), auth::DecisionKind::kAllowed, "", 200, &d);
    return SessionCredentials{creds->access_key_id, creds->secret_access_key, creds->session_token,
                              auth::FormatIso8601(creds->expiration), creds->assumed_role_arn,
                              creds->assumed_role_id};
  }

  std::optional<ApiError> CheckPassword(std::string_view user_name, std::string_view password,
                                        const HttpRequest& request, Principal* principal) override {
    (void)iam_->MaybeReload();
    auto p = iam_->CheckPassword(user_name, password);
    if (!p.ok()) {
      ApiError e = MakeError(403, "AccessDenied", "wrong user name or password");
      Audit(request, nullptr, "signin:ConsoleLogin", std::string(user_name),
            auth::DecisionKind::kExplicitDeny, e.code, 403);
      return e;
    }
    principal->arn = p->arn;
    principal->user = p->user_name;
    principal->access_key_id = "";
    principal->account_id = p->account_id;
    principal->user_id = p->user_id;
    return std::nullopt;
  }

  bool open() const override { return false; }

  std::optional<ApiError> ValidateBucketPolicy(std::string_view document) override {
    auto p = auth::Policy::Parse(document, /*for_resource=*/true);
    if (!p.ok()) return MakeError(400, "MalformedPolicy", std::string(auth::ErrorMessageOf(p.status())));
    return std::nullopt;
  }

 private:
  void Audit(const HttpRequest& request, const Principal* principal, std::string action,
             std::string resource, auth::DecisionKind kind, const std::string& code, int status,
             const auth::Decision* decision = nullptr) {
    auth::AuditRecord r;
    r.time = iam_->clock().Now();
    r.principal = principal && !principal->arn.empty() ? principal->arn : "anonymous";
    r.access_key_id = principal ? principal->access_key_id : "";
    r.source_ip = request.remote_ip;
    r.action = std::move(action);
    r.resource = std::move(resource);
    if (decision) r.decision = *decision;
    else r.decision.kind = kind;
    if (!decision && !code.empty()) r.decision.statement = code;  // why authentication failed
    r.request_id = request.request_id;
    r.http_status = status;
    (void)audit_.Record(r);  // the audit log failing must not take the request down with it
  }

  // The bucket policy, parsed once per version of its file. Its file is looked at (a stat of a
  // local lake, a HEAD of a remote one) at most once per kPolicyRecheck of the IAM clock, as IAM
  // re-reads its own store: a policy written behind the server's back (another process, an
  // edited file) is in force within that time; one written through the server's S3 API
  // (BucketPolicyChanged) at once. The per-request stat was 2.4% of the server's CPU for a
  // small GET.
  std::shared_ptr<const auth::Policy> BucketPolicy() {
    const TimePoint now = iam_->clock().Now();
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (policy_stamp_ != -2 && now - policy_checked_ < kPolicyRecheck && now >= policy_checked_) return policy_;
      policy_checked_ = now;
      generation = policy_generation_;
    }
    int64_t stamp = -1;
    if (local_ != nullptr) {
      struct stat st;
      std::string path = local_->PathOf(kBucketPolicyKey);
      if (stat(path.c_str(), &st) == 0)
        stamp = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec + st.st_size;
    } else {
      auto info = lake_->Stat(kBucketPolicyKey);
      if (info.ok()) stamp = info->mtime_ns + static_cast<int64_t>(info->size);
      else if (info.status().code() != StatusCode::kNotFound) {
        std::lock_guard<std::mutex> lock(mu_);
        return policy_;  // the store is unreachable: keep what we have, look again later
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stamp == policy_stamp_) return policy_;
    // Changed through the server while this look ran: what was read may be the old version, so
    // the next request looks again.
    policy_stamp_ = generation == policy_generation_ ? stamp : -2;
    policy_.reset();
    if (stamp >= 0) {
      auto text = lake_->Get(kBucketPolicyKey);
      if (text.ok()) {
        auto p = auth::Policy::Parse(*text, /*for_resource=*/true);
        if (p.ok()) policy_ = std::make_shared<const auth::Policy>(std::move(*p));
      }
    }
    return policy_;
  }

 public:
  void BucketPolicyChanged() override {
    std::lock_guard<std::mutex> lock(mu_);
    policy_stamp_ = -2;  // look at the file on the next request
    ++policy_generation_;
  }

 private:
  static constexpr std::chrono::seconds kPolicyRecheck{1};

  io::ObjectStore* lake_;
  io::LocalStore* local_;  // lake_ when it is a local directory, else nullptr
  std::unique_ptr<auth::Iam> iam_;
  auth::AuditLog audit_;
  std::mutex mu_;
  int64_t policy_stamp_ = -2;                     // GUARDED_BY(mu_); -2: look at the file
  uint64_t policy_generation_ = 0;                // GUARDED_BY(mu_): BucketPolicyChanged calls
  TimePoint policy_checked_;                      // GUARDED_BY(mu_): IAM clock of the last look
  std::shared_ptr<const auth::Policy> policy_;    // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<Gate>> MakeGate(const ServerOptions& options) {
  if (options.no_auth) return MakeOpenGate();
  auth::IamOptions iam_options;
  iam_options.clock = options.clock;  // nullptr: the process clock
  auto iam = auth::Iam::Open(*options.lake, iam_options);
  if (!iam.ok()) {
    if (iam.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("the lake has no IAM store yet (run `saleslake init`, or serve with "
                              "--no-auth on loopback): " + iam.status().message());
    }
    return iam.status();
  }
  return std::unique_ptr<Gate>(std::make_unique<IamGate>(options.lake, std::move(*iam)));
}

}  // namespace saleslake::server::internal
