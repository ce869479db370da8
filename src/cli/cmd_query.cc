// `saleslake query`: Trino-dialect SQL over the lake's catalog tables and views.
//   query "SQL[; SQL...]" [--format table|csv|json|line|parquet] [--output FILE] [--max-rows N]
//   query -f FILE.sql            (a script: every statement runs and prints its result)
//   query                        (the REPL, repl.h; statements piped on stdin run the same way)
// Output layout, formats and several results: query_output.h.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include <fmt/format.h>

#include "catalog/catalog.h"
#include "cli/command.h"
#include "cli/query_output.h"
#include "cli/render.h"
#include "cli/repl.h"
#include "cli/statements.h"
#include "io/object_store.h"
#include "sql/sql.h"

namespace saleslake::cli {
namespace {

std::atomic<bool> g_cancel{false};

void OnSigint(int) { g_cancel = true; }

struct QueryArgs {
  std::string sql;
  std::string file;
  std::string format;  // "" = from --output's extension, else table
  std::string output;
  int64_t max_rows = -1;  // -1 = 40 on a terminal, else all
  bool timing = false;
  double timeout_s = 0;
  int64_t memory_limit_mb = -1;
};

constexpr int64_t kTerminalRows = 40;

// Runs every statement of `text` in order; stops at the first failure (what ran is kept).
int RunStatements(const sql::Engine& engine, const std::string& text, const std::string& origin,
                  const OutputSpec& spec) {
  std::vector<Statement> statements = SplitStatements(text).statements;
  if (statements.empty()) return Fail(origin.empty() ? "query: no SQL statement given" : origin + ": no SQL statement");
  QueryOutput out(spec, statements.size());
  for (size_t i = 0; i < statements.size(); ++i) {
    const auto started = QueryOutput::Clock::now();
    auto r = engine.Query(statements[i].text);
    Status s = r.ok() ? out.Add(i + 1, **r, started) : r.status();
    if (!s.ok()) {
      (void)out.Finish();
      if (!origin.empty()) s = s.WithContext(origin);
      else if (statements.size() > 1) s = s.WithContext(fmt::format("statement {}", i + 1));
      return Fail(s);
    }
  }
  Status s = out.Finish();
  std::fflush(stdout);
  return s.ok() ? 0 : Fail(s);
}

void Register(CLI::App& root, Context& ctx) {
  auto args = std::make_shared<QueryArgs>();
  CLI::App* cmd = root.add_subcommand("query", "Run SQL (Trino/Athena dialect) over the lake's tables");
  cmd->add_option("sql", args->sql, "The statement; omit it (and -f) for an interactive prompt");
  cmd->add_option("-f,--file", args->file, "Run the statements of a .sql file");
  cmd->add_option("--format", args->format,
                  "table, csv, json, line or parquet (default: from --output's extension, else table)")
      ->check(CLI::IsMember({"table", "csv", "json", "line", "parquet"}));
  cmd->add_option("--output", args->output,
                  "Write results to FILE instead of stdout, in the format of its extension; several "
                  "statements: table and JSON in FILE, CSV and Parquet one file per statement (FILE-N.ext)");
  cmd->add_option("--max-rows", args->max_rows,
                  "Rows a table shows at most, first and last half (default: 40 on a terminal, all "
                  "otherwise; 0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--timing", args->timing, "Show each statement's run time under its table");
  cmd->add_option("--timeout", args->timeout_s, "Cancel each statement after this many seconds (default 0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--memory-limit", args->memory_limit_mb,
                  "Fail a query that needs more than this many MB (default: 60% of RAM; 0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, args]() {
    ctx.action = [&ctx, args]() -> int {
      if (!args->sql.empty() && !args->file.empty())
        return Fail("query: give either SQL text or -f FILE, not both");
      auto format = ChooseFormat(args->format, args->output);
      if (!format.ok()) return Fail(format.status());
      if (*format == ResultFormat::kParquet && args->output.empty())
        return Fail("query: --format parquet needs --output FILE.parquet");
      OutputSpec spec;
      spec.format = *format;
      spec.path = args->output;
      spec.timing = args->timing;
      const bool terminal = args->output.empty() && isatty(STDOUT_FILENO);
      spec.max_rows = static_cast<size_t>(args->max_rows >= 0 ? args->max_rows : terminal ? kTerminalRows : 0);
      spec.max_width = terminal && args->max_rows != 0 ? TerminalWidth() : 0;
      auto store = ctx.OpenLake(false);
      if (!store.ok()) return Fail(store.status());
      auto cat = ctx.OpenCatalog(store->get());
      if (!cat.ok()) return Fail(cat.status());
      sql::EngineOptions opts;
      opts.exec.cancel = &g_cancel;
      // Unset: the engine's default (60% of RAM); 0: no limit.
      if (args->memory_limit_mb >= 0) opts.exec.memory_limit_bytes = args->memory_limit_mb << 20;
      // Counted from the start of each statement (every statement of a script or the REPL).
      if (args->timeout_s > 0)
        opts.exec.timeout = std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(args->timeout_s * 1e3)));
      auto engine = sql::Engine::OpenLake(store->get(), cat->get(), std::move(opts));
      if (!engine.ok()) return Fail(engine.status());
      if (args->file.empty() && args->sql.empty()) {
        return RunRepl(**engine, ReplOptions{.output = spec, .cancel = &g_cancel});
      }
      signal(SIGINT, OnSigint);  // Ctrl-C cancels the running statement (exit 1: "query cancelled")
      if (!args->file.empty()) {
        auto content = io::ReadLocalFile(args->file);
        if (!content.ok()) return Fail(content.status());
        return RunStatements(**engine, *content, args->file, spec);
      }
      return RunStatements(**engine, args->sql, "", spec);
    };
  });
}

const CommandRegistrar kRegistrar(50, &Register);

}  // namespace
}  // namespace saleslake::cli
