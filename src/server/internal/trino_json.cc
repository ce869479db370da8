#include "server/internal/trino_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/json.h"
#include "common/types.h"
#include "common/value.h"
#include "sql/result_format.h"

namespace saleslake::server::internal {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// True when `t` is a JSON number literal (what the engine prints for finite numbers).
bool IsJsonNumber(std::string_view t) {
  size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  if (i >= t.size() || !IsDigit(t[i])) return false;
  if (t[i] == '0' && i + 1 < t.size() && IsDigit(t[i + 1])) return false;
  while (i < t.size() && IsDigit(t[i])) ++i;
  if (i < t.size() && t[i] == '.') {
    if (++i >= t.size() || !IsDigit(t[i])) return false;
    while (i < t.size() && IsDigit(t[i])) ++i;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    if (++i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= t.size() || !IsDigit(t[i])) return false;
    while (i < t.size() && IsDigit(t[i])) ++i;
  }
  return i == t.size();
}

// A string cell: JSON-escaped as it always was (our escaper for ASCII; nlohmann's for the rest,
// which replaces invalid UTF-8, say from a foreign Parquet file, with U+FFFD so a page always
// parses).
void AppendStringSlow(std::string_view t, std::string* out) {
  if (std::all_of(t.begin(), t.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    AppendJsonString(*out, t);
  } else {
    *out += nlohmann::json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

// Bytes a string may hold and still be copied between quotes as it is: printable ASCII but '"'
// and '\\'.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// `out` is written through a raw pointer; Reserve makes room first. The string's size is the
// capacity in use, `n` the bytes written (the string is cut to `n` at the end).
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out), n_(out->size()) {}
  ~Writer() { out_->resize(n_); }
  char* Reserve(size_t k) {
    if (out_->size() - n_ < k) out_->resize(std::max(out_->size() * 2, n_ + k + 4096));
    return out_->data() + n_;
  }
  void Advance(size_t k) { n_ += k; }
  void Put(char c) { *Reserve(1) = c, ++n_; }
  void Put(std::string_view s) {
    std::memcpy(Reserve(s.size()), s.data(), s.size());
    n_ += s.size();
  }
  // Appends through a std::string (the rare paths).
  template <typename F>
  void Slow(F&& f) {
    out_->resize(n_);
    f(out_);
    n_ = out_->size();
  }

 private:
  std::string* out_;
  size_t n_;
};

void PutString(Writer& w, std::string_view s) {
  char* p = w.Reserve(s.size() + 2);
  p[0] = '"';
  bool plain = true;
  for (size_t i = 0; i < s.size(); ++i) {  // copied and checked in one pass
    const char c = s[i];
    p[i + 1] = c;
    plain &= kPlain[static_cast<unsigned char>(c)];
  }
  if (plain) {
    p[s.size() + 1] = '"';
    w.Advance(s.size() + 2);
    return;
  }
  w.Slow([&](std::string* out) { AppendStringSlow(s, out); });
}

template <typename T>
void PutInteger(Writer& w, T v) {
  char* p = w.Reserve(24);
  w.Advance(static_cast<size_t>(std::to_chars(p, p + 24, v).ptr - p));
}

// sql::CellText of a double, as a JSON value.
void PutDouble(Writer& w, double d) {
  if (std::isnan(d)) return w.Put("\"NaN\"");
  if (std::isinf(d)) return w.Put(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  char* p = w.Reserve(40);
  char* end = std::to_chars(p, p + 32, d).ptr;  // shortest round-trip form
  if (std::find_if(p, end, [](char c) { return c == '.' || c == 'e'; }) == end) {
    *end++ = '.';  // Trino prints doubles with a fraction: 2.0, not 2
    *end++ = '0';
  }
  w.Advance(static_cast<size_t>(end - p));
}

enum class Kind {
  kVarchar,
  kInt32,
  kInt64,
  kDouble,
  kBoolean,
  kDate,
  kDecimal,
  kWideDecimal,
  kOther
};

Kind KindOf(const DataType& t) {
  switch (t.id) {
    case TypeId::kVarchar:
      return Kind::kVarchar;
    case TypeId::kInt32:
      return Kind::kInt32;
    case TypeId::kInt64:
      return Kind::kInt64;
    case TypeId::kDouble:
      return Kind::kDouble;
    case TypeId::kBoolean:
      return Kind::kBoolean;
    case TypeId::kDate:
      return Kind::kDate;
    case TypeId::kDecimal:
      return t.is_wide_decimal() ? Kind::kWideDecimal : Kind::kDecimal;
    default:
      return Kind::kOther;
  }
}

struct Column {
  const ColumnVector* v;
  Kind kind;
  bool redacted;
  bool constant;  // row 0 stands for every row
  // kDate: the last date written and its quoted text (results often repeat a date many times,
  // e.g. a table read partition by partition).
  int32_t last_days = 0;
  char last_text[16] = {};
  uint8_t last_size = 0;  // 0: none yet
};

void PutCell(Writer& w, Column& c, size_t row) {
  const ColumnVector& v = *c.v;
  const size_t i = c.constant ? 0 : row;
  if (c.redacted || !v.IsValid(i)) return w.Put("null");
  switch (c.kind) {
    case Kind::kVarchar:
      return PutString(w, v.data<std::string_view>()[i]);
    case Kind::kInt32:
      return PutInteger(w, v.data<int32_t>()[i]);
    case Kind::kInt64:
      return PutInteger(w, v.data<int64_t>()[i]);
    case Kind::kDouble:
      return PutDouble(w, v.data<double>()[i]);
    case Kind::kBoolean:
      return w.Put(v.data<uint8_t>()[i] ? "true" : "false");
    case Kind::kDate: {
      const int32_t days = v.data<int32_t>()[i];
      if (c.last_size == 0 || days != c.last_days) {
        const std::string text = FormatDate(days);  // short: no allocation
        if (text.size() + 2 > sizeof c.last_text)
          return w.Slow([&](std::string* out) { AppendJsonString(*out, text); });
        c.last_text[0] = '"';
        std::memcpy(c.last_text + 1, text.data(), text.size());
        c.last_text[text.size() + 1] = '"';
        c.last_size = static_cast<uint8_t>(text.size() + 2);
        c.last_days = days;
      }
      return w.Put(std::string_view(c.last_text, c.last_size));
    }
    case Kind::kDecimal:
    case Kind::kWideDecimal: {
      __int128 unscaled;
      if (c.kind == Kind::kDecimal) {
        unscaled = v.data<int64_t>()[i];
      } else {
        std::memcpy(&unscaled, v.data<char>() + i * sizeof unscaled, sizeof unscaled);
      }
      const std::string text = FormatDecimal(unscaled, v.type().scale);
      char* p = w.Reserve(text.size() + 2);
      p[0] = '"';
      std::memcpy(p + 1, text.data(), text.size());
      p[text.size() + 1] = '"';
      return w.Advance(text.size() + 2);
    }
    case Kind::kOther:
      return w.Slow([&](std::string* out) {
        std::string text;
        sql::AppendCellText(v, i, &text);
        AppendTrinoCellFromText(v.type(), text, out);
      });
  }
}

}  // namespace

void AppendTrinoRows(const Batch& batch, size_t first, size_t last,
                     const std::vector<bool>& redacted, std::string* out) {
  std::vector<Column> columns;
  columns.reserve(batch.num_columns());
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const ColumnVector& v = batch.columns[c];
    columns.push_back(Column{.v = &v,
                             .kind = KindOf(v.type()),
                             .redacted = c < redacted.size() && redacted[c],
                             .constant = v.encoding() == VectorEncoding::kConstant});
  }
  Writer w(out);
  for (size_t r = first; r < last; ++r) {
    w.Put('[');
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) w.Put(',');
      PutCell(w, columns[c], r);
    }
    w.Put("]\n");
  }
}

void AppendTrinoCellFromText(const DataType& type, const std::optional<std::string_view>& text,
                             std::string* out) {
  if (!text) {
    *out += "null";
    return;
  }
  const std::string_view t = *text;
  switch (type.id) {
    case TypeId::kBoolean:
      *out += t == "true" ? "true" : "false";
      return;
    case TypeId::kInt32:
    case TypeId::kInt64:
      if (IsJsonNumber(t)) {
        *out += t;
        return;
      }
      break;
    case TypeId::kFloat:
    case TypeId::kDouble:
      if (IsJsonNumber(t)) {
        *out += t;
      } else if (t == "inf" || t == "Infinity") {
        *out += "\"Infinity\"";
      } else if (t == "-inf" || t == "-Infinity") {
        *out += "\"-Infinity\"";
      } else {
        *out += "\"NaN\"";
      }
      return;
    default:
      break;
  }
  AppendStringSlow(t, out);
}

Status DecodeTrinoRow(std::string_view line, std::vector<std::optional<std::string>>* cells) {
  cells->clear();
  auto bad = [&](size_t at) {
    return Status::Corruption("result row: not a JSON row at byte " + std::to_string(at));
  };
  size_t i = 0;
  if (line.empty() || line[0] != '[') return bad(0);
  ++i;
  if (i < line.size() && line[i] == ']') return i + 1 == line.size() ? Status::OK() : bad(i + 1);
  while (true) {
    if (i >= line.size()) return bad(i);
    if (line[i] == '"') {
      if (ReadJsonString(line, &i, &cells->emplace_back(std::in_place).value()) != nullptr) return bad(i);
    } else {
      // null, true, false or a number: the token up to the next ',' or ']'.
      const size_t stop = line.find_first_of(",]", i);
      if (stop == std::string_view::npos || stop == i) return bad(i);
      const std::string_view token = line.substr(i, stop - i);
      if (token == "null") {
        cells->emplace_back(std::nullopt);
      } else {
        cells->emplace_back(std::string(token));
      }
      i = stop;
    }
    if (i >= line.size()) return bad(i);
    if (line[i] == ']') return i + 1 == line.size() ? Status::OK() : bad(i + 1);
    if (line[i] != ',') return bad(i);
    ++i;
  }
}

}  // namespace saleslake::server::internal
