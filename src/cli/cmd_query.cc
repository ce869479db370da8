// `saleslake query`: Trino-dialect SQL over the lake's catalog tables and views.
//   query "SQL" [--format table|csv|json|parquet] [--output FILE]
//   query -f FILE.sql            (a script: every statement runs, the last result is printed)
//   query                        (a REPL: statements end with ';', Ctrl-C cancels the running one)
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>

#include "catalog/catalog.h"
#include "cli/command.h"
#include "formats/parquet/parquet.h"
#include "io/object_store.h"
#include "sql/result_format.h"
#include "sql/sql.h"

namespace saleslake::cli {
namespace {

std::atomic<bool> g_cancel{false};

void OnSigint(int) { g_cancel = true; }

struct QueryArgs {
  std::string sql;
  std::string file;
  std::string format = "table";
  std::string output;
  double timeout_s = 0;
  int64_t memory_limit_mb = -1;
};

Status WriteParquet(const sql::MaterializedResult& r, const std::string& path) {
  SL_ASSIGN_OR_RETURN(auto out, io::OpenLocalWrite(path));
  parquet::WriterOptions wo;
  SL_ASSIGN_OR_RETURN(auto writer, parquet::ParquetWriter::Open(out.get(), r.schema, wo));
  for (const auto& b : r.batches) SL_RETURN_IF_ERROR(writer->Write(b));
  SL_RETURN_IF_ERROR(writer->Close().status());
  return out->Commit();
}

Status Emit(const sql::StatementResult& r, const QueryArgs& args) {
  if (!r.has_rows) {
    std::string line = r.message + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    return Status::OK();
  }
  if (args.format == "parquet") return WriteParquet(r.result, args.output);
  std::string text;
  if (args.format == "csv") {
    text = sql::FormatCsv(r.result);
  } else if (args.format == "json") {
    text = sql::FormatJson(r.result);
  } else {
    text = sql::FormatTable(r.result, r.seconds);
  }
  if (!args.output.empty()) return io::WriteLocalFileAtomic(args.output, text);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return Status::OK();
}

int Repl(const sql::Engine& engine, QueryArgs args) {
  bool tty = isatty(0);
  std::string buffer, line;
  if (tty) std::fprintf(stderr, "saleslake SQL (Trino dialect). End statements with ';', Ctrl-D to quit.\n");
  while (true) {
    if (tty) std::fprintf(stderr, buffer.empty() ? "sql> " : "  -> ");
    if (!std::getline(std::cin, line)) break;
    buffer += line + "\n";
    // Run every complete statement in the buffer.
    size_t semi;
    while ((semi = buffer.find(';')) != std::string::npos) {
      std::string stmt = buffer.substr(0, semi);
      buffer.erase(0, semi + 1);
      if (stmt.find_first_not_of(" \t\r\n") == std::string::npos) continue;
      g_cancel = false;
      auto r = engine.Execute(stmt);
      if (!r.ok()) {
        std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
        continue;
      }
      Status s = Emit(*r, args);
      if (!s.ok()) std::fprintf(stderr, "error: %s\n", s.message().c_str());
    }
  }
  if (buffer.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto r = engine.Execute(buffer);
    if (!r.ok()) return Fail(r.status());
    Status s = Emit(*r, args);
    if (!s.ok()) return Fail(s);
  }
  return 0;
}

void Register(CLI::App& root, Context& ctx) {
  auto args = std::make_shared<QueryArgs>();
  CLI::App* cmd = root.add_subcommand("query", "Run SQL (Trino/Athena dialect) over the lake's tables");
  cmd->add_option("sql", args->sql, "The statement; omit it (and -f) for an interactive prompt");
  cmd->add_option("-f,--file", args->file, "Run the statements of a .sql file");
  cmd->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json", "parquet"}));
  cmd->add_option("--output", args->output, "Write the result to this file instead of stdout");
  cmd->add_option("--timeout", args->timeout_s, "Cancel each statement after this many seconds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--memory-limit", args->memory_limit_mb,
                  "Fail a query that needs more than this many MB (default: 60% of RAM; 0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&ctx, args]() {
    ctx.action = [&ctx, args]() -> int {
      if (!args->sql.empty() && !args->file.empty())
        return Fail("query: give either SQL text or -f FILE, not both");
      if (args->format == "parquet" && args->output.empty())
        return Fail("query: --format parquet needs --output FILE");
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
      signal(SIGINT, OnSigint);
      std::string text = args->sql;
      if (!args->file.empty()) {
        auto content = io::ReadLocalFile(args->file);
        if (!content.ok()) return Fail(content.status());
        auto results = (*engine)->ExecuteScript(*content);
        if (!results.ok()) return Fail(results.status().WithContext(args->file));
        for (const auto& r : *results) {
          Status s = Emit(r, *args);
          if (!s.ok()) return Fail(s);
        }
        return 0;
      }
      if (text.empty()) return Repl(**engine, *args);
      auto r = (*engine)->Execute(text);
      if (!r.ok()) return Fail(r.status());
      Status s = Emit(*r, *args);
      if (!s.ok()) return Fail(s);
      return 0;
    };
  });
}

const CommandRegistrar kRegistrar(50, &Register);

}  // namespace
}  // namespace saleslake::cli
