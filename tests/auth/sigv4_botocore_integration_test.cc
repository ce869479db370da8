// SigV4 against independent implementations: botocore (Debian python3-boto3) signs requests and
// the AWS CLI v2 (Debian awscli, /usr/bin/aws) presigns a URL with a key that saleslake's IAM
// issued; Iam::Verify must accept every one of them — and refuse each once tampered with.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "io/local_store.h"
#include "support/test_support.h"

namespace saleslake::auth {
namespace {

using testing::RunProgram;
using testing::TempDir;

struct OwnedRequest {
  std::string name, service, method, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  HttpRequestView View() const {
    HttpRequestView v;
    v.method = method;
    v.raw_path = path;
    v.raw_query = query;
    v.headers = headers;
    v.source_ip = "127.0.0.1";
    if (service != "s3" || !body.empty()) v.body = body;
    return v;
  }
};

std::vector<OwnedRequest> SignWithBotocore(const AccessKeyInfo& key) {
  nlohmann::json in = {{"key", key.access_key_id}, {"secret", key.secret_access_key},
                       {"endpoint", "http://127.0.0.1:8080"}};
  auto r = RunProgram({"/usr/bin/python3", std::string(SALESLAKE_SOURCE_DIR) + "/tests/auth/botocore_sign.py"},
                      in.dump());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<OwnedRequest> out;
  for (const auto& j : nlohmann::json::parse(r.out)) {
    OwnedRequest o;
    o.name = j["name"];
    o.service = j["service"];
    o.method = j["method"];
    o.body = j["body"];
    std::string url = j["url"];
    std::string rest = url.substr(url.find('/', std::string("http://").size()));
    size_t q = rest.find('?');
    o.path = rest.substr(0, q);
    o.query = q == std::string::npos ? "" : rest.substr(q + 1);
    bool host = false;
    for (const auto& h : j["headers"]) {
      std::string name = h[0];
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      host |= name == "host";
      o.headers.emplace_back(name, h[1]);
    }
    if (!host) o.headers.emplace_back("host", "127.0.0.1:8080");  // what the HTTP client sends
    out.push_back(std::move(o));
  }
  return out;
}

TEST(BotocoreSigV4Test, IamVerifiesWhatBotocoreSigns) {
  TempDir dir;
  auto store = io::LocalStore::Open(dir.Join("lake"), true);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("_system/secret.key", std::string(64, '5')).ok());
  auto iam = Iam::Open(**store, IamOptions{.create = true});
  ASSERT_TRUE(iam.ok()) << iam.status().ToString();
  ASSERT_TRUE((*iam)->CreateUser("analyst").ok());
  auto key = (*iam)->CreateAccessKey("analyst");
  ASSERT_TRUE(key.ok());

  auto requests = SignWithBotocore(*key);
  ASSERT_EQ(requests.size(), 7u);
  TimePoint now = SystemClock().Now();
  for (const auto& r : requests) {
    SCOPED_TRACE(r.name);
    auto a = (*iam)->Verify(r.View(), r.service, now);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->principal.user_name, "analyst");
    EXPECT_EQ(a->presigned, r.name == "presigned");
    if (r.name == "put-object") {
      // The signed payload hash is checked against the body the server reads.
      ASSERT_EQ(a->payload, PayloadMode::kSha256);
      auto d = ChunkedBodyDecoder::Create(*a);
      std::string out;
      ASSERT_TRUE(d->Feed(r.body, &out).ok());
      EXPECT_TRUE(d->Finish().ok());
      d = ChunkedBodyDecoder::Create(*a);
      out.clear();
      ASSERT_TRUE(d->Feed(r.body + "x", &out).ok());
      EXPECT_EQ(ErrorCodeOf(d->Finish()), ErrorCode::kXAmzContentSHA256Mismatch);
    }

    // Tampering with the path, the query, a signed header or the body is detected.
    OwnedRequest t = r;
    t.path += "x";
    EXPECT_EQ(ErrorCodeOf((*iam)->Verify(t.View(), r.service, now).status()), ErrorCode::kSignatureDoesNotMatch);
    t = r;
    t.query += t.query.empty() ? "extra=1" : "&extra=1";
    EXPECT_EQ(ErrorCodeOf((*iam)->Verify(t.View(), r.service, now).status()), ErrorCode::kSignatureDoesNotMatch);
    t = r;
    for (auto& [k, v] : t.headers) {
      if (k == "host") v = "127.0.0.1:9999";
    }
    EXPECT_EQ(ErrorCodeOf((*iam)->Verify(t.View(), r.service, now).status()), ErrorCode::kSignatureDoesNotMatch);
    if (r.service != "s3") {
      t = r;
      t.body += " ";
      EXPECT_EQ(ErrorCodeOf((*iam)->Verify(t.View(), r.service, now).status()), ErrorCode::kSignatureDoesNotMatch);
    }
  }
  // The presigned URL expires after its hour.
  for (const auto& r : requests) {
    if (r.name != "presigned") continue;
    EXPECT_TRUE((*iam)->Verify(r.View(), "s3", now + std::chrono::minutes(59)).ok());
    auto late = (*iam)->Verify(r.View(), "s3", now + std::chrono::minutes(61));
    EXPECT_EQ(ErrorCodeOf(late.status()), ErrorCode::kAccessDenied);
  }
  // A deactivated key is refused for every request.
  ASSERT_TRUE((*iam)->UpdateAccessKey("analyst", key->access_key_id, false).ok());
  for (const auto& r : requests) {
    EXPECT_EQ(ErrorCodeOf((*iam)->Verify(r.View(), r.service, now).status()), ErrorCode::kAccessDenied) << r.name;
  }
}

TEST(BotocoreSigV4Test, AwsCliPresignedUrlVerifiesAndExpires) {
  TempDir dir;
  auto store = io::LocalStore::Open(dir.Join("lake"), true);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("_system/secret.key", std::string(64, '6')).ok());
  auto iam = Iam::Open(**store, IamOptions{.create = true});
  ASSERT_TRUE(iam.ok());
  ASSERT_TRUE((*iam)->CreateUser("reader").ok());
  auto key = (*iam)->CreateAccessKey("reader");
  ASSERT_TRUE(key.ok());
  auto r = RunProgram({"/usr/bin/aws", "s3", "presign", "s3://my-analytics-bucket/raw_data/sales 2024.csv",
                       "--endpoint-url", "http://127.0.0.1:8080", "--expires-in", "600"},
                      "", {"HOME=" + dir.path(), "AWS_ACCESS_KEY_ID=" + key->access_key_id,
                           "AWS_SECRET_ACCESS_KEY=" + key->secret_access_key, "AWS_DEFAULT_REGION=us-east-1",
                           "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string url = r.out.substr(0, r.out.find_last_not_of("\r\n") + 1);
  std::string rest = url.substr(url.find('/', std::string("http://").size()));
  std::string path = rest.substr(0, rest.find('?')), query = rest.substr(rest.find('?') + 1);
  HttpRequestView v;
  v.method = "GET";
  v.raw_path = path;
  v.raw_query = query;
  v.headers = {{"host", "127.0.0.1:8080"}};
  TimePoint now = SystemClock().Now();
  auto a = (*iam)->Verify(v, "s3", now);
  ASSERT_TRUE(a.ok()) << url << ": " << a.status().ToString();
  EXPECT_TRUE(a->presigned);
  EXPECT_EQ(a->principal.user_name, "reader");
  EXPECT_EQ(ErrorCodeOf((*iam)->Verify(v, "s3", now + std::chrono::minutes(11)).status()), ErrorCode::kAccessDenied);
  v.raw_path = "/my-analytics-bucket/raw_data/other.csv";
  EXPECT_EQ(ErrorCodeOf((*iam)->Verify(v, "s3", now).status()), ErrorCode::kSignatureDoesNotMatch);
}

}  // namespace
}  // namespace saleslake::auth
