// CSV parsing and cell comparison for tests that check `saleslake cat` against DuckDB output.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

namespace saleslake {

inline std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
      any = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field.push_back(c);
      any = true;
    }
  }
  if (any || !row.empty()) {
    row.push_back(field);
    rows.push_back(std::move(row));
  }
  return rows;
}

inline bool ParseNumber(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// Equal text; or numbers equal up to float rounding; or a nanosecond timestamp that we print
// truncated to microseconds (our TIMESTAMP is microseconds).
inline bool SameCell(const std::string& got, const std::string& want) {
  if (got == want) return true;
  double a, b;
  if (ParseNumber(got, &a) && ParseNumber(want, &b)) {
    if (std::isnan(a) && std::isnan(b)) return true;
    return std::fabs(a - b) <= 1e-6 * std::max({1.0, std::fabs(a), std::fabs(b)});
  }
  static const std::regex ns(R"(^(.*\.)(\d{6})\d{1,3}(\+00)?$)");
  std::smatch m;
  if (std::regex_match(want, m, ns)) {
    std::string micros = m[2].str();
    while (!micros.empty() && micros.back() == '0') micros.pop_back();
    std::string base = m[1].str();
    std::string w = micros.empty() ? base.substr(0, base.size() - 1) : base + micros;
    return got == w + m[3].str();
  }
  return false;
}


}  // namespace saleslake
