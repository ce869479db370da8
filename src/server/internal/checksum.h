// S3's additional checksums (x-amz-checksum-crc32 | crc32c | sha1 | sha256) and Content-MD5.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/internal/api_error.h"
#include "server/internal/http_types.h"

namespace saleslake::server::internal {

// `name` is the lower-case header/trailer name, `value` its base64 text. BadDigest when the body
// does not match; InvalidRequest for an unknown algorithm or bad base64.
std::optional<ApiError> VerifyChecksum(std::string_view name, std::string_view value,
                                       std::string_view body);
// Checks Content-MD5 and every x-amz-checksum-* header of the request against `body`.
std::optional<ApiError> VerifyBodyChecksums(const HttpRequest& request, std::string_view body);

}  // namespace saleslake::server::internal
