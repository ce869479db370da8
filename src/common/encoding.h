// Byte encodings written once for every module: hex, SHA-256 as hex, and RFC 3986 percent
// encoding (the form AWS SigV4 canonical requests and S3 keys in URLs use).
// Thread safety: plain functions.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace saleslake {

// Lower-case hex, two digits per byte.
std::string HexEncode(std::string_view bytes);
std::string HexEncode(std::span<const uint8_t> bytes);
// The value of one hex digit of either case; -1 when c is not a hex digit.
int HexDigitValue(char c);
// The bytes of an even-length hex string (either case). False, with *out unspecified, on an
// odd length or a character that is not a hex digit.
bool HexDecode(std::string_view hex, std::string* out);
// True when s is exactly `len` lower-case hex digits (a SHA-256 in hex: len 64).
bool IsLowerHex(std::string_view s, size_t len);

// SHA-256 of the concatenation of `parts` into out[0..32). OpenSSL 3's one-shot SHA256() and
// HMAC() look the algorithm up by name and allocate a context on every call (EVP_MD_fetch was
// ~2% of a SigV4-verified GET); here the digest is fetched once per process and each thread
// reuses one context, so a call allocates nothing.
void Sha256Of(std::initializer_list<std::string_view> parts, uint8_t out[32]);
// SHA-256 of `data` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

// RFC 3986: the unreserved characters A-Z a-z 0-9 - _ . ~ stay, and '/' when keep_slash;
// every other byte becomes %XX with upper-case hex (SigV4's UriEncode).
std::string PercentEncode(std::string_view s, bool keep_slash = false);
// Decodes %XX escapes (either case); '+' stays '+' unless plus_is_space (HTML forms).
// nullopt on a truncated escape or one that is not two hex digits.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space = false);

}  // namespace saleslake
