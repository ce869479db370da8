#include "common/types.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace saleslake {

bool DataType::is_numeric() const {
  switch (id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kFloat:
    case TypeId::kDouble:
    case TypeId::kDecimal:
      return true;
    default:
      return false;
  }
}

size_t DataType::byte_width() const {
  switch (id) {
    case TypeId::kNull:
    case TypeId::kBoolean:
      return 1;
    case TypeId::kInt32:
    case TypeId::kDate:
      return 4;
    case TypeId::kFloat:
      return 4;
    case TypeId::kInt64:
    case TypeId::kDouble:
    case TypeId::kTimestamp:
      return 8;
    case TypeId::kDecimal:
      return precision > 18 ? 16 : 8;
    case TypeId::kVarchar:
      return sizeof(std::string_view);
    case TypeId::kInterval:
      return sizeof(Interval);
  }
  return 8;
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kNull: return "NULL";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kInt32: return "INTEGER";
    case TypeId::kInt64: return "BIGINT";
    case TypeId::kFloat: return "REAL";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kDecimal:
      return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeId::kVarchar: return "VARCHAR";
    case TypeId::kDate: return "DATE";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kInterval: return "INTERVAL";
  }
  return "UNKNOWN";
}

namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<DataType> ParseDataType(std::string_view name) {
  std::string u = Upper(Trim(name));
  if (u == "BOOLEAN" || u == "BOOL") return DataType::Boolean();
  if (u == "INTEGER" || u == "INT" || u == "INT32" || u == "INT4" || u == "SMALLINT" ||
      u == "TINYINT")
    return DataType::Int32();
  if (u == "BIGINT" || u == "INT64" || u == "INT8" || u == "LONG") return DataType::Int64();
  if (u == "REAL" || u == "FLOAT" || u == "FLOAT4") return DataType::Float();
  if (u == "DOUBLE" || u == "DOUBLE PRECISION" || u == "FLOAT8") return DataType::Double();
  if (u == "VARCHAR" || u == "STRING" || u == "TEXT" || u == "CHAR" || u.rfind("VARCHAR(", 0) == 0)
    return DataType::Varchar();
  if (u == "DATE") return DataType::Date();
  if (u == "TIMESTAMP" || u == "TIMESTAMP(6)" || u == "DATETIME") return DataType::Timestamp();
  if (u == "INTERVAL") return DataType::IntervalType();
  if (u == "DECIMAL" || u == "NUMERIC") return DataType::Decimal(38, 0);
  if (u.rfind("DECIMAL(", 0) == 0 || u.rfind("NUMERIC(", 0) == 0) {
    int p = 0, s = 0;
    char close = 0;
    const char* args = u.c_str() + u.find('(') + 1;
    int n = std::sscanf(args, "%d , %d %c", &p, &s, &close);
    if (n == 2) {  // "DECIMAL(p)" form has no comma
      close = ')';
    } else if (n < 2) {
      n = std::sscanf(args, "%d %c", &p, &close);
      s = 0;
      if (n != 2) close = 0;
    }
    if (close == ')' && p >= 1 && p <= 38 && s >= 0 && s <= p)
      return DataType::Decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(s));
    return Status::InvalidArgument("bad decimal type '" + std::string(name) +
                                   "': precision must be 1..38 and scale 0..precision");
  }
  return Status::InvalidArgument("unknown type '" + std::string(name) + "'");
}

std::optional<size_t> Schema::FindField(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == name) return i;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& f = fields[i].name;
    if (f.size() == name.size() &&
        std::equal(f.begin(), f.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return i;
  }
  return std::nullopt;
}

// Howard Hinnant's days_from_civil / civil_from_days algorithms (public domain description).
int32_t DaysFromCivil(int32_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int32_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

CivilDate CivilFromDays(int32_t z) {
  z += 719468;
  const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int32_t y = static_cast<int32_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{y + (m <= 2), static_cast<uint8_t>(m), static_cast<uint8_t>(d)};
}

int DaysInMonth(int32_t year, unsigned month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

bool IsValidDate(int32_t year, unsigned month, unsigned day) {
  return year >= -290000 && year <= 290000 && month >= 1 && month <= 12 && day >= 1 &&
         static_cast<int>(day) <= DaysInMonth(year, month);
}

int IsoDayOfWeek(int32_t days) {
  // 1970-01-01 was a Thursday (ISO 4).
  int64_t wd = (static_cast<int64_t>(days) + 3) % 7;
  if (wd < 0) wd += 7;
  return static_cast<int>(wd) + 1;
}

std::string FormatDate(int32_t days) {
  CivilDate c = CivilFromDays(days);
  char buf[32];
  if (c.year >= 0 && c.year <= 9999) {
    // Digit by digit: result paths format millions of dates, and snprintf was a visible cost.
    const unsigned y = static_cast<unsigned>(c.year);
    const char text[10] = {static_cast<char>('0' + y / 1000), static_cast<char>('0' + y / 100 % 10),
                           static_cast<char>('0' + y / 10 % 10), static_cast<char>('0' + y % 10), '-',
                           static_cast<char>('0' + c.month / 10), static_cast<char>('0' + c.month % 10), '-',
                           static_cast<char>('0' + c.day / 10), static_cast<char>('0' + c.day % 10)};
    return std::string(text, sizeof text);
  } else {
    std::snprintf(buf, sizeof buf, "%d-%02u-%02u", c.year, unsigned{c.month}, unsigned{c.day});
  }
  return buf;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  std::string out = FormatDate(static_cast<int32_t>(days));
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  char buf[32];
  std::snprintf(buf, sizeof buf, " %02d:%02d:%02d", static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  out += buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(frac));
    out += buf;
  }
  return out;
}

std::string UtcNow(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

namespace {

bool ParseDigits(std::string_view s, size_t pos, size_t n, int32_t* out) {
  if (pos + n > s.size()) return false;
  int32_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<int32_t> ParseIsoDate(std::string_view s) {
  int32_t y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!ParseDigits(s, 0, 4, &y) || !ParseDigits(s, 5, 2, &m) || !ParseDigits(s, 8, 2, &d))
    return std::nullopt;
  if (!IsValidDate(y, static_cast<unsigned>(m), static_cast<unsigned>(d))) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<int64_t> ParseIsoTimestamp(std::string_view s) {
  if (s.size() < 10) return std::nullopt;
  std::optional<int32_t> date = ParseIsoDate(s.substr(0, 10));
  if (!date) return std::nullopt;
  int64_t micros = static_cast<int64_t>(*date) * kMicrosPerDay;
  if (s.size() == 10) return micros;
  if (s[10] != ' ' && s[10] != 'T') return std::nullopt;
  int32_t hh, mm, ss = 0;
  if (!ParseDigits(s, 11, 2, &hh) || s.size() < 16 || s[13] != ':' || !ParseDigits(s, 14, 2, &mm))
    return std::nullopt;
  size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!ParseDigits(s, pos + 1, 2, &ss)) return std::nullopt;
    pos += 3;
  }
  if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) frac = frac * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t i = digits; i < 6; ++i) frac *= 10;
  }
  std::string_view tz = s.substr(pos);
  if (!(tz.empty() || tz == "Z" || tz == "+00:00" || tz == "+00" || tz == " UTC"))
    return std::nullopt;
  return micros + (static_cast<int64_t>(hh) * 3600 + mm * 60 + ss) * kMicrosPerSecond + frac;
}

}  // namespace saleslake
