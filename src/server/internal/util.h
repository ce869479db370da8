// Small codecs the protocols need: percent-encoding, hex/base64, digests, CRCs, XML escaping,
// HTTP and ISO-8601 dates. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.h"
#include "common/text.h"

namespace saleslake::server::internal {

// (PercentDecode, PercentEncode, HexEncode: common/encoding.h; XmlEscape: common/text.h.)

// "a=1&b&c=%20" -> [(a,1),(b,""),(c," ")]; nullopt on a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view q,
                                                                           bool plus_is_space);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// Incremental MD5 and SHA-256 (OpenSSL EVP).
class Digest {
 public:
  enum Kind { kMd5, kSha256, kSha1 };
  explicit Digest(Kind kind);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void Update(std::string_view data);
  std::string Finish();  // raw bytes

 private:
  void* ctx_;
};
std::string Md5(std::string_view data);     // raw 16 bytes
std::string Sha256(std::string_view data);  // raw 32 bytes
uint32_t Crc32(std::string_view data, uint32_t crc = 0);
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);
std::string BigEndian32(uint32_t v);

// "Sat, 05 Dec 2026 11:50:26 GMT"
std::string HttpDate(int64_t unix_s);
// "2026-12-05T11:50:26.000Z"
std::string IsoDate(int64_t unix_ns);
// RFC 1123, RFC 850 and asctime forms; nullopt when unparsable.
std::optional<int64_t> ParseHttpDate(std::string_view s);

std::string RandomHex(size_t bytes);

}  // namespace saleslake::server::internal
