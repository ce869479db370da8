#include "server/internal/gate.h"

#include "server/internal/checksum.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {

namespace {

class OpenGate final : public Gate {
 public:
  std::optional<ApiError> Authenticate(HttpRequest& request, Principal* principal) override {
    principal->arn = "arn:aws:iam::000000000000:root";
    principal->user = "anonymous";
    if (IsAwsChunked(request)) {
      HeaderMap trailers;
      return DecodeAwsChunked(request.body, &trailers);
    }
    return std::nullopt;
  }
  std::optional<ApiError> Authorize(const Principal&, std::string_view, std::string_view,
                                    const HttpRequest&, const ConditionContext&) override {
    return std::nullopt;
  }
  std::optional<ApiError> CheckPassword(std::string_view, std::string_view, const HttpRequest& request,
                                        Principal* principal) override {
    HttpRequest copy;
    copy.remote_ip = request.remote_ip;
    return Authenticate(copy, principal);  // --no-auth: anyone is the anonymous admin
  }
  bool open() const override { return true; }
};

ApiError BadChunk(std::string_view why) {
  return MakeError(400, "IncompleteBody", "aws-chunked body: " + std::string(why));
}

}  // namespace

std::unique_ptr<Gate> MakeOpenGate() { return std::make_unique<OpenGate>(); }

bool IsAwsChunked(const HttpRequest& request) {
  const std::string* sha = request.Header("x-amz-content-sha256");
  if (sha && sha->rfind("STREAMING-", 0) == 0) return true;
  const std::string* enc = request.Header("content-encoding");
  return enc && enc->find("aws-chunked") != std::string::npos;
}

std::optional<ApiError> DecodeAwsChunked(std::string& body, HeaderMap* trailers) {
  std::string out;
  out.reserve(body.size());
  size_t pos = 0;
  for (;;) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) return BadChunk("chunk header without CRLF");
    std::string_view header(body.data() + pos, eol - pos);
    std::string_view hex = header.substr(0, header.find(';'));
    if (hex.empty() || hex.size() > 15) return BadChunk("bad chunk size");
    uint64_t size = 0;
    for (char c : hex) {
      int v = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (v < 0) return BadChunk("bad chunk size");
      size = size * 16 + static_cast<uint64_t>(v);
    }
    pos = eol + 2;
    if (size == 0) break;
    if (size > body.size() - pos) return BadChunk("truncated chunk");
    out.append(body, pos, size);
    pos += size;
    if (body.compare(pos, 2, "\r\n") != 0) return BadChunk("chunk data not followed by CRLF");
    pos += 2;
  }
  // Trailers: "name:value\r\n" lines, then an empty line (some clients omit the final CRLF).
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) eol = body.size();
    std::string_view line(body.data() + pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return BadChunk("malformed trailer");
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    trailers->emplace(std::move(name), std::string(value));
  }
  for (const auto& [name, value] : *trailers) {
    if (name.rfind("x-amz-checksum-", 0) == 0) {
      if (auto err = VerifyChecksum(name, value, out)) return err;
    }
  }
  body = std::move(out);
  return std::nullopt;
}

}  // namespace saleslake::server::internal
