// libFuzzer target: SigV4 request handling — Authorization/Credential parsing, canonical URI,
// query and request building, the whole verifier (header and presigned forms) over a request
// built from the input, and the aws-chunked body decoder in every payload mode. Must never
// crash, hang or leak; errors are fine.
//
// Input layout: lines. Line 1 method, 2 raw path, 3 raw query, then "name:value" header lines
// up to an empty line; the rest is the body, fed to the decoder in pieces.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "auth/internal/verify.h"

namespace {

using namespace saleslake;
using namespace saleslake::auth;

std::string_view NextLine(std::string_view& in) {
  size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)sigv4::ParseAuthorization(in);
  (void)sigv4::ParseCredential(in);
  (void)sigv4::CanonicalQuery(in, true);
  (void)sigv4::CanonicalUri(in, "s3");
  (void)sigv4::CanonicalUri(in, "glue");

  std::string_view rest = in;
  std::string method(NextLine(rest)), path(NextLine(rest)), query(NextLine(rest));
  HttpRequestView req;
  req.method = method;
  req.raw_path = path;
  req.raw_query = query;
  req.source_ip = "127.0.0.1";
  while (!rest.empty()) {
    std::string_view line = NextLine(rest);
    if (line.empty()) break;
    size_t colon = line.find(':');
    req.headers.emplace_back(std::string(line.substr(0, colon)),
                             colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1)));
  }
  std::string body(rest);
  req.body = body;
  std::vector<std::string> names;
  for (const auto& [k, v] : req.headers) names.push_back(k);
  (void)sigv4::CanonicalRequest(req, names, "UNSIGNED-PAYLOAD", "s3", false);
  (void)RequestContextFor(req, TimePoint{});

  // The key the fuzzer's requests name exists, so verification runs to the signature compare.
  internal::KeyLookup lookup = [](std::string_view id) -> std::optional<internal::KeyRecord> {
    if (id.empty() || id.size() > 64) return std::nullopt;
    internal::KeyRecord r;
    r.secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    r.principal = Principal{"123456789012", "fuzz", "AIDAFUZZ", "arn:aws:iam::123456789012:user/fuzz", ""};
    return r;
  };
  TimePoint now = *ParseTime("20130524T000000Z");
  auto a = internal::VerifyRequest(req, "s3", now, lookup);
  (void)internal::VerifyRequest(req, "kinesis", now, lookup);

  // The body through the decoder in each mode (with a fixed signing context).
  for (PayloadMode mode : {PayloadMode::kSha256, PayloadMode::kUnsigned, PayloadMode::kStreamingSigned,
                           PayloadMode::kStreamingSignedTrailer, PayloadMode::kStreamingUnsignedTrailer}) {
    Authenticated auth;
    auth.payload = mode;
    auth.payload_sha256_hex = sigv4::HexSha256("");
    auth.seed_signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    auth.amz_date = "20130524T000000Z";
    auth.scope = "20130524/us-east-1/s3/aws4_request";
    auth.decoded_content_length = body.size() / 2;
    if (mode == PayloadMode::kStreamingUnsignedTrailer) auth.trailer_header = "x-amz-checksum-crc32";
    auto d = ChunkedBodyDecoder::Create(auth, ChunkedBodyDecoder::Limits{.max_chunk_size = 1 << 16});
    if (!d.ok()) continue;
    std::string out;
    size_t step = 1 + body.size() % 7;
    for (size_t pos = 0; pos < body.size(); pos += step) {
      if (!d->Feed(std::string_view(body).substr(pos, step), &out).ok()) break;
    }
    (void)d->Finish();
  }
  return 0;
}
