#include "sql/parser/internal/lexer.h"

#include <cctype>

namespace saleslake::sql::internal {

namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}

Status ErrorAt(SourcePos p, const std::string& what) {
  return Status::InvalidArgument("line " + p.ToString() + ": " + what);
}

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  uint32_t line = 1;
  size_t line_start = 0;
  auto pos_of = [&](size_t at) {
    return SourcePos{line, static_cast<uint32_t>(at - line_start + 1)};
  };
  auto advance_newlines = [&](size_t from, size_t to) {
    for (size_t k = from; k < to; ++k)
      if (s[k] == '\n') {
        ++line;
        line_start = k + 1;
      }
  };
  SourcePos last_end;
  size_t seen = 0;
  while (i < s.size()) {
    if (out.size() != seen) {  // a token just ended at i
      seen = out.size();
      last_end = pos_of(i);
    }
    char c = s[i];
    if (c == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      SourcePos p = pos_of(i);
      size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return ErrorAt(p, "unterminated /* comment");
      advance_newlines(i, end + 2);
      i = end + 2;
      continue;
    }
    SourcePos p = pos_of(i);
    if (IsIdentStart(c)) {
      size_t b = i;
      while (i < s.size() && IsIdentChar(s[i])) ++i;
      std::string t(s.substr(b, i - b));
      for (char& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.push_back({TokenType::kIdent, std::move(t), p, std::string(s.substr(b, i - b))});
      continue;
    }
    if (c == '"' || c == '`') {
      char q = c;
      std::string t;
      size_t k = i + 1;
      bool closed = false;
      while (k < s.size()) {
        if (s[k] == q) {
          if (k + 1 < s.size() && s[k + 1] == q) {
            t.push_back(q);
            k += 2;
            continue;
          }
          closed = true;
          break;
        }
        t.push_back(s[k++]);
      }
      if (!closed) return ErrorAt(p, "unterminated quoted identifier");
      if (t.empty()) return ErrorAt(p, "zero-length delimited identifier");
      advance_newlines(i, k);
      i = k + 1;
      out.push_back({TokenType::kQuotedIdent, std::move(t), p});
      continue;
    }
    if (c == '\'') {
      std::string t;
      size_t k = i + 1;
      bool closed = false;
      while (k < s.size()) {
        if (s[k] == '\'') {
          if (k + 1 < s.size() && s[k + 1] == '\'') {
            t.push_back('\'');
            k += 2;
            continue;
          }
          closed = true;
          break;
        }
        t.push_back(s[k++]);
      }
      if (!closed) return ErrorAt(p, "unterminated string literal");
      advance_newlines(i, k);
      i = k + 1;
      out.push_back({TokenType::kString, std::move(t), p});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t b = i;
      TokenType type = TokenType::kInteger;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i < s.size() && s[i] == '.') {
        type = TokenType::kDecimal;
        ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      }
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        size_t k = i + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
          while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
          i = k;
          type = TokenType::kDouble;
        }
      }
      if (i < s.size() && IsIdentStart(s[i]))
        return ErrorAt(pos_of(i), "unexpected character '" + std::string(1, s[i]) +
                                      "' after number");
      out.push_back({type, std::string(s.substr(b, i - b)), p});
      continue;
    }
    // Operators: longest match first.
    static constexpr std::string_view kOps[] = {"<>", "<=", ">=", "!=", "||", "=>", "(", ")", ",",
                                                ".",  ";",  "+",  "-",  "*",  "/",  "%", "=",
                                                "<",  ">",  "[",  "]",  "?",  ":"};
    bool matched = false;
    for (std::string_view op : kOps) {
      if (s.substr(i, op.size()) == op) {
        out.push_back({TokenType::kOperator, std::string(op), p});
        i += op.size();
        matched = true;
        break;
      }
    }
    if (!matched) {
      std::string shown = std::isprint(static_cast<unsigned char>(c))
                              ? std::string(1, c)
                              : "\\x" + std::to_string(static_cast<unsigned char>(c));
      return ErrorAt(p, "unexpected character '" + shown + "'");
    }
  }
  // End of input is reported right after the last token, not after trailing blank lines.
  if (out.size() != seen) last_end = pos_of(i);
  SourcePos end = out.empty() ? pos_of(i) : last_end;
  out.push_back({TokenType::kEnd, "", end});
  return out;
}

}  // namespace saleslake::sql::internal
