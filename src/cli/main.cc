// saleslake: one binary for the whole lakehouse. Subcommands register themselves (command.h).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "common/logging.h"
#include "common/memory.h"

#ifndef SALESLAKE_VERSION
#define SALESLAKE_VERSION "dev"
#endif

namespace saleslake::cli {
namespace {

std::vector<std::pair<int, RegisterFn>>& Registry() {
  static std::vector<std::pair<int, RegisterFn>> r;
  return r;
}

// One line, no trailing newline: CLI11's messages sometimes span lines.
std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

CommandRegistrar::CommandRegistrar(int order, RegisterFn fn) { Registry().emplace_back(order, fn); }

int Fail(const Status& status) { return Fail(status.message()); }

int Fail(const std::string& message) {
  std::fprintf(stderr, "saleslake: error: %s\n", OneLine(message).c_str());
  return 1;
}

Result<std::unique_ptr<io::LocalStore>> Context::OpenLake(bool create) const {
  return io::LocalStore::Open(lake, create);
}

Result<std::unique_ptr<catalog::Catalog>> Context::OpenCatalog(io::ObjectStore* store) const {
  return catalog::Catalog::Open(store, {.commit_pause_ms = test_commit_pause_ms});
}

int Main(int argc, char** argv) {
  CLI::App app{"saleslake: a self-hosted sales-analytics lakehouse in one binary", "saleslake"};
  app.set_version_flag("--version", std::string("saleslake ") + SALESLAKE_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough();
  Context ctx;
  std::string lake_flag;
  app.add_option("--lake", lake_flag, "Lake directory (default: $SALESLAKE_LAKE, else ./lake)");
  ctx.log_format = "text";
  app.add_option("--log-format", ctx.log_format, "Log format on stderr")
      ->check(CLI::IsMember({"text", "json"}));

  auto& reg = Registry();
  std::stable_sort(reg.begin(), reg.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, fn] : reg) fn(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    // A bare word where a command was expected reads better as "unknown command".
    if (app.get_subcommands().empty() && argc > 1) {
      for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--lake" || a == "--log-format") { ++i; continue; }
        if (!a.empty() && a[0] != '-') {
          std::fprintf(stderr, "saleslake: usage error: unknown command '%s' (see 'saleslake --help')\n", argv[i]);
          return 2;
        }
        break;
      }
    }
    std::fprintf(stderr, "saleslake: usage error: %s (see 'saleslake --help')\n", OneLine(e.what()).c_str());
    return 2;
  } catch (const CLI::ParseError& e) {
    std::string what = OneLine(e.what());
    std::fprintf(stderr, "saleslake: usage error: %s (see 'saleslake --help')\n", what.c_str());
    return 2;
  }

  LogFormat fmt;
  if (ParseLogFormat(ctx.log_format, &fmt)) SetLogFormat(fmt);
  if (!lake_flag.empty()) {
    ctx.lake = lake_flag;
  } else if (const char* env = std::getenv("SALESLAKE_LAKE"); env && *env) {
    ctx.lake = env;
  } else {
    ctx.lake = "./lake";
  }
  if (const char* env = std::getenv("SALESLAKE_TEST_COMMIT_PAUSE_MS"); env && *env) {
    ctx.test_commit_pause_ms = std::atoll(env);
  }
  if (const char* env = std::getenv("SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS"); env && *env) {
    ctx.test_job_pause_ms = std::atoi(env);
  }
  if (!ctx.action) {
    std::fprintf(stderr, "saleslake: usage error: no command given (see 'saleslake --help')\n");
    return 2;
  }
  try {
    return ctx.action();
  } catch (const std::exception& e) {
    // No exception should get here (modules return Status); if one does, still one clear line.
    return Fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace saleslake::cli

int main(int argc, char** argv) {
  saleslake::ConfigureAllocator();
  return saleslake::cli::Main(argc, argv);
}
