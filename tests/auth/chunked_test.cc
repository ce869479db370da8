// aws-chunked bodies: the documented AWS streaming examples, unsigned trailers with checksums,
// and every way a body can be malformed.
#include <gtest/gtest.h>

#include <random>

#include "auth/auth.h"
#include "auth/internal/crypto.h"
#include "auth/internal/verify.h"
#include "auth/example_keys.h"

namespace saleslake::auth {
namespace {

using testing::ExampleKeys;
using testing::kKeyId;
using testing::kSecret;

// Feeds `body` in pieces of random sizes (fixed seed) and returns the payload and the status.
Status Decode(ChunkedBodyDecoder& d, const std::string& body, std::string* out, unsigned seed = 7) {
  std::mt19937 rng(seed);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t n = std::min<size_t>(body.size() - pos, 1 + rng() % 3000);
    Status s = d.Feed(std::string_view(body).substr(pos, n), out);
    if (!s.ok()) return s;
    pos += n;
  }
  return d.Finish();
}

// The "PUT Object, chunked upload" example: 65536 + 1024 bytes of 'a' in two signed chunks.
HttpRequestView StreamingExampleRequest() {
  HttpRequestView r;
  r.method = "PUT";
  r.raw_path = "/examplebucket/chunkObject.txt";
  r.headers = {{"host", "s3.amazonaws.com"},
               {"x-amz-date", "20130524T000000Z"},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                "x-amz-decoded-content-length;x-amz-storage-class,"
                "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"},
               {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
               {"content-encoding", "aws-chunked"},
               {"x-amz-decoded-content-length", "66560"},
               {"content-length", "66824"}};
  return r;
}

std::string StreamingExampleBody() {
  return "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
         std::string(65536, 'a') + "\r\n" +
         "400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
         std::string(1024, 'a') + "\r\n" +
         "0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";
}

Result<Authenticated> StreamingExampleAuth() {
  return internal::VerifyRequest(StreamingExampleRequest(), "s3", *ParseTime("20130524T000000Z"),
                                 ExampleKeys());
}

TEST(ChunkedBodyDecoderTest, SignedStreamingExample) {
  auto a = StreamingExampleAuth();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->payload, PayloadMode::kStreamingSigned);
  EXPECT_EQ(a->decoded_content_length, 66560u);
  std::string body = StreamingExampleBody();
  EXPECT_EQ(body.size(), 66824u);  // the example's Content-Length
  for (unsigned seed : {1u, 2u, 3u}) {
    auto d = ChunkedBodyDecoder::Create(*a);
    ASSERT_TRUE(d.ok());
    std::string out;
    Status s = Decode(*d, body, &out, seed);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(out, std::string(66560, 'a'));
    EXPECT_TRUE(d->done());
  }
  // One byte at a time as well.
  auto d = ChunkedBodyDecoder::Create(*a);
  std::string out;
  for (char c : body) ASSERT_TRUE(d->Feed(std::string_view(&c, 1), &out).ok());
  EXPECT_TRUE(d->Finish().ok());
  EXPECT_EQ(out.size(), 66560u);
}

TEST(ChunkedBodyDecoderTest, BadChunkSignatureReleasesNothingOfThatChunk) {
  auto a = StreamingExampleAuth();
  ASSERT_TRUE(a.ok());
  std::string body = StreamingExampleBody();
  size_t p = body.find("0055627c");
  body[p] = '1';  // second chunk's signature
  auto d = ChunkedBodyDecoder::Create(*a);
  std::string out;
  Status s = Decode(*d, body, &out);
  EXPECT_EQ(ErrorCodeOf(s), ErrorCode::kSignatureDoesNotMatch) << s.ToString();
  EXPECT_EQ(out.size(), 65536u);  // the first chunk verified; the second never came out
  // The decoder stays failed.
  EXPECT_EQ(ErrorCodeOf(d->Feed("x", &out)), ErrorCode::kSignatureDoesNotMatch);

  // Data altered under a valid signature.
  body = StreamingExampleBody();
  body[200] = 'b';
  d = ChunkedBodyDecoder::Create(*a);
  out.clear();
  EXPECT_EQ(ErrorCodeOf(Decode(*d, body, &out)), ErrorCode::kSignatureDoesNotMatch);
  EXPECT_TRUE(out.empty());

  // Chunks reordered: each signature chains from the previous one.
  body = StreamingExampleBody();
  std::string c1 = body.substr(0, body.find("400;"));
  std::string c2 = body.substr(c1.size(), body.find("\r\n0;chunk") + 2 - c1.size());
  std::string last = body.substr(c1.size() + c2.size());
  d = ChunkedBodyDecoder::Create(*a);
  out.clear();
  EXPECT_EQ(ErrorCodeOf(Decode(*d, c2 + c1 + last, &out)), ErrorCode::kSignatureDoesNotMatch);

  // The final chunk dropped: the chain is incomplete.
  d = ChunkedBodyDecoder::Create(*a);
  out.clear();
  EXPECT_EQ(ErrorCodeOf(Decode(*d, c1 + c2, &out)), ErrorCode::kIncompleteBody);
}

TEST(ChunkedBodyDecoderTest, MalformedFraming) {
  auto a = StreamingExampleAuth();
  ASSERT_TRUE(a.ok());
  std::string good = StreamingExampleBody();
  struct Case {
    std::string body;
    ErrorCode code;
  };
  std::string sig1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
  std::vector<Case> cases = {
      {"zz;chunk-signature=" + sig1 + "\r\n", ErrorCode::kInvalidChunkSizeError},
      {";chunk-signature=" + sig1 + "\r\n", ErrorCode::kInvalidChunkSizeError},
      {"10000\r\n" + std::string(65536, 'a') + "\r\n", ErrorCode::kInvalidChunkSizeError},
      {"10000;chunk-signature=abc\r\n", ErrorCode::kInvalidChunkSizeError},
      {"10000;chunk-signature=" + sig1 + "\n", ErrorCode::kInvalidChunkSizeError},
      {"10000;chunk-signature=" + sig1 + "\r\n" + std::string(65537, 'a') + "\r\n",
       ErrorCode::kInvalidChunkSizeError},
      {"10000;chunk-signature=" + sig1 + "\r\n" + std::string(100, 'a'), ErrorCode::kIncompleteBody},
      {"ffffffffffffffffff;chunk-signature=" + sig1 + "\r\n", ErrorCode::kInvalidChunkSizeError},
      {std::string(5000, '1'), ErrorCode::kInvalidChunkSizeError},
      {"", ErrorCode::kIncompleteBody},
      {good + "extra", ErrorCode::kInvalidChunkSizeError},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto d = ChunkedBodyDecoder::Create(*a);
    std::string out;
    Status s = Decode(*d, cases[i].body, &out);
    EXPECT_EQ(ErrorCodeOf(s), cases[i].code) << "case " << i << ": " << s.ToString();
  }
  // A chunk bigger than the limit is refused before any of it is buffered.
  auto d = ChunkedBodyDecoder::Create(*a, ChunkedBodyDecoder::Limits{.max_chunk_size = 1024});
  std::string out;
  EXPECT_EQ(ErrorCodeOf(d->Feed(good.substr(0, 100), &out)), ErrorCode::kInvalidChunkSizeError);
}

TEST(ChunkedBodyDecoderTest, DecodedLengthMustMatch) {
  auto a = StreamingExampleAuth();
  ASSERT_TRUE(a.ok());
  a->decoded_content_length = 66561;
  auto d = ChunkedBodyDecoder::Create(*a);
  std::string out;
  EXPECT_EQ(ErrorCodeOf(Decode(*d, StreamingExampleBody(), &out)), ErrorCode::kIncompleteBody);
  a->decoded_content_length = 100;
  d = ChunkedBodyDecoder::Create(*a);
  out.clear();
  EXPECT_EQ(ErrorCodeOf(Decode(*d, StreamingExampleBody(), &out)), ErrorCode::kIncompleteBody);
}

// The "trailing headers" example: the same chunks, a CRC32C trailer, and a trailer signature.
Authenticated TrailerExampleAuth() {
  Authenticated a;
  a.payload = PayloadMode::kStreamingSignedTrailer;
  a.seed_signature = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
  a.amz_date = "20130524T000000Z";
  a.scope = "20130524/us-east-1/s3/aws4_request";
  a.signing_key = sigv4::SigningKey(kSecret, "20130524", "us-east-1", "s3");
  a.decoded_content_length = 66560;
  a.trailer_header = "x-amz-checksum-crc32c";
  return a;
}

// `ending`: 2 = the final empty line, 1 = none, 0 = not even the last line's CRLF (as some
// clients and the AWS example stream end).
std::string TrailerExampleBody(int ending = 2) {
  return "10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n" +
         std::string(65536, 'a') + "\r\n" +
         "400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n" +
         std::string(1024, 'a') + "\r\n" +
         "0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
         "x-amz-checksum-crc32c:sOO8/Q==\r\n"
         "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435" +
         std::string(ending == 2 ? "\r\n\r\n" : ending == 1 ? "\r\n" : "");
}

TEST(ChunkedBodyDecoderTest, SignedTrailerExample) {
  for (int ending : {2, 1, 0}) {
    auto d = ChunkedBodyDecoder::Create(TrailerExampleAuth());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    std::string out;
    Status s = Decode(*d, TrailerExampleBody(ending), &out);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(out, std::string(66560, 'a'));
    ASSERT_TRUE(d->trailer_checksum());
    EXPECT_EQ(d->trailer_checksum()->first, "x-amz-checksum-crc32c");
    EXPECT_EQ(d->trailer_checksum()->second, "sOO8/Q==");
  }
  // A changed trailer value breaks the trailer signature.
  std::string body = TrailerExampleBody();
  body.replace(body.find("sOO8/Q=="), 8, "AAAAAA==");
  auto d = ChunkedBodyDecoder::Create(TrailerExampleAuth());
  std::string out;
  EXPECT_EQ(ErrorCodeOf(Decode(*d, body, &out)), ErrorCode::kSignatureDoesNotMatch);
  // A missing trailer signature.
  body = TrailerExampleBody();
  body.erase(body.find("x-amz-trailer-signature"), 90);
  d = ChunkedBodyDecoder::Create(TrailerExampleAuth());
  out.clear();
  EXPECT_EQ(ErrorCodeOf(Decode(*d, body, &out)), ErrorCode::kSignatureDoesNotMatch);
}

// Independent check values ("123456789") of each algorithm, big-endian, base64.
std::string CheckValue(std::string_view hex) {
  std::string raw;
  EXPECT_TRUE(HexDecode(hex, &raw));
  return internal::Base64(raw);
}

TEST(PayloadChecksumTest, KnownCheckValues) {
  struct Case {
    const char* header;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"x-amz-checksum-crc32", CheckValue("cbf43926")},
      {"x-amz-checksum-crc32c", CheckValue("e3069283")},
      {"x-amz-checksum-crc64nvme", CheckValue("ae8b14860a799888")},
      {"x-amz-checksum-sha1", CheckValue("f7c3bc1d808e04732adf679965ccc34ca7ae3441")},
      {"x-amz-checksum-sha256", CheckValue("15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225")},
  };
  for (const auto& c : cases) {
    auto sum = PayloadChecksum::Create(c.header);
    ASSERT_TRUE(sum.ok()) << c.header;
    sum->Update("1234");
    sum->Update("56789");
    EXPECT_EQ(sum->FinishBase64(), c.expected) << c.header;
  }
  EXPECT_EQ(ErrorCodeOf(PayloadChecksum::Create("x-amz-checksum-md5").status()), ErrorCode::kInvalidRequest);
}

Authenticated UnsignedTrailer(const char* trailer) {
  Authenticated a;
  a.payload = PayloadMode::kStreamingUnsignedTrailer;
  a.trailer_header = trailer;
  return a;
}

std::string UnsignedBody(const std::string& payload, size_t chunk, const std::string& trailer_line) {
  std::string out;
  char hex[32];
  for (size_t i = 0; i < payload.size(); i += chunk) {
    std::string part = payload.substr(i, chunk);
    std::snprintf(hex, sizeof hex, "%zx", part.size());
    out += std::string(hex) + "\r\n" + part + "\r\n";
  }
  out += "0\r\n" + trailer_line + "\r\n\r\n";
  return out;
}

TEST(ChunkedBodyDecoderTest, UnsignedTrailerChecksums) {
  std::string payload;
  for (int i = 0; i < 100000; ++i) payload.push_back(static_cast<char>('a' + i % 26));
  for (const char* h : {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
                        "x-amz-checksum-sha1", "x-amz-checksum-sha256"}) {
    auto sum = PayloadChecksum::Create(h);
    sum->Update(payload);
    std::string value = sum->FinishBase64();
    Authenticated a = UnsignedTrailer(h);
    a.decoded_content_length = payload.size();
    auto d = ChunkedBodyDecoder::Create(a);
    std::string out;
    Status s = Decode(*d, UnsignedBody(payload, 8192, std::string(h) + ":" + value), &out);
    ASSERT_TRUE(s.ok()) << h << ": " << s.ToString();
    EXPECT_EQ(out, payload);
    // A wrong value is BadDigest.
    d = ChunkedBodyDecoder::Create(a);
    out.clear();
    std::string wrong = value;
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    EXPECT_EQ(ErrorCodeOf(Decode(*d, UnsignedBody(payload, 8192, std::string(h) + ":" + wrong), &out)),
              ErrorCode::kBadDigest) << h;
  }
  // The trailer announced in x-amz-trailer must be the one sent.
  Authenticated a = UnsignedTrailer("x-amz-checksum-crc32");
  auto d = ChunkedBodyDecoder::Create(a);
  std::string out;
  EXPECT_EQ(ErrorCodeOf(Decode(*d, UnsignedBody("abc", 2, "x-amz-checksum-sha256:xx"), &out)),
            ErrorCode::kInvalidRequest);
  // ...and it must be sent.
  d = ChunkedBodyDecoder::Create(a);
  out.clear();
  EXPECT_EQ(ErrorCodeOf(Decode(*d, "3\r\nabc\r\n0\r\n\r\n", &out)), ErrorCode::kIncompleteBody);
  // botocore's wire form, byte for byte.
  d = ChunkedBodyDecoder::Create(a);
  out.clear();
  EXPECT_TRUE(Decode(*d, "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", &out).ok());
  EXPECT_EQ(out, "abc");
  // An unknown announced algorithm.
  EXPECT_EQ(ErrorCodeOf(ChunkedBodyDecoder::Create(UnsignedTrailer("x-amz-checksum-md5")).status()),
            ErrorCode::kInvalidRequest);
}

TEST(ChunkedBodyDecoderTest, PlainBodies) {
  Authenticated a;
  a.payload = PayloadMode::kSha256;
  a.payload_sha256_hex = sigv4::HexSha256("hello world");
  auto d = ChunkedBodyDecoder::Create(a);
  std::string out;
  EXPECT_TRUE(Decode(*d, "hello world", &out).ok());
  EXPECT_EQ(out, "hello world");
  d = ChunkedBodyDecoder::Create(a);
  out.clear();
  EXPECT_EQ(ErrorCodeOf(Decode(*d, "hello World", &out)), ErrorCode::kXAmzContentSHA256Mismatch);
  a.payload = PayloadMode::kUnsigned;
  d = ChunkedBodyDecoder::Create(a);
  out.clear();
  EXPECT_TRUE(Decode(*d, "anything", &out).ok());
  EXPECT_EQ(out, "anything");
  EXPECT_EQ(d->payload_bytes(), 8u);
  EXPECT_FALSE(d->framed());
  // Unframed bodies can be checked in place, without a copy: the digest still decides.
  a.payload = PayloadMode::kSha256;
  d = ChunkedBodyDecoder::Create(a);
  EXPECT_TRUE(d->Feed("hello ", nullptr).ok());
  EXPECT_TRUE(d->Feed("world", nullptr).ok());
  EXPECT_TRUE(d->Finish().ok());
  EXPECT_EQ(d->payload_bytes(), 11u);
  d = ChunkedBodyDecoder::Create(a);
  EXPECT_TRUE(d->Feed("hello there", nullptr).ok());
  EXPECT_EQ(ErrorCodeOf(d->Finish()), ErrorCode::kXAmzContentSHA256Mismatch);
  a.payload = PayloadMode::kStreamingUnsignedTrailer;
  EXPECT_TRUE(ChunkedBodyDecoder::Create(a)->framed());
}

}  // namespace
}  // namespace saleslake::auth
