#include "server/internal/trino_session.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "common/encoding.h"

namespace saleslake::server::internal {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && (IsSpace(s.back()) || s.back() == ';')) s.remove_suffix(1);
  return s;
}

// A cursor over one statement's text: words, quoted strings and single symbols, with the
// column of each (1-based; these statements are read as one line, as Trino reports them).
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= s_.size();
  }
  size_t column() const { return pos_ + 1; }
  std::string_view rest() const { return s_.substr(pos_); }

  // The next word if it equals `keyword` (case-insensitive); consumes it then.
  bool Keyword(std::string_view keyword) {
    SkipSpace();
    size_t end = pos_;
    while (end < s_.size() && IsWordChar(s_[end])) ++end;
    if (Lower(s_.substr(pos_, end - pos_)) != keyword) return false;
    pos_ = end;
    return true;
  }
  // An identifier: a word, or a "quoted" one ("" inside stands for one quote). Lower-cased
  // when unquoted, as Trino folds names.
  Result<std::string> Identifier(std::string_view what) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '"') {
      std::string out;
      for (size_t i = pos_ + 1; i < s_.size(); ++i) {
        if (s_[i] != '"') {
          out += s_[i];
        } else if (i + 1 < s_.size() && s_[i + 1] == '"') {
          out += '"';
          ++i;
        } else {
          pos_ = i + 1;
          if (out.empty()) return Error("expected " + std::string(what) + ", found an empty quoted name");
          return out;
        }
      }
      return Error("unterminated quoted " + std::string(what));
    }
    size_t end = pos_;
    while (end < s_.size() && (IsWordChar(s_[end]) || s_[end] == '.')) ++end;
    if (end == pos_) return Error("expected " + std::string(what));
    std::string out = Lower(s_.substr(pos_, end - pos_));
    pos_ = end;
    return out;
  }
  bool Symbol(char c) {
    SkipSpace();
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  Status Error(const std::string& message) const {
    return Status::InvalidArgument(fmt::format("line 1:{}: {}", column(), message));
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// The value of SET SESSION: a 'string' ('' for one quote), or a number / true / false as written.
Result<std::string> SessionValue(Cursor& c) {
  std::string_view rest = Trim(c.rest());
  if (rest.empty()) return c.Error("expected a value");
  if (rest.front() != '\'') {
    for (char ch : rest)
      if (!IsWordChar(ch) && ch != '.' && ch != '-') return c.Error("expected a value");
    return std::string(rest);
  }
  std::string out;
  for (size_t i = 1; i < rest.size(); ++i) {
    if (rest[i] != '\'') {
      out += rest[i];
    } else if (i + 1 < rest.size() && rest[i + 1] == '\'') {
      out += '\'';
      ++i;
    } else {
      if (!Trim(rest.substr(i + 1)).empty()) return c.Error("unexpected text after the value");
      return out;
    }
  }
  return c.Error("unterminated string");
}

// The index of the quote that closes the 'string' or "identifier" opened at `open` (a doubled
// quote inside stands for one), or s.size() when it is not closed.
size_t ClosingQuote(std::string_view s, size_t open) {
  const char q = s[open];
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] != q) continue;
    if (i + 1 < s.size() && s[i + 1] == q) {
      ++i;
      continue;
    }
    return i;
  }
  return s.size();
}

// Where the '?' parameters of `sql` are, outside 'strings', "identifiers" and comments.
std::vector<size_t> Parameters(std::string_view sql) {
  std::vector<size_t> out;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      i = ClosingQuote(sql, i);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == '?') {
      out.push_back(i);
    }
  }
  return out;
}

// The values of EXECUTE ... USING: split at the commas outside parentheses and quotes.
std::vector<std::string_view> SplitValues(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      i = ClosingQuote(s, i);
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(Trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(Trim(s.substr(start)));
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseTrinoPairs(std::string_view header) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    std::string_view pair = Trim(header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0)
        return Status::InvalidArgument("'" + std::string(pair) + "' is not name=value");
      auto name = PercentDecode(Trim(pair.substr(0, eq)));
      auto value = PercentDecode(Trim(pair.substr(eq + 1)), /*plus_is_space=*/true);
      if (!name || !value) return Status::InvalidArgument("'" + std::string(pair) + "' has a bad %-escape");
      out[*name] = *value;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<std::chrono::milliseconds> ParseTrinoDuration(std::string_view text) {
  std::string_view t = Trim(text);
  size_t unit = 0;
  while (unit < t.size() && (std::isdigit(static_cast<unsigned char>(t[unit])) || t[unit] == '.')) ++unit;
  std::string number(t.substr(0, unit));
  std::string u = Lower(Trim(t.substr(unit)));
  char* end = nullptr;
  double v = number.empty() ? -1 : std::strtod(number.c_str(), &end);
  static const std::pair<const char*, double> kUnits[] = {{"ns", 1e-6}, {"us", 1e-3}, {"ms", 1}, {"s", 1e3},
                                                          {"m", 60e3},  {"h", 3600e3}, {"d", 86400e3}};
  for (const auto& [name, ms] : kUnits) {
    if (u != name || v < 0 || end != number.c_str() + number.size() || !std::isfinite(v * ms) || v * ms > 1e15) continue;
    return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(v * ms)));
  }
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not a duration (a number and ns, us, ms, s, m, h or d, as '10s')");
}

Result<std::chrono::milliseconds> TrinoSessionTimeLimit(const std::map<std::string, std::string>& session) {
  std::chrono::milliseconds limit{0};
  for (const char* name : {"query_max_execution_time", "query_max_run_time"}) {
    auto it = session.find(name);
    if (it == session.end()) continue;
    auto d = ParseTrinoDuration(it->second);
    if (!d.ok()) return Status::InvalidArgument("session property " + std::string(name) + ": " + d.status().message());
    if (limit.count() == 0 || *d < limit) limit = *d;
  }
  return limit;
}

Result<std::optional<TrinoSessionStatement>> TrinoSessionStatementOf(std::string_view sql) {
  Cursor c(Trim(sql));
  TrinoSessionStatement out;
  if (c.Keyword("set")) {
    if (!c.Keyword("session")) return std::optional<TrinoSessionStatement>();  // SET ROLE, SET PATH, ...: the engine says
    out.update_type = "SET SESSION";
    SL_ASSIGN_OR_RETURN(std::string name, c.Identifier("a session property name"));
    if (!c.Symbol('=')) return c.Error("expected '=' after the property name");
    SL_ASSIGN_OR_RETURN(std::string value, SessionValue(c));
    SL_RETURN_IF_ERROR(TrinoSessionTimeLimit({{name, value}}).status());
    out.headers.emplace_back("X-Trino-Set-Session", name + "=" + PercentEncode(value));
    return std::optional<TrinoSessionStatement>(std::move(out));
  }
  if (c.Keyword("reset")) {
    if (!c.Keyword("session")) return c.Error("expected SESSION after RESET");
    out.update_type = "RESET SESSION";
    SL_ASSIGN_OR_RETURN(std::string name, c.Identifier("a session property name"));
    if (!c.AtEnd()) return c.Error("unexpected text after the property name");
    out.headers.emplace_back("X-Trino-Clear-Session", name);
    return std::optional<TrinoSessionStatement>(std::move(out));
  }
  if (c.Keyword("prepare")) {
    out.update_type = "PREPARE";
    SL_ASSIGN_OR_RETURN(std::string name, c.Identifier("a statement name"));
    if (!c.Keyword("from")) return c.Error("expected FROM after the statement name");
    std::string_view statement = Trim(c.rest());
    if (statement.empty()) return c.Error("expected a statement to prepare");
    out.headers.emplace_back("X-Trino-Added-Prepare", PercentEncode(name) + "=" + PercentEncode(statement));
    return std::optional<TrinoSessionStatement>(std::move(out));
  }
  if (c.Keyword("deallocate")) {
    if (!c.Keyword("prepare")) return c.Error("expected PREPARE after DEALLOCATE");
    out.update_type = "DEALLOCATE";
    SL_ASSIGN_OR_RETURN(std::string name, c.Identifier("a statement name"));
    if (!c.AtEnd()) return c.Error("unexpected text after the statement name");
    out.headers.emplace_back("X-Trino-Deallocated-Prepare", PercentEncode(name));
    return std::optional<TrinoSessionStatement>(std::move(out));
  }
  if (c.Keyword("use")) {
    out.update_type = "USE";
    SL_ASSIGN_OR_RETURN(std::string target, c.Identifier("a schema"));
    if (!c.AtEnd()) return c.Error("unexpected text after the schema");
    size_t dot = target.find('.');
    if (dot != std::string::npos) {
      out.headers.emplace_back("X-Trino-Set-Catalog", target.substr(0, dot));
      target = target.substr(dot + 1);
    }
    if (target.empty() || target.find('.') != std::string::npos) return Status::InvalidArgument("line 1:5: expected [catalog.]schema");
    out.headers.emplace_back("X-Trino-Set-Schema", target);
    return std::optional<TrinoSessionStatement>(std::move(out));
  }
  return std::optional<TrinoSessionStatement>();
}

Result<std::optional<std::string>> ExpandTrinoExecute(std::string_view sql,
                                                      const std::map<std::string, std::string>& prepared) {
  Cursor c(Trim(sql));
  if (!c.Keyword("execute")) return std::optional<std::string>();
  SL_ASSIGN_OR_RETURN(std::string name, c.Identifier("a statement name"));
  auto it = prepared.find(name);
  if (it == prepared.end()) {
    // Names are case-insensitive; the client sends back the name as the server wrote it.
    it = std::find_if(prepared.begin(), prepared.end(), [&](const auto& p) { return Lower(p.first) == name; });
  }
  if (it == prepared.end()) return Status::NotFound("Prepared statement not found: " + name);
  std::vector<std::string_view> values;
  if (c.Keyword("using")) {
    std::string_view rest = Trim(c.rest());
    if (rest.empty()) return c.Error("expected values after USING");
    values = SplitValues(rest);
    for (std::string_view v : values)
      if (v.empty()) return c.Error("an empty value in USING");
  } else if (!c.AtEnd()) {
    return c.Error("expected USING or the end of the statement");
  }
  const std::string& text = it->second;
  std::vector<size_t> params = Parameters(text);
  if (params.size() != values.size())
    return Status::InvalidArgument(fmt::format("Incorrect number of parameters: expected {} but found {}",
                                               params.size(), values.size()));
  std::string out;
  size_t from = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    out.append(text, from, params[i] - from);
    out += '(';
    out += values[i];
    out += ')';
    from = params[i] + 1;
  }
  out.append(text, from, std::string::npos);
  return std::optional<std::string>(std::move(out));
}

}  // namespace saleslake::server::internal
