#include "common/json.h"

#include <cstdint>

#include "common/encoding.h"
#include "common/text.h"

namespace saleslake {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  // Runs of characters that need no escape are appended whole (result pages write millions of
  // short strings; a push_back per character was a tenth of the server's time).
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonString(out, s);
  return out;
}

namespace {

// The four hex digits at text[at], or false.
bool Hex4(std::string_view text, size_t at, uint32_t* out) {
  if (at + 4 > text.size()) return false;
  uint32_t v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const int d = HexDigitValue(text[i]);
    if (d < 0) return false;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  *out = v;
  return true;
}

}  // namespace

const char* ReadJsonString(std::string_view text, size_t* pos, std::string* out) {
  const size_t start = *pos;
  size_t i = start + 1;
  while (true) {
    // A run of bytes that need no decoding is appended whole (result pages hold millions of
    // short strings).
    size_t run = i;
    while (run < text.size() && text[run] != '"' && text[run] != '\\' &&
           static_cast<unsigned char>(text[run]) >= 0x20) {
      ++run;
    }
    out->append(text.data() + i, run - i);
    i = run;
    if (i >= text.size()) {
      *pos = start;
      return "unterminated string";
    }
    if (text[i] == '"') {
      *pos = i + 1;
      return nullptr;
    }
    if (text[i] != '\\') {
      *pos = i;
      return "control character in a string";
    }
    const size_t esc = i;
    if (i + 1 >= text.size()) {
      *pos = esc;
      return "unterminated escape";
    }
    const char e = text[i + 1];
    i += 2;
    switch (e) {
      case '"': out->push_back('"'); break;
      case '\\': out->push_back('\\'); break;
      case '/': out->push_back('/'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'u': {
        uint32_t cp = 0;
        if (!Hex4(text, i, &cp)) {
          *pos = esc;
          return "malformed \\u escape";
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo = 0;
          if (text.substr(i, 2) != "\\u" || !Hex4(text, i + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
            *pos = esc;
            return "unpaired UTF-16 surrogate";
          }
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          *pos = esc;
          return "unpaired UTF-16 surrogate";
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        *pos = esc;
        return "unknown escape";
    }
  }
}

}  // namespace saleslake
