// Tokenizer for the Trino dialect: identifiers (lower-cased unless "quoted"), 'strings' with ''
// escapes, numbers, operators, -- and /* */ comments.
// Thread safety: a Lexer has one owner.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/parser/ast.h"

namespace saleslake::sql::internal {

enum class TokenType : uint8_t {
  kIdent,         // text lower-cased
  kQuotedIdent,   // text as written
  kString,        // text unescaped
  kInteger,       // digits
  kDecimal,       // digits with '.'
  kDouble,        // with exponent
  kOperator,      // punctuation / operator text
  kEnd,
};

struct Token {
  TokenType type;
  std::string text;
  SourcePos pos;
  std::string raw;  // as written (for messages)
};

// Tokenizes all of `sql`; the last token is kEnd. Errors carry "line L:C".
Result<std::vector<Token>> Tokenize(std::string_view sql);

}  // namespace saleslake::sql::internal
