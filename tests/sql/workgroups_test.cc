#include "sql/workgroups.h"

#include <gtest/gtest.h>

namespace saleslake::sql {
namespace {

// pipeline.yaml's workgroups: primary always first (its limits replaced when declared), others
// in order; bad entries are refused with the workgroup named.
TEST(WorkGroupsTest, ParsedFromPipelineYaml) {
  auto none = ParseWorkGroups("jobs: []\n");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  ASSERT_EQ(none->size(), 1u);
  EXPECT_EQ((*none)[0].name, "primary");
  EXPECT_EQ((*none)[0].bytes_scanned_cutoff_per_query, 0u);
  auto some = ParseWorkGroups(
      "workgroups:\n"
      "  - name: analysts\n    bytes_scanned_cutoff_per_query: 10000000\n    max_concurrent_queries: 1\n"
      "    query_time_limit_seconds: 90\n"
      "  - name: primary\n    max_concurrent_queries: 2\n");
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ((*some)[0].name, "primary");
  EXPECT_EQ((*some)[0].max_concurrent_queries, 2);
  EXPECT_EQ((*some)[1].name, "analysts");
  EXPECT_EQ((*some)[1].bytes_scanned_cutoff_per_query, 10000000u);
  EXPECT_EQ((*some)[1].max_concurrent_queries, 1);
  EXPECT_EQ((*some)[1].query_time_limit_seconds, 90);
  EXPECT_EQ((*some)[0].query_time_limit_seconds, 0);
  for (const char* bad : {"workgroups: 3\n", "workgroups:\n  - cutoff: 1\n",
                          "workgroups:\n  - name: a\n  - name: a\n",
                          "workgroups:\n  - name: a\n    bytes_scanned_cutoff_per_query: -1\n",
                          "workgroups:\n  - name: a\n    query_time_limit_seconds: -1\n",
                          "workgroups:\n  - name: 'a b'\n", "workgroups: [\n",
                          "workgroups:\n  - name: a\n    max_concurent_queries: 1\n"}) {
    auto r = ParseWorkGroups(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // Errors say where, as file:line:col.
  const std::vector<std::pair<std::string, std::string>> where = {
      {"jobs: []\nworkgroups:\n  - name: a\n    max_concurrent_queries: -2\n",
       "lake/pipeline.yaml:4:29: workgroup a: max_concurrent_queries must be >= 0"},
      {"workgroups:\n  - name: a\n  - name: a\n", "lake/pipeline.yaml:3:5: workgroup a: declared twice"},
      {"workgroups: 3\n", "lake/pipeline.yaml:1:13: workgroups: must be a list"},
      {"workgroups:\n  - name: a\n   bad: [\n", "lake/pipeline.yaml:3:"},
      {"workgroups:\n  - name: a\n    max_concurent_queries: 1\n",
       "lake/pipeline.yaml:3:5: workgroup a: unknown key 'max_concurent_queries' (did you mean 'max_concurrent_queries'?)"},
  };
  for (const auto& [text, want] : where) {
    auto r = ParseWorkGroups(text, "lake/pipeline.yaml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message().rfind(want, 0), 0u) << r.status().message();
  }
}

}  // namespace
}  // namespace saleslake::sql
