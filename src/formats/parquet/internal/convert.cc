// Out-of-line value conversions (text forms); see internal/convert.h.
#include "formats/parquet/internal/convert.h"

#include <fmt/format.h>

namespace saleslake::parquet::internal {

std::string TimeText(int64_t micros) {
  int64_t s = FloorDiv(micros, 1000000);
  int64_t frac = micros - s * 1000000;
  int64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  std::string out = fmt::format("{:02}:{:02}:{:02}", h, m, sec);
  if (frac) {
    std::string f = fmt::format("{:06}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

std::string UuidText(std::string_view b) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    uint8_t c = static_cast<uint8_t>(b[i]);
    s.push_back(hex[c >> 4]);
    s.push_back(hex[c & 15]);
  }
  return s;
}

}  // namespace saleslake::parquet::internal
