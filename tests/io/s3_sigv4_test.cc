// The S3 store's SigV4 signer against the example signatures AWS publishes in the S3 API
// reference ("Signature Calculations for the Authorization Header"), credentials
// AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY on 2013-05-24, us-east-1.
#include <gtest/gtest.h>

#include "io/internal/sigv4.h"

namespace saleslake::io::internal {
namespace {

const SigV4Key kKey{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SignInput Example(std::string method, std::string uri) {
  SignInput in;
  in.method = std::move(method);
  in.canonical_uri = std::move(uri);
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  return in;
}

TEST(SigV4, GetObjectWithRange) {
  SignInput in = Example("GET", "/test.txt");
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Range", "bytes=0-9"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_sha256_hex = kEmptySha;
  std::string signed_headers;
  std::string canonical = CanonicalRequest(in, &signed_headers);
  EXPECT_EQ(canonical,
            std::string("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                        "x-amz-content-sha256:") + kEmptySha + "\nx-amz-date:20130524T000000Z\n\n"
                        "host;range;x-amz-content-sha256;x-amz-date\n" + kEmptySha);
  EXPECT_EQ(StringToSign(in, canonical),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(AuthorizationHeader(in, kKey),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObjectEncodesTheKey) {
  const std::string body = "Welcome to Amazon S3.";
  SignInput in = Example("PUT", "/" + PercentEncode("test$file.text", true));
  EXPECT_EQ(in.canonical_uri, "/test%24file.text");
  in.payload_sha256_hex = Sha256Hex(body);
  EXPECT_EQ(in.payload_sha256_hex, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", "20130524T000000Z"},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", in.payload_sha256_hex}};
  EXPECT_EQ(AuthorizationHeader(in, kKey),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, ListObjectsSortsTheQuery) {
  SignInput in = Example("GET", "/");
  in.query = {{"prefix", "J"}, {"max-keys", "2"}};
  in.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_sha256_hex = kEmptySha;
  EXPECT_EQ(CanonicalQueryString(in.query), "max-keys=2&prefix=J");
  EXPECT_EQ(AuthorizationHeader(in, kKey),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, SubresourceWithoutValueAndLifecycle) {
  SignInput in = Example("GET", "/");
  in.query = {{"lifecycle", ""}};
  in.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}};
  in.payload_sha256_hex = kEmptySha;
  EXPECT_EQ(CanonicalQueryString(in.query), "lifecycle=");
  EXPECT_EQ(AuthorizationHeader(in, kKey),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, UriEncodingAndHeaderValues) {
  EXPECT_EQ(PercentEncode("a b/c~d_e.f-g+h=&", true), "a%20b/c~d_e.f-g%2Bh%3D%26");
  EXPECT_EQ(PercentEncode("a/b"), "a%2Fb");
  EXPECT_EQ(PercentEncode("\xc3\xa9", true), "%C3%A9");
  SignInput in = Example("GET", "/");
  in.headers = {{"X-Spaced", "  a   b  "}, {"host", "h"}};
  in.payload_sha256_hex = kEmptySha;
  std::string names;
  std::string canonical = CanonicalRequest(in, &names);
  EXPECT_EQ(names, "host;x-spaced");
  EXPECT_NE(canonical.find("\nx-spaced:a b\n"), std::string::npos) << canonical;
}

}  // namespace
}  // namespace saleslake::io::internal
