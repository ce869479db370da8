#include "cli/statements.h"

namespace saleslake::cli {
namespace {

// True when the piece has something besides spaces and comments.
bool HasCode(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return false;
      i = end + 1;
      continue;
    }
    return true;
  }
  return false;
}

}  // namespace

SplitResult SplitStatements(std::string_view sql, bool complete_only) {
  SplitResult out;
  size_t start = 0, line = 1, start_line = 1, start_col = 1, col = 1;
  auto emit = [&](size_t end) {
    std::string_view piece = sql.substr(start, end - start);
    if (!HasCode(piece)) return;
    Statement st;
    st.line = start_line;
    st.text.assign(start_line - 1, '\n');
    st.text.append(start_col - 1, ' ');
    st.text.append(piece);
    // The statement's own first line: skip leading blank lines for `line`.
    for (char c : piece) {
      if (c == '\n') ++st.line;
      else if (c != ' ' && c != '\t' && c != '\r') break;
    }
    out.statements.push_back(std::move(st));
  };
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i + 1 < sql.size() && sql[i + 1] != '\n') ++i;  // col no longer matters here
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const size_t end = sql.find("*/", i + 2);
      const size_t stop = end == std::string_view::npos ? sql.size() - 1 : end + 1;
      for (; i <= stop; ++i) {
        if (sql[i] == '\n') {
          ++line;
          col = 1;
        } else {
          ++col;
        }
      }
      --i;  // the loop's ++i moves past the comment
      continue;
    } else if (c == ';') {
      emit(i);
      start = i + 1;
      start_line = line;
      start_col = col + 1;
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  if (complete_only) {
    out.rest = std::string(sql.substr(start));
  } else {
    emit(sql.size());
  }
  return out;
}

}  // namespace saleslake::cli
