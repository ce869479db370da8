// The IAM policy language: a decision matrix over every operator and element, and malformed
// documents refused with their position.
#include <gtest/gtest.h>

#include "auth/auth.h"

namespace saleslake::auth {
namespace {

const Principal kAlice{"123456789012", "alice", "AIDAALICE0000000000", "arn:aws:iam::123456789012:user/alice", "AKIAALICE"};
const Principal kBob{"123456789012", "bob", "AIDABOB00000000000", "arn:aws:iam::123456789012:user/bob", "AKIABOB"};
const Principal kAnonymous{};

constexpr const char* kBucket = "arn:aws:s3:::my-analytics-bucket";
constexpr const char* kObject = "arn:aws:s3:::my-analytics-bucket/raw_data/sales.csv";

std::string Doc(const std::string& statements) {
  return R"({"Version":"2012-10-17","Statement":[)" + statements + "]}";
}

struct Case {
  std::string name;
  std::vector<std::string> identity;  // identity policy documents
  std::string bucket;                 // bucket policy ("" = none)
  std::string action;
  std::string resource;
  RequestContext context;
  DecisionKind expected;
  std::string statement = "";         // deciding statement ("" = don't check)
  Principal who = kAlice;
};

std::vector<Case> Matrix() {
  const std::string allow_get = R"({"Sid":"Get","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/*"})";
  const RequestContext local = {{"aws:SourceIp", {"10.1.2.3"}}, {"aws:SecureTransport", {"false"}},
                                {"aws:CurrentTime", {"2026-06-01T12:00:00Z"}}};
  auto cond = [](const std::string& op, const std::string& key, const std::string& values) {
    return R"({"Sid":"C","Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{")" + op +
           R"(":{")" + key + R"(":)" + values + "}}}";
  };
  using K = DecisionKind;
  return {
      // basics
      {"no policy", {}, "", "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"allow exact", {Doc(allow_get)}, "", "s3:GetObject", kObject, local, K::kAllowed, "Get"},
      {"other action not allowed", {Doc(allow_get)}, "", "s3:PutObject", kObject, local, K::kImplicitDeny},
      {"bucket ARN not matched by /*", {Doc(allow_get)}, "", "s3:GetObject", kBucket, local, K::kImplicitDeny},
      {"action case-insensitive", {Doc(R"({"Effect":"Allow","Action":"S3:getobject","Resource":"*"})")}, "",
       "s3:GetObject", kObject, local, K::kAllowed, "#0"},
      {"resource case-sensitive", {Doc(R"({"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::MY-analytics-bucket/*"})")},
       "", "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"action wildcard *", {Doc(R"({"Effect":"Allow","Action":"s3:Get*","Resource":"*"})")}, "",
       "s3:GetObjectTagging", kObject, local, K::kAllowed},
      {"action wildcard ?", {Doc(R"({"Effect":"Allow","Action":"s3:?etObject","Resource":"*"})")}, "",
       "s3:GetObject", kObject, local, K::kAllowed},
      {"action wildcard ? is one char", {Doc(R"({"Effect":"Allow","Action":"s3:?Object","Resource":"*"})")}, "",
       "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"resource wildcard in the middle", {Doc(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-*-bucket/raw_data/*.csv"})")},
       "", "s3:GetObject", kObject, local, K::kAllowed},
      {"resource ? wildcard", {Doc(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/sales.cs?"})")},
       "", "s3:GetObject", kObject, local, K::kAllowed},
      {"star everything", {std::string(kAdministratorAccessPolicy)}, "", "glue:StartJobRun", "arn:aws:glue:us-east-1:123456789012:job/x",
       local, K::kAllowed, "#0"},
      // deny wins
      {"explicit deny beats allow", {Doc(allow_get + R"(,{"Sid":"NoRaw","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"})")},
       "", "s3:GetObject", kObject, local, K::kExplicitDeny, "NoRaw"},
      {"deny in another policy wins", {Doc(allow_get), Doc(R"({"Sid":"D","Effect":"Deny","Action":"s3:GetObject","Resource":"*"})")},
       "", "s3:GetObject", kObject, local, K::kExplicitDeny, "D"},
      {"deny not matching leaves allow", {Doc(allow_get + R"(,{"Sid":"D","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"})")},
       "", "s3:GetObject", kObject, local, K::kAllowed, "Get"},
      // NotAction / NotResource
      {"NotAction allows others", {Doc(R"({"Sid":"N","Effect":"Allow","NotAction":"s3:DeleteObject","Resource":"*"})")},
       "", "s3:PutObject", kObject, local, K::kAllowed, "N"},
      {"NotAction excludes", {Doc(R"({"Effect":"Allow","NotAction":["s3:Delete*","iam:*"],"Resource":"*"})")},
       "", "s3:DeleteObject", kObject, local, K::kImplicitDeny},
      {"Deny NotAction denies everything else", {std::string(kAdministratorAccessPolicy), Doc(R"({"Sid":"OnlyS3","Effect":"Deny","NotAction":"s3:*","Resource":"*"})")},
       "", "iam:CreateUser", "*", local, K::kExplicitDeny, "OnlyS3"},
      {"NotResource allows elsewhere", {Doc(R"({"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::my-analytics-bucket/_system/*"})")},
       "", "s3:GetObject", kObject, local, K::kAllowed},
      {"NotResource excludes", {Doc(R"({"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::my-analytics-bucket/raw_data/*"})")},
       "", "s3:GetObject", kObject, local, K::kImplicitDeny},
      // String conditions
      {"StringEquals match", {Doc(cond("StringEquals", "s3:prefix", R"(["raw_data/","processed_data/"])"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kAllowed, "C"},
      {"StringEquals no match", {Doc(cond("StringEquals", "s3:prefix", R"("raw_data/")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"catalog/"}}}, K::kImplicitDeny},
      {"StringEquals key absent", {Doc(cond("StringEquals", "s3:prefix", R"("raw_data/")"))}, "",
       "s3:ListBucket", kBucket, {}, K::kImplicitDeny},
      {"StringEquals case-sensitive", {Doc(cond("StringEquals", "s3:prefix", R"("RAW_DATA/")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kImplicitDeny},
      {"condition key names case-insensitive", {Doc(cond("StringEquals", "S3:Prefix", R"("raw_data/")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kAllowed},
      {"StringEqualsIgnoreCase", {Doc(cond("StringEqualsIgnoreCase", "s3:prefix", R"("RAW_DATA/")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kAllowed},
      {"StringNotEquals: none of the values", {Doc(cond("StringNotEquals", "s3:prefix", R"(["catalog/","_system/"])"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kAllowed},
      {"StringNotEquals: one value equal", {Doc(cond("StringNotEquals", "s3:prefix", R"(["catalog/","raw_data/"])"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kImplicitDeny},
      {"StringNotEquals: key absent is true", {Doc(cond("StringNotEquals", "s3:prefix", R"("catalog/")"))}, "",
       "s3:ListBucket", kBucket, {}, K::kAllowed},
      {"StringLike", {Doc(cond("StringLike", "s3:prefix", R"(["raw_*/","x?z"])"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kAllowed},
      {"StringNotLike", {Doc(cond("StringNotLike", "s3:prefix", R"("raw_*")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"raw_data/"}}}, K::kImplicitDeny},
      {"policy variable aws:username", {Doc(R"({"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::my-analytics-bucket/home/${aws:username}/*"})")},
       "", "s3:PutObject", "arn:aws:s3:::my-analytics-bucket/home/alice/x", {{"aws:username", {"alice"}}}, K::kAllowed},
      {"policy variable other user", {Doc(R"({"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::my-analytics-bucket/home/${aws:username}/*"})")},
       "", "s3:PutObject", "arn:aws:s3:::my-analytics-bucket/home/bob/x", {{"aws:username", {"alice"}}}, K::kImplicitDeny},
      // Numeric
      {"NumericLessThanEquals", {Doc(cond("NumericLessThanEquals", "s3:max-keys", R"("100")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:max-keys", {"100"}}}, K::kAllowed},
      {"NumericLessThan fails", {Doc(cond("NumericLessThan", "s3:max-keys", R"(100)"))}, "",
       "s3:ListBucket", kBucket, {{"s3:max-keys", {"100"}}}, K::kImplicitDeny},
      {"NumericGreaterThan", {Doc(cond("NumericGreaterThan", "s3:max-keys", R"("10")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:max-keys", {"11"}}}, K::kAllowed},
      {"NumericEquals non-number context", {Doc(cond("NumericEquals", "s3:max-keys", R"("10")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:max-keys", {"ten"}}}, K::kImplicitDeny},
      {"NumericNotEquals", {Doc(cond("NumericNotEquals", "s3:max-keys", R"(["10","20"])"))}, "",
       "s3:ListBucket", kBucket, {{"s3:max-keys", {"15"}}}, K::kAllowed},
      // Dates on aws:CurrentTime
      {"DateLessThan before", {Doc(cond("DateLessThan", "aws:CurrentTime", R"("2026-12-31T00:00:00Z")"))}, "",
       "s3:GetObject", kObject, local, K::kAllowed},
      {"DateLessThan after", {Doc(cond("DateLessThan", "aws:CurrentTime", R"("2026-01-01T00:00:00Z")"))}, "",
       "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"DateGreaterThan", {Doc(cond("DateGreaterThan", "aws:CurrentTime", R"("2026-01-01T00:00:00Z")"))}, "",
       "s3:GetObject", kObject, local, K::kAllowed},
      {"DateGreaterThanEquals epoch", {Doc(cond("DateGreaterThanEquals", "aws:CurrentTime", R"("1780315200")"))}, "",
       "s3:GetObject", kObject, local, K::kAllowed},
      {"DateLessThanEquals boundary", {Doc(cond("DateLessThanEquals", "aws:CurrentTime", R"("2026-06-01T12:00:00Z")"))}, "",
       "s3:GetObject", kObject, local, K::kAllowed},
      // Bool on aws:SecureTransport
      {"Bool SecureTransport false denies", {std::string(kAdministratorAccessPolicy),
        Doc(R"({"Sid":"TLS","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}})")},
       "", "s3:GetObject", kObject, local, K::kExplicitDeny, "TLS"},
      {"Bool SecureTransport true passes", {std::string(kAdministratorAccessPolicy),
        Doc(R"({"Sid":"TLS","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}})")},
       "", "s3:GetObject", kObject, {{"aws:SecureTransport", {"true"}}}, K::kAllowed},
      // IP addresses
      {"IpAddress v4 CIDR", {Doc(cond("IpAddress", "aws:SourceIp", R"(["10.0.0.0/8","192.168.1.1"])"))}, "",
       "s3:GetObject", kObject, local, K::kAllowed},
      {"IpAddress outside", {Doc(cond("IpAddress", "aws:SourceIp", R"("10.2.0.0/16")"))}, "",
       "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"IpAddress v6", {Doc(cond("IpAddress", "aws:SourceIp", R"("2001:db8::/32")"))}, "",
       "s3:GetObject", kObject, {{"aws:SourceIp", {"2001:db8:1::5"}}}, K::kAllowed},
      {"IpAddress v4-mapped v6 client", {Doc(cond("IpAddress", "aws:SourceIp", R"("127.0.0.0/8")"))}, "",
       "s3:GetObject", kObject, {{"aws:SourceIp", {"::ffff:127.0.0.1"}}}, K::kAllowed},
      {"IpAddress family mismatch", {Doc(cond("IpAddress", "aws:SourceIp", R"("::1/128")"))}, "",
       "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"NotIpAddress deny outside office", {std::string(kAdministratorAccessPolicy),
        Doc(R"({"Sid":"Office","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.168.0.0/16","127.0.0.1/32"]}}})")},
       "", "s3:GetObject", kObject, local, K::kExplicitDeny, "Office"},
      {"NotIpAddress inside office", {std::string(kAdministratorAccessPolicy),
        Doc(R"({"Sid":"Office","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}})")},
       "", "s3:GetObject", kObject, local, K::kAllowed},
      // IfExists and Null
      {"StringEqualsIfExists absent", {Doc(cond("StringEqualsIfExists", "s3:prefix", R"("raw_data/")"))}, "",
       "s3:ListBucket", kBucket, {}, K::kAllowed},
      {"StringEqualsIfExists present mismatch", {Doc(cond("StringEqualsIfExists", "s3:prefix", R"("raw_data/")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"x"}}}, K::kImplicitDeny},
      {"IpAddressIfExists absent", {Doc(cond("IpAddressIfExists", "aws:SourceIp", R"("1.2.3.4")"))}, "",
       "s3:GetObject", kObject, {}, K::kAllowed},
      {"Null true: key absent", {Doc(cond("Null", "s3:prefix", R"("true")"))}, "",
       "s3:ListBucket", kBucket, {}, K::kAllowed},
      {"Null true: key present", {Doc(cond("Null", "s3:prefix", R"(true)"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"a"}}}, K::kImplicitDeny},
      {"Null false: key present", {Doc(cond("Null", "s3:prefix", R"("false")"))}, "",
       "s3:ListBucket", kBucket, {{"s3:prefix", {"a"}}}, K::kAllowed},
      // AND across keys and operators, OR across values
      {"two keys: both hold", {Doc(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a","s3:delimiter":"/"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})")},
       "", "s3:ListBucket", kBucket, {{"s3:prefix", {"a"}}, {"s3:delimiter", {"/"}}, {"aws:SourceIp", {"10.0.0.1"}}}, K::kAllowed},
      {"two keys: one fails", {Doc(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a","s3:delimiter":"/"}}})")},
       "", "s3:ListBucket", kBucket, {{"s3:prefix", {"a"}}, {"s3:delimiter", {","}}}, K::kImplicitDeny},
      {"two operators: one fails", {Doc(R"({"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}})")},
       "", "s3:ListBucket", kBucket, {{"s3:prefix", {"a"}}, {"aws:SourceIp", {"11.0.0.1"}}}, K::kImplicitDeny},
      // set qualifiers over multi-valued keys
      {"ForAllValues subset", {Doc(cond("ForAllValues:StringEquals", "aws:TagKeys", R"(["env","team"])"))}, "",
       "s3:PutObjectTagging", kObject, {{"aws:TagKeys", {"env"}}}, K::kAllowed},
      {"ForAllValues not subset", {Doc(cond("ForAllValues:StringEquals", "aws:TagKeys", R"(["env","team"])"))}, "",
       "s3:PutObjectTagging", kObject, {{"aws:TagKeys", {"env", "owner"}}}, K::kImplicitDeny},
      {"ForAnyValue", {Doc(cond("ForAnyValue:StringLike", "aws:TagKeys", R"("own*")"))}, "",
       "s3:PutObjectTagging", kObject, {{"aws:TagKeys", {"env", "owner"}}}, K::kAllowed},
      {"ArnLike principal", {Doc(cond("ArnLike", "aws:PrincipalArn", R"("arn:aws:iam::123456789012:user/al*")"))}, "",
       "s3:GetObject", kObject, {{"aws:PrincipalArn", {kAlice.arn}}}, K::kAllowed},
      // bucket policies (resource-based) with identity policies
      {"bucket policy grants the user", {}, R"({"Version":"2012-10-17","Statement":[{"Sid":"B","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/*"}]})",
       "s3:GetObject", kObject, local, K::kAllowed, "B"},
      {"bucket policy for someone else", {}, R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:user/bob"]},"Action":"s3:*","Resource":"*"}]})",
       "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"bucket policy naming the account delegates", {}, R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:*","Resource":"*"}]})",
       "s3:GetObject", kObject, local, K::kImplicitDeny},
      {"bucket deny beats identity allow", {std::string(kAdministratorAccessPolicy)},
       R"({"Statement":[{"Sid":"RO","Effect":"Deny","Principal":"*","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::my-analytics-bucket/processed_data/*"}]})",
       "s3:PutObject", "arn:aws:s3:::my-analytics-bucket/processed_data/x.parquet", local, K::kExplicitDeny, "RO"},
      {"bucket deny on the account covers users", {std::string(kAdministratorAccessPolicy)},
       R"({"Statement":[{"Sid":"A","Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"s3:DeleteObject","Resource":"*"}]})",
       "s3:DeleteObject", kObject, local, K::kExplicitDeny, "A"},
      {"NotPrincipal deny spares alice", {std::string(kAdministratorAccessPolicy)},
       R"({"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"s3:*","Resource":"*"}]})",
       "s3:GetObject", kObject, local, K::kAllowed},
      {"NotPrincipal deny hits bob", {std::string(kAdministratorAccessPolicy)},
       R"({"Statement":[{"Sid":"OnlyAlice","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"s3:*","Resource":"*"}]})",
       "s3:GetObject", kObject, local, K::kExplicitDeny, "OnlyAlice", kBob},
      {"anonymous only via Principal *", {}, R"({"Statement":[{"Sid":"Pub","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-analytics-bucket/public/*"}]})",
       "s3:GetObject", "arn:aws:s3:::my-analytics-bucket/public/a", local, K::kAllowed, "Pub", kAnonymous},
      {"anonymous ignores identity policies", {std::string(kAdministratorAccessPolicy)}, "",
       "s3:GetObject", kObject, local, K::kImplicitDeny, "", kAnonymous},
  };
}

TEST(PolicyTest, DecisionMatrix) {
  auto cases = Matrix();
  ASSERT_GE(cases.size(), 40u);
  for (const Case& c : cases) {
    std::vector<NamedPolicy> identity;
    for (size_t i = 0; i < c.identity.size(); ++i) {
      auto p = Policy::Parse(c.identity[i]);
      ASSERT_TRUE(p.ok()) << c.name << ": " << p.status().ToString();
      identity.push_back(NamedPolicy{"user/alice/p" + std::to_string(i), std::move(*p)});
    }
    std::optional<Policy> bucket;
    if (!c.bucket.empty()) {
      auto p = Policy::Parse(c.bucket, /*for_resource=*/true);
      ASSERT_TRUE(p.ok()) << c.name << ": " << p.status().ToString();
      bucket = std::move(*p);
    }
    AuthzRequest req{c.who, c.action, c.resource, c.context, bucket ? &*bucket : nullptr};
    Decision d = Evaluate(req, identity);
    EXPECT_EQ(d.kind, c.expected) << c.name << " (decided by " << d.policy << " " << d.statement << ")";
    if (!c.statement.empty()) {
      EXPECT_EQ(d.statement, c.statement) << c.name;
    }
    if (d.kind == DecisionKind::kImplicitDeny) {
      EXPECT_TRUE(d.policy.empty()) << c.name;
    }
  }
}

TEST(PolicyTest, DecisionNamesThePolicy) {
  auto p = Policy::Parse(Doc(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"X","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"})"));
  ASSERT_TRUE(p.ok());
  std::vector<NamedPolicy> ps = {NamedPolicy{"group/devs/rw", *p}};
  Decision d = Evaluate(AuthzRequest{kAlice, "s3:DeleteObject", kObject, {}, nullptr}, ps);
  EXPECT_EQ(d.kind, DecisionKind::kExplicitDeny);
  EXPECT_EQ(d.policy, "group/devs/rw");
  EXPECT_EQ(d.statement, "X");
  EXPECT_EQ(d.KindName(), "explicitDeny");
  d = Evaluate(AuthzRequest{kAlice, "s3:GetObject", kObject, {}, nullptr}, ps);
  EXPECT_EQ(d.statement, "#0");
  EXPECT_EQ(d.KindName(), "allowed");
}

struct Bad {
  std::string doc;
  std::string at;      // the text the error must point at ("$END": the end, "$N": byte N)
  std::string reason;  // a fragment of the reason
  bool for_resource = false;
};

// "line L, column C (byte B)" for the byte where `at` starts in `doc`.
std::string Where(const std::string& doc, const std::string& at) {
  size_t off = at == "$END" ? doc.size() : at[0] == '$' ? std::stoul(at.substr(1)) : doc.find(at);
  EXPECT_NE(off, std::string::npos) << at;
  size_t line = 1, col = 1;
  for (size_t i = 0; i < off; ++i) {
    if (doc[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col) + " (byte " + std::to_string(off) + "): ";
}

TEST(PolicyTest, MalformedDocumentsSayWhereAndWhy) {
  const std::string st = R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*")";
  std::vector<Bad> bad = {
      {"", "$0", "unexpected end"},
      {"{", "$END", "quoted member name"},
      {"[]", "[", "must be a JSON object"},
      {"{\"Version\":\"2012-10-17\",\n \"Statement\": {\"Effect\":\"Allow\",}}", "}}", "quoted member name"},
      {R"({"Version":"2012-10-17"})", "$0", "missing required element Statement"},
      {R"({"Version":"2013-01-01","Statement":[]})", "\"2013", "Version must be"},
      {R"({"Statement":[]})", "[", "must not be empty"},
      {R"({"Statement":"x"})", "\"x\"", "object or an array"},
      {R"({"Statemnt":[]})", "\"Statemnt", "unknown top-level element \"Statemnt\""},
      {R"({"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]})", "\"allow", "Effect must be"},
      {R"({"Statement":[{"Action":"*","Resource":"*"}]})", "{\"Action", "has no Effect"},
      {R"({"Statement":[{"Effect":"Allow","Resource":"*"}]})", "{\"Effect", "no Action or NotAction"},
      {R"({"Statement":[{"Effect":"Allow","Action":"*"}]})", "{\"Effect", "no Resource or NotResource"},
      {R"({"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}]})", "\"NotAction", "either Action or NotAction"},
      {R"({"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]})", "\"GetObject", "service:Action"},
      {R"({"Statement":[{"Effect":"Allow","Action":["s3:Get",5],"Resource":"*"}]})", "5]", "entries must be strings"},
      {R"({"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]})", "[]", "empty array"},
      {R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"bucket/*"}]})", "\"bucket/*", "must be \"*\" or an ARN"},
      {st + R"(,"Principal":"*"}]})", "\"Principal", "must not specify Principal"},
      {st + "}]}", "{\"Effect", "has no Principal", true},
      {st + R"(,"Principal":{"AWS":"bob"}}]})", "\"bob", "invalid principal", true},
      {st + R"(,"Principal":{"Alien":"x"}}]})", "\"Alien", "unknown principal type", true},
      {st + R"(,"Condition":{"StringEqualz":{"a":"b"}}}]})", "\"StringEqualz", "unknown condition operator \"StringEqualz\""},
      {st + R"(,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]})", "\"10.0.0.0/33", "not an IP address"},
      {st + R"(,"Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.1","1.2.3"]}}}]})", "\"1.2.3\"", "not an IP address"},
      {st + R"(,"Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}]})", "\"soon", "not an ISO 8601 date"},
      {st + R"(,"Condition":{"NumericLessThan":{"s3:max-keys":"many"}}}]})", "\"many", "not a number"},
      {st + R"(,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]})", "\"yes", "true or false"},
      {st + R"(,"Condition":{"NullIfExists":{"a":"true"}}}]})", "\"NullIfExists", "neither IfExists"},
      {st + R"(,"Condition":{"StringEquals":{"a":{}}}}]})", "{}}", "strings, numbers or booleans"},
      {st + R"(,"Condition":{"StringEquals":{"a":[]}}}]})", "[]}", "must not be empty"},
      {st + R"(,"Condition":{"StringEquals":"a"}}]})", "\"a\"}", "must map condition keys"},
      {R"({"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}]})", "\"Effect\":\"Deny", "duplicate member \"Effect\""},
      {st + R"(,"Extra":1}]})", "\"Extra", "unknown statement element \"Extra\""},
      {st + "}]} trailing", "trailing", "after the document"},
      {R"({"Id":"a\q"})", "\\q", "unknown escape"},
      {st + "}]", "$END", "expected ',' or '}'"},
      {R"({"Id":"\ud800"})", "$7", "unpaired UTF-16 surrogate"},
      {std::string(100, '['), "$65", "deeper than 64"},
      {"{\"Id\":\"a\nb\"}", "\nb", "control character"},
  };
  for (const Bad& b : bad) {
    auto r = Policy::Parse(b.doc, b.for_resource);
    ASSERT_FALSE(r.ok()) << b.doc;
    EXPECT_EQ(ErrorCodeOf(r.status()), ErrorCode::kMalformedPolicyDocument) << b.doc;
    std::string msg(ErrorMessageOf(r.status()));
    EXPECT_EQ(msg.rfind(Where(b.doc, b.at), 0), 0u) << b.doc << "\n  want: " << Where(b.doc, b.at) << "\n  got:  " << msg;
    EXPECT_NE(msg.find(b.reason), std::string::npos) << b.doc << "\n  got: " << msg;
  }
}

TEST(PolicyTest, AcceptsTheUsualShapes) {
  const char* good[] = {
      R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}})",
      R"({"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"","Effect":"Deny","NotAction":["s3:*"],"NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]})",
      R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*",1,true]}}}]})",
      R"(  {"Statement" : [ {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00.000Z"},"NumericEquals":{"s3:max-keys":10}}} ] }  )",
  };
  for (const char* g : good) {
    auto p = Policy::Parse(g);
    EXPECT_TRUE(p.ok()) << g << ": " << p.status().ToString();
  }
  auto admin = Policy::Parse(kAdministratorAccessPolicy);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->num_statements(), 1u);
  EXPECT_EQ(admin->text(), std::string(kAdministratorAccessPolicy));
  EXPECT_TRUE(Policy::Parse(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:user/a"],"Service":"glue.amazonaws.com"},"Action":"s3:*","Resource":"*"}]})", true).ok());
}

TEST(PolicyTest, ReadsContextOnlyWithAConditionOrAResourceVariable) {
  auto plain = Policy::Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->reads_context());
  auto cond = Policy::Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
      {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]})");
  ASSERT_TRUE(cond.ok());
  EXPECT_TRUE(cond->reads_context());
  auto var = Policy::Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]})");
  ASSERT_TRUE(var.ok());
  EXPECT_TRUE(var->reads_context());
  auto bucket = Policy::Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*",
      "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})", /*for_resource=*/true);
  ASSERT_TRUE(bucket.ok());
  EXPECT_TRUE(bucket->reads_context());
}

TEST(PolicyTest, RequestContextFromTheRequest) {
  HttpRequestView r;
  r.source_ip = "::ffff:10.0.0.7";
  r.secure_transport = true;
  r.headers = {{"user-agent", "aws-cli/2"}};
  auto ctx = RequestContextFor(r, *ParseTime("2026-06-01T00:00:00Z"));
  EXPECT_EQ(ctx["aws:SourceIp"], std::vector<std::string>{"10.0.0.7"});
  EXPECT_EQ(ctx["aws:SecureTransport"], std::vector<std::string>{"true"});
  EXPECT_EQ(ctx["aws:CurrentTime"], std::vector<std::string>{"2026-06-01T00:00:00Z"});
  EXPECT_EQ(ctx["aws:UserAgent"], std::vector<std::string>{"aws-cli/2"});
}

}  // namespace
}  // namespace saleslake::auth
