// The IAM policy matrix through a real `saleslake serve`: every case is a real SigV4-signed
// request over a socket, checked three ways — the HTTP status the server answers, the audit line
// it writes for the request (decision and deciding statement), and `saleslake iam
// simulate-principal-policy` run with the same action, resource, context and bucket policy,
// which must decide the same.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

constexpr const char* kBucket = "my-analytics-bucket";
constexpr const char* kArn = "arn:aws:s3:::my-analytics-bucket";

// One statement list -> a policy document.
std::string Policy(const std::string& statements) {
  return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}";
}

const char* kAllowAll = R"({"Sid":"AllowAll","Effect":"Allow","Action":"s3:*","Resource":"*"})";

// The bucket policy in force for the whole matrix: it denies one user the reports/ prefix and
// grants another, who has no identity policy, the public/ prefix.
const char* kBucketPolicy = R"({"Version":"2012-10-17","Statement":[
  {"Sid":"BucketDeny","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::ACCOUNT:user/bpdenied"},
   "Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/reports/*"},
  {"Sid":"BucketGrant","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::ACCOUNT:user/bponly"},
   "Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/public/*"}]})";

struct User {
  std::string name;
  std::string policy;  // "" = none
};

// Users and their identity policies (user `member` gets its rights from group `readers`).
const std::vector<User>& Users() {
  static const std::vector<User> users = {
      {"nopolicy", ""},
      {"reader", Policy(R"({"Sid":"ReadRaw","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"})")},
      {"denier", Policy(std::string(kAllowAll) + R"(,{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"})")},
      {"wild", Policy(R"({"Sid":"CsvOnly","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*.csv"},)"
                      R"({"Sid":"OneChar","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/reports/?.txt"})")},
      {"notaction", Policy(R"({"Sid":"AllButDelete","Effect":"Allow","NotAction":"s3:Delete*","Resource":"*"})")},
      {"notresource", Policy(R"({"Sid":"NotReports","Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::my-analytics-bucket/reports/*"})")},
      {"casey", Policy(R"({"Sid":"CaseAction","Effect":"Allow","Action":"S3:GETOBJECT","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/a.csv"},)"
                       R"({"Sid":"CaseResource","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/RAW_DATA/*"})")},
      {"ipallow", Policy(R"({"Sid":"Loopback","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}})")},
      {"ipother", Policy(R"({"Sid":"TenNet","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.1.7/32"]}}})")},
      {"ipdeny", Policy(std::string(kAllowAll) + R"(,{"Sid":"OnlyTenNet","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})")},
      {"tlsdeny", Policy(std::string(kAllowAll) + R"(,{"Sid":"DenyPlain","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}})")},
      {"tlsonly", Policy(R"({"Sid":"TlsOnly","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}})")},
      {"past", Policy(R"({"Sid":"Before2000","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}})")},
      {"recent", Policy(R"({"Sid":"After2020","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}})")},
      {"lister", Policy(R"({"Sid":"ListRaw","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my-analytics-bucket","Condition":{"StringEquals":{"s3:prefix":"raw_data/"}}})")},
      {"likelister", Policy(R"({"Sid":"ListRawLike","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my-analytics-bucket","Condition":{"StringLike":{"s3:prefix":"raw_data/*"}}})")},
      {"notequal", Policy(R"({"Sid":"List","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},)"
                          R"({"Sid":"OnlyRawPrefix","Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"StringNotEquals":{"s3:prefix":"raw_data/"}}})")},
      {"notlike", Policy(R"({"Sid":"List","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},)"
                         R"({"Sid":"NotRawLike","Effect":"Deny","Action":"s3:ListBucket","Resource":"*","Condition":{"StringNotLike":{"s3:prefix":"raw_*"}}})")},
      {"ifexists", Policy(R"({"Sid":"SlashIfAny","Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:delimiter":"/"}}})")},
      {"andor", Policy(R"({"Sid":"TwoPrefixesAndSlash","Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefix":["raw_data/","reports/"],"s3:delimiter":"/"}}})")},
      {"selfonly", Policy(R"({"Sid":"OwnFolder","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::my-analytics-bucket/home/${aws:username}/*"})")},
      {"member", ""},
      {"inactive", Policy(kAllowAll)},
      {"bpdenied", Policy(kAllowAll)},
      {"bponly", ""},
      {"onlyraw", Policy(std::string(kAllowAll) + R"(,{"Sid":"WritesOnlyToRaw","Effect":"Deny","Action":"s3:PutObject","NotResource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"})")},
      {"objects", Policy(R"({"Sid":"AnyObjectOp","Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::my-analytics-bucket/*"})")},
  };
  return users;
}

struct Case {
  std::string user;
  std::string method;
  std::string path;  // after the bucket: "/raw_data/a.csv" or "?list-type=2&prefix=raw_data%2F"
  int status;        // what the server answers
  std::string decision;   // allowed | explicitDeny | implicitDeny
  std::string statement;  // the deciding statement ("" when no single one decides, e.g. implicit)
  std::string action;
  std::string resource;   // ARN suffix after the bucket ("" = the bucket)
  std::vector<std::pair<std::string, std::string>> context = {};  // extra condition keys
};

std::vector<Case> Matrix() {
  using C = std::vector<std::pair<std::string, std::string>>;
  auto prefix = [](const std::string& p) { return C{{"s3:prefix", p}}; };
  return {
      // No policy at all: implicit deny for reads, lists and writes.
      {"nopolicy", "GET", "/raw_data/a.csv", 403, "implicitDeny", "", "s3:GetObject", "/raw_data/a.csv"},
      {"nopolicy", "GET", "?list-type=2", 403, "implicitDeny", "", "s3:ListBucket", "", prefix("")},
      {"nopolicy", "PUT", "/raw_data/n.csv", 403, "implicitDeny", "", "s3:PutObject", "/raw_data/n.csv"},
      // A plain allow on a prefix.
      {"reader", "GET", "/raw_data/a.csv", 200, "allowed", "ReadRaw", "s3:GetObject", "/raw_data/a.csv"},
      {"reader", "HEAD", "/raw_data/a.csv", 200, "allowed", "ReadRaw", "s3:GetObject", "/raw_data/a.csv"},
      {"reader", "GET", "/reports/x.txt", 403, "implicitDeny", "", "s3:GetObject", "/reports/x.txt"},
      {"reader", "PUT", "/raw_data/r2.csv", 403, "implicitDeny", "", "s3:PutObject", "/raw_data/r2.csv"},
      // An explicit deny beats an allow.
      {"denier", "DELETE", "/raw_data/a.csv", 403, "explicitDeny", "NoDelete", "s3:DeleteObject", "/raw_data/a.csv"},
      {"denier", "DELETE", "/reports/tmp.txt", 204, "allowed", "AllowAll", "s3:DeleteObject", "/reports/tmp.txt"},
      {"denier", "PUT", "/raw_data/d.csv", 200, "allowed", "AllowAll", "s3:PutObject", "/raw_data/d.csv"},
      // Wildcards: * crosses '/', ? is exactly one character; action wildcards.
      {"wild", "GET", "/raw_data/a.csv", 200, "allowed", "CsvOnly", "s3:GetObject", "/raw_data/a.csv"},
      {"wild", "GET", "/raw_data/sub/b.csv", 200, "allowed", "CsvOnly", "s3:GetObject", "/raw_data/sub/b.csv"},
      {"wild", "GET", "/raw_data/c.txt", 403, "implicitDeny", "", "s3:GetObject", "/raw_data/c.txt"},
      {"wild", "GET", "/reports/x.txt", 200, "allowed", "OneChar", "s3:GetObject", "/reports/x.txt"},
      {"wild", "GET", "/reports/xy.txt", 403, "implicitDeny", "", "s3:GetObject", "/reports/xy.txt"},
      // NotAction / NotResource.
      {"notaction", "GET", "/raw_data/a.csv", 200, "allowed", "AllButDelete", "s3:GetObject", "/raw_data/a.csv"},
      {"notaction", "PUT", "/reports/na.txt", 200, "allowed", "AllButDelete", "s3:PutObject", "/reports/na.txt"},
      {"notaction", "DELETE", "/reports/na.txt", 403, "implicitDeny", "", "s3:DeleteObject", "/reports/na.txt"},
      {"notresource", "GET", "/raw_data/a.csv", 200, "allowed", "NotReports", "s3:GetObject", "/raw_data/a.csv"},
      {"notresource", "GET", "/reports/x.txt", 403, "implicitDeny", "", "s3:GetObject", "/reports/x.txt"},
      // Actions match case-insensitively, resources case-sensitively.
      {"casey", "GET", "/raw_data/a.csv", 200, "allowed", "CaseAction", "s3:GetObject", "/raw_data/a.csv"},
      {"casey", "GET", "/raw_data/sub/b.csv", 403, "implicitDeny", "", "s3:GetObject", "/raw_data/sub/b.csv"},
      // IpAddress / NotIpAddress against the client's real address (127.0.0.1).
      {"ipallow", "GET", "/raw_data/a.csv", 200, "allowed", "Loopback", "s3:GetObject", "/raw_data/a.csv"},
      {"ipother", "GET", "/raw_data/a.csv", 403, "implicitDeny", "", "s3:GetObject", "/raw_data/a.csv"},
      {"ipdeny", "GET", "/raw_data/a.csv", 403, "explicitDeny", "OnlyTenNet", "s3:GetObject", "/raw_data/a.csv"},
      // Bool on aws:SecureTransport (this server speaks plain HTTP on loopback).
      {"tlsdeny", "GET", "/raw_data/a.csv", 403, "explicitDeny", "DenyPlain", "s3:GetObject", "/raw_data/a.csv"},
      {"tlsonly", "GET", "/raw_data/a.csv", 403, "implicitDeny", "", "s3:GetObject", "/raw_data/a.csv"},
      // DateLessThan / DateGreaterThan on aws:CurrentTime.
      {"past", "GET", "/raw_data/a.csv", 403, "implicitDeny", "", "s3:GetObject", "/raw_data/a.csv"},
      {"recent", "GET", "/raw_data/a.csv", 200, "allowed", "After2020", "s3:GetObject", "/raw_data/a.csv"},
      // StringEquals / StringLike on s3:prefix.
      {"lister", "GET", "?list-type=2&prefix=raw_data%2F", 200, "allowed", "ListRaw", "s3:ListBucket", "", prefix("raw_data/")},
      {"lister", "GET", "?list-type=2&prefix=reports%2F", 403, "implicitDeny", "", "s3:ListBucket", "", prefix("reports/")},
      {"lister", "GET", "?list-type=2", 403, "implicitDeny", "", "s3:ListBucket", "", prefix("")},
      {"likelister", "GET", "?list-type=2&prefix=raw_data%2Fsub%2F", 200, "allowed", "ListRawLike", "s3:ListBucket", "", prefix("raw_data/sub/")},
      {"likelister", "GET", "?list-type=2&prefix=reports%2F", 403, "implicitDeny", "", "s3:ListBucket", "", prefix("reports/")},
      // StringNotEquals / StringNotLike in a Deny.
      {"notequal", "GET", "?list-type=2&prefix=raw_data%2F", 200, "allowed", "List", "s3:ListBucket", "", prefix("raw_data/")},
      {"notequal", "GET", "?list-type=2&prefix=reports%2F", 403, "explicitDeny", "OnlyRawPrefix", "s3:ListBucket", "", prefix("reports/")},
      {"notlike", "GET", "?list-type=2&prefix=raw_data%2F", 200, "allowed", "List", "s3:ListBucket", "", prefix("raw_data/")},
      {"notlike", "GET", "?list-type=2&prefix=reports%2F", 403, "explicitDeny", "NotRawLike", "s3:ListBucket", "", prefix("reports/")},
      // ...IfExists: an absent key passes, a present one must match.
      {"ifexists", "GET", "?list-type=2&delimiter=%2F", 200, "allowed", "SlashIfAny", "s3:ListBucket", "", C{{"s3:prefix", ""}, {"s3:delimiter", "/"}}},
      {"ifexists", "GET", "?list-type=2", 200, "allowed", "SlashIfAny", "s3:ListBucket", "", prefix("")},
      {"ifexists", "GET", "?list-type=2&delimiter=%7C", 403, "implicitDeny", "", "s3:ListBucket", "", C{{"s3:prefix", ""}, {"s3:delimiter", "|"}}},
      // Values of one key are ORed, keys are ANDed.
      {"andor", "GET", "?list-type=2&prefix=reports%2F&delimiter=%2F", 200, "allowed", "TwoPrefixesAndSlash", "s3:ListBucket", "", C{{"s3:prefix", "reports/"}, {"s3:delimiter", "/"}}},
      {"andor", "GET", "?list-type=2&prefix=reports%2F", 403, "implicitDeny", "", "s3:ListBucket", "", prefix("reports/")},
      {"andor", "GET", "?list-type=2&prefix=public%2F&delimiter=%2F", 403, "implicitDeny", "", "s3:ListBucket", "", C{{"s3:prefix", "public/"}, {"s3:delimiter", "/"}}},
      // Policy variables: ${aws:username} in a resource.
      {"selfonly", "PUT", "/home/selfonly/notes.txt", 200, "allowed", "OwnFolder", "s3:PutObject", "/home/selfonly/notes.txt"},
      {"selfonly", "GET", "/home/reader/secret.txt", 403, "implicitDeny", "", "s3:GetObject", "/home/reader/secret.txt"},
      // Rights through a group.
      {"member", "GET", "/raw_data/a.csv", 200, "allowed", "GroupRead", "s3:GetObject", "/raw_data/a.csv"},
      {"member", "PUT", "/raw_data/m.csv", 403, "implicitDeny", "", "s3:PutObject", "/raw_data/m.csv"},
      // The bucket policy: its Deny beats the identity Allow; its Allow grants a user with none.
      {"bpdenied", "GET", "/reports/x.txt", 403, "explicitDeny", "BucketDeny", "s3:GetObject", "/reports/x.txt"},
      {"bpdenied", "GET", "/raw_data/a.csv", 200, "allowed", "AllowAll", "s3:GetObject", "/raw_data/a.csv"},
      {"bponly", "GET", "/public/p.txt", 200, "allowed", "BucketGrant", "s3:GetObject", "/public/p.txt"},
      {"bponly", "GET", "/reports/x.txt", 403, "implicitDeny", "", "s3:GetObject", "/reports/x.txt"},
      // A Deny with NotResource.
      {"onlyraw", "PUT", "/raw_data/o.csv", 200, "allowed", "AllowAll", "s3:PutObject", "/raw_data/o.csv"},
      {"onlyraw", "PUT", "/reports/o.txt", 403, "explicitDeny", "WritesOnlyToRaw", "s3:PutObject", "/reports/o.txt"},
      // An action wildcard in the middle ("s3:*Object").
      {"objects", "DELETE", "/reports/gone.txt", 204, "allowed", "AnyObjectOp", "s3:DeleteObject", "/reports/gone.txt"},
      {"objects", "GET", "?list-type=2", 403, "implicitDeny", "", "s3:ListBucket", "", prefix("")},
  };
}

class IamMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    auto init = RunSaleslakeIn(lake_, {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    admin_ = CreateUserWithKey(lake_, "matrixadmin", Policy(kAllowAll));
    for (const User& u : Users()) keys_[u.name] = CreateUserWithKey(lake_, u.name, u.policy);
    // Group rights, and a deactivated key, through the CLI as an operator would.
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {"iam", "create-group", "--group-name", "readers"},
             {"iam", "add-user-to-group", "--group-name", "readers", "--user-name", "member"},
             {"iam", "put-group-policy", "--group-name", "readers", "--policy-name", "read",
              "--policy-document",
              Policy(R"({"Sid":"GroupRead","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"})")},
             {"iam", "update-access-key", "--user-name", "inactive", "--access-key-id", keys_["inactive"].id,
              "--status", "Inactive"}}) {
      auto r = RunSaleslakeIn(lake_, args);
      ASSERT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    }
    auto account = RunSaleslakeIn(lake_, {"iam", "get-user", "--user-name", "reader"});
    ASSERT_EQ(account.exit_code, 0) << account.err;
    std::string arn = nlohmann::json::parse(account.out)["User"]["Arn"];
    account_ = arn.substr(std::string("arn:aws:iam::").size(), 12);
    bucket_policy_ = kBucketPolicy;
    for (size_t at; (at = bucket_policy_.find("ACCOUNT")) != std::string::npos;) {
      bucket_policy_.replace(at, 7, account_);
    }
    std::string err;
    ASSERT_TRUE(server_.Start(lake_, {"--access-log", ""}, &err)) << err;
    // The objects the matrix reads, and the bucket policy.
    for (const char* key : {"raw_data/a.csv", "raw_data/sub/b.csv", "raw_data/c.txt", "reports/x.txt",
                            "reports/xy.txt", "reports/tmp.txt", "reports/gone.txt", "public/p.txt",
                            "home/reader/secret.txt"}) {
      auto put = RawExchange(server_.port(), SignedRequest("PUT", std::string("/") + kBucket + "/" + key,
                                                           server_.port(), admin_, "id,x\n1,2\n"));
      ASSERT_EQ(put.status, 200) << key << ": " << put.body;
    }
    auto bp = RawExchange(server_.port(), SignedRequest("PUT", std::string("/") + kBucket + "?policy",
                                                        server_.port(), admin_, bucket_policy_));
    ASSERT_EQ(bp.status / 100, 2) << bp.body;
  }

  // Every audit line, by request id.
  std::map<std::string, nlohmann::json> AuditByRequest() {
    std::map<std::string, nlohmann::json> out;
    auto cat = RunProgram({"sh", "-c", "cat " + lake_ + "/_system/audit/*.jsonl"});
    size_t start = 0;
    while (start < cat.out.size()) {
      size_t nl = cat.out.find('\n', start);
      if (nl == std::string::npos) nl = cat.out.size();
      auto j = nlohmann::json::parse(cat.out.substr(start, nl - start), nullptr, false);
      if (j.is_object() && j.contains("request_id")) out[j["request_id"].get<std::string>()] = j;
      start = nl + 1;
    }
    return out;
  }

  // What `saleslake iam simulate-principal-policy` decides for a case.
  nlohmann::json Simulate(const Case& c) {
    std::vector<std::string> args = {"iam", "simulate-principal-policy",
                                     "--policy-source-arn", "arn:aws:iam::" + account_ + ":user/" + c.user,
                                     "--action-names", c.action,
                                     "--resource-arns", std::string(kArn) + c.resource,
                                     "--resource-policy", bucket_policy_};
    nlohmann::json entries = nlohmann::json::array(
        {{{"ContextKeyName", "aws:SourceIp"}, {"ContextKeyValues", {"127.0.0.1"}}, {"ContextKeyType", "ip"}},
         {{"ContextKeyName", "aws:SecureTransport"}, {"ContextKeyValues", {"false"}}, {"ContextKeyType", "boolean"}}});
    for (const auto& [k, v] : c.context) {
      entries.push_back({{"ContextKeyName", k}, {"ContextKeyValues", {v}}, {"ContextKeyType", "string"}});
    }
    args.push_back("--context-entries");
    args.push_back(entries.dump());
    auto r = RunSaleslakeIn(lake_, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("EvaluationResults") || j["EvaluationResults"].empty()) return {};
    return j["EvaluationResults"][0];
  }

  TempDir dir_;
  std::string lake_;
  std::string account_;
  std::string bucket_policy_;
  ServerProcess server_;
  Key admin_;
  std::map<std::string, Key> keys_;
};

TEST_F(IamMatrixTest, ServerAuditAndSimulationAgreeOnEveryCase) {
  const std::vector<Case> cases = Matrix();
  ASSERT_GE(cases.size(), 40u);
  const int port = server_.port();
  std::vector<std::string> request_ids;
  for (const Case& c : cases) {
    std::string path = std::string("/") + kBucket + c.path;
    std::string body = c.method == "PUT" ? "v\n" : "";
    auto reply = RawExchange(port, SignedRequest(c.method, path, port, keys_[c.user], body), 10000, c.method == "HEAD");
    EXPECT_EQ(reply.status, c.status) << c.user << " " << c.method << " " << c.path << ": " << reply.body;
    if (c.status == 403) {
      EXPECT_NE(reply.body.find("<Code>AccessDenied</Code>"), std::string::npos) << c.user << " " << c.path;
    }
    request_ids.push_back(reply.headers["x-amz-request-id"]);
  }

  // The audit log: a line for every denial (with the deciding statement) and every write.
  auto audit = AuditByRequest();
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.user + " " + c.method + " " + c.path);
    bool write = c.method == "PUT" || c.method == "DELETE";
    auto it = audit.find(request_ids[i]);
    if (c.decision != "allowed" || write) {
      ASSERT_NE(it, audit.end()) << "no audit line for request " << request_ids[i];
      const nlohmann::json& line = it->second;
      EXPECT_EQ(line["decision"], c.decision);
      EXPECT_EQ(line["action"], c.action);
      EXPECT_EQ(line["resource"], std::string(kArn) + c.resource);
      EXPECT_EQ(line["principal"], "arn:aws:iam::" + account_ + ":user/" + c.user);
      EXPECT_EQ(line["source_ip"], "127.0.0.1");
      if (c.decision == "explicitDeny") {
        EXPECT_EQ(line["statement"], c.statement);
      }
    } else {
      EXPECT_EQ(it, audit.end()) << "an allowed read is not audited";
    }
  }

  // The bucket policy put in SetUp is a write, audited like the object writes.
  bool policy_audited = false;
  for (const auto& [id, line] : audit) {
    policy_audited |= line["action"] == "s3:PutBucketPolicy" && line["decision"] == "allowed" &&
                      line["principal"] == "arn:aws:iam::" + account_ + ":user/matrixadmin";
  }
  EXPECT_TRUE(policy_audited);

  // simulate-principal-policy decides every case as the server did, by the same statement.
  for (const Case& c : cases) {
    SCOPED_TRACE(c.user + " " + c.method + " " + c.path);
    nlohmann::json sim = Simulate(c);
    ASSERT_FALSE(sim.is_null());
    EXPECT_EQ(sim["EvalDecision"], c.decision);
    if (!c.statement.empty()) {
      ASSERT_EQ(sim["MatchedStatements"].size(), 1u) << sim.dump();
      EXPECT_EQ(sim["MatchedStatements"][0]["StatementId"], c.statement);
    }
  }
}

TEST_F(IamMatrixTest, KeysAndPresignedUrls) {
  const int port = server_.port();
  const std::string object = std::string("/") + kBucket + "/raw_data/a.csv";
  // A deactivated key authenticates nothing, whatever its policy says.
  auto inactive = RawExchange(port, SignedRequest("GET", object, port, keys_["inactive"]));
  EXPECT_EQ(inactive.status, 403);
  EXPECT_NE(inactive.body.find("is inactive"), std::string::npos) << inactive.body;
  // A presigned URL works until it expires, and then is refused.
  auto now = std::chrono::system_clock::now();
  auto fresh = RawExchange(port, "GET " + PresignedPath(object, port, keys_["reader"], now, 300) +
                                     " HTTP/1.1\r\nhost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n");
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(fresh.body, "id,x\n1,2\n");
  auto expired = RawExchange(port, "GET " + PresignedPath(object, port, keys_["reader"], now - std::chrono::hours(2), 60) +
                                       " HTTP/1.1\r\nhost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n");
  EXPECT_EQ(expired.status, 403);
  EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;
  // A presigned URL carries its signer's rights, no more.
  auto denied = RawExchange(port, "GET " + PresignedPath(std::string("/") + kBucket + "/reports/x.txt", port,
                                                         keys_["reader"], now, 300) +
                                      " HTTP/1.1\r\nhost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n");
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("AccessDenied"), std::string::npos) << denied.body;
  // Both authentication failures are audited.
  auto audit = AuditByRequest();
  EXPECT_EQ(audit[inactive.headers["x-amz-request-id"]]["action"], "auth:Authenticate");
  EXPECT_EQ(audit[expired.headers["x-amz-request-id"]]["action"], "auth:Authenticate");
}

}  // namespace
}  // namespace saleslake::testing
