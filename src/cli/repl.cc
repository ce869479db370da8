#include "cli/repl.h"

#include <histedit.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/statements.h"
#include "common/logging.h"
#include "common/shared_library.h"

namespace saleslake::cli {
namespace {

// Set by SIGINT; the prompt reads it to clear its input, the engine reads `cancel`.
std::atomic<bool> g_interrupted{false};
std::atomic<bool>* g_cancel = nullptr;

void OnSigint(int) {
  g_interrupted = true;
  if (g_cancel != nullptr) g_cancel->store(true);
}

constexpr const char* kKeywords[] = {
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "JOIN", "LEFT",
    "RIGHT", "FULL", "INNER", "OUTER", "CROSS", "ON", "USING", "AS", "AND", "OR", "NOT", "IN",
    "IS", "NULL", "LIKE", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END", "DISTINCT", "UNION",
    "ALL", "INTERSECT", "EXCEPT", "WITH", "ASC", "DESC", "NULLS", "FIRST", "LAST", "OVER",
    "PARTITION", "ROWS", "RANGE", "CAST", "TRY_CAST", "DATE", "TIMESTAMP", "INTERVAL", "TRUE",
    "FALSE", "CREATE", "VIEW", "TABLE", "DROP", "IF", "EXISTS", "REPLACE", "INSERT", "INTO",
    "VALUES", "EXPLAIN", "ANALYZE", "SHOW", "TABLES", "COLUMNS", "DESCRIBE", "VARCHAR", "BIGINT",
    "INTEGER", "DOUBLE", "DECIMAL", "BOOLEAN"};

constexpr const char* kHelp =
    "Statements end with ';' and may span lines. Commands:\n"
    "  \\q, exit, quit         leave (or Ctrl-D)\n"
    "  .help, \\?, help        this text\n"
    "  \\d [TABLE]             list the tables, or the columns of TABLE\n"
    "  \\timing [on|off]       show each statement's run time\n"
    "  .mode table|csv|json|line   how results are printed\n"
    "  .maxrows N             rows a table shows at most (0: all)\n"
    "Tab completes keywords, tables, columns and functions; Ctrl-C clears the input or cancels\n"
    "the running statement; history is kept in ~/.saleslake_history.\n";

// libedit, loaded when an interactive prompt starts (common/shared_library.h): scripts and
// queries never map it (nor terminfo, libbsd and libmd behind it).
#define SL_EDIT_FUNCTIONS(X) \
  X(el_init) \
  X(el_end) \
  X(el_set) \
  X(el_get) \
  X(el_gets) \
  X(el_line) \
  X(el_cursor) \
  X(el_deletestr) \
  X(el_insertstr) \
  X(history_init) \
  X(history_end) \
  X(history)

struct EditLibrary {
#define SL_EDIT_MEMBER(name) decltype(&::name) name = nullptr;
  SL_EDIT_FUNCTIONS(SL_EDIT_MEMBER)
#undef SL_EDIT_MEMBER
};

Result<EditLibrary> LoadEdit() {
  SL_ASSIGN_OR_RETURN(SharedLibrary lib, SharedLibrary::Open("libedit.so.2", "the interactive prompt", "libedit2"));
  EditLibrary edit;
#define SL_EDIT_BIND(name) SL_RETURN_IF_ERROR(lib.Bind(#name, edit.name));
  SL_EDIT_FUNCTIONS(SL_EDIT_BIND)
#undef SL_EDIT_BIND
  return edit;
}

Result<const EditLibrary*> Edit() {
  static const Result<EditLibrary>* const loaded = new Result<EditLibrary>(LoadEdit());
  if (!loaded->ok()) return loaded->status();
  return &loaded->value();
}

// For libedit's callbacks, which run only after RunInteractive loaded it.
const EditLibrary& LoadedEdit() { return **Edit(); }

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n;");
  return std::string(s.substr(b, e == std::string_view::npos || e < b ? 0 : e - b + 1));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Repl {
 public:
  Repl(const sql::Engine& engine, ReplOptions options)
      : engine_(engine), options_(std::move(options)), interactive_(isatty(STDIN_FILENO) != 0) {}

  int Run();

 private:
  enum class Command { kNone, kHandled, kQuit };

  // A command line (\q, .mode ...): handled here when the statement buffer is empty.
  Command TryCommand(const std::string& line);
  // Adds a line to the statement buffer and runs every statement it completes.
  void Feed(const std::string& line);
  // Runs one statement and prints its result or error.
  void Execute(const Statement& st);
  void PrintError(const Status& s);

  // libedit glue.
  int RunInteractive();
  int RunPiped();
  static char* PromptFn(EditLine* el);
  static unsigned char CompleteFn(EditLine* el, int ch);
  static unsigned char InterruptFn(EditLine* el, int ch);
  static int ReadCharFn(EditLine* el, wchar_t* out);
  std::vector<std::string> Candidates();
  unsigned char Complete(EditLine* el);
  std::string HistoryPath() const;

  const sql::Engine& engine_;
  ReplOptions options_;
  bool interactive_;
  std::string buffer_;      // the text since the last fresh prompt
  size_t executed_ = 0;     // statements of buffer_ already run
  size_t lines_before_ = 0;  // piped input: lines before buffer_ (commands included)
  bool failed_ = false;     // some statement failed (piped input: exit 1)
  std::string prompt_;
  std::vector<std::string> completion_words_;  // loaded on the first Tab
};

void Repl::PrintError(const Status& s) {
  if (s.code() != StatusCode::kCancelled) failed_ = true;
  if (GetLogFormat() == LogFormat::kJson) {
    Log(LogLevel::kError, s.message());
  } else {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    std::fflush(stderr);
  }
}

void Repl::Execute(const Statement& st) {
  if (options_.cancel != nullptr) options_.cancel->store(false);
  g_interrupted = false;
  const auto started = QueryOutput::Clock::now();
  auto r = engine_.Query(st.text);
  QueryOutput out(options_.output, 1);
  Status s = r.ok() ? out.Add(1, **r, started) : r.status();
  g_interrupted = false;  // a Ctrl-C that cancelled the statement is spent
  if (s.ok()) s = out.Finish();
  std::fflush(stdout);
  if (!s.ok()) PrintError(s);
}

void Repl::Feed(const std::string& line) {
  buffer_ += line;
  buffer_ += '\n';
  SplitResult split = SplitStatements(buffer_, /*complete_only=*/true);
  for (size_t i = executed_; i < split.statements.size(); ++i) {
    // Piped input is one script: positions count from its first line, not the statement's.
    if (!interactive_) split.statements[i].text.insert(0, lines_before_, '\n');
    Execute(split.statements[i]);
  }
  executed_ = split.statements.size();
  if (Trim(split.rest).empty()) {
    // Nothing pending: the next statement starts a fresh buffer (at a prompt its positions
    // count from 1 again).
    lines_before_ += static_cast<size_t>(std::count(buffer_.begin(), buffer_.end(), '\n'));
    buffer_.clear();
    executed_ = 0;
  }
}

Repl::Command Repl::TryCommand(const std::string& raw) {
  if (!Trim(buffer_).empty()) return Command::kNone;
  const std::string line = Trim(raw);
  if (line.empty()) return Command::kNone;
  std::vector<std::string> words;
  for (size_t i = 0; i < line.size();) {
    const size_t b = line.find_first_not_of(" \t", i);
    if (b == std::string::npos) break;
    const size_t e = line.find_first_of(" \t", b);
    words.push_back(line.substr(b, e == std::string::npos ? std::string::npos : e - b));
    i = e == std::string::npos ? line.size() : e;
  }
  const std::string cmd = Lower(words[0]);
  const std::string arg = words.size() > 1 ? words[1] : "";
  if (cmd == "\\q" || cmd == "exit" || cmd == "quit" || cmd == ".quit" || cmd == ".exit") {
    return words.size() == 1 ? Command::kQuit : Command::kNone;
  }
  if (cmd == ".help" || cmd == "\\?" || cmd == "help" || cmd == "\\h") {
    if (words.size() > 1 && cmd == "help") return Command::kNone;
    std::fputs(kHelp, stdout);
    return Command::kHandled;
  }
  if (cmd == "\\d" || cmd == "\\dt") {
    Statement st;
    st.text = arg.empty() || cmd == "\\dt" ? "SHOW TABLES" : "SHOW COLUMNS FROM " + arg;
    Execute(st);
    return Command::kHandled;
  }
  if (cmd == "\\timing" || cmd == ".timer") {
    if (arg == "on") options_.output.timing = true;
    else if (arg == "off") options_.output.timing = false;
    else if (arg.empty()) options_.output.timing = !options_.output.timing;
    else {
      PrintError(Status::InvalidArgument("\\timing takes on or off, not '" + arg + "'"));
      return Command::kHandled;
    }
    std::printf("Timing is %s.\n", options_.output.timing ? "on" : "off");
    return Command::kHandled;
  }
  if (cmd == ".mode") {
    auto mode = ParseOutputMode(arg);
    if (!mode) {
      PrintError(Status::InvalidArgument(".mode takes table, csv, json or line, not '" + arg + "'"));
      return Command::kHandled;
    }
    options_.output.format = *mode == OutputMode::kCsv    ? ResultFormat::kCsv
                             : *mode == OutputMode::kJson ? ResultFormat::kJson
                             : *mode == OutputMode::kLine ? ResultFormat::kLine
                                                          : ResultFormat::kTable;
    return Command::kHandled;
  }
  if (cmd == ".maxrows") {
    char* end = nullptr;
    const long n = std::strtol(arg.c_str(), &end, 10);
    if (arg.empty() || *end != '\0' || n < 0) {
      PrintError(Status::InvalidArgument(".maxrows takes a number of rows (0: all), not '" + arg + "'"));
      return Command::kHandled;
    }
    options_.output.max_rows = static_cast<size_t>(n);
    return Command::kHandled;
  }
  if (cmd[0] == '\\' || (cmd[0] == '.' && cmd.size() > 1 && std::isalpha(static_cast<unsigned char>(cmd[1])))) {
    PrintError(Status::InvalidArgument("unknown command '" + words[0] + "' (try .help)"));
    return Command::kHandled;
  }
  return Command::kNone;
}

int Repl::RunPiped() {
  std::string line;
  while (std::getline(std::cin, line)) {
    const Command c = TryCommand(line);
    if (c == Command::kQuit) break;
    if (c == Command::kHandled) {
      ++lines_before_;
      continue;
    }
    Feed(line);
  }
  // A last statement without ';' still runs.
  if (!Trim(buffer_).empty()) {
    SplitResult split = SplitStatements(buffer_);
    for (size_t i = executed_; i < split.statements.size(); ++i) {
      split.statements[i].text.insert(0, lines_before_, '\n');
      Execute(split.statements[i]);
    }
  }
  std::fflush(stdout);
  return failed_ ? 1 : 0;
}

std::string Repl::HistoryPath() const {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  return std::string(home) + "/.saleslake_history";
}

char* Repl::PromptFn(EditLine* el) {
  const EditLibrary& edit = LoadedEdit();
  void* data = nullptr;
  edit.el_get(el, EL_CLIENTDATA, &data);
  return static_cast<Repl*>(data)->prompt_.data();
}

// Reads one character for libedit. A SIGINT (the read fails with EINTR) becomes Ctrl-C, which
// is bound to InterruptFn, so the prompt clears its line whether or not the terminal sent the
// character itself. UTF-8 is decoded here (libedit wants wide characters).
int Repl::ReadCharFn(EditLine*, wchar_t* out) {
  auto read_byte = [](unsigned char* b) -> int {
    for (;;) {
      const ssize_t n = read(STDIN_FILENO, b, 1);
      if (n == 1) return 1;
      if (n == 0) return 0;
      if (errno != EINTR) return -1;
      if (g_interrupted.exchange(false)) {
        *b = 0x03;
        return 1;
      }
    }
  };
  unsigned char b = 0;
  const int n = read_byte(&b);
  if (n != 1) return n;
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  wchar_t c = extra == 3 ? (b & 0x07) : extra == 2 ? (b & 0x0F) : extra == 1 ? (b & 0x1F) : b;
  while (extra-- > 0) {
    unsigned char cont = 0;
    if (read_byte(&cont) != 1) break;
    c = (c << 6) | (cont & 0x3F);
  }
  *out = c;
  return 1;
}

unsigned char Repl::InterruptFn(EditLine* el, int) {
  const EditLibrary& edit = LoadedEdit();
  void* data = nullptr;
  edit.el_get(el, EL_CLIENTDATA, &data);
  auto* self = static_cast<Repl*>(data);
  const LineInfo* li = edit.el_line(el);
  edit.el_cursor(el, static_cast<int>(li->lastchar - li->buffer));
  edit.el_deletestr(el, static_cast<int>(li->lastchar - li->buffer));
  self->buffer_.clear();
  self->executed_ = 0;
  self->prompt_ = "sql> ";
  std::fputs("^C\n", stderr);
  return CC_REDISPLAY;
}

std::vector<std::string> Repl::Candidates() {
  if (!completion_words_.empty()) return completion_words_;
  std::set<std::string> words;
  for (const char* k : kKeywords) words.insert(k);
  for (const std::string& f : sql::FunctionNames()) words.insert(f);
  auto tables = engine_.Execute("SHOW TABLES");
  if (tables.ok()) {
    for (const Batch& b : tables->result.batches) {
      for (size_t i = 0; i < b.num_rows; ++i) {
        const std::string t(b.columns[0].GetValue<std::string_view>(i));
        words.insert(t);
        auto cols = engine_.Execute("SHOW COLUMNS FROM " + t);
        if (!cols.ok()) continue;
        for (const Batch& cb : cols->result.batches) {
          for (size_t k = 0; k < cb.num_rows; ++k) words.insert(std::string(cb.columns[0].GetValue<std::string_view>(k)));
        }
      }
    }
  }
  completion_words_.assign(words.begin(), words.end());
  return completion_words_;
}

unsigned char Repl::CompleteFn(EditLine* el, int) {
  const EditLibrary& edit = LoadedEdit();
  void* data = nullptr;
  edit.el_get(el, EL_CLIENTDATA, &data);
  return static_cast<Repl*>(data)->Complete(el);
}

unsigned char Repl::Complete(EditLine* el) {
  const EditLibrary& edit = LoadedEdit();
  const LineInfo* li = edit.el_line(el);
  const char* start = li->cursor;
  while (start > li->buffer && (std::isalnum(static_cast<unsigned char>(start[-1])) || start[-1] == '_')) --start;
  const std::string prefix(start, li->cursor);
  if (prefix.empty()) return CC_ERROR;
  const std::string lower_prefix = Lower(prefix);
  const bool lower_case = prefix == lower_prefix;
  std::vector<std::string> matches;
  for (const std::string& w : Candidates()) {
    if (w.size() >= prefix.size() && Lower(w.substr(0, prefix.size())) == lower_prefix) {
      // Keywords follow the case the user types in; names keep theirs.
      const bool keyword = std::find_if(std::begin(kKeywords), std::end(kKeywords),
                                        [&](const char* k) { return w == k; }) != std::end(kKeywords);
      matches.push_back(keyword && lower_case ? Lower(w) : w);
    }
  }
  if (matches.empty()) return CC_REFRESH_BEEP;
  std::sort(matches.begin(), matches.end());
  matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
  std::string common = matches[0];
  for (const std::string& m : matches) {
    size_t n = 0;
    while (n < common.size() && n < m.size() && std::tolower(static_cast<unsigned char>(common[n])) ==
                                                     std::tolower(static_cast<unsigned char>(m[n]))) {
      ++n;
    }
    common.resize(n);
  }
  if (matches.size() == 1) {
    edit.el_deletestr(el, static_cast<int>(prefix.size()));
    edit.el_insertstr(el, (matches[0] + " ").c_str());
    return CC_REDISPLAY;
  }
  if (common.size() > prefix.size()) {
    edit.el_deletestr(el, static_cast<int>(prefix.size()));
    edit.el_insertstr(el, common.c_str());
    return CC_REDISPLAY;
  }
  std::string list = "\n";
  for (const std::string& m : matches) list += m + "  ";
  list += "\n";
  std::fputs(list.c_str(), stderr);
  return CC_REDISPLAY;
}

int Repl::RunInteractive() {
  auto loaded = Edit();
  if (!loaded.ok()) {
    std::fprintf(stderr, "saleslake: %s; reading statements without line editing\n",
                 loaded.status().message().c_str());
    return RunPiped();
  }
  const EditLibrary& edit = **loaded;
  FILE* out = isatty(STDOUT_FILENO) ? stdout : stderr;
  EditLine* el = edit.el_init("saleslake", stdin, out, stderr);
  if (el == nullptr) return RunPiped();
  History* hist = edit.history_init();
  HistEvent ev;
  edit.history(hist, &ev, H_SETSIZE, 2000);
  edit.history(hist, &ev, H_SETUNIQUE, 1);
  const std::string hist_path = HistoryPath();
  if (!hist_path.empty()) edit.history(hist, &ev, H_LOAD, hist_path.c_str());
  edit.el_set(el, EL_CLIENTDATA, this);
  edit.el_set(el, EL_EDITOR, "emacs");
  edit.el_set(el, EL_HIST, edit.history, hist);
  edit.el_set(el, EL_PROMPT, &Repl::PromptFn);
  edit.el_set(el, EL_GETCFN, &Repl::ReadCharFn);
  edit.el_set(el, EL_ADDFN, "sl-complete", "Complete SQL names", &Repl::CompleteFn);
  edit.el_set(el, EL_BIND, "^I", "sl-complete", nullptr);
  edit.el_set(el, EL_ADDFN, "sl-interrupt", "Clear the input", &Repl::InterruptFn);
  edit.el_set(el, EL_BIND, "^C", "sl-interrupt", nullptr);
  std::fprintf(stderr,
               "saleslake SQL (Trino dialect). End statements with ';'; .help for commands, \\q to quit.\n");
  for (;;) {
    prompt_ = Trim(buffer_).empty() ? "sql> " : "  -> ";
    int count = 0;
    const char* got = edit.el_gets(el, &count);
    if (got == nullptr || count <= 0) {
      if (g_interrupted.exchange(false)) continue;
      std::fputs("\n", stderr);
      break;  // Ctrl-D
    }
    std::string line(got);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (!Trim(line).empty()) {
      // One history entry per statement line; multi-line statements are recalled line by line.
      edit.history(hist, &ev, H_ENTER, line.c_str());
      if (!hist_path.empty()) edit.history(hist, &ev, H_SAVE, hist_path.c_str());
    }
    const Command c = TryCommand(line);
    if (c == Command::kQuit) break;
    if (c == Command::kHandled) {
      std::fflush(stdout);
      continue;
    }
    Feed(line);
  }
  edit.history_end(hist);
  edit.el_end(el);
  return 0;
}

int Repl::Run() {
  g_cancel = options_.cancel;
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  // At a terminal the prompt's read must be interrupted (to clear the input); from a pipe a
  // stray Ctrl-C must not end the input, so reads restart.
  sa.sa_flags = interactive_ ? 0 : SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  return interactive_ ? RunInteractive() : RunPiped();
}

}  // namespace

int RunRepl(const sql::Engine& engine, ReplOptions options) {
  Repl repl(engine, std::move(options));
  return repl.Run();
}

}  // namespace saleslake::cli
