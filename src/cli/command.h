// How the `saleslake` command is put together: every src/cli/cmd_*.cc file registers its
// subcommands with a static CommandRegistrar, so areas add commands without editing main.cc.
//
// A Register function adds subcommands to the root CLI11 app and, in each subcommand's callback,
// stores the action to run in ctx.action; main() runs it after parsing and exits with its code.
// Exit codes: 0 success, 1 runtime failure (one line on stderr), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "common/status.h"
#include "io/local_store.h"
#include "io/object_store.h"

namespace saleslake::cli {

struct Context {
  std::string lake;        // --lake, else $SALESLAKE_LAKE, else ./lake (resolved in main); a
                           // directory or s3://bucket/prefix
  std::string log_format;  // text | json
  std::function<int()> action;
  // Test hooks for the CLI crash tests, read once from the environment in main():
  // $SALESLAKE_TEST_COMMIT_PAUSE_MS (every catalog commit pauses before its publish) and
  // $SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS (an ETL run pauses before its commit).
  int64_t test_commit_pause_ms = 0;
  int test_job_pause_ms = 0;
  bool s3_single_writer = false;  // $SALESLAKE_S3_SINGLE_WRITER=1: see io::S3Options
  std::string s3_commit_lock_file;  // $SALESLAKE_S3_LOCK_FILE: see io::S3Options

  // Opens the lake: a LocalStore, or an S3Store for "s3://bucket/prefix" (credentials, region and
  // endpoint from the standard AWS chain). With create=false a missing lake is a clear error.
  Result<std::unique_ptr<io::ObjectStore>> OpenLake(bool create = false) const;
  // The lake as a local directory, for commands that need one (serve); an S3 lake is refused.
  Result<std::unique_ptr<io::LocalStore>> OpenLocalLake() const;
  // Opens the catalog of a lake opened with OpenLake (with the test hooks above).
  Result<std::unique_ptr<catalog::Catalog>> OpenCatalog(io::ObjectStore* store) const;
};

// Prints "saleslake: error: <message>" to stderr (one line; a JSON log line with
// --log-format json) and returns 1.
int Fail(const Status& status);
int Fail(const std::string& message);
// "saleslake: notice: <message>" on stderr (a JSON log line at level warn with --log-format json),
// for what the user must not miss although the command goes on.
void Notice(const std::string& message);

using RegisterFn = void (*)(CLI::App& root, Context& ctx);

// Registration order is the order subcommands appear in --help: lower `order` first.
struct CommandRegistrar {
  CommandRegistrar(int order, RegisterFn fn);
};

}  // namespace saleslake::cli
