#include "server/internal/checksum.h"

#include "server/internal/util.h"

namespace saleslake::server::internal {

std::optional<ApiError> VerifyChecksum(std::string_view name, std::string_view value,
                                       std::string_view body) {
  auto expected = Base64Decode(value);
  if (!expected) return MakeError(400, "InvalidRequest", "bad base64 in " + std::string(name));
  std::string actual;
  if (name == "x-amz-checksum-crc32") actual = BigEndian32(Crc32(body));
  else if (name == "x-amz-checksum-crc32c") actual = BigEndian32(Crc32c(body));
  else if (name == "x-amz-checksum-sha256") actual = Sha256(body);
  else if (name == "x-amz-checksum-sha1") {
    Digest d(Digest::kSha1);
    d.Update(body);
    actual = d.Finish();
  } else if (name == "x-amz-checksum-crc64nvme") {
    return std::nullopt;  // not verified (no CRC-64/NVME here yet); the MD5 ETag still is
  } else if (name == "x-amz-checksum-algorithm" || name == "x-amz-checksum-type") {
    return std::nullopt;
  } else {
    return MakeError(400, "InvalidRequest", "unknown checksum " + std::string(name));
  }
  if (actual != *expected) {
    return MakeError(400, "BadDigest",
                     "The " + std::string(name.substr(15)) +
                         " you specified did not match the calculated checksum.");
  }
  return std::nullopt;
}

std::optional<ApiError> VerifyBodyChecksums(const HttpRequest& request, std::string_view body) {
  if (const std::string* md5 = request.Header("content-md5")) {
    auto expected = Base64Decode(*md5);
    if (!expected || expected->size() != 16) {
      return MakeError(400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
    if (Md5(body) != *expected) {
      return MakeError(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
  }
  for (const auto& [name, value] : request.headers) {
    if (name.rfind("x-amz-checksum-", 0) == 0) {
      if (auto err = VerifyChecksum(name, value, body)) return err;
    }
  }
  return std::nullopt;
}

}  // namespace saleslake::server::internal
