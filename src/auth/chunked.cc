// Request bodies: x-amz-checksum-* digests and the aws-chunked decoder that checks a body
// against what its signature promised.
#include <openssl/evp.h>

#include <charconv>

#include "auth/auth.h"
#include "auth/internal/crypto.h"

namespace saleslake::auth {

// ---- PayloadChecksum

struct PayloadChecksum::State {
  enum class Algo { kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 } algo;
  std::string header;
  uint32_t crc32 = 0;
  uint64_t crc64 = 0;
  EVP_MD_CTX* md = nullptr;
  ~State() {
    if (md) EVP_MD_CTX_free(md);
  }
};

PayloadChecksum::PayloadChecksum(std::unique_ptr<State> s) : s_(std::move(s)) {}
PayloadChecksum::PayloadChecksum(PayloadChecksum&&) noexcept = default;
PayloadChecksum& PayloadChecksum::operator=(PayloadChecksum&&) noexcept = default;
PayloadChecksum::~PayloadChecksum() = default;

Result<PayloadChecksum> PayloadChecksum::Create(std::string_view header) {
  auto s = std::make_unique<State>();
  s->header = std::string(header);
  const EVP_MD* md = nullptr;
  if (header == "x-amz-checksum-crc32") {
    s->algo = State::Algo::kCrc32;
  } else if (header == "x-amz-checksum-crc32c") {
    s->algo = State::Algo::kCrc32c;
  } else if (header == "x-amz-checksum-crc64nvme") {
    s->algo = State::Algo::kCrc64Nvme;
  } else if (header == "x-amz-checksum-sha1") {
    s->algo = State::Algo::kSha1;
    md = EVP_sha1();
  } else if (header == "x-amz-checksum-sha256") {
    s->algo = State::Algo::kSha256;
    md = EVP_sha256();
  } else {
    return MakeError(ErrorCode::kInvalidRequest,
                     "unsupported checksum '" + std::string(header.substr(0, 64)) + "'");
  }
  if (md) {
    s->md = EVP_MD_CTX_new();
    if (!s->md || EVP_DigestInit_ex(s->md, md, nullptr) != 1) {
      return MakeError(ErrorCode::kInternalError, "digest init failed");
    }
  }
  return PayloadChecksum(std::move(s));
}

void PayloadChecksum::Update(std::string_view data) {
  switch (s_->algo) {
    case State::Algo::kCrc32: s_->crc32 = internal::Crc32Update(s_->crc32, data); break;
    case State::Algo::kCrc32c: s_->crc32 = internal::Crc32cUpdate(s_->crc32, data); break;
    case State::Algo::kCrc64Nvme: s_->crc64 = internal::Crc64NvmeUpdate(s_->crc64, data); break;
    default: EVP_DigestUpdate(s_->md, data.data(), data.size()); break;
  }
}

std::string PayloadChecksum::FinishBase64() {
  std::string raw;
  switch (s_->algo) {
    case State::Algo::kCrc32:
    case State::Algo::kCrc32c:
      for (int i = 3; i >= 0; --i) raw.push_back(static_cast<char>((s_->crc32 >> (8 * i)) & 0xff));
      break;
    case State::Algo::kCrc64Nvme:
      for (int i = 7; i >= 0; --i) raw.push_back(static_cast<char>((s_->crc64 >> (8 * i)) & 0xff));
      break;
    default: {
      unsigned char d[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      EVP_DigestFinal_ex(s_->md, d, &n);
      raw.assign(reinterpret_cast<char*>(d), n);
    }
  }
  return internal::Base64(raw);
}

const std::string& PayloadChecksum::header() const { return s_->header; }

// ---- ChunkedBodyDecoder

struct ChunkedBodyDecoder::State {
  enum class Phase { kSizeLine, kData, kDataEnd, kTrailer, kDone };
  PayloadMode mode;
  Limits limits;
  Status error;
  Phase phase = Phase::kSizeLine;
  std::string line;                  // partial size or trailer line
  uint64_t chunk_left = 0;           // bytes of the current chunk still to read
  std::string chunk;                 // signed modes: the current chunk, held until verified
  std::string chunk_signature;
  std::string prev_signature;        // the chain
  std::string amz_date, scope;
  std::array<uint8_t, 32> key{};
  uint64_t payload = 0;
  std::optional<uint64_t> expected_length;
  std::string expected_sha256;
  EVP_MD_CTX* sha = nullptr;          // kSha256 mode
  std::string announced_trailer;      // x-amz-trailer
  std::optional<PayloadChecksum> checksum;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::string trailer_signature;
  size_t trailer_bytes = 0;
  std::optional<std::pair<std::string, std::string>> trailer_checksum;

  ~State() {
    if (sha) EVP_MD_CTX_free(sha);
  }
  bool streaming() const {
    return mode == PayloadMode::kStreamingSigned || mode == PayloadMode::kStreamingSignedTrailer ||
           mode == PayloadMode::kStreamingUnsignedTrailer;
  }
  bool signed_chunks() const {
    return mode == PayloadMode::kStreamingSigned || mode == PayloadMode::kStreamingSignedTrailer;
  }
  Status Fail(ErrorCode code, std::string_view msg) {
    error = MakeError(code, msg);
    return error;
  }
  void Emit(std::string_view data, std::string* out) {
    if (checksum) checksum->Update(data);
    payload += data.size();
    if (out != nullptr) out->append(data);
  }
  Status ParseSizeLine();
  Status VerifyChunk(std::string* out);
  Status ParseTrailerLine();
  Status FinishTrailer();
};

namespace {
constexpr size_t kMaxLine = 4096;
const std::string& EmptySha256() {
  static const std::string h = sigv4::HexSha256("");
  return h;
}
}  // namespace

Status ChunkedBodyDecoder::State::ParseSizeLine() {
  std::string_view l = line;
  size_t semi = l.find(';');
  std::string_view size_text = l.substr(0, semi);
  uint64_t size = 0;
  auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
  if (size_text.empty() || ec != std::errc() || p != size_text.data() + size_text.size()) {
    return Fail(ErrorCode::kInvalidChunkSizeError,
                "chunk size line '" + std::string(l.substr(0, 64)) + "' is not hex[;chunk-signature=...]");
  }
  if (size > limits.max_chunk_size) {
    return Fail(ErrorCode::kInvalidChunkSizeError,
                "chunk of " + std::to_string(size) + " bytes exceeds the limit");
  }
  chunk_signature.clear();
  if (semi != std::string_view::npos) {
    std::string_view ext = l.substr(semi + 1);
    constexpr std::string_view kSig = "chunk-signature=";
    if (ext.substr(0, kSig.size()) == kSig) chunk_signature = std::string(ext.substr(kSig.size()));
  }
  if (signed_chunks() && !IsLowerHex(chunk_signature, 64)) {
    return Fail(ErrorCode::kInvalidChunkSizeError, "chunk without a valid chunk-signature");
  }
  chunk_left = size;
  chunk.clear();
  if (size == 0) {
    phase = Phase::kTrailer;
  } else {
    phase = Phase::kData;
  }
  return Status::OK();
}

Status ChunkedBodyDecoder::State::VerifyChunk(std::string* out) {
  std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + amz_date + "\n" + scope + "\n" + prev_signature +
                    "\n" + EmptySha256() + "\n" + sigv4::HexSha256(chunk);
  std::string expected = sigv4::HexHmac(key, sts);
  if (!sigv4::ConstantTimeEquals(expected, chunk_signature)) {
    return Fail(ErrorCode::kSignatureDoesNotMatch,
                "chunk signature mismatch after " + std::to_string(payload) + " payload bytes");
  }
  prev_signature = chunk_signature;
  Emit(chunk, out);
  chunk.clear();
  return Status::OK();
}

Status ChunkedBodyDecoder::State::ParseTrailerLine() {
  std::string_view l = line;
  size_t colon = l.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Fail(ErrorCode::kInvalidChunkSizeError,
                "malformed trailer line '" + std::string(l.substr(0, 64)) + "'");
  }
  std::string name(l.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = sigv4::CanonicalHeaderValue(l.substr(colon + 1));
  if (name == "x-amz-trailer-signature") {
    trailer_signature = value;
  } else {
    trailers.emplace_back(std::move(name), std::move(value));
  }
  return Status::OK();
}

Status ChunkedBodyDecoder::State::FinishTrailer() {
  if (mode == PayloadMode::kStreamingSigned) {
    if (!trailers.empty() || !trailer_signature.empty()) {
      return Fail(ErrorCode::kInvalidRequest, "trailers sent without a *-TRAILER payload mode");
    }
  }
  if (mode == PayloadMode::kStreamingSignedTrailer) {
    if (!IsLowerHex(trailer_signature, 64)) {
      return Fail(ErrorCode::kSignatureDoesNotMatch, "missing or malformed x-amz-trailer-signature");
    }
    std::string canonical;
    for (const auto& [k, v] : trailers) canonical += k + ":" + v + "\n";
    std::string sts = "AWS4-HMAC-SHA256-TRAILER\n" + amz_date + "\n" + scope + "\n" +
                      prev_signature + "\n" + sigv4::HexSha256(canonical);
    if (!sigv4::ConstantTimeEquals(sigv4::HexHmac(key, sts), trailer_signature)) {
      return Fail(ErrorCode::kSignatureDoesNotMatch, "trailer signature mismatch");
    }
  }
  for (const auto& [k, v] : trailers) {
    if (k.rfind("x-amz-checksum-", 0) != 0) continue;
    if (!announced_trailer.empty() && k != announced_trailer) {
      return Fail(ErrorCode::kInvalidRequest,
                  "trailer " + k + " was not announced in x-amz-trailer (" + announced_trailer + ")");
    }
    if (!checksum) {
      auto c = PayloadChecksum::Create(k);
      if (!c.ok()) return Fail(ErrorCode::kInvalidRequest, ErrorMessageOf(c.status()));
      // Not announced: nothing was computed while streaming, so it cannot be checked.
      return Fail(ErrorCode::kInvalidRequest, "checksum trailer " + k + " without x-amz-trailer");
    }
    std::string actual = checksum->FinishBase64();
    if (actual != v) {
      return Fail(ErrorCode::kBadDigest, "the " + k + " you specified (" + v.substr(0, 64) +
                                             ") did not match the payload (" + actual + ")");
    }
    trailer_checksum = std::make_pair(k, v);
  }
  if (!announced_trailer.empty() && !trailer_checksum) {
    return Fail(ErrorCode::kIncompleteBody, "the announced trailer " + announced_trailer + " is missing");
  }
  phase = Phase::kDone;
  return Status::OK();
}

ChunkedBodyDecoder::ChunkedBodyDecoder(std::unique_ptr<State> s) : s_(std::move(s)) {}
ChunkedBodyDecoder::ChunkedBodyDecoder(ChunkedBodyDecoder&&) noexcept = default;
ChunkedBodyDecoder& ChunkedBodyDecoder::operator=(ChunkedBodyDecoder&&) noexcept = default;
ChunkedBodyDecoder::~ChunkedBodyDecoder() = default;

Result<ChunkedBodyDecoder> ChunkedBodyDecoder::Create(const Authenticated& auth, Limits limits) {
  auto s = std::make_unique<State>();
  s->mode = auth.payload;
  s->limits = limits;
  s->prev_signature = auth.seed_signature;
  s->amz_date = auth.amz_date;
  s->scope = auth.scope;
  s->key = auth.signing_key;
  s->expected_length = auth.decoded_content_length;
  s->announced_trailer = auth.trailer_header;
  if (auth.payload == PayloadMode::kSha256) {
    s->expected_sha256 = auth.payload_sha256_hex;
    s->sha = EVP_MD_CTX_new();
    if (!s->sha || EVP_DigestInit_ex(s->sha, EVP_sha256(), nullptr) != 1) {
      return MakeError(ErrorCode::kInternalError, "digest init failed");
    }
  }
  if (s->signed_chunks() && (s->prev_signature.empty() || s->scope.empty())) {
    return MakeError(ErrorCode::kInvalidRequest, "signed chunks without a seed signature");
  }
  if (!auth.trailer_header.empty()) {
    if (!s->streaming() || auth.payload == PayloadMode::kStreamingSigned) {
      return MakeError(ErrorCode::kInvalidRequest, "x-amz-trailer needs a *-TRAILER payload mode");
    }
    SL_ASSIGN_OR_RETURN(PayloadChecksum c, PayloadChecksum::Create(auth.trailer_header));
    s->checksum.emplace(std::move(c));
  }
  return ChunkedBodyDecoder(std::move(s));
}

bool ChunkedBodyDecoder::framed() const { return s_->streaming(); }

Status ChunkedBodyDecoder::Feed(std::string_view raw, std::string* out) {
  State& s = *s_;
  if (!s.error.ok()) return s.error;
  if (!s.streaming()) {
    if (s.sha) EVP_DigestUpdate(s.sha, raw.data(), raw.size());
    s.Emit(raw, out);
    return Status::OK();
  }
  while (!raw.empty()) {
    switch (s.phase) {
      case State::Phase::kSizeLine:
      case State::Phase::kTrailer: {
        size_t nl = raw.find('\n');
        size_t take = nl == std::string_view::npos ? raw.size() : nl + 1;
        size_t cap = s.phase == State::Phase::kTrailer ? s.limits.max_trailer_bytes : kMaxLine;
        if (s.line.size() + take > cap || s.trailer_bytes + take > s.limits.max_trailer_bytes + kMaxLine) {
          return s.Fail(ErrorCode::kInvalidChunkSizeError, "chunk header or trailer line too long");
        }
        s.line.append(raw.substr(0, take));
        raw.remove_prefix(take);
        if (nl == std::string_view::npos) break;
        if (s.line.size() < 2 || s.line[s.line.size() - 2] != '\r') {
          return s.Fail(ErrorCode::kInvalidChunkSizeError, "line not terminated by CRLF");
        }
        s.line.resize(s.line.size() - 2);
        if (s.phase == State::Phase::kSizeLine) {
          SL_RETURN_IF_ERROR(s.ParseSizeLine());
          if (s.phase == State::Phase::kTrailer && s.signed_chunks()) {
            // The final, empty chunk is signed too.
            SL_RETURN_IF_ERROR(s.VerifyChunk(out));
          }
        } else {
          s.trailer_bytes += s.line.size();
          if (s.line.empty()) {
            s.line.clear();
            SL_RETURN_IF_ERROR(s.FinishTrailer());
            break;
          }
          SL_RETURN_IF_ERROR(s.ParseTrailerLine());
        }
        s.line.clear();
        break;
      }
      case State::Phase::kData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(s.chunk_left, raw.size()));
        if (s.signed_chunks()) {
          s.chunk.append(raw.substr(0, take));
        } else {
          s.Emit(raw.substr(0, take), out);
        }
        s.chunk_left -= take;
        raw.remove_prefix(take);
        if (s.chunk_left == 0) s.phase = State::Phase::kDataEnd;
        break;
      }
      case State::Phase::kDataEnd: {
        // Exactly "\r\n" after the chunk's data; collected in `line` across Feed calls.
        size_t take = std::min<size_t>(2 - s.line.size(), raw.size());
        s.line.append(raw.substr(0, take));
        raw.remove_prefix(take);
        if (s.line.size() < 2) break;
        if (s.line != "\r\n") {
          return s.Fail(ErrorCode::kInvalidChunkSizeError,
                        "chunk data longer than its declared size (no CRLF after it)");
        }
        s.line.clear();
        if (s.signed_chunks()) SL_RETURN_IF_ERROR(s.VerifyChunk(out));
        s.phase = State::Phase::kSizeLine;
        break;
      }
      case State::Phase::kDone:
        return s.Fail(ErrorCode::kInvalidChunkSizeError, "data after the final chunk");
    }
  }
  if (s.expected_length && s.payload > *s.expected_length) {
    return s.Fail(ErrorCode::kIncompleteBody, "the body decodes to more than x-amz-decoded-content-length");
  }
  return Status::OK();
}

Status ChunkedBodyDecoder::Finish() {
  State& s = *s_;
  if (!s.error.ok()) return s.error;
  if (!s.streaming()) {
    if (s.sha) {
      unsigned char d[32];
      unsigned int n = 0;
      EVP_DigestFinal_ex(s.sha, d, &n);
      std::string actual = HexEncode(std::span<const uint8_t>(d, n));
      if (actual != s.expected_sha256) {
        return s.Fail(ErrorCode::kXAmzContentSHA256Mismatch,
                      "the provided x-amz-content-sha256 header does not match what was computed "
                      "(" + actual + ")");
      }
    }
    s.phase = State::Phase::kDone;
    return Status::OK();
  }
  // A body that ends right after the trailer lines, without the final empty line or even the
  // last CRLF, is accepted (some clients omit them); anything cut inside a chunk is not.
  if (s.phase == State::Phase::kTrailer) {
    if (!s.line.empty()) {
      if (s.line.back() == '\r') s.line.pop_back();
      SL_RETURN_IF_ERROR(s.ParseTrailerLine());
      s.line.clear();
    }
    SL_RETURN_IF_ERROR(s.FinishTrailer());
  }
  if (s.phase != State::Phase::kDone) {
    return s.Fail(ErrorCode::kIncompleteBody, "the aws-chunked body ended before its final chunk");
  }
  if (s.expected_length && s.payload != *s.expected_length) {
    return s.Fail(ErrorCode::kIncompleteBody,
                  "decoded " + std::to_string(s.payload) + " bytes, x-amz-decoded-content-length is " +
                      std::to_string(*s.expected_length));
  }
  return Status::OK();
}

bool ChunkedBodyDecoder::done() const { return s_->phase == State::Phase::kDone; }
uint64_t ChunkedBodyDecoder::payload_bytes() const { return s_->payload; }
std::optional<std::pair<std::string, std::string>> ChunkedBodyDecoder::trailer_checksum() const {
  return s_->trailer_checksum;
}

}  // namespace saleslake::auth
