// saleslake: one binary for the whole lakehouse. Subcommands register themselves (command.h).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/suggest.h"
#include "common/memory.h"
#include "io/s3_store.h"

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
  if (GetLogFormat() == LogFormat::kJson) Log(LogLevel::kError, OneLine(message));
  else std::fprintf(stderr, "saleslake: error: %s\n", OneLine(message).c_str());
  return 1;
}

void Notice(const std::string& message) {
  if (GetLogFormat() == LogFormat::kJson) Log(LogLevel::kWarn, OneLine(message));
  else std::fprintf(stderr, "saleslake: notice: %s\n", OneLine(message).c_str());
}

Result<std::unique_ptr<io::ObjectStore>> Context::OpenLake(bool create) const {
  std::unique_ptr<io::ObjectStore> store;
  if (io::IsS3Uri(lake)) {
    SL_ASSIGN_OR_RETURN(store, io::S3Store::OpenUri(lake, s3_single_writer, s3_commit_lock_file));
  } else {
    SL_ASSIGN_OR_RETURN(store, io::LocalStore::Open(lake, create));
  }
  if (create) return store;
  // A folder without the lake's files is most likely a wrong --lake: say so before "no tables".
  auto has_pipeline = store->Exists("pipeline.yaml");
  if (!has_pipeline.ok() && has_pipeline.status().code() != StatusCode::kNotFound) return has_pipeline.status();
  if (has_pipeline.ok() && *has_pipeline) return store;
  bool has_catalog = false;
  if (auto* local = dynamic_cast<io::LocalStore*>(store.get())) {
    struct stat st;
    has_catalog = stat(local->PathOf("catalog").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  } else {
    // A bucket has no folders: the catalog is there when an object is under catalog/.
    SL_ASSIGN_OR_RETURN(auto listed, store->List("catalog/"));
    has_catalog = !listed.empty();
  }
  if (!has_catalog) {
    return Status::NotFound("not a lake: " + lake +
                            " has no pipeline.yaml or catalog/ (run `saleslake init` to create one "
                            "there, or point --lake or $SALESLAKE_LAKE at your lake)");
  }
  return store;
}

Result<std::unique_ptr<io::LocalStore>> Context::OpenLocalLake() const {
  if (io::IsS3Uri(lake))
    return Status::NotImplemented("this command needs a local lake directory, not " + lake +
                                  " (streams live on the serving machine: use the Kinesis API of `saleslake serve`)");
  SL_ASSIGN_OR_RETURN(auto generic, OpenLake(false));
  return std::unique_ptr<io::LocalStore>(static_cast<io::LocalStore*>(generic.release()));
}

Result<std::unique_ptr<catalog::Catalog>> Context::OpenCatalog(io::ObjectStore* store) const {
  return catalog::Catalog::Open(store, {.commit_pause_ms = test_commit_pause_ms});
}

namespace {

std::vector<std::string> SubcommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> FlagNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
  }
  return names;
}

// The subcommand the command line names (deepest first level, then its own subcommands).
CLI::App* NamedSubcommand(CLI::App& app, int argc, char** argv) {
  CLI::App* at = nullptr;
  for (int i = 1; i < argc; ++i) {
    CLI::App& parent = at != nullptr ? *at : app;
    for (CLI::App* sub : parent.get_subcommands({})) {
      if (sub->get_name() == argv[i]) {
        at = sub;
        break;
      }
    }
  }
  return at;
}

// "Usage: saleslake query [OPTIONS] [sql]" from CLI11's help of `sub`.
std::string UsageLine(CLI::App* sub) {
  const std::string help = sub->help();
  const size_t at = help.find("Usage:");
  if (at == std::string::npos) return "";
  return help.substr(at, help.find('\n', at) - at);
}

// One line: the error, the subcommand's usage and where its help is.
int UsageError(const std::string& message, CLI::App* sub) {
  std::string full = "usage error: " + message;
  std::string path = "saleslake";
  if (sub != nullptr) {
    if (sub->get_parent() != nullptr && sub->get_parent()->get_parent() != nullptr) {
      path += " " + sub->get_parent()->get_name();
    }
    path += " " + sub->get_name();
    std::string usage = UsageLine(sub);
    // CLI11 writes "Usage: generate [OPTIONS]": give the whole command line to type.
    if (usage.rfind("Usage: ", 0) == 0) usage = usage.substr(7);
    if (usage.rfind(sub->get_name(), 0) == 0) usage = path + usage.substr(sub->get_name().size());
    if (!usage.empty()) full += " (usage: " + usage + "; see '" + path + " --help')";
    else full += " (see '" + path + " --help')";
  } else {
    full += " (see 'saleslake --help')";
  }
  if (GetLogFormat() == LogFormat::kJson) Log(LogLevel::kError, OneLine(full));
  else std::fprintf(stderr, "saleslake: %s\n", OneLine(full).c_str());
  return 2;
}

// One to three examples under every subcommand's --help (a test checks each has some). Kept
// here, in one table, so each reads like the others.
void AddExamples(CLI::App& app) {
  static const std::pair<const char*, const char*> kExamples[] = {
      {"init", "  saleslake init                          # ./lake\n"
               "  saleslake --lake /data/lake init"},
      {"upload", "  saleslake upload sales.csv\n"
                 "  saleslake upload jan.csv feb.csv --to raw_data/2025/"},
      {"crawl", "  saleslake crawl\n  saleslake crawl --crawler raw-crawler"},
      {"tables", "  saleslake tables\n  saleslake tables --format json"},
      {"describe", "  saleslake describe sales_data\n  saleslake describe sales_data --snapshot 3 --format json"},
      {"catalog", "  saleslake catalog snapshots sales_data\n"
                  "  saleslake catalog export-ddl sales_data --dialect athena --location-uri s3://bucket/lake"},
      {"export-ddl", "  saleslake catalog export-ddl sales_data --dialect trino"},
      {"snapshots", "  saleslake catalog snapshots sales_data"},
      {"expire", "  saleslake catalog expire sales_data"},
      {"start-job", "  saleslake start-job --job-name my-etl-job\n"
                    "  saleslake start-job --job-name my-etl-job --format json"},
      {"runs", "  saleslake runs\n  saleslake runs --job my-etl-job --format json"},
      {"query", "  saleslake query \"SELECT region, sum(amount) FROM sales_data GROUP BY 1\"\n"
                "  saleslake query -f report.sql --output report.csv   # one file per statement: report-N.csv\n"
                "  saleslake query                                     # interactive prompt (.help inside)"},
      {"forecast", "  saleslake forecast --input daily.csv --date day --value sales --horizon 28\n"
                   "  saleslake forecast --query \"SELECT region, purchase_date AS d, sum(amount) AS v FROM "
                   "sales_data GROUP BY 1, 2\" --date d --value v --by region --horizon 14 --metrics\n"
                   "  saleslake forecast --input daily.csv --date day --value sales --horizon 28 --to-table forecasts"},
      {"convert", "  saleslake convert sales.csv sales.parquet\n"
                  "  saleslake convert messy.csv.gz clean.parquet --max-errors 1000"},
      {"cat", "  saleslake cat part-0.parquet --limit 10\n  saleslake cat part-0.parquet --columns region,amount --format json"},
      {"parquet-meta", "  saleslake parquet-meta part-0.parquet\n  saleslake parquet-meta part-0.parquet --format json"},
      {"generate", "  saleslake generate --rows 100000\n  saleslake generate --rows 5000 --messy --out messy.csv"},
  };
  for (CLI::App* sub : app.get_subcommands({})) {
    for (const auto& [name, text] : kExamples) {
      if (sub->get_name() != name) continue;
      const std::string footer = sub->get_footer();
      sub->footer((footer.empty() ? "" : footer + "\n\n") + "Examples:\n" + text);
    }
    AddExamples(*sub);
  }
}

// Every option that takes a value shows its default in --help (=value), unless it is required or
// its description already says what the default is (a sentinel like -1 would only confuse).
void ShowDefaults(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    if (o->get_type_size() == 0 || o->get_required() || o->get_positional()) continue;
    if (o->get_description().find("default") != std::string::npos) continue;
    o->capture_default_str();
  }
  for (CLI::App* sub : app.get_subcommands({})) ShowDefaults(*sub);
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"saleslake: a self-hosted sales-analytics lakehouse in one binary", "saleslake"};
  app.set_version_flag("--version", std::string("saleslake ") + SALESLAKE_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough();
  Context ctx;
  std::string lake_flag;
  app.add_option("--lake", lake_flag, "Lake directory or s3://bucket/prefix (default: $SALESLAKE_LAKE, else ./lake)");
  ctx.log_format = "text";
  app.add_option("--log-format", ctx.log_format, "Log format on stderr")
      ->check(CLI::IsMember({"text", "json"}));

  auto& reg = Registry();
  std::stable_sort(reg.begin(), reg.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, fn] : reg) fn(app, ctx);

  // Errors of the parse itself follow --log-format too.
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "--log-format" && std::string_view(argv[i + 1]) == "json") SetLogFormat(LogFormat::kJson);
  }
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--log-format=json") SetLogFormat(LogFormat::kJson);
  }
  ShowDefaults(app);
  AddExamples(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    CLI::App* sub = NamedSubcommand(app, argc, argv);
    // A bare word where a command was expected reads better as "unknown command".
    if (sub == nullptr && argc > 1) {
      for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--lake" || a == "--log-format") { ++i; continue; }
        if (!a.empty() && a[0] != '-') {
          std::string msg = "unknown command '" + std::string(a) + "'";
          if (std::string near = ClosestName(a, SubcommandNames(app)); !near.empty()) {
            msg += "; did you mean '" + near + "'?";
          }
          return UsageError(msg, nullptr);
        }
        break;
      }
    }
    // An unknown flag: suggest the closest flag of the subcommand (or of the top level).
    std::string msg = OneLine(e.what());
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a.size() > 2 && a.substr(0, 2) == "--" && msg.find(std::string(a.substr(0, a.find('=')))) != std::string::npos) {
        const std::string flag(a.substr(0, a.find('=')));
        std::vector<std::string> names = FlagNames(sub != nullptr ? *sub : app);
        if (std::string near = ClosestName(flag, names); !near.empty()) {
          msg = "unknown option '" + flag + "'; did you mean '" + near + "'?";
        } else {
          msg = "unknown option '" + flag + "'";
        }
        break;
      }
    }
    return UsageError(msg, sub);
  } catch (const CLI::ParseError& e) {
    return UsageError(OneLine(e.what()), NamedSubcommand(app, argc, argv));
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
  // Test hooks and settings from the environment become option fields here, the one place that
  // reads the environment.
  if (const char* env = std::getenv("SALESLAKE_TEST_CLOCK_FILE"); env && *env) UseClockFile(env);
  if (const char* env = std::getenv("SALESLAKE_S3_SINGLE_WRITER"); env && std::string_view(env) == "1") {
    ctx.s3_single_writer = true;
  }
  if (const char* env = std::getenv("SALESLAKE_S3_LOCK_FILE"); env && *env) ctx.s3_commit_lock_file = env;
  if (const char* env = std::getenv("SALESLAKE_TEST_COMMIT_PAUSE_MS"); env && *env) {
    ctx.test_commit_pause_ms = std::atoll(env);
  }
  if (const char* env = std::getenv("SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS"); env && *env) {
    ctx.test_job_pause_ms = std::atoi(env);
  }
  if (!ctx.action) return UsageError("no command given", nullptr);
  try {
    return ctx.action();
  } catch (const std::exception& e) {
    // No exception should get here (modules return Status); if one does, still one clear line.
    return Fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace saleslake::cli

int main(int argc, char** argv) {
  saleslake::RestartWithHugePages(argv);
  saleslake::ConfigureAllocator();
  return saleslake::cli::Main(argc, argv);
}
