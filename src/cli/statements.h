// Splitting SQL text into statements on ';' outside quotes and comments, for `query "A; B"`,
// `query -f`, piped input and the REPL (which also asks whether its input is complete).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace saleslake::cli {

struct Statement {
  // The statement without its ';', preceded by as many newlines and spaces as it had text before
  // it in the input, so the engine's "line L:C" positions point into the whole input.
  std::string text;
  size_t line = 1;  // 1-based line of the input where the statement starts
};

struct SplitResult {
  std::vector<Statement> statements;  // only the ones ended by ';' when complete_only
  std::string rest;                   // with complete_only: the unfinished text after the last ';'
};

// Splits `sql` at every ';' that is not inside '...', "...", -- comments or /* */ comments.
// Blank statements (only spaces and comments) are dropped. Without complete_only, the text after
// the last ';' is a statement too.
SplitResult SplitStatements(std::string_view sql, bool complete_only = false);

}  // namespace saleslake::cli
