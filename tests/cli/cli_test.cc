// The command-line contract: help everywhere, exit codes, one-line errors, init/upload/generate.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>
#include <sstream>

#include "support/test_support.h"

namespace saleslake {
namespace {

using testing::RunSaleslake;
using testing::TempDir;

size_t LineCount(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Subcommand names listed under "Subcommands:" in a --help text.
std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool in_list = false;
  while (std::getline(in, line)) {
    if (line.rfind("Subcommands:", 0) == 0) { in_list = true; continue; }
    if (!in_list) continue;
    std::smatch m;
    if (std::regex_search(line, m, std::regex("^  ([a-z][a-z0-9-]*)"))) out.push_back(m[1]);
  }
  return out;
}

TEST(CliTest, EverySubcommandHasHelp) {
  auto top = RunSaleslake({"--help"});
  ASSERT_EQ(top.exit_code, 0);
  auto subs = Subcommands(top.out);
  ASSERT_GE(subs.size(), 3u) << top.out;
  for (const auto& sub : subs) {
    auto r = RunSaleslake({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << sub;
    for (const auto& nested : Subcommands(r.out)) {  // e.g. "catalog export-ddl"
      auto n = RunSaleslake({sub, nested, "--help"});
      EXPECT_EQ(n.exit_code, 0) << sub << " " << nested;
    }
  }
}

TEST(CliTest, UsageErrorsExitTwoWithOneLine) {
  std::vector<std::vector<std::string>> bad = {
      {"frob"}, {"--bogus"}, {}, {"init", "--what"}, {"generate"}, {"generate", "--rows", "x"},
      {"upload"}, {"--log-format", "xml", "init"}};
  for (const auto& args : bad) {
    auto r = RunSaleslake(args);
    std::string shown;
    for (auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown;
    EXPECT_EQ(LineCount(r.err), 1u) << shown << ": " << r.err;
    EXPECT_EQ(r.err.rfind("saleslake: usage error: ", 0), 0u) << r.err;
  }
  EXPECT_NE(RunSaleslake({"frob"}).err.find("unknown command 'frob'"), std::string::npos);
}

TEST(CliTest, Version) {
  auto r = RunSaleslake({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("saleslake ", 0), 0u);
}

TEST(CliTest, InitIsIdempotentAndKeepsUserFiles) {
  TempDir dir;
  std::string lake = dir.Join("lake");
  auto r = RunSaleslake({"--lake", lake, "init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* d : {"raw_data", "processed_data", "quarantine", "catalog", "jobs", "queries",
                        "dashboards", "streams", "_system"}) {
    struct stat st;
    EXPECT_EQ(stat((lake + "/" + d).c_str(), &st), 0) << d;
  }
  struct stat st;
  ASSERT_EQ(stat((lake + "/_system/secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string key = testing::ReadFile(lake + "/_system/secret.key");
  EXPECT_EQ(key.size(), 65u);
  std::string pipeline = testing::ReadFile(lake + "/pipeline.yaml");
  EXPECT_NE(pipeline.find("my-etl-job"), std::string::npos);
  EXPECT_NE(pipeline.find("raw-crawler"), std::string::npos);
  testing::WriteFile(lake + "/pipeline.yaml", "# mine\n");
  r = RunSaleslake({"--lake", lake, "init"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("nothing to create"), std::string::npos);
  EXPECT_EQ(testing::ReadFile(lake + "/pipeline.yaml"), "# mine\n");
  EXPECT_EQ(testing::ReadFile(lake + "/_system/secret.key"), key);
}

TEST(CliTest, LakeFromEnvironment) {
  TempDir dir;
  auto r = RunSaleslake({"init"}, "", {"SALESLAKE_LAKE=" + dir.Join("envlake")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st;
  EXPECT_EQ(stat(dir.Join("envlake/raw_data").c_str(), &st), 0);
}

TEST(CliTest, GenerateIntoLakeThenUploadRecordsAnEvent) {
  TempDir dir;
  std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslake({"--lake", lake, "init"}).exit_code, 0);
  auto g = RunSaleslake({"--lake", lake, "generate", "--rows", "1000", "--seed", "5"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  std::string csv = testing::ReadFile(lake + "/raw_data/sales.csv");
  EXPECT_EQ(LineCount(csv), 1001u);

  auto o = RunSaleslake({"generate", "--rows", "500", "--out", dir.Join("extra.csv")});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto u = RunSaleslake({"--lake", lake, "upload", dir.Join("extra.csv")});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(testing::ReadFile(lake + "/raw_data/extra.csv"), testing::ReadFile(dir.Join("extra.csv")));
  // Both went through the landing zone's one door: each has its object.created event.
  std::string events = testing::ReadFile(lake + "/_system/events.jsonl");
  EXPECT_EQ(LineCount(events), 2u);
  EXPECT_NE(events.find("\"key\":\"raw_data/sales.csv\""), std::string::npos);
  EXPECT_NE(events.find("\"type\":\"object.created\""), std::string::npos);
  EXPECT_NE(events.find("\"key\":\"raw_data/extra.csv\""), std::string::npos);
  EXPECT_TRUE(std::regex_search(events, std::regex("\"sha256\":\"[0-9a-f]{64}\"")));

  auto missing = RunSaleslake({"--lake", lake, "upload", dir.Join("nope.csv")});
  EXPECT_EQ(missing.exit_code, 2);  // CLI11 checks the file exists
  auto escape = RunSaleslake({"--lake", lake, "upload", dir.Join("extra.csv"), "--to", "../outside"});
  EXPECT_EQ(escape.exit_code, 1);
  EXPECT_NE(escape.err.find("escape"), std::string::npos) << escape.err;
  auto no_lake = RunSaleslake({"--lake", dir.Join("absent"), "upload", dir.Join("extra.csv")});
  EXPECT_EQ(no_lake.exit_code, 1);
  EXPECT_EQ(LineCount(no_lake.err), 1u);
}

// Long commands draw a progress line on stderr only on a terminal (a pipe here: nothing), or when
// SALESLAKE_PROGRESS=always; the line is erased at the end, and stdout is the same either way.
TEST(CliTest, ProgressLinesOnlyOnATerminalOrWhenAsked) {
  TempDir dir;
  std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslake({"--lake", lake, "init"}).exit_code, 0);
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "20000", "--seed", "9", "--out", dir.Join("p.csv")}).exit_code, 0);
  const std::vector<std::string> always = {"SALESLAKE_PROGRESS=always"};
  auto quiet = RunSaleslake({"--lake", lake, "upload", dir.Join("p.csv"), "--to", "elsewhere/"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");
  auto shown = RunSaleslake({"--lake", lake, "upload", dir.Join("p.csv")}, "", always);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.err.rfind("\rupload raw_data/p.csv  ", 0), 0u) << shown.err;
  EXPECT_NE(shown.err.find(" / "), std::string::npos) << shown.err;
  EXPECT_TRUE(shown.err.ends_with("\r\033[K")) << shown.err;
  EXPECT_EQ(shown.out.rfind("uploaded " + dir.Join("p.csv") + " -> raw_data/p.csv (", 0), 0u) << shown.out;

  auto crawl = RunSaleslake({"--lake", lake, "crawl"}, "", always);
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.err.find("\rcrawl "), std::string::npos) << crawl.err;
  auto job = RunSaleslake({"--lake", lake, "start-job", "--job-name", "my-etl-job"}, "", always);
  ASSERT_EQ(job.exit_code, 0) << job.err;
  EXPECT_EQ(job.err.rfind("\rstart-job my-etl-job  ", 0), 0u) << job.err;
  EXPECT_NE(job.err.find("%"), std::string::npos) << job.err;
  EXPECT_TRUE(job.err.ends_with("\r\033[K")) << job.err;
  auto convert = RunSaleslake({"convert", dir.Join("p.csv"), dir.Join("p.parquet")}, "", always);
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  EXPECT_EQ(convert.err.rfind("\rconvert " + dir.Join("p.parquet"), 0), 0u) << convert.err;
  auto never = RunSaleslake({"convert", dir.Join("p.csv"), dir.Join("q.parquet")}, "", {"SALESLAKE_PROGRESS=never"});
  ASSERT_EQ(never.exit_code, 0) << never.err;
  EXPECT_EQ(never.err, "");
  // forecast counts series: 8 regions, each forecast and backtested against the baseline.
  const std::vector<std::string> fc = {"--lake", lake, "forecast", "--query",
                                       "SELECT purchase_date, region, amount FROM sales_data", "--date", "purchase_date",
                                       "--value", "amount", "--by", "region", "--horizon", "7", "--backtest", "2",
                                       "--duplicates", "sum", "--format", "csv"};
  auto forecast = RunSaleslake(fc, "", always);
  ASSERT_EQ(forecast.exit_code, 0) << forecast.err;
  EXPECT_EQ(forecast.err.rfind("\rforecast  ", 0), 0u) << forecast.err;
  EXPECT_NE(forecast.err.find("/ 16 series"), std::string::npos) << forecast.err;
  EXPECT_TRUE(forecast.err.ends_with("\r\033[K")) << forecast.err;
  auto piped = RunSaleslake(fc);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err, "");
  EXPECT_EQ(piped.out, forecast.out);
  // query shows the bytes its scans read, and erases the line before its rows.
  const std::vector<std::string> q = {"--lake", lake, "query", "SELECT count(*) AS n FROM sales_data WHERE amount > 0"};
  auto query = RunSaleslake(q, "", always);
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.err.rfind("\rquery  ", 0), 0u) << query.err;
  EXPECT_TRUE(query.err.ends_with("\r\033[K")) << query.err;
  auto plain = RunSaleslake(q);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err, "");
  EXPECT_EQ(plain.out, query.out);
}

}  // namespace
}  // namespace saleslake
