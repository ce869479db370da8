// Messages a new user meets: one clean line each, with the fix; "did you mean"; the
// subcommand's usage; JSON errors with --log-format json; a folder that is not a lake; an
// unknown pipeline version; why a run failed; a capped list of rejected rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(MessagesTest, DidYouMeanForSubcommandsAndFlags) {
  auto r = RunSaleslake({"qurey", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'qurey'; did you mean 'query'?"), std::string::npos) << r.err;
  r = RunSaleslake({"query", "--fromat", "csv", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option '--fromat'; did you mean '--format'?"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("see 'saleslake query --help'"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
}

TEST(MessagesTest, UsageErrorsShowTheSubcommandsUsage) {
  auto r = RunSaleslake({"generate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: saleslake generate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("see 'saleslake generate --help'"), std::string::npos) << r.err;
  r = RunSaleslake({"catalog", "snapshots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("see 'saleslake catalog snapshots --help'"), std::string::npos) << r.err;
}

TEST(MessagesTest, JsonLogFormatCoversErrors) {
  TempDir dir;
  const std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslakeIn(lake, {"init"}).exit_code, 0);
  auto r = RunSaleslake({"--lake", lake, "--log-format", "json", "query", "SELECT nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("{\"time\":", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("\"level\":\"error\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("column 'nope' not found"), std::string::npos) << r.err;
  r = RunSaleslake({"--log-format", "json", "query", "--fromat", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("{\"time\":", 0), 0u) << r.err;
}

TEST(MessagesTest, AFolderThatIsNotALake) {
  TempDir dir;
  auto r = RunSaleslakeIn(dir.path(), {"tables"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a lake: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run `saleslake init`"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(MessagesTest, UnknownPipelineVersionIsRefused) {
  TempDir dir;
  const std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslakeIn(lake, {"init"}).exit_code, 0);
  std::string yaml = ReadFile(lake + "/pipeline.yaml");
  yaml.replace(yaml.find("version: 1"), 10, "version: 2");
  WriteFile(lake + "/pipeline.yaml", yaml);
  auto r = RunSaleslakeIn(lake, {"crawl"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pipeline version '2' is not supported: this saleslake reads version 1"), std::string::npos)
      << r.err;
  r = RunSaleslakeIn(lake, {"start-job", "--job-name", "my-etl-job"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pipeline version '2' is not supported"), std::string::npos) << r.err;
}

TEST(MessagesTest, FailedRunsSayWhyAndJobErrorsNameTheJobOnce) {
  TempDir dir;
  const std::string lake = dir.Join("lake");
  ASSERT_EQ(RunSaleslakeIn(lake, {"init"}).exit_code, 0);
  auto r = RunSaleslakeIn(lake, {"start-job", "--job-name", "my-etl-job"});  // nothing crawled yet
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err.find("job my-etl-job: job"), std::string::npos) << r.err;
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\''), 4) << r.err;
  auto runs = RunSaleslakeIn(lake, {"runs"});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("  failed: "), std::string::npos) << runs.out;
}

TEST(MessagesTest, ConvertNamesMaxErrorsAndCapsTheRejectedRows) {
  TempDir dir;
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "20000", "--messy", "--out", dir.Join("m.csv")}).exit_code, 0);
  auto r = RunSaleslake({"convert", dir.Join("m.csv"), dir.Join("m.parquet")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pass --max-errors N"), std::string::npos) << r.err;
  r = RunSaleslake({"convert", dir.Join("m.csv"), dir.Join("m.parquet"), "--max-errors", "100000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(Lines(r.err), 11u) << r.err;
  EXPECT_NE(r.err.find("more rows ("), std::string::npos) << r.err;
}

TEST(MessagesTest, EveryHelpHasExamplesAndDefaults) {
  for (std::vector<std::string> cmd :
       std::vector<std::vector<std::string>>{{"init"}, {"upload"}, {"crawl"}, {"tables"}, {"describe"},
                                             {"catalog"}, {"catalog", "export-ddl"}, {"catalog", "snapshots"},
                                             {"catalog", "expire"}, {"start-job"}, {"runs"}, {"query"},
                                             {"forecast"}, {"convert"}, {"cat"}, {"parquet-meta"}, {"generate"}}) {
    cmd.push_back("--help");
    auto r = RunSaleslake(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd[0];
    const size_t at = r.out.find("Examples:\n");
    ASSERT_NE(at, std::string::npos) << cmd[0] << ":\n" << r.out;
    const size_t examples = Lines(r.out.substr(at)) - 1;
    EXPECT_GE(examples, 1u) << cmd[0];
    EXPECT_LE(examples, 3u) << cmd[0];
    EXPECT_NE(r.out.find("saleslake " + cmd[0]), std::string::npos) << r.out;
  }
  // Defaults are shown: a flag with a default prints it.
  auto q = RunSaleslake({"start-job", "--help"});
  EXPECT_NE(q.out.find("=256"), std::string::npos) << q.out;
}

}  // namespace
}  // namespace saleslake::testing
