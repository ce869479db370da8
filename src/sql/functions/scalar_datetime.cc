// Date and time functions (extract fields, date_trunc, date_add, date_diff, date_format,
// date_parse, now): kernels and their resolution.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "sql/functions/functions.h"
#include "sql/functions/internal/kernels.h"
#include "sql/functions/internal/scalar_family.h"

namespace saleslake::sql {

using namespace internal;  // NOLINT: kernels.h and scalar_family.h helpers

namespace {

// ---------------------------------------------------------------- dates

int64_t MicrosOf(const ColumnVector& v, size_t i) {
  if (v.type().id == TypeId::kDate) return int64_t{v.GetValue<int32_t>(i)} * kMicrosPerDay;
  return v.GetValue<int64_t>(i);
}

// ISO week number and week-based year.
void IsoWeek(int32_t days, int* week, int* year) {
  int dow = IsoDayOfWeek(days);             // 1..7
  int32_t thursday = days - (dow - 1) + 3;  // the Thursday of this week decides the year
  CivilDate c = CivilFromDays(thursday);
  int32_t jan1 = DaysFromCivil(c.year, 1, 1);
  *week = (thursday - jan1) / 7 + 1;
  *year = c.year;
}

enum class Field { kYear, kQuarter, kMonth, kWeek, kDay, kDayOfWeek, kDayOfYear, kHour, kMinute,
                   kSecond, kMillisecond, kYearOfWeek };

template <Field f>
Status ExtractKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status*) {
    int64_t micros = MicrosOf(*a[0], i);
    int32_t days = static_cast<int32_t>(FloorDiv(micros, kMicrosPerDay));
    int64_t tod = micros - int64_t{days} * kMicrosPerDay;
    // The civil date only for the fields that need it (it is most of the cost of the others).
    constexpr bool kCivil = f == Field::kYear || f == Field::kQuarter || f == Field::kMonth ||
                            f == Field::kDay || f == Field::kDayOfYear;
    CivilDate c{};
    if constexpr (kCivil) c = CivilFromDays(days);
    int64_t r = 0;
    switch (f) {
      case Field::kYear: r = c.year; break;
      case Field::kQuarter: r = (c.month - 1) / 3 + 1; break;
      case Field::kMonth: r = c.month; break;
      case Field::kWeek: { int w, y; IsoWeek(days, &w, &y); r = w; break; }
      case Field::kYearOfWeek: { int w, y; IsoWeek(days, &w, &y); r = y; break; }
      case Field::kDay: r = c.day; break;
      case Field::kDayOfWeek: r = IsoDayOfWeek(days); break;
      case Field::kDayOfYear: r = days - DaysFromCivil(c.year, 1, 1) + 1; break;
      case Field::kHour: r = tod / (3600 * kMicrosPerSecond); break;
      case Field::kMinute: r = (tod / (60 * kMicrosPerSecond)) % 60; break;
      case Field::kSecond: r = (tod / kMicrosPerSecond) % 60; break;
      case Field::kMillisecond: r = (tod / 1000) % 1000; break;
    }
    out.data<int64_t>()[i] = r;
    return true;
  });
}

enum class Unit { kMillisecond, kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };
std::optional<Unit> ParseUnit(std::string_view u) {
  std::string s(u);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!s.empty() && s.back() == 's') s.pop_back();
  if (s == "millisecond") return Unit::kMillisecond;
  if (s == "second") return Unit::kSecond;
  if (s == "minute") return Unit::kMinute;
  if (s == "hour") return Unit::kHour;
  if (s == "day") return Unit::kDay;
  if (s == "week") return Unit::kWeek;
  if (s == "month") return Unit::kMonth;
  if (s == "quarter") return Unit::kQuarter;
  if (s == "year") return Unit::kYear;
  return std::nullopt;
}
Status BadUnit(std::string_view fn, std::string_view u) {
  return Status::InvalidArgument(fmt::format("{}: unknown unit '{}' (expected one of millisecond, "
                                             "second, minute, hour, day, week, month, quarter, "
                                             "year)", fn, u));
}
int64_t UnitMicros(Unit u) {
  switch (u) {
    case Unit::kMillisecond: return 1000;
    case Unit::kSecond: return kMicrosPerSecond;
    case Unit::kMinute: return 60 * kMicrosPerSecond;
    case Unit::kHour: return 3600 * kMicrosPerSecond;
    case Unit::kDay: return kMicrosPerDay;
    case Unit::kWeek: return 7 * kMicrosPerDay;
    default: return 0;
  }
}

int64_t TruncMicros(int64_t t, Unit u) {
  int32_t days = static_cast<int32_t>(FloorDiv(t, kMicrosPerDay));
  CivilDate c = CivilFromDays(days);
  switch (u) {
    case Unit::kYear: return int64_t{DaysFromCivil(c.year, 1, 1)} * kMicrosPerDay;
    case Unit::kQuarter:
      return int64_t{DaysFromCivil(c.year, static_cast<unsigned>((c.month - 1) / 3 * 3 + 1), 1)} *
             kMicrosPerDay;
    case Unit::kMonth: return int64_t{DaysFromCivil(c.year, c.month, 1)} * kMicrosPerDay;
    case Unit::kWeek: return int64_t{days - (IsoDayOfWeek(days) - 1)} * kMicrosPerDay;
    default: {
      int64_t m = UnitMicros(u);
      return FloorDiv(t, m) * m;
    }
  }
}

Status DateTruncKernel(Args a, size_t n, ColumnVector& out) {
  std::string last;
  std::optional<Unit> unit;
  bool is_date = a[1]->type().id == TypeId::kDate;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    std::string_view u = S(*a[0], i);
    if (!unit || u != last) {
      last = u;
      unit = ParseUnit(u);
      if (!unit) {
        *err = BadUnit("date_trunc", u);
        return false;
      }
    }
    if (is_date) {
      if (UnitMicros(*unit) != 0 && *unit != Unit::kDay && *unit != Unit::kWeek) {
        *err = Status::InvalidArgument("date_trunc: '" + last + "' is not a valid unit for DATE");
        return false;
      }
      out.data<int32_t>()[i] = static_cast<int32_t>(
          TruncMicros(int64_t{a[1]->GetValue<int32_t>(i)} * kMicrosPerDay, *unit) / kMicrosPerDay);
    } else {
      out.data<int64_t>()[i] = TruncMicros(a[1]->GetValue<int64_t>(i), *unit);
    }
    return true;
  });
}

Status DateAddKernel(Args a, size_t n, ColumnVector& out) {
  bool is_date = a[2]->type().id == TypeId::kDate;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto unit = ParseUnit(S(*a[0], i));
    if (!unit) {
      *err = BadUnit("date_add", S(*a[0], i));
      return false;
    }
    int64_t k = I64(*a[1], i);
    int64_t t = MicrosOf(*a[2], i);
    int64_t r;
    if (*unit == Unit::kMonth || *unit == Unit::kQuarter || *unit == Unit::kYear) {
      int64_t months = k * (*unit == Unit::kMonth ? 1 : *unit == Unit::kQuarter ? 3 : 12);
      if (months > INT32_MAX || months < INT32_MIN) {
        *err = Status::InvalidArgument("date_add: value out of range");
        return false;
      }
      r = AddIntervalToMicros(t, Interval{static_cast<int32_t>(months), 0, 0}, 1);
    } else {
      if (is_date && UnitMicros(*unit) < kMicrosPerDay) {
        *err = Status::InvalidArgument("date_add: '" + std::string(S(*a[0], i)) +
                                       "' is not a valid unit for DATE");
        return false;
      }
      int64_t delta;
      if (__builtin_mul_overflow(k, UnitMicros(*unit), &delta) ||
          __builtin_add_overflow(t, delta, &r)) {
        *err = Status::InvalidArgument("date_add: value out of range");
        return false;
      }
    }
    if (is_date) {
      out.data<int32_t>()[i] = static_cast<int32_t>(FloorDiv(r, kMicrosPerDay));
    } else {
      out.data<int64_t>()[i] = r;
    }
    return true;
  });
}

// Whole months from a to b, as Joda's Months.between (used by Trino): the largest m with
// a + m months <= b (for b >= a), adding months with the day clamped to the month's end.
int64_t MonthsBetween(int64_t a, int64_t b) {
  auto ym = [](int64_t t) {
    CivilDate c = CivilFromDays(static_cast<int32_t>(FloorDiv(t, kMicrosPerDay)));
    return int64_t{c.year} * 12 + c.month - 1;
  };
  int64_t m = ym(b) - ym(a);
  auto plus = [&](int64_t k) {
    return AddIntervalToMicros(a, Interval{static_cast<int32_t>(k), 0, 0}, 1);
  };
  if (m > 0 && plus(m) > b) --m;
  if (m < 0 && plus(m) < b) ++m;
  return m;
}

Status DateDiffKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto unit = ParseUnit(S(*a[0], i));
    if (!unit) {
      *err = BadUnit("date_diff", S(*a[0], i));
      return false;
    }
    int64_t x = MicrosOf(*a[1], i), y = MicrosOf(*a[2], i);
    int64_t r;
    switch (*unit) {
      case Unit::kMonth: r = MonthsBetween(x, y); break;
      case Unit::kQuarter: r = MonthsBetween(x, y) / 3; break;
      case Unit::kYear: r = MonthsBetween(x, y) / 12; break;
      default: r = (y - x) / UnitMicros(*unit); break;
    }
    out.data<int64_t>()[i] = r;
    return true;
  });
}

Status CurrentDateKernel(Args, size_t n, ColumnVector& out) {
  auto now = std::chrono::system_clock::now();
  int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) out.data<int32_t>()[i] = static_cast<int32_t>(FloorDiv(micros, kMicrosPerDay));
  return Status::OK();
}
Status NowKernel(Args, size_t n, ColumnVector& out) {
  auto now = std::chrono::system_clock::now();
  int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  for (size_t i = 0; i < n; ++i) out.data<int64_t>()[i] = micros;
  return Status::OK();
}

const char* kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                             "July",    "August",   "September", "October", "November", "December"};
const char* kDayNames[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// Appends v (0 <= v) zero-padded to `width` digits: the common date_format fields, without a
// formatting call per field per row (ETL partition keys run date_format on every row).
void AppendPadded(std::string& b, int64_t v, int width) {
  char buf[24];
  int len = 0;
  do {
    buf[len++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int k = len; k < width; ++k) b.push_back('0');
  while (len > 0) b.push_back(buf[--len]);
}

// MySQL-style format, as Trino's date_format.
Status DateFormatKernel(Args a, size_t n, ColumnVector& out) {
  auto format = [&](size_t i, std::string& b, Status* err) {
    int64_t t = MicrosOf(*a[0], i);
    int32_t days = static_cast<int32_t>(FloorDiv(t, kMicrosPerDay));
    int64_t tod = t - int64_t{days} * kMicrosPerDay;
    CivilDate c = CivilFromDays(days);
    int h = static_cast<int>(tod / (3600 * kMicrosPerSecond));
    int mi = static_cast<int>((tod / (60 * kMicrosPerSecond)) % 60);
    int se = static_cast<int>((tod / kMicrosPerSecond) % 60);
    int dow = IsoDayOfWeek(days);
    std::string_view f = S(*a[1], i);
    for (size_t k = 0; k < f.size(); ++k) {
      if (f[k] != '%' || k + 1 == f.size()) {
        b.push_back(f[k]);
        continue;
      }
      char s = f[++k];
      switch (s) {
        case 'Y':
          if (c.year >= 0) AppendPadded(b, c.year, 4);
          else b += fmt::format("{:04}", c.year);
          break;
        case 'y': b += fmt::format("{:02}", ((c.year % 100) + 100) % 100); break;
        case 'm': AppendPadded(b, c.month, 2); break;
        case 'c': b += std::to_string(c.month); break;
        case 'd': AppendPadded(b, c.day, 2); break;
        case 'e': b += std::to_string(c.day); break;
        case 'H': AppendPadded(b, h, 2); break;
        case 'k': b += std::to_string(h); break;
        case 'h':
        case 'I': b += fmt::format("{:02}", (h + 11) % 12 + 1); break;
        case 'l': b += std::to_string((h + 11) % 12 + 1); break;
        case 'i': AppendPadded(b, mi, 2); break;
        case 's':
        case 'S': AppendPadded(b, se, 2); break;
        case 'f': b += fmt::format("{:06}", tod % kMicrosPerSecond); break;
        case 'p': b += h < 12 ? "AM" : "PM"; break;
        case 'T': b += fmt::format("{:02}:{:02}:{:02}", h, mi, se); break;
        case 'r': b += fmt::format("{:02}:{:02}:{:02} {}", (h + 11) % 12 + 1, mi, se, h < 12 ? "AM" : "PM"); break;
        case 'M': b += kMonthNames[c.month - 1]; break;
        case 'b': b += std::string(kMonthNames[c.month - 1]).substr(0, 3); break;
        case 'W': b += kDayNames[dow - 1]; break;
        case 'a': b += std::string(kDayNames[dow - 1]).substr(0, 3); break;
        case 'j': b += fmt::format("{:03}", days - DaysFromCivil(c.year, 1, 1) + 1); break;
        case '%': b.push_back('%'); break;
        default:
          *err = Status::InvalidArgument(fmt::format("date_format: unsupported specifier %{}", s));
          return false;
      }
    }
    return true;
  };
  if (a[0]->type().id != TypeId::kDate || a[1]->encoding() != VectorEncoding::kConstant) {
    return StrToStr(a, n, out, format);
  }
  // Dates under one format repeat (the ETL derives purchase_month on every row): each day's
  // text is built once per batch and its rows share the bytes, through a small direct-mapped
  // memo of day -> text.
  struct Memo {
    int32_t day = 0;
    bool set = false;
    std::string_view text;
  };
  Memo memo[64];
  std::string buf;
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    const int32_t day = a[0]->GetValue<int32_t>(i);
    Memo& m = memo[static_cast<uint32_t>(day) % 64];
    if (!m.set || m.day != day) {
      buf.clear();
      if (!format(i, buf, err)) return false;
      m = Memo{day, true, out.AddString(buf)};
    }
    out.data<std::string_view>()[i] = m.text;
    return true;
  });
}

Status DateParseKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    std::string_view s = S(*a[0], i), f = S(*a[1], i);
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, se = 0;
    int64_t frac = 0;
    bool pm = false, has_ampm = false;
    size_t p = 0;
    auto num = [&](int max_digits, int* out_v) {
      size_t b = p;
      int v = 0;
      while (p < s.size() && p - b < static_cast<size_t>(max_digits) &&
             std::isdigit(static_cast<unsigned char>(s[p])))
        v = v * 10 + (s[p++] - '0');
      *out_v = v;
      return p > b;
    };
    auto fail = [&]() {
      *err = Status::InvalidArgument(fmt::format("date_parse: invalid value '{}' for format '{}'",
                                                 s, f));
      return false;
    };
    for (size_t k = 0; k < f.size(); ++k) {
      if (f[k] != '%' || k + 1 == f.size()) {
        if (p >= s.size() || s[p] != f[k]) return fail();
        ++p;
        continue;
      }
      char c = f[++k];
      bool ok = true;
      switch (c) {
        case 'Y': ok = num(4, &y); break;
        case 'y': ok = num(2, &y); y += y < 70 ? 2000 : 1900; break;
        case 'm': case 'c': ok = num(2, &mo); break;
        case 'd': case 'e': ok = num(2, &d); break;
        case 'H': case 'k': case 'h': case 'I': case 'l': ok = num(2, &h); break;
        case 'i': ok = num(2, &mi); break;
        case 's': case 'S': ok = num(2, &se); break;
        case 'f': {
          size_t b = p;
          int v;
          ok = num(6, &v);
          frac = v;
          for (size_t z = p - b; z < 6; ++z) frac *= 10;
          break;
        }
        case 'p':
          if (p + 2 <= s.size() && (s.substr(p, 2) == "AM" || s.substr(p, 2) == "PM")) {
            has_ampm = true;
            pm = s[p] == 'P';
            p += 2;
          } else {
            ok = false;
          }
          break;
        case '%': ok = p < s.size() && s[p++] == '%'; break;
        default:
          *err = Status::InvalidArgument(fmt::format("date_parse: unsupported specifier %{}", c));
          return false;
      }
      if (!ok) return fail();
    }
    if (p != s.size()) return fail();
    if (has_ampm) h = h % 12 + (pm ? 12 : 0);
    if (!IsValidDate(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) || h > 23 || mi > 59 ||
        se > 59)
      return fail();
    out.data<int64_t>()[i] = int64_t{DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))} *
                                 kMicrosPerDay +
                             ((int64_t{h} * 60 + mi) * 60 + se) * kMicrosPerSecond + frac;
    return true;
  });
}

Status FromIsoDateKernel(Args a, size_t n, ColumnVector& out) {
  return PerRow(a, n, out, [&](size_t i, Status* err) {
    auto d = ParseIsoDate(S(*a[0], i));
    if (!d) {
      *err = Status::InvalidArgument("from_iso8601_date: invalid date '" +
                                     std::string(S(*a[0], i)) + "'");
      return false;
    }
    out.data<int32_t>()[i] = *d;
    return true;
  });
}
R ExtractFn(std::string_view name, const Types& t, ScalarKernel k) {
  if (t.size() != 1 || !AnyDateLike(t[0])) return Bad(name, t, "(DATE) or (TIMESTAMP)");
  return Fn(name, {DateLike(t[0])}, DataType::Int64(), k);
}

}  // namespace

void internal::AddDateTimeFunctions(ScalarRegistry& reg) {
  reg.insert({
      // dates
      {"year", [](const Types& t) { return ExtractFn("year", t, &ExtractKernel<Field::kYear>); }},
      {"quarter", [](const Types& t) { return ExtractFn("quarter", t, &ExtractKernel<Field::kQuarter>); }},
      {"month", [](const Types& t) { return ExtractFn("month", t, &ExtractKernel<Field::kMonth>); }},
      {"week", [](const Types& t) { return ExtractFn("week", t, &ExtractKernel<Field::kWeek>); }},
      {"week_of_year", [](const Types& t) { return ExtractFn("week_of_year", t, &ExtractKernel<Field::kWeek>); }},
      {"year_of_week", [](const Types& t) { return ExtractFn("year_of_week", t, &ExtractKernel<Field::kYearOfWeek>); }},
      {"day", [](const Types& t) { return ExtractFn("day", t, &ExtractKernel<Field::kDay>); }},
      {"day_of_month", [](const Types& t) { return ExtractFn("day_of_month", t, &ExtractKernel<Field::kDay>); }},
      {"day_of_week", [](const Types& t) { return ExtractFn("day_of_week", t, &ExtractKernel<Field::kDayOfWeek>); }},
      {"dow", [](const Types& t) { return ExtractFn("dow", t, &ExtractKernel<Field::kDayOfWeek>); }},
      {"day_of_year", [](const Types& t) { return ExtractFn("day_of_year", t, &ExtractKernel<Field::kDayOfYear>); }},
      {"doy", [](const Types& t) { return ExtractFn("doy", t, &ExtractKernel<Field::kDayOfYear>); }},
      {"hour", [](const Types& t) { return ExtractFn("hour", t, &ExtractKernel<Field::kHour>); }},
      {"minute", [](const Types& t) { return ExtractFn("minute", t, &ExtractKernel<Field::kMinute>); }},
      {"second", [](const Types& t) { return ExtractFn("second", t, &ExtractKernel<Field::kSecond>); }},
      {"millisecond", [](const Types& t) { return ExtractFn("millisecond", t, &ExtractKernel<Field::kMillisecond>); }},
      {"date_trunc", [](const Types& t) -> R {
         if (t.size() != 2 || !AnyString(t[0]) || !AnyDateLike(t[1]))
           return Bad("date_trunc", t, "(VARCHAR, DATE) or (VARCHAR, TIMESTAMP)");
         return Fn("date_trunc", {DataType::Varchar(), DateLike(t[1])}, DateLike(t[1]), &DateTruncKernel);
       }},
      {"date_add", [](const Types& t) -> R {
         if (t.size() != 3 || !AnyString(t[0]) || !AnyInt(t[1]) || !AnyDateLike(t[2]))
           return Bad("date_add", t, "(VARCHAR, BIGINT, DATE) or (VARCHAR, BIGINT, TIMESTAMP)");
         return Fn("date_add", {DataType::Varchar(), DataType::Int64(), DateLike(t[2])}, DateLike(t[2]), &DateAddKernel);
       }},
      {"date_diff", [](const Types& t) -> R {
         if (t.size() != 3 || !AnyString(t[0]) || !AnyDateLike(t[1]) || !AnyDateLike(t[2]))
           return Bad("date_diff", t, "(VARCHAR, DATE, DATE) or (VARCHAR, TIMESTAMP, TIMESTAMP)");
         DataType c = t[1].id == TypeId::kDate && t[2].id == TypeId::kDate ? DataType::Date() : DataType::Timestamp();
         return Fn("date_diff", {DataType::Varchar(), c, c}, DataType::Int64(), &DateDiffKernel);
       }},
      {"date_format", [](const Types& t) -> R {
         if (t.size() != 2 || !AnyDateLike(t[0]) || !AnyString(t[1]))
           return Bad("date_format", t, "(TIMESTAMP, VARCHAR)");
         return Fn("date_format", {DateLike(t[0]), DataType::Varchar()}, DataType::Varchar(), &DateFormatKernel);
       }},
      {"date_parse", [](const Types& t) { return StringFn("date_parse", t, 2, 2, {DataType::Varchar(), DataType::Varchar()}, DataType::Timestamp(), &DateParseKernel); }},
      {"from_iso8601_date", [](const Types& t) { return StringFn("from_iso8601_date", t, 1, 1, {DataType::Varchar()}, DataType::Date(), &FromIsoDateKernel); }},
      {"current_date", [](const Types& t) -> R {
         if (!t.empty()) return Bad("current_date", t, "no arguments");
         return Fn("current_date", {}, DataType::Date(), &CurrentDateKernel, false);
       }},
      {"now", [](const Types& t) -> R {
         if (!t.empty()) return Bad("now", t, "no arguments");
         return Fn("now", {}, DataType::Timestamp(), &NowKernel, false);
       }},
  });
}

}  // namespace saleslake::sql
