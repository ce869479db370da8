#include "etl/job_spec.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace saleslake::etl {
namespace {

TEST(JobSpecTest, ParsesTheDefaultPipelineThatInitWrites) {
  testing::TempDir dir;
  auto r = testing::RunSaleslake({"--lake", dir.Join("lake"), "init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text = testing::ReadFile(dir.Join("lake/pipeline.yaml"));
  auto jobs = ParseJobs("pipeline.yaml", text);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  auto job = FindJob(*jobs, "my-etl-job");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->source_table, "raw_sales");
  EXPECT_EQ(job->target_table, "sales_data");
  EXPECT_EQ(job->target_location, "processed_data/sales_data/");
  EXPECT_EQ(job->compression, "zstd");
  EXPECT_EQ(job->partition_by, (std::vector<std::string>{"region", "purchase_month"}));
  ASSERT_EQ(job->columns.size(), 7u);
  EXPECT_EQ(job->columns[6].first, "purchase_month");
  EXPECT_EQ(job->columns[6].second, "date_format(purchase_date, '%Y-%m')");
  ASSERT_EQ(job->rules.size(), 2u);
  EXPECT_EQ(job->rules[0].check, RuleCheck::kNotNull);
  EXPECT_EQ(job->rules[1].name, "negative_amount");
  EXPECT_EQ(job->rules[1].action, RuleAction::kFlag);
  EXPECT_EQ(*job->rules[1].min, 0.0);
  EXPECT_EQ(job->flag_values.at("status"), std::vector<std::string>{"OUT"});
  EXPECT_EQ(job->pii_tokenize, std::vector<std::string>{"customer_id"});
  EXPECT_EQ(job->pii_scan, PiiAction::kMask);
  ASSERT_EQ(job->quality.size(), 1u);
  EXPECT_EQ(*job->quality[0].warn, 0.08);
  EXPECT_EQ(FindJob(*jobs, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_NE(FindJob(*jobs, "nope").status().message().find("my-etl-job"), std::string::npos);
}

TEST(JobSpecTest, ErrorsNameTheLineAndColumn) {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"jobs:\n  - name: a\n    source: s\n    target: {table: t}\n    colums: {}\n",
       "p.yaml:5:5: job 'a': unknown key 'colums'"},
      {"jobs:\n  - name: a\n    target: {table: t}\n", "p.yaml:2:5: job 'a': needs a 'source' table"},
      {"jobs:\n  - name: a\n    source: s\n    target: {table: t, format: csv}\n",
       "job 'a': target format must be parquet"},
      {"jobs:\n  - name: a\n    source: s\n    target: {table: t}\n    quality: {bogus: {warn: 1}}\n",
       "unknown quality metric 'bogus'"},
      {"jobs:\n  - name: a\n    source: s\n    target: {table: t}\n    rules: [{column: x, check: range}]\n",
       "a range rule needs min and/or max"},
      {"jobs:\n  - name: a\n    source: s\n    target: {table: t}\n    pii: {scan_strings: shred}\n",
       "unknown PII action 'shred'"},
      {"jobs: [\n", "p.yaml:2:1:"},
      {"jobs:\n  - {name: a, source: s, target: {table: t}}\n  - {name: a, source: s, target: {table: t}}\n",
       "job 'a' is defined twice"},
  };
  for (const Case& c : cases) {
    auto r = ParseJobs("p.yaml", c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << "got: " << r.status().message() << "\nwanted: " << c.expected;
  }
}

TEST(JobSpecTest, EmptyPipelineHasNoJobs) {
  EXPECT_TRUE(ParseJobs("p.yaml", "")->empty());
  EXPECT_TRUE(ParseJobs("p.yaml", "version: 1\n")->empty());
}

}  // namespace
}  // namespace saleslake::etl
