// Shared test helpers: temporary directories, running the saleslake binary, shared test data.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace saleslake::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs the saleslake binary with `args` (no shell), optional stdin text, and captures everything.
CommandResult RunSaleslake(const std::vector<std::string>& args, const std::string& stdin_text = "",
                           const std::vector<std::string>& env = {});
// RunSaleslake with `--lake LAKE` in front of `args`.
CommandResult RunSaleslakeIn(const std::string& lake, std::vector<std::string> args);
// Runs any program (argv[0] looked up in PATH).
CommandResult RunProgram(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                         const std::vector<std::string>& env = {});

// Starts the saleslake binary with `args`, this process's environment plus `extra_env`
// ("NAME=value"), stdout and stderr to /dev/null, without waiting; returns its pid (-1 when it
// could not start). The caller reaps it (waitpid).
int SpawnSaleslake(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {});
// Polls `ready` every 20 ms for at most `timeout_ms`, then SIGKILLs `pid` and reaps it. Returns
// whether `ready` became true (crash tests kill a process at a known point).
bool KillWhen(int pid, const std::function<bool()>& ready, int timeout_ms = 30000);

// Absolute path of a file under ../shared/testdata, or "" when the shared data is absent.
std::string SharedTestData(const std::string& rel);
// True when node and the DuckDB peer (tools/peers/node_modules/@duckdb/node-api) are installed.
bool HaveDuckDb();
// Runs a SQL script in DuckDB through tools/peers/duckdb_query.mjs; stdout is CSV with a header.
CommandResult RunDuckDb(const std::string& sql);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);

// While it lives, no file of this process may grow past `max_bytes` (RLIMIT_FSIZE, SIGXFSZ
// ignored): a write that crosses the limit writes what fits and then fails with EFBIG, as on a
// full disk, so tests can make a real write fail half-way. Restores both on destruction.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(uint64_t max_bytes);
  ~FileSizeLimit();
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  uint64_t old_soft_ = 0;
  void (*old_handler_)(int) = nullptr;
};

// A TCP socket listening on 127.0.0.1 on a free port (the test servers' and proxies' start):
// returns its fd (-1 on failure) and sets *port.
int ListenLoopback(int* port, int backlog = 64);

}  // namespace saleslake::testing

// Skips the test when a shared test-data file is missing (CI has it; a bare clone may not).
#define SL_REQUIRE_SHARED(var, rel)                                              \
  std::string var = ::saleslake::testing::SharedTestData(rel);                   \
  if (var.empty()) GTEST_SKIP() << "shared test data not found: " << (rel)

#define SL_REQUIRE_DUCKDB() \
  if (!::saleslake::testing::HaveDuckDb()) GTEST_SKIP() << "node + @duckdb/node-api not installed"
