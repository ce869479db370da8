// IAM over a real local lake: entities, persistence and file modes, concurrent writers, keys
// verified through SigV4, authorization over user and group policies, simulation, login
// profiles and the audit log.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "auth/auth.h"
#include "io/local_store.h"
#include "support/test_support.h"

namespace saleslake::auth {
namespace {

using testing::TempDir;

class IamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = io::LocalStore::Open(dir_.Join("lake"), true);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    ASSERT_TRUE(store_->Put("_system/secret.key", std::string(64, 'a') + "\n").ok());
    iam_ = OpenIam(true);
    ASSERT_NE(iam_, nullptr);
  }

  std::unique_ptr<Iam> OpenIam(bool create) {
    auto iam = Iam::Open(*store_, IamOptions{.clock = &clock_, .create = create, .password_iterations = 1000});
    EXPECT_TRUE(iam.ok()) << iam.status().ToString();
    return iam.ok() ? std::move(*iam) : nullptr;
  }

  // A request signed with `key` at the clock's time (with a session token for temporary keys).
  // REQUIRES: `path` outlives the view (a literal).
  HttpRequestView Signed(const AccessKeyInfo& key, std::string_view path = "/my-analytics-bucket/raw_data/a.csv",
                         const std::string& session_token = "") {
    HttpRequestView r;
    r.method = "GET";
    r.raw_path = path;
    r.source_ip = "127.0.0.1";
    r.headers = {{"host", "127.0.0.1:8080"},
                 {"x-amz-date", FormatAmzDate(clock_.Now())},
                 {"x-amz-content-sha256", std::string(sigv4::kUnsignedPayload)}};
    std::vector<std::string> signed_headers = {"host", "x-amz-content-sha256", "x-amz-date"};
    if (!session_token.empty()) {
      r.headers.emplace_back("x-amz-security-token", session_token);
      signed_headers.push_back("x-amz-security-token");
    }
    sigv4::SignInput in{key.access_key_id, key.secret_access_key, "us-east-1", "s3",
                        FormatAmzDate(clock_.Now()), signed_headers, std::string(sigv4::kUnsignedPayload)};
    r.headers.emplace_back("authorization", *sigv4::AuthorizationHeader(r, in));
    return r;
  }

  TempDir dir_;
  ManualClock clock_{*ParseTime("2026-06-01T12:00:00Z")};
  std::unique_ptr<io::LocalStore> store_;
  std::unique_ptr<Iam> iam_;
};

TEST_F(IamTest, AccountIdIsFixedAndOpenWithoutCreateNeedsIt) {
  std::string acct = iam_->account_id();
  EXPECT_EQ(acct.size(), 12u);
  EXPECT_NE(acct[0], '0');
  EXPECT_EQ(OpenIam(false)->account_id(), acct);
  EXPECT_EQ(OpenIam(true)->account_id(), acct);  // create is idempotent

  TempDir other;
  auto s = io::LocalStore::Open(other.Join("lake"), true);
  ASSERT_TRUE((*s)->Put("_system/secret.key", std::string(64, 'b')).ok());
  EXPECT_EQ(Iam::Open(**s, IamOptions{}).status().code(), StatusCode::kNotFound);
  TempDir nokey;
  auto n = io::LocalStore::Open(nokey.Join("lake"), true);
  EXPECT_FALSE(Iam::Open(**n, IamOptions{.create = true}).ok());
}

TEST_F(IamTest, UsersGroupsAndErrors) {
  auto u = iam_->CreateUser("alice");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->arn, "arn:aws:iam::" + iam_->account_id() + ":user/alice");
  EXPECT_EQ(u->user_id.substr(0, 4), "AIDA");
  EXPECT_EQ(u->user_id.size(), 21u);
  EXPECT_EQ(FormatIso8601(u->create_date), "2026-06-01T12:00:00Z");
  EXPECT_EQ(ErrorCodeOf(iam_->CreateUser("alice").status()), ErrorCode::kEntityAlreadyExists);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateUser("ALICE").status()), ErrorCode::kEntityAlreadyExists);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateUser("bad name").status()), ErrorCode::kInvalidInput);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateUser(std::string(65, 'a')).status()), ErrorCode::kInvalidInput);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateUser("x", "nopath").status()), ErrorCode::kInvalidInput);
  auto eng = iam_->CreateUser("eve", "/eng/");
  ASSERT_TRUE(eng.ok());
  EXPECT_EQ(eng->arn, "arn:aws:iam::" + iam_->account_id() + ":user/eng/eve");

  ASSERT_TRUE(iam_->CreateGroup("analysts").ok());
  EXPECT_EQ(ErrorCodeOf(iam_->CreateGroup("analysts").status()), ErrorCode::kEntityAlreadyExists);
  ASSERT_TRUE(iam_->AddUserToGroup("analysts", "alice").ok());
  ASSERT_TRUE(iam_->AddUserToGroup("analysts", "alice").ok());  // idempotent
  EXPECT_EQ(ErrorCodeOf(iam_->AddUserToGroup("analysts", "nobody")), ErrorCode::kNoSuchEntity);
  EXPECT_EQ(ErrorCodeOf(iam_->AddUserToGroup("nogroup", "alice")), ErrorCode::kNoSuchEntity);
  EXPECT_EQ(iam_->GetGroupUsers("analysts")->size(), 1u);
  EXPECT_EQ(iam_->ListGroupsForUser("alice")->at(0).group_name, "analysts");
  EXPECT_EQ(iam_->ListUsers()->size(), 2u);

  // DeleteConflict while the user is still attached to something.
  EXPECT_EQ(ErrorCodeOf(iam_->DeleteUser("alice")), ErrorCode::kDeleteConflict);
  EXPECT_EQ(ErrorCodeOf(iam_->DeleteGroup("analysts")), ErrorCode::kDeleteConflict);
  ASSERT_TRUE(iam_->RemoveUserFromGroup("analysts", "alice").ok());
  auto key = iam_->CreateAccessKey("alice");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ErrorCodeOf(iam_->DeleteUser("alice")), ErrorCode::kDeleteConflict);
  ASSERT_TRUE(iam_->DeleteAccessKey("alice", key->access_key_id).ok());
  ASSERT_TRUE(iam_->DeleteUser("alice").ok());
  ASSERT_TRUE(iam_->DeleteGroup("analysts").ok());
  EXPECT_EQ(ErrorCodeOf(iam_->GetUser("alice").status()), ErrorCode::kNoSuchEntity);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kDeleteConflict), 409);
}

TEST_F(IamTest, AccessKeysArePersistedEncryptedAndPrivate) {
  ASSERT_TRUE(iam_->CreateUser("alice").ok());
  auto k1 = iam_->CreateAccessKey("alice");
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(k1->access_key_id.size(), 20u);
  EXPECT_EQ(k1->access_key_id.substr(0, 4), "AKIA");
  EXPECT_EQ(k1->secret_access_key.size(), 40u);
  EXPECT_TRUE(k1->active);
  auto k2 = iam_->CreateAccessKey("alice");
  ASSERT_TRUE(k2.ok());
  EXPECT_NE(k1->secret_access_key, k2->secret_access_key);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateAccessKey("alice").status()), ErrorCode::kLimitExceeded);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateAccessKey("nobody").status()), ErrorCode::kNoSuchEntity);

  auto listed = iam_->ListAccessKeys("alice");
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& k : *listed) EXPECT_TRUE(k.secret_access_key.empty());
  ASSERT_TRUE(iam_->UpdateAccessKey("alice", k1->access_key_id, false).ok());
  EXPECT_EQ(ErrorCodeOf(iam_->UpdateAccessKey("alice", "AKIANOPE", false)), ErrorCode::kNoSuchEntity);

  // No secret in clear anywhere under _system/iam/; the folder is 0700 and files 0600.
  auto files = store_->List("_system/iam/");
  ASSERT_TRUE(files.ok());
  ASSERT_FALSE(files->empty());
  for (const auto& f : *files) {
    std::string text = *store_->Get(f.key);
    EXPECT_EQ(text.find(k1->secret_access_key), std::string::npos) << f.key;
    EXPECT_EQ(text.find(k2->secret_access_key), std::string::npos) << f.key;
    struct stat st;
    ASSERT_EQ(stat(store_->PathOf(f.key).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f.key;
  }
  struct stat dst;
  ASSERT_EQ(stat(store_->PathOf("_system/iam").c_str(), &dst), 0);
  EXPECT_EQ(dst.st_mode & 0777, 0700u);

  // A fresh Iam over the same lake verifies with the same key, and sees it inactive.
  auto again = OpenIam(false);
  auto a = again->Verify(Signed(*k2), "s3", clock_.Now());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->principal.user_name, "alice");
  EXPECT_EQ(a->principal.arn, "arn:aws:iam::" + iam_->account_id() + ":user/alice");
  auto inactive = again->Verify(Signed(*k1), "s3", clock_.Now());
  EXPECT_EQ(ErrorCodeOf(inactive.status()), ErrorCode::kAccessDenied);

  // A lake secret that changed cannot open the sealed keys.
  ASSERT_TRUE(store_->Put("_system/secret.key", std::string(64, 'c')).ok());
  EXPECT_EQ(Iam::Open(*store_, IamOptions{}).status().code(), StatusCode::kCorruption);
}

TEST_F(IamTest, VerifyErrors) {
  ASSERT_TRUE(iam_->CreateUser("alice").ok());
  auto k = iam_->CreateAccessKey("alice");
  HttpRequestView r = Signed(*k);
  EXPECT_TRUE(iam_->Verify(r, "s3", clock_.Now()).ok());
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(r, "s3", clock_.Now() + std::chrono::minutes(16)).status()),
            ErrorCode::kRequestTimeTooSkewed);
  AccessKeyInfo wrong = *k;
  wrong.secret_access_key[0] = wrong.secret_access_key[0] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(Signed(wrong), "s3", clock_.Now()).status()),
            ErrorCode::kSignatureDoesNotMatch);
  AccessKeyInfo unknown = *k;
  unknown.access_key_id = "AKIAUNKNOWNUNKNOWN00";
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(Signed(unknown), "s3", clock_.Now()).status()),
            ErrorCode::kInvalidAccessKeyId);
  // A deleted key stops working (in this Iam at once; in others after a reload).
  auto other = OpenIam(false);
  ASSERT_TRUE(iam_->DeleteAccessKey("alice", k->access_key_id).ok());
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(Signed(*k), "s3", clock_.Now()).status()), ErrorCode::kInvalidAccessKeyId);
  EXPECT_TRUE(other->Verify(Signed(*k), "s3", clock_.Now()).ok());  // within reload_interval
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(ErrorCodeOf(other->Verify(Signed(*k), "s3", clock_.Now()).status()), ErrorCode::kInvalidAccessKeyId);
}

TEST_F(IamTest, PoliciesAuthorizeAndSimulationAgrees) {
  ASSERT_TRUE(iam_->CreateUser("alice").ok());
  ASSERT_TRUE(iam_->CreateUser("bob").ok());
  ASSERT_TRUE(iam_->CreateGroup("readers").ok());
  ASSERT_TRUE(iam_->AddUserToGroup("readers", "alice").ok());
  ASSERT_TRUE(iam_->PutGroupPolicy("readers", "Read", R"({"Version":"2012-10-17","Statement":[
      {"Sid":"ReadAll","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]})").ok());
  ASSERT_TRUE(iam_->PutUserPolicy("alice", "NoSystem", R"({"Version":"2012-10-17","Statement":[
      {"Sid":"NoSystem","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::my-analytics-bucket/_system/*"},
      {"Sid":"WriteRaw","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*",
       "Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]})").ok());
  EXPECT_EQ(*iam_->ListUserPolicies("alice"), std::vector<std::string>{"NoSystem"});
  EXPECT_EQ(*iam_->ListGroupPolicies("readers"), std::vector<std::string>{"Read"});
  EXPECT_NE(iam_->GetUserPolicy("alice", "NoSystem")->find("WriteRaw"), std::string::npos);

  // Malformed and oversized documents are refused at put time; nothing changes.
  auto bad = iam_->PutUserPolicy("alice", "Bad", R"({"Statement":[{"Effect":"Allow"}]})");
  EXPECT_EQ(ErrorCodeOf(bad), ErrorCode::kMalformedPolicyDocument);
  EXPECT_NE(bad.message().find("line 1, column 15"), std::string::npos) << bad.message();
  std::string big = R"({"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":[)";
  for (int i = 0; i < 120; ++i) big += std::string(i ? "," : "") + "\"arn:aws:s3:::b/" + std::to_string(i) + "\"";
  big += "]}]}";
  EXPECT_EQ(ErrorCodeOf(iam_->PutUserPolicy("alice", "Big", big)), ErrorCode::kLimitExceeded);
  EXPECT_EQ(iam_->ListUserPolicies("alice")->size(), 1u);

  auto alice = *iam_->PrincipalForUser("alice");
  auto bob = *iam_->PrincipalForUser("bob");
  RequestContext local = {{"aws:SourceIp", {"127.0.0.1"}}};
  RequestContext remote = {{"aws:SourceIp", {"192.0.2.1"}}};
  struct Case {
    Principal who;
    std::string action, resource;
    RequestContext ctx;
    DecisionKind kind;
    std::string policy, statement;
  };
  std::vector<Case> cases = {
      {alice, "s3:GetObject", "arn:aws:s3:::my-analytics-bucket/raw_data/a", local, DecisionKind::kAllowed, "group/readers/Read", "ReadAll"},
      {alice, "s3:GetObject", "arn:aws:s3:::my-analytics-bucket/_system/iam/x", local, DecisionKind::kExplicitDeny, "user/alice/NoSystem", "NoSystem"},
      {alice, "s3:PutObject", "arn:aws:s3:::my-analytics-bucket/raw_data/a", local, DecisionKind::kAllowed, "user/alice/NoSystem", "WriteRaw"},
      {alice, "s3:PutObject", "arn:aws:s3:::my-analytics-bucket/raw_data/a", remote, DecisionKind::kImplicitDeny, "", ""},
      {alice, "s3:DeleteObject", "arn:aws:s3:::my-analytics-bucket/raw_data/a", local, DecisionKind::kImplicitDeny, "", ""},
      {bob, "s3:GetObject", "arn:aws:s3:::my-analytics-bucket/raw_data/a", local, DecisionKind::kImplicitDeny, "", ""},
  };
  for (const auto& c : cases) {
    Decision d = iam_->Authorize(AuthzRequest{c.who, c.action, c.resource, c.ctx, nullptr});
    EXPECT_EQ(d.kind, c.kind) << c.who.user_name << " " << c.action << " " << c.resource;
    EXPECT_EQ(d.policy, c.policy);
    EXPECT_EQ(d.statement, c.statement);
    std::vector<std::string> actions = {c.action}, resources = {c.resource};
    auto sim = iam_->SimulatePrincipalPolicy(c.who.arn, actions, resources, c.ctx);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    ASSERT_EQ(sim->size(), 1u);
    EXPECT_EQ((*sim)[0].decision.kind, d.kind);
    EXPECT_EQ((*sim)[0].decision.statement, d.statement);
  }
  // aws:username is filled in for policy variables; aws:CurrentTime from the injected clock.
  ASSERT_TRUE(iam_->PutUserPolicy("bob", "Home", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/home/${aws:username}/*",
       "Condition":{"DateLessThan":{"aws:CurrentTime":"2026-06-01T12:30:00Z"}}}]})").ok());
  EXPECT_TRUE(iam_->Authorize(AuthzRequest{bob, "s3:GetObject", "arn:aws:s3:::b/home/bob/x", {}, nullptr}).allowed());
  EXPECT_FALSE(iam_->Authorize(AuthzRequest{bob, "s3:GetObject", "arn:aws:s3:::b/home/alice/x", {}, nullptr}).allowed());
  clock_.Advance(std::chrono::hours(1));
  EXPECT_FALSE(iam_->Authorize(AuthzRequest{bob, "s3:GetObject", "arn:aws:s3:::b/home/bob/x", {}, nullptr}).allowed());

  // Simulation input errors.
  std::vector<std::string> acts = {"s3:GetObject"};
  EXPECT_EQ(ErrorCodeOf(iam_->SimulatePrincipalPolicy("arn:aws:iam::000000000000:user/alice", acts, {}, {}).status()),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(ErrorCodeOf(iam_->SimulatePrincipalPolicy(alice.arn.substr(0, alice.arn.size() - 5) + "carol", acts, {}, {}).status()),
            ErrorCode::kNoSuchEntity);
  auto star = iam_->SimulatePrincipalPolicy(alice.arn, acts, {}, local);
  ASSERT_TRUE(star.ok());
  EXPECT_EQ((*star)[0].resource, "*");

  ASSERT_TRUE(iam_->DeleteUserPolicy("alice", "NoSystem").ok());
  EXPECT_EQ(ErrorCodeOf(iam_->DeleteUserPolicy("alice", "NoSystem")), ErrorCode::kNoSuchEntity);
  EXPECT_TRUE(iam_->Authorize(AuthzRequest{alice, "s3:GetObject", "arn:aws:s3:::my-analytics-bucket/_system/x", {}, nullptr}).allowed());
}

// The request's own context keys are built only for a policy that reads them, and when built
// they decide as before: an IpAddress Deny still denies, explicit keys are kept.
TEST_F(IamTest, RequestContextIsBuiltOnlyWhenAPolicyReadsIt) {
  ASSERT_TRUE(iam_->CreateUser("carol").ok());
  ASSERT_TRUE(iam_->PutUserPolicy("carol", "All", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"s3:*","Resource":"*"}]})").ok());
  const Principal carol = *iam_->PrincipalForUser("carol");
  int calls = 0;
  std::string ip = "10.1.2.3";
  auto context = [&] {
    ++calls;
    return RequestContext{{"aws:SourceIp", {ip}}, {"aws:SecureTransport", {"false"}}};
  };
  const AuthzRequest get{carol, "s3:GetObject", "arn:aws:s3:::b/k", {}, nullptr};
  EXPECT_TRUE(iam_->Authorize(get, context).allowed());
  EXPECT_EQ(calls, 0);

  ASSERT_TRUE(iam_->PutUserPolicy("carol", "NoTen", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]})").ok());
  Decision d = iam_->Authorize(get, context);
  EXPECT_EQ(d.kind, DecisionKind::kExplicitDeny);
  EXPECT_EQ(calls, 1);
  ip = "192.168.1.1";
  EXPECT_TRUE(iam_->Authorize(get, context).allowed());
  EXPECT_EQ(calls, 2);
  // A key the caller gave wins over the request's own.
  const AuthzRequest given{carol, "s3:GetObject", "arn:aws:s3:::b/k", {{"aws:sourceip", {"10.9.9.9"}}}, nullptr};
  EXPECT_EQ(iam_->Authorize(given, context).kind, DecisionKind::kExplicitDeny);
  EXPECT_EQ(calls, 3);
  // Without the callback the keys are simply absent (the IpAddress condition does not hold).
  EXPECT_TRUE(iam_->Authorize(get).allowed());

  // A bucket policy that reads the context counts too, with identity policies that do not.
  ASSERT_TRUE(iam_->DeleteUserPolicy("carol", "NoTen").ok());
  auto bucket = Policy::Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
      "Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})", /*for_resource=*/true);
  ASSERT_TRUE(bucket.ok());
  const AuthzRequest with_bucket{carol, "s3:GetObject", "arn:aws:s3:::b/k", {}, &*bucket};
  EXPECT_EQ(iam_->Authorize(with_bucket, context).kind, DecisionKind::kExplicitDeny);
  EXPECT_EQ(calls, 4);
}

TEST_F(IamTest, RolesAssumedThroughTrustPoliciesWithExpiringSessions) {
  const std::string acct = iam_->account_id();
  ASSERT_TRUE(iam_->CreateUser("analyst").ok());
  ASSERT_TRUE(iam_->CreateUser("delegated").ok());
  ASSERT_TRUE(iam_->CreateUser("outsider").ok());
  ASSERT_TRUE(iam_->PutUserPolicy("delegated", "MayAssume", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::)" + acct + R"(:role/*"}]})").ok());
  // A trust policy naming the user grants by itself; one naming the account delegates.
  auto reader = iam_->CreateRole("lake-reader", R"({"Version":"2012-10-17","Statement":[{"Sid":"Analyst",
      "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::)" + acct + R"(:user/analyst"},"Action":"sts:AssumeRole"}]})");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader->arn, "arn:aws:iam::" + acct + ":role/lake-reader");
  EXPECT_EQ(reader->role_id.rfind("AROA", 0), 0u);
  auto account = iam_->CreateRole("account-trust", R"({"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::)" + acct + R"(:root"},"Action":"sts:AssumeRole"}]})");
  ASSERT_TRUE(account.ok());
  ASSERT_TRUE(iam_->PutInlinePolicy(PolicyOwner::kRole, "lake-reader", "Read", R"({"Version":"2012-10-17",
      "Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"}]})").ok());
  // A trust policy without a Principal is refused; so is a second role of the same name.
  EXPECT_EQ(ErrorCodeOf(iam_->CreateRole("bad", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]})").status()),
            ErrorCode::kMalformedPolicyDocument);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateRole("bad", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]})").status()),
            ErrorCode::kMalformedPolicyDocument);
  EXPECT_EQ(ErrorCodeOf(iam_->CreateRole("LAKE-READER", reader->assume_role_policy).status()),
            ErrorCode::kEntityAlreadyExists);

  auto principal = [&](const char* user) { return *iam_->PrincipalForUser(user); };
  Decision d;
  auto creds = iam_->AssumeRole(principal("analyst"), reader->arn, "s1", 900, {}, &d);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(d.statement, "Analyst");
  EXPECT_EQ(creds->access_key_id.rfind("ASIA", 0), 0u);
  EXPECT_EQ(creds->assumed_role_arn, "arn:aws:sts::" + acct + ":assumed-role/lake-reader/s1");
  EXPECT_EQ(ErrorCodeOf(iam_->AssumeRole(principal("outsider"), reader->arn, "s1", 900, {}, &d).status()),
            ErrorCode::kAccessDenied);
  EXPECT_EQ(ErrorCodeOf(iam_->AssumeRole(principal("analyst"), account->arn, "s1", 900, {}, &d).status()),
            ErrorCode::kAccessDenied);
  EXPECT_TRUE(iam_->AssumeRole(principal("delegated"), account->arn, "s2", 900, {}, &d).ok());
  EXPECT_EQ(ErrorCodeOf(iam_->AssumeRole(principal("analyst"), reader->arn, "s1", 100, {}, &d).status()),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(ErrorCodeOf(iam_->AssumeRole(principal("analyst"), reader->arn, "bad name", 900, {}, &d).status()),
            ErrorCode::kInvalidInput);

  // The session signs requests; its principal is the role, evaluated with the role's policies.
  AccessKeyInfo temp{"", creds->access_key_id, true, creds->secret_access_key, {}};
  auto v = iam_->Verify(Signed(temp, "/my-analytics-bucket/raw_data/a.csv", creds->session_token), "s3", clock_.Now());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->principal.arn, creds->assumed_role_arn);
  EXPECT_EQ(v->principal.role_name, "lake-reader");
  auto authz = [&](const std::string& action) {
    return iam_->Authorize(AuthzRequest{v->principal, action, "arn:aws:s3:::my-analytics-bucket/raw_data/a.csv", {}, nullptr});
  };
  EXPECT_TRUE(authz("s3:GetObject").allowed());
  EXPECT_FALSE(authz("s3:PutObject").allowed());
  // Without its token, with a tampered one, or after expiry, the key signs nothing.
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(Signed(temp), "s3", clock_.Now()).status()), ErrorCode::kInvalidToken);
  std::string forged = creds->session_token;
  forged[10] = forged[10] == 'a' ? 'b' : 'a';
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(Signed(temp, "/my-analytics-bucket/raw_data/a.csv", forged), "s3", clock_.Now()).status()),
            ErrorCode::kInvalidToken);
  clock_.Advance(std::chrono::seconds(901));
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(Signed(temp, "/my-analytics-bucket/raw_data/a.csv", creds->session_token), "s3",
                                     clock_.Now()).status()),
            ErrorCode::kExpiredToken);
  // Simulation takes a role ARN too.
  std::vector<std::string> actions = {"s3:GetObject"};
  std::vector<std::string> resources = {"arn:aws:s3:::my-analytics-bucket/raw_data/a.csv"};
  auto sim = iam_->SimulatePrincipalPolicy(reader->arn, actions, resources, {});
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  EXPECT_TRUE((*sim)[0].decision.allowed());
  // A role with policies cannot be deleted; once deleted, its sessions end.
  EXPECT_EQ(ErrorCodeOf(iam_->DeleteRole("lake-reader")), ErrorCode::kDeleteConflict);
  clock_.Advance(-std::chrono::seconds(901));
  auto fresh = iam_->AssumeRole(principal("analyst"), reader->arn, "s3", 900, {}, &d);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(iam_->DeleteInlinePolicy(PolicyOwner::kRole, "lake-reader", "Read").ok());
  ASSERT_TRUE(iam_->DeleteRole("lake-reader").ok());
  AccessKeyInfo gone{"", fresh->access_key_id, true, fresh->secret_access_key, {}};
  EXPECT_EQ(ErrorCodeOf(iam_->Verify(Signed(gone, "/my-analytics-bucket/raw_data/a.csv", fresh->session_token), "s3",
                                     clock_.Now()).status()),
            ErrorCode::kInvalidToken);
}

TEST_F(IamTest, ConcurrentWritersFromTwoProcessesBothLand) {
  auto other = OpenIam(false);
  std::thread t1([&] {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(iam_->CreateUser("a" + std::to_string(i)).ok());
  });
  std::thread t2([&] {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(other->CreateUser("b" + std::to_string(i)).ok());
  });
  t1.join();
  t2.join();
  EXPECT_EQ(iam_->ListUsers()->size(), 20u);
  EXPECT_EQ(other->ListUsers()->size(), 20u);
  // Old generations are pruned.
  EXPECT_LE(store_->List("_system/iam/")->size(), 6u);
}

TEST_F(IamTest, ConcurrentReadersDuringWrites) {
  ASSERT_TRUE(iam_->CreateUser("alice").ok());
  auto key = *iam_->CreateAccessKey("alice");
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        HttpRequestView r = Signed(key);
        if (!iam_->Verify(r, "s3", clock_.Now()).ok()) ++failures;
        (void)iam_->Authorize(AuthzRequest{*iam_->PrincipalForUser("alice"), "s3:GetObject", "*", {}, nullptr});
      }
    });
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(iam_->CreateUser("u" + std::to_string(i)).ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(IamTest, LoginProfiles) {
  ASSERT_TRUE(iam_->CreateUser("alice").ok());
  EXPECT_EQ(ErrorCodeOf(iam_->CreateLoginProfile("alice", "short")), ErrorCode::kInvalidInput);
  ASSERT_TRUE(iam_->CreateLoginProfile("alice", "correct horse battery").ok());
  EXPECT_EQ(ErrorCodeOf(iam_->CreateLoginProfile("alice", "another password")), ErrorCode::kEntityAlreadyExists);
  auto ok = iam_->CheckPassword("alice", "correct horse battery");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->user_name, "alice");
  EXPECT_EQ(ErrorCodeOf(iam_->CheckPassword("alice", "correct horse batterY").status()), ErrorCode::kAccessDenied);
  EXPECT_EQ(ErrorCodeOf(iam_->CheckPassword("nobody", "correct horse battery").status()), ErrorCode::kAccessDenied);
  // The stored form is a salted hash, not the password.
  auto files = store_->List("_system/iam/");
  ASSERT_TRUE(files.ok());
  for (const auto& f : *files) {
    EXPECT_EQ(store_->Get(f.key)->find("correct horse"), std::string::npos);
  }
  EXPECT_EQ(ErrorCodeOf(iam_->DeleteUser("alice")), ErrorCode::kDeleteConflict);
  ASSERT_TRUE(iam_->DeleteLoginProfile("alice").ok());
  EXPECT_EQ(ErrorCodeOf(iam_->CheckPassword("alice", "correct horse battery").status()), ErrorCode::kAccessDenied);
}

TEST_F(IamTest, AuditLogAppendsOneLinePerRecord) {
  AuditLog log(*store_);
  Decision deny{DecisionKind::kExplicitDeny, "user/alice/NoSystem", "NoSystem"};
  AuditRecord rec{clock_.Now(), "arn:aws:iam::123456789012:user/alice", "AKIAX", "127.0.0.1",
                  "s3:GetObject", "arn:aws:s3:::b/_system/x", deny, "req-1", 403};
  EXPECT_EQ(AuditLog::ToJsonLine(rec),
            R"({"time":"2026-06-01T12:00:00Z","principal":"arn:aws:iam::123456789012:user/alice",)"
            R"("access_key_id":"AKIAX","source_ip":"127.0.0.1","action":"s3:GetObject",)"
            R"("resource":"arn:aws:s3:::b/_system/x","decision":"explicitDeny",)"
            R"("policy":"user/alice/NoSystem","statement":"NoSystem","request_id":"req-1","status":403})");
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        AuditRecord r = rec;
        r.resource = "arn:aws:s3:::b/" + std::string(500, static_cast<char>('a' + t)) + std::to_string(i);
        ASSERT_TRUE(log.Record(r).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  std::string text = *store_->Get("_system/audit/2026-06-01.jsonl");
  size_t lines = 0;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    std::string line = text.substr(start, nl - start);
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    ++lines;
    start = nl + 1;
  }
  EXPECT_EQ(lines, 200u);
  struct stat st;
  ASSERT_EQ(stat(store_->PathOf("_system/audit/2026-06-01.jsonl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace saleslake::auth
