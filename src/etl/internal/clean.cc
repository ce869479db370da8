#include "etl/internal/clean.h"

#include <cmath>

namespace saleslake::etl::internal {
namespace {

// Removes a currency sign or code at either end: "$12.50", "12.50 €", "USD 12.50".
std::string_view StripCurrency(std::string_view s, bool* changed) {
  static constexpr std::string_view kSigns[] = {"$", "\xE2\x82\xAC" /* € */, "\xC2\xA3" /* £ */,
                                                "\xC2\xA5" /* ¥ */, "USD", "EUR", "GBP"};
  for (std::string_view sign : kSigns) {
    if (s.size() > sign.size() && s.substr(0, sign.size()) == sign) {
      s = csv::TrimSpaces(s.substr(sign.size()));
      *changed = true;
      break;
    }
    if (s.size() > sign.size() && s.substr(s.size() - sign.size()) == sign) {
      s = csv::TrimSpaces(s.substr(0, s.size() - sign.size()));
      *changed = true;
      break;
    }
  }
  return s;
}

// "1,234,567.50" -> "1234567.50" when the commas sit every three digits before the point.
bool StripThousands(std::string_view s, std::string* out) {
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  size_t start = (!whole.empty() && (whole[0] == '-' || whole[0] == '+')) ? 1 : 0;
  size_t last_comma = whole.rfind(',');
  if (last_comma == std::string_view::npos || last_comma < start) return false;
  // Groups after the first must be exactly three digits.
  size_t group_start = whole.find(',', start);
  if (group_start == start || group_start - start > 3) return false;
  std::string r(s.substr(0, start));
  size_t pos = start;
  while (pos < whole.size()) {
    size_t comma = whole.find(',', pos);
    std::string_view group = whole.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (pos != start && group.size() != 3) return false;
    for (char c : group)
      if (c < '0' || c > '9') return false;
    r.append(group);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
    if (pos >= whole.size()) return false;
  }
  if (dot != std::string_view::npos) r.append(s.substr(dot));
  *out = std::move(r);
  return true;
}

}  // namespace

Result<Cleaner> Cleaner::Make(DataType type, std::string_view format,
                              std::vector<std::string> null_tokens) {
  Cleaner c;
  c.type_ = type;
  c.null_tokens_ = std::move(null_tokens);
  if (type.id == TypeId::kDate || type.id == TypeId::kTimestamp) {
    std::vector<std::string> names;
    if (!format.empty()) names.emplace_back(format);
    // M/D before D/M unless the column's own format says days come first.
    bool day_first = format.rfind("%d", 0) == 0;
    for (const char* f : {"%Y-%m-%d", "%Y/%m/%d", day_first ? "%d/%m/%Y" : "%m/%d/%Y",
                          day_first ? "%m/%d/%Y" : "%d/%m/%Y", "%d.%m.%Y"}) {
      std::string full = type.id == TypeId::kTimestamp ? std::string(f) + " %H:%M:%S" : f;
      if (full != format) names.push_back(full);
    }
    for (const std::string& n : names) {
      auto compiled = csv::DateTimeFormat::Compile(n);
      if (!compiled.ok()) return compiled.status().WithContext("date format '" + n + "'");
      c.formats_.push_back(std::move(*compiled));
    }
  }
  return c;
}

bool Cleaner::IsNull(std::string_view raw) const {
  std::string_view t = csv::TrimSpaces(raw);
  for (const std::string& tok : null_tokens_)
    if (t == tok) return true;
  return false;
}

CleanOutcome Cleaner::CleanDouble(std::string_view raw, double* out) const {
  if (csv::ParseFiniteDouble(raw, out)) {
    return raw.size() == csv::TrimSpaces(raw).size() ? CleanOutcome::kValue : CleanOutcome::kFixed;
  }
  if (IsNull(raw)) return CleanOutcome::kNull;
  bool changed = false;
  std::string_view s = csv::TrimSpaces(raw);
  bool negative = false;
  if (s.size() > 2 && s.front() == '(' && s.back() == ')') {  // accounting negative
    negative = true;
    s = csv::TrimSpaces(s.substr(1, s.size() - 2));
  }
  if (!s.empty() && s.front() == '-') {  // "-$12.50"
    negative = !negative;
    s = csv::TrimSpaces(s.substr(1));
  }
  s = StripCurrency(s, &changed);
  std::string plain;
  if (StripThousands(s, &plain)) s = plain;
  double v;
  if (!csv::ParseFiniteDouble(s, &v)) return CleanOutcome::kError;
  *out = negative ? -v : v;
  return CleanOutcome::kFixed;
}

CleanOutcome Cleaner::CleanInt64(std::string_view raw, int64_t* out) const {
  if (csv::ParseInt64(raw, out)) return CleanOutcome::kValue;
  double d;
  CleanOutcome o = CleanDouble(raw, &d);
  if (o != CleanOutcome::kFixed && o != CleanOutcome::kValue) return o;
  if (d != std::floor(d) || std::fabs(d) > 9.2e18) return CleanOutcome::kError;
  *out = static_cast<int64_t>(d);
  return CleanOutcome::kFixed;
}

CleanOutcome Cleaner::CleanDate(std::string_view raw, int32_t* out) const {
  std::string_view s = csv::TrimSpaces(raw);
  for (size_t i = 0; i < formats_.size(); ++i) {
    if (auto d = formats_[i].ParseDate(s)) {
      *out = *d;
      return i == 0 && s.size() == raw.size() ? CleanOutcome::kValue : CleanOutcome::kFixed;
    }
  }
  if (auto ts = ParseIsoTimestamp(s)) {  // a timestamp where a date was expected: its day
    int64_t days = *ts / kMicrosPerDay - (*ts % kMicrosPerDay < 0 ? 1 : 0);
    *out = static_cast<int32_t>(days);
    return CleanOutcome::kFixed;
  }
  if (IsNull(raw)) return CleanOutcome::kNull;
  return CleanOutcome::kError;
}

CleanOutcome Cleaner::CleanTimestamp(std::string_view raw, int64_t* out) const {
  std::string_view s = csv::TrimSpaces(raw);
  for (size_t i = 0; i < formats_.size(); ++i) {
    if (auto t = formats_[i].ParseTimestamp(s)) {
      *out = *t;
      return i == 0 && s.size() == raw.size() ? CleanOutcome::kValue : CleanOutcome::kFixed;
    }
  }
  if (IsNull(raw)) return CleanOutcome::kNull;
  return CleanOutcome::kError;
}

CleanOutcome Cleaner::CleanBool(std::string_view raw, bool* out) const {
  if (csv::ParseBool(raw, out)) return CleanOutcome::kValue;
  if (IsNull(raw)) return CleanOutcome::kNull;
  return CleanOutcome::kError;
}

std::string Cleaner::ErrorReason(std::string_view raw) const {
  std::string shown(raw.substr(0, 200));
  std::string r = "cannot read '" + shown + "' as " + type_.ToString();
  if (!formats_.empty()) {
    r += " (formats tried:";
    for (const auto& f : formats_) r += " " + f.text();
    r += ")";
  }
  return r;
}

}  // namespace saleslake::etl::internal
