// libcurl, cairo and libedit are loaded on first use (common/shared_library.h): a process that
// only queries a local lake maps none of them (nor the libraries behind them), and the commands
// that need one still load it. The dynamic loader reports what it loads under LD_DEBUG=libs.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

constexpr const char* kLazy[] = {"libcurl.so", "libcairo.so", "libedit.so"};

// The libraries the loader reported initializing (LD_DEBUG=libs lines "calling init: PATH").
std::string Loaded(const std::string& ld_debug) {
  std::string out;
  size_t pos = 0;
  while ((pos = ld_debug.find("calling init: ", pos)) != std::string::npos) {
    pos += 14;
    const size_t end = ld_debug.find('\n', pos);
    out += ld_debug.substr(pos, end - pos) + "\n";
  }
  return out;
}

const std::vector<std::string> kLdDebug = {"LD_DEBUG=libs"};

TEST(LazyLibrariesTest, AQueryLoadsNoneOfThem) {
  TempDir dir;
  const std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslakeIn(lake, {"init"}).exit_code, 0);
  WriteFile(dir.Join("t.csv"), "a,b\n1,x\n2,y\n");
  ASSERT_EQ(RunSaleslakeIn(lake, {"upload", dir.Join("t.csv")}).exit_code, 0);
  ASSERT_EQ(RunSaleslakeIn(lake, {"crawl"}).exit_code, 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--version"},
        std::vector<std::string>{"--lake", lake, "query", "SELECT sum(a) AS s FROM raw_sales"}}) {
    CommandResult r = RunSaleslake(args, "", kLdDebug);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string loaded = Loaded(r.err);
    // The loader did report: the libraries that stay linked are there.
    ASSERT_NE(loaded.find("libzstd.so"), std::string::npos) << r.err.substr(0, 2000);
    for (const char* lib : kLazy) EXPECT_EQ(loaded.find(lib), std::string::npos) << lib << " in:\n" << loaded;
  }
}

TEST(LazyLibrariesTest, PlotLoadsCairo) {
  TempDir dir;
  std::string csv = "day,sales\n";
  for (int month = 3; month <= 4; ++month) {
    for (int d = 1; d <= 30; ++d) {
      char line[32];
      std::snprintf(line, sizeof line, "2025-%02d-%02d,%d\n", month, d, 100 + d % 7 * 9);
      csv += line;
    }
  }
  WriteFile(dir.Join("in.csv"), csv);
  CommandResult r = RunSaleslake({"forecast", "--input", dir.Join("in.csv"), "--date", "day", "--value", "sales",
                                  "--horizon", "7", "--plot", dir.Join("fc.png")},
                                 "", kLdDebug);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string loaded = Loaded(r.err);
  EXPECT_NE(loaded.find("libcairo.so.2"), std::string::npos) << loaded;
  EXPECT_EQ(loaded.find("libcurl.so"), std::string::npos) << loaded;
  EXPECT_EQ(ReadFile(dir.Join("fc.png")).rfind("\x89PNG", 0), 0u);
}

// A lake on a plain http:// S3 endpoint (here `saleslake serve`) is read and written over the
// store's own HTTP client: libcurl (and the ~23 libraries behind it, ~27 ms of CPU) is loaded
// only for https.
TEST(LazyLibrariesTest, ALakeOnAnHttpS3EndpointLoadsNoCurl) {
  TempDir dir;
  const std::string served = dir.Join("served");
  ASSERT_EQ(RunSaleslakeIn(served, {"init"}).exit_code, 0);
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(served, {"--access-log", ""}, &error)) << error;
  std::vector<std::string> env = {"AWS_SHARED_CREDENTIALS_FILE=" + served + "/_system/admin-credentials",
                                  "AWS_CONFIG_FILE=" + dir.Join("no-config"),
                                  "AWS_PROFILE=saleslake",
                                  "AWS_ACCESS_KEY_ID=",
                                  "AWS_SECRET_ACCESS_KEY=",
                                  "AWS_ENDPOINT_URL_S3=",
                                  "AWS_ENDPOINT_URL=" + server.url(),
                                  "LD_DEBUG=libs"};
  CommandResult r = RunSaleslake({"--lake", "s3://my-analytics-bucket/lake", "init"}, "", env);
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0);
  EXPECT_NE(r.out.find("lake s3://my-analytics-bucket/lake ready"), std::string::npos) << r.out;
  const std::string loaded = Loaded(r.err);
  EXPECT_EQ(loaded.find("libcurl.so"), std::string::npos) << loaded;
  EXPECT_EQ(loaded.find("libcairo.so"), std::string::npos) << loaded;
  server.Stop();
}

}  // namespace
}  // namespace saleslake::testing
