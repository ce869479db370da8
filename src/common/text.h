// Text helpers the XML and JSON codecs of several modules share: escaping for XML text and
// attributes, and UTF-8 encoding of one code point (for &#N; and \uXXXX references).
// Thread safety: plain functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace saleslake {

// & < > " ' become entities. Control characters XML 1.0 cannot carry (below 0x20 except tab,
// newline and carriage return) become &#N; references, as S3 writes them in keys.
std::string XmlEscape(std::string_view s);

// Appends the UTF-8 encoding of `code_point` (at most 0x10FFFF; the caller checks the range
// and surrogates).
void AppendUtf8(uint32_t code_point, std::string* out);

}  // namespace saleslake
