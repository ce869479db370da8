// Byte encodings written once for every module: hex, SHA-256 as hex, and RFC 3986 percent
// encoding (the form AWS SigV4 canonical requests and S3 keys in URLs use).
// Thread safety: plain functions.
#pragma once

#include <cstdint>
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

// SHA-256 of `data` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

// RFC 3986: the unreserved characters A-Z a-z 0-9 - _ . ~ stay, and '/' when keep_slash;
// every other byte becomes %XX with upper-case hex (SigV4's UriEncode).
std::string PercentEncode(std::string_view s, bool keep_slash = false);
// Decodes %XX escapes (either case); '+' stays '+' unless plus_is_space (HTML forms).
// nullopt on a truncated escape or one that is not two hex digits.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space = false);

}  // namespace saleslake
