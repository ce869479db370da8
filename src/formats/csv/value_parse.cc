#include "formats/csv/value_parse.h"

#include <fast_float/fast_float.h>

#include <cmath>
#include <limits>

namespace saleslake::csv {
namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

// Reads 1..max_digits digits at s[*pos]; false when there is none.
inline bool ReadNumber(std::string_view s, size_t* pos, int max_digits, int* out) {
  int v = 0;
  int n = 0;
  size_t p = *pos;
  while (n < max_digits && p < s.size() && IsDigit(s[p])) {
    v = v * 10 + (s[p] - '0');
    ++p;
    ++n;
  }
  if (n == 0) return false;
  *pos = p;
  *out = v;
  return true;
}

}  // namespace

std::string_view TrimSpaces(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

bool ParseBool(std::string_view s, bool* out) {
  s = TrimSpaces(s);
  switch (s.size()) {
    case 1: {
      char c = Lower(s[0]);
      if (c == 't' || c == 'y' || c == '1') return *out = true, true;
      if (c == 'f' || c == 'n' || c == '0') return *out = false, true;
      return false;
    }
    case 2:
      if (EqualsIgnoreCase(s, "no")) return *out = false, true;
      return false;
    case 3:
      if (EqualsIgnoreCase(s, "yes")) return *out = true, true;
      return false;
    case 4:
      if (EqualsIgnoreCase(s, "true")) return *out = true, true;
      return false;
    case 5:
      if (EqualsIgnoreCase(s, "false")) return *out = false, true;
      return false;
    default:
      return false;
  }
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (!s.empty() && (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t'))
    s = TrimSpaces(s);
  if (s.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
    if (s.size() == 1) return false;
  }
  uint64_t v = 0;
  // 19 digits always fit in uint64; check the rest for overflow one by one.
  size_t fast_end = std::min(s.size(), i + 18);
  for (; i < fast_end; ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  for (; i < s.size(); ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (v > limit) return false;
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

bool ParseInt32(std::string_view s, int32_t* out) {
  int64_t v;
  if (!ParseInt64(s, &v) || v < std::numeric_limits<int32_t>::min() ||
      v > std::numeric_limits<int32_t>::max())
    return false;
  *out = static_cast<int32_t>(v);
  return true;
}

bool ParseDouble(std::string_view s, double* out) {
  if (!s.empty() && (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t'))
    s = TrimSpaces(s);
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') {
    ++b;
    if (b == e || *b == '-' || *b == '+') return false;
  }
  auto r = fast_float::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e;
}

bool ParseFiniteDouble(std::string_view s, double* out) {
  if (!ParseDouble(s, out)) return false;
  return std::isfinite(*out);
}

bool ParseDecimal(std::string_view s, uint8_t precision, uint8_t scale, __int128* out) {
  s = TrimSpaces(s);
  if (s.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    ++i;
  }
  __int128 v = 0;
  int int_digits = 0, frac_digits = 0;
  bool round_up = false, any = false;
  bool after_point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (after_point) return false;
      after_point = true;
      continue;
    }
    if (!IsDigit(c)) return false;
    any = true;
    if (!after_point) {
      if (int_digits > 0 || c != '0') ++int_digits;  // leading zeros do not count
      // Refuse before multiplying: precision <= 38 keeps v below 10^38, inside __int128.
      if (int_digits + scale > precision || precision > 38) return false;
      v = v * 10 + (c - '0');
    } else if (frac_digits < scale) {
      v = v * 10 + (c - '0');
      ++frac_digits;
    } else if (frac_digits == scale) {
      round_up = c >= '5';  // the first dropped digit decides; half away from zero
      ++frac_digits;
    }
  }
  if (!any) return false;
  for (int f = std::min<int>(frac_digits, scale); f < scale; ++f) v *= 10;
  if (round_up) v += 1;
  // Precision check on the final unscaled magnitude.
  __int128 bound = 1;
  for (int p = 0; p < precision; ++p) bound *= 10;
  if (v >= bound) return false;
  *out = neg ? -v : v;
  return true;
}

// ---------------------------------------------------------------------------------------------

DateTimeFormat::DateTimeFormat() {
  auto iso = Compile("%Y-%m-%d %H:%M:%S");
  *this = std::move(iso).value();
  text_.clear();
}

Result<DateTimeFormat> DateTimeFormat::Compile(std::string_view format) {
  if (format.empty()) return DateTimeFormat();
  DateTimeFormat f{Uncompiled{}};
  f.text_ = std::string(format);
  bool y = false, m = false, d = false;
  for (size_t i = 0; i < format.size(); ++i) {
    char c = format[i];
    if (c != '%') {
      f.tokens_.push_back({Kind::kLiteral, c});
      continue;
    }
    if (++i == format.size())
      return Status::InvalidArgument("date format '" + std::string(format) + "' ends with '%'");
    switch (format[i]) {
      case 'Y': f.tokens_.push_back({Kind::kYear, 0}); y = true; break;
      case 'm': f.tokens_.push_back({Kind::kMonth, 0}); m = true; break;
      case 'd': f.tokens_.push_back({Kind::kDay, 0}); d = true; break;
      case 'H': f.tokens_.push_back({Kind::kHour, 0}); break;
      case 'I': f.tokens_.push_back({Kind::kHour12, 0}); break;
      case 'M': f.tokens_.push_back({Kind::kMinute, 0}); break;
      case 'S': f.tokens_.push_back({Kind::kSecond, 0}); break;
      case 'f': f.tokens_.push_back({Kind::kFraction, 0}); break;
      case 'p': f.tokens_.push_back({Kind::kAmPm, 0}); break;
      case '%': f.tokens_.push_back({Kind::kLiteral, '%'}); break;
      default:
        return Status::InvalidArgument("date format '" + std::string(format) +
                                       "': unknown directive %" + std::string(1, format[i]) +
                                       " (supported: %Y %m %d %H %I %M %S %f %p %%)");
    }
  }
  if (!(y && m && d))
    return Status::InvalidArgument("date format '" + std::string(format) +
                                   "' needs %Y, %m and %d");
  return f;
}

bool DateTimeFormat::Parse(std::string_view s, int32_t* days, int64_t* micros_of_day) const {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, hour12 = -1;
  int64_t frac = 0;
  int pm = -1;
  size_t pos = 0;
  const size_t n = tokens_.size();
  size_t t = 0;
  for (; t < n; ++t) {
    const Token& tok = tokens_[t];
    if (pos == s.size()) {
      // The value may stop before the time of day: allowed when everything left is a separator
      // followed by time fields (they stay zero).
      bool only_time = true;
      for (size_t r = t; r < n; ++r) {
        Kind k = tokens_[r].kind;
        if (k == Kind::kYear || k == Kind::kMonth || k == Kind::kDay) only_time = false;
      }
      if (!only_time || tok.kind != Kind::kLiteral) return false;
      break;
    }
    switch (tok.kind) {
      case Kind::kLiteral:
        if (s[pos] != tok.literal && !(tok.literal == ' ' && s[pos] == 'T')) return false;
        ++pos;
        break;
      case Kind::kYear: {
        if (s.size() - pos < 4) return false;
        for (int k = 0; k < 4; ++k) {
          if (!IsDigit(s[pos + k])) return false;
          year = year * 10 + (s[pos + k] - '0');
        }
        pos += 4;
        break;
      }
      case Kind::kMonth:
        if (!ReadNumber(s, &pos, 2, &month)) return false;
        break;
      case Kind::kDay:
        if (!ReadNumber(s, &pos, 2, &day)) return false;
        break;
      case Kind::kHour:
        if (!ReadNumber(s, &pos, 2, &hour)) return false;
        break;
      case Kind::kHour12:
        if (!ReadNumber(s, &pos, 2, &hour12)) return false;
        break;
      case Kind::kMinute:
        if (!ReadNumber(s, &pos, 2, &minute)) return false;
        break;
      case Kind::kSecond:
        if (!ReadNumber(s, &pos, 2, &second)) return false;
        if (pos < s.size() && s[pos] == '.' && !(t + 1 < n && tokens_[t + 1].kind == Kind::kLiteral &&
                                                  tokens_[t + 1].literal == '.')) {
          size_t p = pos + 1;
          int digits = 0;
          int64_t f = 0;
          while (p < s.size() && IsDigit(s[p])) {
            if (digits < 6) f = f * 10 + (s[p] - '0');
            ++digits;
            ++p;
          }
          if (digits == 0) return false;
          for (int k = digits; k < 6; ++k) f *= 10;
          frac = f;
          pos = p;
        }
        break;
      case Kind::kFraction: {
        int digits = 0;
        int64_t f = 0;
        while (pos < s.size() && IsDigit(s[pos]) && digits < 9) {
          if (digits < 6) f = f * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return false;
        for (int k = digits; k < 6; ++k) f *= 10;
        frac = f;
        break;
      }
      case Kind::kAmPm: {
        if (s.size() - pos < 2) return false;
        char a = Lower(s[pos]), b = Lower(s[pos + 1]);
        if (b != 'm' || (a != 'a' && a != 'p')) return false;
        pm = a == 'p';
        pos += 2;
        break;
      }
    }
  }
  int64_t offset_seconds = 0;
  if (pos < s.size()) {
    // Only a zone designator may follow.
    std::string_view rest = s.substr(pos);
    if (rest.front() == ' ') rest.remove_prefix(1);
    if (rest == "Z" || rest == "UTC") {
      // nothing
    } else if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      size_t p = 1;
      int hh = 0, mm = 0;
      if (rest.size() < 3 || !IsDigit(rest[1]) || !IsDigit(rest[2])) return false;
      hh = (rest[1] - '0') * 10 + (rest[2] - '0');
      p = 3;
      if (p < rest.size() && rest[p] == ':') ++p;
      if (p < rest.size()) {
        if (rest.size() - p != 2 || !IsDigit(rest[p]) || !IsDigit(rest[p + 1])) return false;
        mm = (rest[p] - '0') * 10 + (rest[p + 1] - '0');
      }
      if (hh > 23 || mm > 59) return false;
      offset_seconds = (hh * 3600 + mm * 60) * (rest[0] == '-' ? -1 : 1);
    } else {
      return false;
    }
  }
  if (hour12 >= 0) {
    if (hour12 < 1 || hour12 > 12) return false;
    hour = hour12 % 12;
    if (pm == 1) hour += 12;
  } else if (pm >= 0) {
    return false;  // %p without %I
  }
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  if (!IsValidDate(year, static_cast<unsigned>(month), static_cast<unsigned>(day))) return false;
  *days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  *micros_of_day =
      (static_cast<int64_t>(hour) * 3600 + minute * 60 + second - offset_seconds) *
          kMicrosPerSecond +
      frac;
  return true;
}

std::optional<int32_t> DateTimeFormat::ParseDate(std::string_view s) const {
  if (!s.empty() && (s.front() == ' ' || s.back() == ' ')) s = TrimSpaces(s);
  int32_t days;
  int64_t tod;
  if (!Parse(s, &days, &tod) || tod != 0) return std::nullopt;
  return days;
}

std::optional<int64_t> DateTimeFormat::ParseTimestamp(std::string_view s) const {
  if (!s.empty() && (s.front() == ' ' || s.back() == ' ')) s = TrimSpaces(s);
  int32_t days;
  int64_t tod;
  if (!Parse(s, &days, &tod)) return std::nullopt;
  return static_cast<int64_t>(days) * kMicrosPerDay + tod;
}

}  // namespace saleslake::csv
