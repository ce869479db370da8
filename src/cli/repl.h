// The interactive SQL prompt of `saleslake query` (no SQL argument, no -f).
//
// On a terminal: line editing and history through libedit (BSD licence), history kept in
// $HOME/.saleslake_history, statements over several lines ("sql> " then "  -> "), tab completion
// of SQL keywords, tables, columns and functions. Ctrl-C clears the input at the prompt and
// cancels the running statement otherwise; Ctrl-D, \q, exit or quit leave.
// From a pipe: the same statements and commands, one line at a time, no prompt.
//
// Commands (at the start of a statement): \q exit quit, .help \? help, \d [table], \timing [on|off],
// .mode table|csv|json|line, .maxrows N (0: every row).
//
// Exit status: 0, or 1 when a statement failed with piped input (a cancelled one is not a failure).
#pragma once

#include <atomic>

#include "cli/query_output.h"
#include "sql/sql.h"

namespace saleslake::cli {

struct ReplOptions {
  OutputSpec output;                 // starting format, max rows, width, timing
  std::atomic<bool>* cancel = nullptr;  // the engine's cancel flag, set by Ctrl-C while a statement runs
};

int RunRepl(const sql::Engine& engine, ReplOptions options);

}  // namespace saleslake::cli
