#include "server/internal/console_sql.h"

#include <cctype>

namespace saleslake::server::internal {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Calls on_ident(begin, end, quoted) for every identifier and on_param(begin, end) for every
// `:name`; everything else is skipped. Positions are byte offsets into sql.
template <class Ident, class Param>
void Lex(std::string_view sql, Ident on_ident, Param on_param) {
  size_t i = 0;
  const size_t n = sql.size();
  while (i < n) {
    char c = sql[i];
    if (c == '\'') {  // string literal, '' escapes a quote
      for (++i; i < n; ++i) {
        if (sql[i] == '\'') {
          if (i + 1 < n && sql[i + 1] == '\'') ++i;
          else break;
        }
      }
      ++i;
    } else if (c == '"') {
      size_t start = i;
      for (++i; i < n; ++i) {
        if (sql[i] == '"') {
          if (i + 1 < n && sql[i + 1] == '"') ++i;
          else break;
        }
      }
      ++i;
      on_ident(start, std::min(i, n), true);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else if (c == ':' && i + 1 < n && sql[i + 1] == ':') {
      i += 2;  // a cast
    } else if (c == ':' && i + 1 < n && IdentStart(sql[i + 1])) {
      size_t start = i++;
      while (i < n && IdentChar(sql[i])) ++i;
      on_param(start, i);
    } else if (IdentStart(c)) {
      size_t start = i;
      while (i < n && IdentChar(sql[i])) ++i;
      on_ident(start, i, false);
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < n && (IdentChar(sql[i]) || sql[i] == '.')) ++i;
    } else {
      ++i;
    }
  }
}

std::string IdentName(std::string_view sql, size_t b, size_t e, bool quoted) {
  if (!quoted) return Lower(sql.substr(b, e - b));
  std::string out;
  for (size_t i = b + 1; i + 1 < e; ++i) {
    out += sql[i];
    if (sql[i] == '"') ++i;
  }
  return out;
}

}  // namespace

Result<std::string> SqlLiteral(const nlohmann::json& v) {
  if (v.is_null()) return std::string("NULL");
  if (v.is_boolean()) return std::string(v.get<bool>() ? "TRUE" : "FALSE");
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) return v.dump();
  if (v.is_string()) {
    std::string out = "'";
    for (char c : v.get<std::string>()) {
      if (c == '\'') out += '\'';
      out += c;
    }
    return out + "'";
  }
  return Status::InvalidArgument("a parameter value must be a string, number, boolean or null");
}

Result<std::string> BindParameters(std::string_view sql, const nlohmann::json& params) {
  std::string out;
  size_t copied = 0;
  Status error = Status::OK();
  Lex(
      sql, [](size_t, size_t, bool) {},
      [&](size_t b, size_t e) {
        if (!error.ok()) return;
        std::string name(sql.substr(b + 1, e - b - 1));
        if (!params.is_object() || !params.contains(name)) {
          error = Status::InvalidArgument("parameter :" + name + " has no value");
          return;
        }
        const nlohmann::json& v = params[name];
        std::string text;
        if (v.is_array()) {
          if (v.empty()) {
            text = "(NULL)";  // IN () is not SQL; IN (NULL) matches nothing
          } else {
            text = "(";
            for (size_t i = 0; i < v.size(); ++i) {
              auto lit = SqlLiteral(v[i]);
              if (!lit.ok()) {
                error = lit.status();
                return;
              }
              text += (i ? ", " : "") + *lit;
            }
            text += ")";
          }
        } else {
          auto lit = SqlLiteral(v);
          if (!lit.ok()) {
            error = lit.status();
            return;
          }
          text = *lit;
        }
        out.append(sql.substr(copied, b - copied));
        out += text;
        copied = e;
      });
  if (!error.ok()) return error;
  out.append(sql.substr(copied));
  return out;
}

std::set<std::string> ReferencedTables(std::string_view sql, const std::set<std::string>& tables) {
  std::set<std::string> found;
  Lex(
      sql,
      [&](size_t b, size_t e, bool quoted) {
        std::string name = IdentName(sql, b, e, quoted);
        if (tables.count(name)) found.insert(name);
      },
      [](size_t, size_t) {});
  return found;
}

std::string ReplaceTableReferences(std::string_view sql,
                                   const std::map<std::string, std::string>& replacements) {
  std::string out;
  size_t copied = 0;
  Lex(
      sql,
      [&](size_t b, size_t e, bool quoted) {
        if (quoted) return;
        auto it = replacements.find(Lower(sql.substr(b, e - b)));
        if (it == replacements.end()) return;
        size_t before = b;
        while (before > 0 && std::isspace(static_cast<unsigned char>(sql[before - 1]))) --before;
        if (before > 0 && sql[before - 1] == '.') return;  // schema.table or alias.column
        size_t after = e;
        while (after < sql.size() && std::isspace(static_cast<unsigned char>(sql[after]))) ++after;
        if (after < sql.size() && (sql[after] == '.' || sql[after] == '(')) return;
        out.append(sql.substr(copied, b - copied));
        out += it->second;
        // Keep the table's name as the alias unless the statement gives its own.
        size_t word_end = after;
        while (word_end < sql.size() && IdentChar(sql[word_end])) ++word_end;
        static const std::set<std::string> kFollowers = {
            "where", "group", "order", "limit", "join", "inner", "left", "right", "full", "cross",
            "on", "union", "having", "window", "offset", "fetch", "except", "intersect", "natural",
            "using", "tablesample", "for"};
        std::string next = Lower(sql.substr(after, word_end - after));
        bool has_alias = !next.empty() && IdentStart(next[0]) && !kFollowers.count(next);
        if (!has_alias) out += " AS " + it->first;
        copied = e;
      },
      [](size_t, size_t) {});
  out.append(sql.substr(copied));
  return out;
}

}  // namespace saleslake::server::internal
