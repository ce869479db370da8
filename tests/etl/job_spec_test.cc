#include "etl/job_spec.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace saleslake::etl {
namespace {

TEST(JobSpecTest, CountsAreDeclaredOrTheSalesDefaults) {
  auto declared = ParseJobs("p.yaml", R"(jobs:
  - name: j
    source: s
    target: {table: t}
    counts:
      refunds: {column: status, equals: REFUNDED}
      no_price: {column: price, is: null}
      debits: {column: price, is: negative}
    date_range: sold_on
    quality: {refunds_share: {warn: 0.1}}
)");
  ASSERT_TRUE(declared.ok()) << declared.status().ToString();
  const JobSpec& j = (*declared)[0];
  ASSERT_EQ(j.counts.size(), 3u);
  EXPECT_EQ(j.counts[0].name, "refunds");
  EXPECT_EQ(j.counts[0].kind, CountKind::kEquals);
  EXPECT_EQ(j.counts[0].value, "REFUNDED");
  EXPECT_EQ(j.counts[1].kind, CountKind::kNull);
  EXPECT_EQ(j.counts[2].kind, CountKind::kNegative);
  EXPECT_EQ(j.date_range_column, "sold_on");
  EXPECT_TRUE(j.counts_declared);
  EXPECT_EQ(j.quality[0].metric, "refunds_share");

  // A threshold over a count the job does not have is refused with its position.
  auto unknown = ParseJobs("p.yaml", "jobs:\n  - name: j\n    source: s\n    target: {table: t}\n"
                                     "    counts: {refunds: {column: status, equals: R}}\n"
                                     "    quality: {missing_amount_share: {warn: 0.1}}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("p.yaml:6:15: job 'j': unknown quality metric 'missing_amount_share'"),
            std::string::npos) << unknown.status().message();
  auto bad = ParseJobs("p.yaml", "jobs:\n  - name: j\n    source: s\n    target: {table: t}\n"
                                 "    counts: {x: {column: a, is: big}}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'is' must be null or negative"), std::string::npos);

  // Without `counts:` the sales defaults apply, and the old metric names still read.
  auto legacy = ParseJobs("p.yaml", "jobs:\n  - name: j\n    source: s\n    target: {table: t}\n"
                                    "    quality: {out_share: {warn: 0.1}, negative_amount_share: {fail: 0.5}}\n");
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  EXPECT_FALSE((*legacy)[0].counts_declared);
  ASSERT_EQ((*legacy)[0].counts.size(), 3u);
  EXPECT_EQ((*legacy)[0].counts[0].name, "missing_amount");
  EXPECT_EQ((*legacy)[0].quality[0].metric, "out_rows_share");
  EXPECT_EQ((*legacy)[0].quality[1].metric, "negative_amounts_share");
  EXPECT_EQ((*legacy)[0].date_range_column, "purchase_date");
}

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
  ASSERT_EQ(job->quality.size(), 2u);  // missing amounts > 10%, quarantined rows > 1%
  EXPECT_EQ(*job->quality[0].warn, 0.10);
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
