// One dashboard query on a lake, measured the way a long-lived server or REPL would run it: the
// lake, catalog and sql::Engine are opened once, then the query runs REPEATS times and the best
// wall-clock time is kept (warm). The first run is reported apart (cold: first catalog load,
// file listing, footers), and so are the time to open the engine and the process's peak RSS.
//
// Usage: sql_dashboard_bench LAKE_DIR REPEATS "SQL"
// Prints one JSON object: {"open_ms", "first_ms", "best_ms", "rows", "peak_rss_kb"}.
// bench/sql_dashboard.mjs runs it once per query, next to DuckDB over the same files.
//
// Usage: sql_dashboard_bench LAKE_DIR --lines
// The engine opened once, then one run per line of stdin (one statement a line), each answered
// with one line {"ms", "rows"} (or {"error"}) as soon as it ends: a warm engine that a driver
// (bench/query_protocols.mjs) runs one query at a time, interleaved with the same query through
// `saleslake serve`'s protocols, so both sides are measured run by run under the same load.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "catalog/catalog.h"
#include "common/memory.h"
#include "io/local_store.h"
#include "sql/sql.h"

namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int Fail(const saleslake::Status& s) {
  std::fprintf(stderr, "sql_dashboard_bench: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace saleslake;  // NOLINT
  RestartWithHugePages(argv);  // as the saleslake binary does
  ConfigureAllocator();
  const bool lines = argc == 3 && std::string(argv[2]) == "--lines";
  if (argc != 4 && !lines) {
    std::fprintf(stderr, "usage: sql_dashboard_bench LAKE_DIR REPEATS \"SQL\" | sql_dashboard_bench LAKE_DIR --lines\n");
    return 2;
  }
  auto t_open = std::chrono::steady_clock::now();
  auto store = io::LocalStore::Open(argv[1], /*create=*/false);
  if (!store.ok()) return Fail(store.status());
  auto cat = catalog::Catalog::Open(store->get());
  if (!cat.ok()) return Fail(cat.status());
  auto engine = sql::Engine::OpenLake(store->get(), cat->get());
  if (!engine.ok()) return Fail(engine.status());
  double open_ms = MsSince(t_open);
  if (lines) {
    // (the time of Execute alone: the result is materialized, as it is in the CLI, and not
    // printed; what the line exchange costs is outside the figure)
    std::string sql;
    while (std::getline(std::cin, sql)) {
      if (sql.empty()) continue;
      auto t0 = std::chrono::steady_clock::now();
      auto r = (*engine)->Execute(sql);
      const double ms = MsSince(t0);
      if (r.ok()) {
        std::printf("{\"ms\": %.3f, \"rows\": %zu}\n", ms, r->result.num_rows());
      } else {
        std::string message = r.status().ToString();
        for (char& c : message) {
          if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = ' ';
        }
        std::printf("{\"error\": \"%s\"}\n", message.c_str());
      }
      std::fflush(stdout);
    }
    return 0;
  }
  const std::string sql = argv[3];
  const int repeats = std::max(1, std::atoi(argv[2]));

  double first_ms = 0, best_ms = 1e300;
  size_t rows = 0;
  for (int i = 0; i <= repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = (*engine)->Execute(sql);
    double ms = MsSince(t0);
    if (!r.ok()) return Fail(r.status());
    rows = r->result.num_rows();
    if (i == 0) {
      first_ms = ms;
    } else {
      best_ms = std::min(best_ms, ms);
    }
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("{\"open_ms\": %.3f, \"first_ms\": %.3f, \"best_ms\": %.3f, \"rows\": %zu, \"peak_rss_kb\": %ld}\n",
              open_ms, first_ms, best_ms, rows, ru.ru_maxrss);
  return 0;
}
