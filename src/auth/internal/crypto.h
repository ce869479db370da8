// Small wrappers over OpenSSL and zlib for auth: digests, HMAC, encodings, randomness, the
// AES-GCM envelope for secrets at rest, PBKDF2, and the CRC checksums of x-amz-checksum-*.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/status.h"

namespace saleslake::auth::internal {

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::string_view data);
Digest HmacSha256(std::span<const uint8_t> key, std::string_view data);
// Hex of digests and tokens: common/encoding.h (HexEncode, HexDecode, IsLowerHex).
std::string Base64(std::string_view bytes);
bool FromBase64(std::string_view text, std::string* out);

// Cryptographically random bytes (kInternal if the RNG fails).
Result<std::string> RandomBytes(size_t n);
// `n` random characters from `alphabet`, without modulo bias.
Result<std::string> RandomString(size_t n, std::string_view alphabet);

// AES-256-GCM: base64(nonce[12] | ciphertext | tag[16]). `aad` binds the ciphertext to its use.
Result<std::string> Seal(const Digest& key, std::string_view plaintext, std::string_view aad);
Result<std::string> Open(const Digest& key, std::string_view sealed, std::string_view aad);

// PBKDF2-HMAC-SHA256, 32 bytes.
Result<std::string> Pbkdf2(std::string_view password, std::string_view salt, int iterations);

// Incremental checksums of x-amz-checksum-*.
uint32_t Crc32Update(uint32_t crc, std::string_view data);    // zlib's CRC-32, crc starts at 0
uint32_t Crc32cUpdate(uint32_t crc, std::string_view data);   // Castagnoli, crc starts at 0
uint64_t Crc64NvmeUpdate(uint64_t crc, std::string_view data);  // CRC-64/NVME, starts at 0

}  // namespace saleslake::auth::internal
