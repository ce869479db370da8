// DecodeS3Request, key validation and the request-body XML parsers.
#include <gtest/gtest.h>

#include "server/internal/gate.h"
#include "server/internal/s3.h"
#include "server/internal/util.h"
#include "server/internal/xml.h"
#include "server/test_request.h"

namespace saleslake::server::internal {
namespace {

HttpRequest Req(std::string method, std::string target, std::string host = "127.0.0.1:8080") {
  return MakeRequest(std::move(method), target, host);
}

std::string Op(const HttpRequest& r) {
  auto d = DecodeS3Request(r, "my-analytics-bucket");
  if (auto* e = std::get_if<ApiError>(&d)) return "error:" + e->code;
  return std::get<S3Request>(d).operation;
}

TEST(S3DecodeTest, Operations) {
  EXPECT_EQ(Op(Req("GET", "/")), "ListBuckets");
  EXPECT_EQ(Op(Req("GET", "/b-1?list-type=2&prefix=a")), "ListObjectsV2");
  EXPECT_EQ(Op(Req("GET", "/b-1")), "ListObjects");
  EXPECT_EQ(Op(Req("GET", "/b-1?location")), "GetBucketLocation");
  EXPECT_EQ(Op(Req("HEAD", "/b-1")), "HeadBucket");
  EXPECT_EQ(Op(Req("PUT", "/b-1")), "CreateBucket");
  EXPECT_EQ(Op(Req("POST", "/b-1?delete")), "DeleteObjects");
  EXPECT_EQ(Op(Req("GET", "/b-1?uploads")), "ListMultipartUploads");
  EXPECT_EQ(Op(Req("PUT", "/b-1?policy")), "PutBucketPolicy");
  EXPECT_EQ(Op(Req("GET", "/b-1/k")), "GetObject");
  EXPECT_EQ(Op(Req("HEAD", "/b-1/k")), "HeadObject");
  EXPECT_EQ(Op(Req("PUT", "/b-1/k")), "PutObject");
  EXPECT_EQ(Op(Req("DELETE", "/b-1/k")), "DeleteObject");
  EXPECT_EQ(Op(Req("POST", "/b-1/k?uploads")), "CreateMultipartUpload");
  EXPECT_EQ(Op(Req("PUT", "/b-1/k?partNumber=1&uploadId=x")), "UploadPart");
  EXPECT_EQ(Op(Req("POST", "/b-1/k?uploadId=x")), "CompleteMultipartUpload");
  EXPECT_EQ(Op(Req("DELETE", "/b-1/k?uploadId=x")), "AbortMultipartUpload");
  EXPECT_EQ(Op(Req("GET", "/b-1/k?uploadId=x")), "ListParts");
  HttpRequest copy = Req("PUT", "/b-1/k");
  copy.headers.emplace("x-amz-copy-source", "/b-1/j");
  EXPECT_EQ(Op(copy), "CopyObject");
  EXPECT_EQ(Op(Req("GET", "/b-1/k?acl")), "error:NotImplemented");
  EXPECT_EQ(Op(Req("PATCH", "/b-1/k")), "error:MethodNotAllowed");
  EXPECT_EQ(Op(Req("GET", "/B_UPPER")), "error:InvalidBucketName");
}

TEST(S3DecodeTest, VirtualHost) {
  auto d = DecodeS3Request(Req("GET", "/raw_data/a%20b.csv", "my-analytics-bucket.localhost:8080"),
                           "my-analytics-bucket");
  ASSERT_TRUE(std::holds_alternative<S3Request>(d));
  EXPECT_EQ(std::get<S3Request>(d).bucket, "my-analytics-bucket");
  EXPECT_EQ(std::get<S3Request>(d).key, "raw_data/a b.csv");
}

// Every spelling of "a key outside the lake" is a 400, never a path.
TEST(S3DecodeTest, PathEscapesAreRefused) {
  const char* escapes[] = {
      "/b-1/../etc/passwd",         "/b-1/%2e%2e/etc/passwd",     "/b-1/%2E%2E/etc/passwd",
      "/b-1/a/../../etc/passwd",    "/b-1/a/%2e%2e/%2e%2e/x",     "/b-1//etc/passwd",
      "/b-1/%2fetc/passwd",         "/b-1/a//b",                  "/b-1/a/./b",
      "/b-1/%2e/x",                 "/b-1/a%00b",                 "/b-1/..%2fetc",
      "/b-1/%252e%252e/etc",        "/b-1/..\\..\\etc",           "/b-1/a%5c..%5cb",
      "/b-1/a/..",                  "/b-1/%2e%2e",                "/b-1/a/%2E%2e%2fb",
      "/b-1/raw_data/%2e%2e%2f%2e%2e%2fx", "/b-1/.tmp-x/y",       "/b-1/a%0a/b",
  };
  for (const char* target : escapes) {
    for (const char* method : {"GET", "PUT", "DELETE", "HEAD"}) {
      auto d = DecodeS3Request(Req(method, target), "my-analytics-bucket");
      ASSERT_TRUE(std::holds_alternative<ApiError>(d)) << method << " " << target;
      EXPECT_EQ(std::get<ApiError>(d).http_status, 400) << target;
    }
  }
  std::string overlong = "/b-1/" + std::string(1100, 'a');
  auto d = DecodeS3Request(Req("GET", overlong), "b");
  ASSERT_TRUE(std::holds_alternative<ApiError>(d));
  EXPECT_EQ(std::get<ApiError>(d).code, "KeyTooLongError");
  EXPECT_FALSE(ValidateS3Key("raw_data/ok name (1).csv").has_value());
  EXPECT_FALSE(ValidateS3Key("raw_data/folder/").has_value());
  EXPECT_EQ(Op(Req("GET", "/b-1/a%zzb")), "error:InvalidURI");
}

TEST(S3DecodeTest, CompleteMultipartXml) {
  auto parts = ParseCompleteMultipart(
      "<?xml version=\"1.0\"?><CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Part><ETag>&quot;abc&quot;</ETag><PartNumber>1</PartNumber></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>\"def\"</ETag><ChecksumCRC32>x</ChecksumCRC32></Part>"
      "</CompleteMultipartUpload>");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0], std::make_pair(1, std::string("abc")));
  EXPECT_EQ((*parts)[1], std::make_pair(2, std::string("def")));
  for (const char* bad : {"", "<CompleteMultipartUpload>", "<CompleteMultipartUpload></Complete>",
                          "<Other/>", "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
                          "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
                          "<!DOCTYPE x [<!ENTITY a \"b\">]><CompleteMultipartUpload/>",
                          "<CompleteMultipartUpload>&bogus;</CompleteMultipartUpload>"}) {
    EXPECT_FALSE(ParseCompleteMultipart(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_FALSE(ParseXml(deep).ok());
}

TEST(S3DecodeTest, DeleteObjectsXml) {
  auto d = ParseDeleteObjects("<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object>"
                              "<Object><Key><![CDATA[c<d]]></Key></Object></Delete>");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->quiet);
  EXPECT_EQ(d->keys, (std::vector<std::string>{"a&b", "c<d"}));
  EXPECT_FALSE(ParseDeleteObjects("<Delete></Delete>").ok());
  EXPECT_FALSE(ParseDeleteObjects("<Delete><Object/></Delete>").ok());
}

TEST(S3DecodeTest, AwsChunkedWithTrailer) {
  std::string payload = "hello world";
  std::string crc = Base64Encode(BigEndian32(Crc32(payload)));
  std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n";
  HeaderMap trailers;
  ASSERT_FALSE(DecodeAwsChunked(body, &trailers).has_value());
  EXPECT_EQ(body, payload);
  std::string bad = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
  HeaderMap t2;
  auto err = DecodeAwsChunked(bad, &t2);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "BadDigest");
  std::string truncated = "ff\r\nhello";
  HeaderMap t3;
  EXPECT_TRUE(DecodeAwsChunked(truncated, &t3).has_value());
}

TEST(S3DecodeTest, Codecs) {
  EXPECT_EQ(PercentDecode("a%20b%2F"), "a b/");
  EXPECT_FALSE(PercentDecode("a%2").has_value());
  EXPECT_FALSE(PercentDecode("%").has_value());
  EXPECT_EQ(PercentEncode("a b/c~", true), "a%20b/c~");
  EXPECT_EQ(Base64Decode(Base64Encode("xyz1")), "xyz1");
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
}

TEST(S3DecodeTest, HttpDateIsRfc7231sImfFixdate) {
  EXPECT_EQ(HttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(HttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(HttpDate(1796515199), "Sat, 05 Dec 2026 23:59:59 GMT");
  // Every weekday and month, against strftime's (C locale) spelling through the parser.
  for (int64_t t = 1700000000; t < 1700000000 + 400 * 86400; t += 86400 + 3671) {
    const std::string s = HttpDate(t);
    ASSERT_EQ(s.size(), 29u) << s;
    EXPECT_EQ(ParseHttpDate(s), t) << s;
  }
}

}  // namespace
}  // namespace saleslake::server::internal
