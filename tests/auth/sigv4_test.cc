// SigV4: the documented AWS example requests (Amazon S3 API reference, "Signature Calculations
// for the Authorization Header" and "Authenticating Requests: Using Query Parameters"), and the
// verifier's error cases.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "auth/internal/verify.h"
#include "auth/example_keys.h"
#include "common/encoding.h"

namespace saleslake::auth {
namespace {

using testing::ExampleKeys;
using testing::kKeyId;
using testing::kSecret;

constexpr const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TimePoint At(const char* amz) { return *ParseTime(amz); }

HttpRequestView GetObjectExample() {
  HttpRequestView r;
  r.method = "GET";
  r.raw_path = "/test.txt";
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptySha},
               {"x-amz-date", "20130524T000000Z"}};
  return r;
}

const std::vector<std::string> kGetHeaders = {"host", "range", "x-amz-content-sha256", "x-amz-date"};

// The signing key of AWS's documented example (IAM, 2012-02-15), the same when it comes from the
// cache; keys of other secrets, days, regions or services are not mixed up with it.
TEST(SigV4Test, SigningKeysAreDerivedOnceAndKeptApart) {
  const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  auto hex = [](const std::array<uint8_t, 32>& k) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (uint8_t b : k) out += {d[b >> 4], d[b & 15]};
    return out;
  };
  const std::string want = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d";
  EXPECT_EQ(hex(sigv4::SigningKey(secret, "20120215", "us-east-1", "iam")), want);
  EXPECT_EQ(hex(sigv4::SigningKey(secret, "20120215", "us-east-1", "iam")), want);  // cached
  std::set<std::string> others = {want};
  for (const auto& k : {sigv4::SigningKey(secret + "x", "20120215", "us-east-1", "iam"),
                        sigv4::SigningKey(secret, "20120216", "us-east-1", "iam"),
                        sigv4::SigningKey(secret, "20120215", "us-east-2", "iam"),
                        sigv4::SigningKey(secret, "20120215", "us-east-1", "s3")}) {
    EXPECT_TRUE(others.insert(hex(k)).second);
  }
  // Past the cache's bound it is emptied and derives again, with the same results.
  for (int i = 0; i < 2000; ++i) (void)sigv4::SigningKey(secret + std::to_string(i), "20120215", "us-east-1", "iam");
  EXPECT_EQ(hex(sigv4::SigningKey(secret, "20120215", "us-east-1", "iam")), want);
}

TEST(SigV4Test, GetObjectExampleCanonicalRequest) {
  auto creq = sigv4::CanonicalRequest(GetObjectExample(), kGetHeaders, kEmptySha, "s3", false);
  ASSERT_TRUE(creq.ok()) << creq.status().ToString();
  EXPECT_EQ(*creq,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sigv4::StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", *creq),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
}

std::string SignExample(const HttpRequestView& r, std::vector<std::string> headers,
                        std::string payload) {
  sigv4::SignInput in{kKeyId, kSecret, "us-east-1", "s3", "20130524T000000Z", std::move(headers),
                      std::move(payload)};
  auto h = sigv4::AuthorizationHeader(r, in);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? *h : "";
}

TEST(SigV4Test, GetObjectExampleSignatureAndVerify) {
  HttpRequestView r = GetObjectExample();
  std::string authz = SignExample(r, kGetHeaders, kEmptySha);
  EXPECT_EQ(authz,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  r.headers.emplace_back("authorization", authz);
  auto a = internal::VerifyRequest(r, "s3", At("20130524T000500Z"), ExampleKeys());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->principal.user_name, "example");
  EXPECT_EQ(a->principal.access_key_id, kKeyId);
  EXPECT_EQ(a->payload, PayloadMode::kSha256);
  EXPECT_EQ(a->payload_sha256_hex, kEmptySha);
  EXPECT_FALSE(a->presigned);
}

TEST(SigV4Test, PutObjectExampleWithDateHeaderAndEncodedPath) {
  HttpRequestView r;
  r.method = "PUT";
  r.raw_path = "/test%24file.text";
  std::string payload = sigv4::HexSha256("Welcome to Amazon S3.");
  EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", payload}};
  std::string authz = SignExample(
      r, {"date", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-storage-class"}, payload);
  EXPECT_NE(authz.find("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
            std::string::npos) << authz;
  r.headers.emplace_back("authorization", authz);
  EXPECT_TRUE(internal::VerifyRequest(r, "s3", At("20130524T000000Z"), ExampleKeys()).ok());
}

TEST(SigV4Test, BucketLifecycleAndListObjectsExamples) {
  HttpRequestView r;
  r.method = "GET";
  r.raw_path = "/";
  r.raw_query = "lifecycle";
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-content-sha256", kEmptySha}};
  std::vector<std::string> h = {"host", "x-amz-content-sha256", "x-amz-date"};
  EXPECT_NE(SignExample(r, h, kEmptySha).find("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
            std::string::npos);
  r.raw_query = "max-keys=2&prefix=J";
  EXPECT_NE(SignExample(r, h, kEmptySha).find("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            std::string::npos);
  // Parameter order on the wire does not matter: the canonical query is sorted.
  r.raw_query = "prefix=J&max-keys=2";
  EXPECT_NE(SignExample(r, h, kEmptySha).find("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            std::string::npos);
}

constexpr const char* kPresignQuery =
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
    "%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

HttpRequestView PresignExample(const std::string& query) {
  HttpRequestView r;
  r.method = "GET";
  r.raw_path = "/test.txt";
  r.raw_query = query;
  r.headers = {{"host", "examplebucket.s3.amazonaws.com"}};
  return r;
}

TEST(SigV4Test, PresignedExample) {
  std::string q = kPresignQuery;
  auto a = internal::VerifyRequest(PresignExample(q), "s3", At("20130524T120000Z"), ExampleKeys());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->presigned);
  EXPECT_EQ(a->payload, PayloadMode::kUnsigned);
  // PresignSignature reproduces it from the query without the signature.
  std::string unsigned_q = q.substr(0, q.find("&X-Amz-Signature"));
  sigv4::SignInput in{kKeyId, kSecret, "us-east-1", "s3", "20130524T000000Z", {"host"}, "UNSIGNED-PAYLOAD"};
  auto sig = sigv4::PresignSignature(PresignExample(unsigned_q), in);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(*sig, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4Test, PresignedExpiryAndLimits) {
  std::string q = kPresignQuery;
  // Valid through the last second, expired one second later.
  EXPECT_TRUE(internal::VerifyRequest(PresignExample(q), "s3", At("20130525T000000Z"), ExampleKeys()).ok());
  auto late = internal::VerifyRequest(PresignExample(q), "s3", At("20130525T000001Z"), ExampleKeys());
  EXPECT_EQ(ErrorCodeOf(late.status()), ErrorCode::kAccessDenied);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
  // Not valid yet (more than the skew allowance before X-Amz-Date).
  auto early = internal::VerifyRequest(PresignExample(q), "s3", At("20130523T230000Z"), ExampleKeys());
  EXPECT_EQ(ErrorCodeOf(early.status()), ErrorCode::kAccessDenied);
  // More than 7 days, zero, or not a number: refused before any key lookup.
  for (const char* bad : {"604801", "0", "-5", "1e3", ""}) {
    std::string b = q;
    b.replace(b.find("86400"), 5, bad);
    auto r = internal::VerifyRequest(PresignExample(b), "s3", At("20130524T000000Z"), ExampleKeys());
    EXPECT_EQ(ErrorCodeOf(r.status()), ErrorCode::kAuthorizationQueryParametersError) << bad;
  }
  // Exactly 7 days is allowed (signature then no longer matches, which is the next check).
  std::string week = q;
  week.replace(week.find("86400"), 5, "604800");
  auto w = internal::VerifyRequest(PresignExample(week), "s3", At("20130524T000000Z"), ExampleKeys());
  EXPECT_EQ(ErrorCodeOf(w.status()), ErrorCode::kSignatureDoesNotMatch);
  // A missing parameter.
  std::string no_date = q;
  no_date.erase(no_date.find("&X-Amz-Date=20130524T000000Z"), 28);
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(PresignExample(no_date), "s3", At("20130524T000000Z"),
                                                ExampleKeys()).status()),
            ErrorCode::kAuthorizationQueryParametersError);
  // A tampered path.
  HttpRequestView other = PresignExample(q);
  other.raw_path = "/test2.txt";
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(other, "s3", At("20130524T000000Z"), ExampleKeys()).status()),
            ErrorCode::kSignatureDoesNotMatch);
}

HttpRequestView SignedGet() {
  HttpRequestView r = GetObjectExample();
  r.headers.emplace_back("authorization", SignExample(r, kGetHeaders, kEmptySha));
  return r;
}

TEST(SigV4Test, ClockSkew) {
  HttpRequestView r = SignedGet();
  EXPECT_TRUE(internal::VerifyRequest(r, "s3", At("20130524T001500Z"), ExampleKeys()).ok());
  EXPECT_TRUE(internal::VerifyRequest(r, "s3", At("20130523T234500Z"), ExampleKeys()).ok());
  for (const char* t : {"20130524T001501Z", "20130523T234459Z", "20140101T000000Z"}) {
    auto a = internal::VerifyRequest(r, "s3", At(t), ExampleKeys());
    EXPECT_EQ(ErrorCodeOf(a.status()), ErrorCode::kRequestTimeTooSkewed) << t;
    EXPECT_EQ(HttpStatusOf(ErrorCodeOf(a.status())), 403);
  }
}

TEST(SigV4Test, ErrorsAreTyped) {
  TimePoint now = At("20130524T000000Z");
  // Tampered header value.
  HttpRequestView r = SignedGet();
  r.headers[1].second = "bytes=0-10";
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "s3", now, ExampleKeys()).status()),
            ErrorCode::kSignatureDoesNotMatch);
  // Header whitespace is canonicalised, so extra spaces still verify.
  r = SignedGet();
  r.headers[1].second = "  bytes=0-9 ";
  EXPECT_TRUE(internal::VerifyRequest(r, "s3", now, ExampleKeys()).ok());
  // Unknown key, inactive key.
  r = SignedGet();
  auto none = [](std::string_view) { return std::optional<internal::KeyRecord>(); };
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "s3", now, none).status()), ErrorCode::kInvalidAccessKeyId);
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "s3", now, ExampleKeys(false)).status()),
            ErrorCode::kAccessDenied);
  // Wrong service in the scope.
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "kinesis", now, ExampleKeys()).status()),
            ErrorCode::kAuthorizationHeaderMalformed);
  // No authentication at all.
  HttpRequestView anon = GetObjectExample();
  auto m = internal::VerifyRequest(anon, "s3", now, ExampleKeys());
  EXPECT_EQ(ErrorCodeOf(m.status()), ErrorCode::kMissingAuthenticationToken);
  // Signature V2 is refused.
  anon.headers.emplace_back("authorization", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(anon, "s3", now, ExampleKeys()).status()),
            ErrorCode::kInvalidRequest);
  // Missing x-amz-content-sha256 on S3; a bad one.
  r = SignedGet();
  r.headers[2].second = "not-a-hash";
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "s3", now, ExampleKeys()).status()),
            ErrorCode::kInvalidDigest);
  r.headers.erase(r.headers.begin() + 2);
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "s3", now, ExampleKeys()).status()),
            ErrorCode::kInvalidRequest);
  // No date.
  r = SignedGet();
  r.headers.erase(r.headers.begin() + 3);
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "s3", now, ExampleKeys()).status()),
            ErrorCode::kAccessDenied);
}

TEST(SigV4Test, AuthorizationHeaderParsing) {
  auto ok = sigv4::ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIA/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,"
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->credential.access_key_id, "AKIA");
  EXPECT_EQ(ok->credential.Scope(), "20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(ok->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  const std::string sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
  const char* bad[] = {
      "",
      "AWS4-HMAC-SHA1 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=",
      "AWS4-HMAC-SHA256",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, Signature=SIG",
      "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;;a, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ABC",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG, Extra=1",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG, Signature=SIG",
      "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature",
  };
  for (std::string b : bad) {
    if (size_t p = b.find("SIG"); p != std::string::npos) b.replace(p, 3, sig);
    auto r = sigv4::ParseAuthorization(b);
    EXPECT_EQ(ErrorCodeOf(r.status()), ErrorCode::kAuthorizationHeaderMalformed) << b;
  }
}

TEST(SigV4Test, Canonicalisation) {
  EXPECT_EQ(*sigv4::CanonicalQuery("b=2&a=1&a=0&c", false), "a=0&a=1&b=2&c=");
  EXPECT_EQ(*sigv4::CanonicalQuery("k=a%20b&x=%7e&s=a/b", false), "k=a%20b&s=a%2Fb&x=~");
  EXPECT_EQ(*sigv4::CanonicalQuery("X-Amz-Signature=abc&a=1", true), "a=1");
  EXPECT_FALSE(sigv4::CanonicalQuery("a=%zz", false).ok());
  EXPECT_FALSE(sigv4::CanonicalQuery("a=%4", false).ok());
  // S3 encodes the decoded path once, other services twice.
  EXPECT_EQ(*sigv4::CanonicalUri("/a%20b/c~d/%C3%A9", "s3"), "/a%20b/c~d/%C3%A9");
  EXPECT_EQ(*sigv4::CanonicalUri("/a b", "s3"), "/a%20b");
  EXPECT_EQ(*sigv4::CanonicalUri("/a%20b", "kinesis"), "/a%2520b");
  EXPECT_EQ(*sigv4::CanonicalUri("", "s3"), "/");
  // S3 never normalises dot segments or double slashes.
  EXPECT_EQ(*sigv4::CanonicalUri("/a/../b//c", "s3"), "/a/../b//c");
  EXPECT_EQ(sigv4::CanonicalHeaderValue("  a   b\tc  "), "a b c");
  EXPECT_TRUE(sigv4::ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(sigv4::ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(sigv4::ConstantTimeEquals("abc", "abcd"));
}

// Text already in canonical form is used as it is; anything else (lower-case escapes, escaped
// unreserved characters, raw reserved bytes) must still be decoded and encoded again.
TEST(SigV4Test, CanonicalisationOfTextThatIsNotYetCanonical) {
  EXPECT_EQ(*sigv4::CanonicalQuery("k=%2f%41&j=%2F", false), "j=%2F&k=%2FA");
  EXPECT_EQ(*sigv4::CanonicalQuery("%41=1&B=%7E%2D", false), "A=1&B=~-");
  EXPECT_EQ(*sigv4::CanonicalQuery("X-Amz-%53ignature=abc&a=1", true), "a=1");
  EXPECT_EQ(*sigv4::CanonicalQuery("k=a+b&k=a%2Bb&e=", false), "e=&k=a%2Bb&k=a%2Bb");
  EXPECT_FALSE(sigv4::CanonicalQuery("k=%", false).ok());
  EXPECT_FALSE(sigv4::CanonicalQuery("k=%4G", false).ok());
  // A path keeps '/' unescaped, so an escaped slash is decoded into one.
  EXPECT_EQ(*sigv4::CanonicalUri("/a%2fb/%41/%7e", "s3"), "/a/b/A/~");
  EXPECT_EQ(*sigv4::CanonicalUri("/a%2Fb/%3A%20", "s3"), "/a/b/%3A%20");
  EXPECT_EQ(*sigv4::CanonicalUri("/a/%3A%20", "s3"), "/a/%3A%20");
  EXPECT_EQ(*sigv4::CanonicalUri("/a:b", "s3"), "/a%3Ab");
  EXPECT_FALSE(sigv4::CanonicalUri("/a%2", "s3").ok());
  // Against the definition (decode, then encode) over text built from a mix of the cases above.
  const std::vector<std::string> pieces = {"a", "Z9", "-_.~", "%2F", "%2f", "%41", "%7E", "%20",
                                           "/", ":", "+", "%C3%A9", "%e9", "*", "%2A"};
  uint32_t seed = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string key, value, path = "/";
    for (int j = 0; j < 4; ++j) {
      seed = seed * 1103515245u + 12345u;
      key += pieces[(seed >> 8) % pieces.size()];
      seed = seed * 1103515245u + 12345u;
      value += pieces[(seed >> 8) % pieces.size()];
      path += pieces[(seed >> 16) % pieces.size()];
    }
    const std::string want = PercentEncode(*PercentDecode(key)) + "=" + PercentEncode(*PercentDecode(value));
    EXPECT_EQ(*sigv4::CanonicalQuery(key + "=" + value, false), want) << key << "=" << value;
    EXPECT_EQ(*sigv4::CanonicalUri(path, "s3"), PercentEncode(*PercentDecode(path), true)) << path;
  }
}

TEST(SigV4Test, RepeatedHeadersAreJoined) {
  HttpRequestView r;
  r.method = "GET";
  r.raw_path = "/";
  r.headers = {{"host", "h"}, {"x-amz-meta-a", "1"}, {"x-amz-meta-a", " 2 "}};
  std::vector<std::string> names = {"host", "x-amz-meta-a"};
  auto c = sigv4::CanonicalRequest(r, names, "UNSIGNED-PAYLOAD", "s3", false);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->find("x-amz-meta-a:1,2\n"), std::string::npos) << *c;
}

TEST(SigV4Test, JsonProtocolSignsTheBodyHash) {
  // Kinesis/Glue-style requests carry no x-amz-content-sha256: the body's hash is signed.
  std::string body = R"({"StreamName":"s"})";
  HttpRequestView r;
  r.method = "POST";
  r.raw_path = "/";
  r.headers = {{"host", "localhost:8080"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-target", "Kinesis_20131202.DescribeStream"}};
  sigv4::SignInput in{kKeyId, kSecret, "us-east-1", "kinesis", "20130524T000000Z",
                      {"host", "x-amz-date", "x-amz-target"}, sigv4::HexSha256(body)};
  r.headers.emplace_back("authorization", *sigv4::AuthorizationHeader(r, in));
  r.body = body;
  EXPECT_TRUE(internal::VerifyRequest(r, "kinesis", At("20130524T000000Z"), ExampleKeys()).ok());
  std::string other = R"({"StreamName":"t"})";
  r.body = other;
  EXPECT_EQ(ErrorCodeOf(internal::VerifyRequest(r, "kinesis", At("20130524T000000Z"), ExampleKeys()).status()),
            ErrorCode::kSignatureDoesNotMatch);
}

TEST(SigV4Test, ErrorCodeRoundTrip) {
  Status s = MakeError(ErrorCode::kSignatureDoesNotMatch, "nope");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorCodeOf(s), ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(ErrorMessageOf(s), "nope");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kRequestTimeTooSkewed), "RequestTimeTooSkewed");
  EXPECT_EQ(ErrorCodeOf(Status::IOError("disk")), ErrorCode::kInternalError);
  EXPECT_EQ(ErrorMessageOf(Status::IOError("disk")), "disk");
  EXPECT_EQ(HttpStatusOf(ErrorCode::kMalformedPolicyDocument), 400);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kNoSuchEntity), 404);
}

TEST(SigV4Test, TimeFormats) {
  TimePoint t = At("20130524T000000Z");
  EXPECT_EQ(FormatAmzDate(t), "20130524T000000Z");
  EXPECT_EQ(FormatIso8601(t), "2013-05-24T00:00:00Z");
  EXPECT_EQ(*ParseTime("2013-05-24T00:00:00Z"), t);
  EXPECT_EQ(*ParseTime("2013-05-24T02:00:00+02:00"), t);
  EXPECT_EQ(*ParseTime("2013-05-24"), t);
  EXPECT_EQ(*internal::ParseHttpDate("Fri, 24 May 2013 00:00:00 GMT"), t);
  for (const char* bad : {"", "2013-13-01", "20130524T000000", "2013-05-24T00:00:00Q", "yesterday"}) {
    EXPECT_FALSE(ParseTime(bad)) << bad;
  }
  ManualClock clock(t);
  clock.Advance(std::chrono::seconds(90));
  EXPECT_EQ(FormatAmzDate(clock.Now()), "20130524T000130Z");
}

}  // namespace
}  // namespace saleslake::auth
