// End-to-end ETL runs through the CLI on generated data: accounting, DuckDB agreement, PII,
// bookmarks, crash safety.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "etl/etl_test_util.h"
#include "support/test_support.h"

namespace saleslake {
namespace {

using testing::RunSaleslake;

// A job without SQL expressions in its mappings, partitioned by region.
constexpr const char* kPipeline = R"(crawlers:
  - {name: raw-crawler, path: raw_data/, table: raw_sales}
jobs:
  - name: test-job
    source: raw_sales
    target: {table: sales_data, location: processed_data/sales_data/, partition_by: [region], compression: zstd}
    rules:
      - {column: purchase_date, check: not_null, action: reject}
      - {column: amount, check: range, min: 0, action: flag, name: negative_amount}
    flag_values: {status: [OUT]}
    pii: {tokenize: [customer_id], scan_strings: mask}
    quality: {missing_amount_share: {warn: 0.01}}
)";

class EtlIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    ASSERT_EQ(Sl({"init"}).exit_code, 0);
    testing::WriteFile(lake_ + "/pipeline.yaml", kPipeline);
  }
  testing::CommandResult Sl(std::vector<std::string> args) { return testing::RunSaleslakeIn(lake_, std::move(args)); }
  void Generate(const std::string& name, int rows, int seed, bool messy) {
    std::vector<std::string> args = {"generate", "--rows", std::to_string(rows), "--seed",
                                     std::to_string(seed), "--out", dir_.Join(name)};
    if (messy) args.push_back("--messy");
    ASSERT_EQ(RunSaleslake(args).exit_code, 0);
    auto up = Sl({"upload", dir_.Join(name)});
    ASSERT_EQ(up.exit_code, 0) << up.err;
    auto crawl = Sl({"crawl"});
    ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  }
  nlohmann::json StartJob() {
    auto r = Sl({"start-job", "--job-name", "test-job", "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  // Every byte under processed_data, concatenated (Parquet pages are zstd-compressed, so the
  // check also decompresses by reading through DuckDB where available; this catches plain
  // dictionary pages and metadata).
  std::string ProcessedBytes() {
    std::string all;
    for (auto& e : std::filesystem::recursive_directory_iterator(lake_ + "/processed_data"))
      if (e.is_regular_file()) all += testing::ReadFile(e.path());
    return all;
  }
  testing::TempDir dir_;
  std::string lake_;
};

TEST_F(EtlIntegrationTest, CleanDataLoadsEveryRowAndAgreesWithDuckDb) {
  Generate("a.csv", 20000, 1, false);
  auto rep = StartJob();
  ASSERT_FALSE(rep.is_discarded());
  EXPECT_EQ(rep["status"], "warned");  // ~5% missing amounts > the 1% warn threshold
  EXPECT_EQ(rep["rows_read"], 20000);
  EXPECT_EQ(rep["rows_loaded"], 20000);
  EXPECT_EQ(rep["rows_quarantined"], 0);
  EXPECT_GT(rep["missing_amount"].get<int>(), 600);
  EXPECT_GT(rep["out_rows"].get<int>(), 0);
  EXPECT_EQ(rep["flagged"]["status_OUT"], rep["out_rows"]);
  EXPECT_EQ(rep["tokenized_values"], 20000);
  EXPECT_EQ(rep["rows_per_partition"].size(), 8u);
  EXPECT_EQ(rep["alerts"].size(), 1u);
  EXPECT_NE(testing::ReadFile(lake_ + "/_system/alerts.jsonl").find("missing_amount_share"), std::string::npos);
  EXPECT_EQ(ProcessedBytes().find("CUST-"), std::string::npos);

  // A rerun with nothing new is a no-op.
  auto again = StartJob();
  EXPECT_EQ(again["status"], "no_op");
  EXPECT_EQ(again["snapshot_id"], rep["snapshot_id"]);

  // A second file adds exactly its rows.
  Generate("b.csv", 5000, 2, false);
  auto second = StartJob();
  EXPECT_EQ(second["rows_read"], 5000);
  EXPECT_EQ(second["rows_loaded"], 5000);
  auto runs = Sl({"runs", "--job", "test-job"});
  EXPECT_NE(runs.out.find("(3 runs)"), std::string::npos) << runs.out;

  SL_REQUIRE_DUCKDB();
  std::string raw = "read_csv(['" + dir_.Join("a.csv") + "','" + dir_.Join("b.csv") +
                    "'], header=true, columns={'purchase_date':'DATE','customer_id':'VARCHAR',"
                    "'product_id':'VARCHAR','amount':'DOUBLE','region':'VARCHAR','status':'VARCHAR'})";
  std::string q = "SELECT region, count(*) AS n, round(sum(amount), 2) AS revenue, "
                  "count(DISTINCT customer_id) AS customers FROM ";
  auto expected = testing::RunDuckDb(q + raw + " GROUP BY region ORDER BY region");
  auto ours = testing::RunDuckDb(q + "read_parquet('" + lake_ +
                                 "/processed_data/sales_data/**/*.parquet', hive_partitioning=true)"
                                 " GROUP BY region ORDER BY region");
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(ours.out, expected.out);
  auto leaked = testing::RunDuckDb(
      "SELECT count(*) AS n FROM read_parquet('" + lake_ + "/processed_data/sales_data/**/*.parquet') "
      "WHERE customer_id LIKE 'CUST-%' OR customer_id NOT LIKE 'tok_%'");
  EXPECT_EQ(leaked.out, "n\n0\n");
}

TEST_F(EtlIntegrationTest, SmallBufferBudgetCutsRowGroupsAndKeepsEveryRow) {
  // 10 KB for all open partitions: every partition writes its row group out after almost every
  // batch. The data must be the same as with the default budget, just in more row groups.
  Generate("a.csv", 20000, 3, false);
  auto r = Sl({"start-job", "--job-name", "test-job", "--format", "json", "--buffer-mb", "0.01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rep = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(rep["rows_loaded"], 20000);
  EXPECT_EQ(rep["files_written"], 8);
  EXPECT_EQ(Sl({"start-job", "--job-name", "test-job", "--buffer-mb", "0"}).exit_code, 2);

  SL_REQUIRE_DUCKDB();
  std::string files = "'" + lake_ + "/processed_data/sales_data/**/*.parquet'";
  auto groups = testing::RunDuckDb("SELECT count(DISTINCT (file_name, row_group_id)) > 8 AS many, "
                                   "CAST(sum(row_group_num_rows) / 6 AS BIGINT) AS rows FROM parquet_metadata(" + files + ")");
  ASSERT_EQ(groups.exit_code, 0) << groups.err;
  EXPECT_EQ(groups.out, "many,rows\ntrue,20000\n");
  std::string q = "SELECT region, count(*) AS n, round(sum(amount), 2) AS revenue FROM ";
  auto expected = testing::RunDuckDb(q + "read_csv('" + dir_.Join("a.csv") +
                                     "', header=true) GROUP BY region ORDER BY region");
  auto ours = testing::RunDuckDb(q + "read_parquet(" + files + ", hive_partitioning=true) GROUP BY region ORDER BY region");
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(ours.out, expected.out);
}

TEST_F(EtlIntegrationTest, ExactDuplicatesAreCountedOnTheRawFields) {
  // Three copies of one line, two of another: 2 + 1 duplicates. A line that differs only in an
  // empty (NULL) amount versus "0" is not a duplicate of its twin.
  std::string csv = "purchase_date,customer_id,product_id,amount,region,status\n";
  const std::string a = "2025-03-01,CUST-1,SKU-1,10.00,Europe,COMPLETED\n";
  const std::string b = "2025-03-02,CUST-2,SKU-2,20.00,Asia,REFUNDED\n";
  csv += a + b + a + "2025-03-03,CUST-3,SKU-3,,Africa,COMPLETED\n" + a + b +
         "2025-03-03,CUST-3,SKU-3,0,Africa,COMPLETED\n";
  // The same fields quoted are the same row (one more duplicate of a); a field holding the
  // delimiter, twice (one more); and not a duplicate of the row whose fields split differently.
  csv += "\"2025-03-01\",\"CUST-1\",SKU-1,10.00,\"Europe\",COMPLETED\n";
  const std::string c = "2025-03-04,CUST-4,\"SKU-4,blue\",5.00,Europe,COMPLETED\n";
  csv += c + c + "2025-03-04,\"CUST-4,SKU-4\",blue,5.00,Europe,COMPLETED\n";
  testing::WriteFile(dir_.Join("dups.csv"), csv);
  ASSERT_EQ(Sl({"upload", dir_.Join("dups.csv")}).exit_code, 0);
  auto crawl = Sl({"crawl"});
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  auto rep = StartJob();
  EXPECT_EQ(rep["rows_read"], 11);
  EXPECT_EQ(rep["exact_duplicates"], 5);
}

TEST_F(EtlIntegrationTest, MessyDataIsCleanedOrQuarantinedNeverLost) {
  Generate("m.csv", 40000, 9, true);
  auto rep = StartJob();
  ASSERT_FALSE(rep.is_discarded());
  uint64_t read = rep["rows_read"], loaded = rep["rows_loaded"], quarantined = rep["rows_quarantined"];
  EXPECT_EQ(read, loaded + quarantined);
  EXPECT_GT(quarantined, 0u);
  EXPECT_GT(rep["quarantined_by_reason"]["malformed_row"].get<int>(), 0);      // wrong field counts
  EXPECT_GT(rep["quarantined_by_reason"]["type:purchase_date"].get<int>(), 0); // unparseable dates
  EXPECT_GT(rep["fixed_values"]["amount"].get<int>(), 0);    // "$12.50", "1,234.50", spaces
  EXPECT_GT(rep["fixed_values"]["purchase_date"].get<int>(), 0);  // 2025/03/14
  EXPECT_GT(rep["negative_amounts"].get<int>(), 0);
  EXPECT_GT(rep["blank_lines"].get<int>(), 0);
  // The quarantine file holds one line per quarantined row, each with its reason and raw text.
  std::string q = testing::ReadFile(lake_ + "/" + rep["quarantine"].get<std::string>());
  size_t lines = std::count(q.begin(), q.end(), '\n');
  EXPECT_EQ(lines, quarantined);
  EXPECT_NE(q.find("\"reason\""), std::string::npos);
  EXPECT_NE(q.find("\"raw\""), std::string::npos);
  // Every entry points at a real line of the input whose text is the raw record.
  std::string input = testing::ReadFile(dir_.Join("m.csv"));
  std::vector<std::string> input_lines;
  for (size_t pos = 0; pos < input.size();) {
    size_t nl = input.find('\n', pos);
    input_lines.push_back(input.substr(pos, nl - pos));
    pos = nl + 1;
  }
  size_t checked = 0;
  for (size_t pos = 0; pos < q.size(); ++checked) {
    size_t nl = q.find('\n', pos);
    auto entry = nlohmann::json::parse(q.substr(pos, nl - pos));
    pos = nl + 1;
    uint64_t line = entry["line"];
    ASSERT_GE(line, 2u) << entry.dump();
    ASSERT_LE(line, input_lines.size());
    if (entry["reason"].get<std::string>().rfind("type:", 0) == 0) {
      EXPECT_EQ(entry["raw"], input_lines[line - 1]) << entry.dump();
    }
  }
  EXPECT_EQ(checked, quarantined);
  // E-mail addresses given as customer_id are tokenized like any id: none reaches the lake.
  EXPECT_EQ(ProcessedBytes().find("@example.com"), std::string::npos);
  SL_REQUIRE_DUCKDB();
  auto n = testing::RunDuckDb("SELECT count(*) AS n FROM read_parquet('" + lake_ +
                              "/processed_data/sales_data/**/*.parquet')");
  EXPECT_EQ(n.out, "n\n" + std::to_string(loaded) + "\n");
}

TEST_F(EtlIntegrationTest, KilledRunLeavesThePreviousSnapshotAndTheRerunCompletes) {
  Generate("a.csv", 3000, 1, false);
  auto first = StartJob();
  ASSERT_EQ(first["status"], "warned");
  Generate("b.csv", 2000, 2, false);
  // Start a run that pauses before its commit, and kill it there once its data files exist
  // (written before the pause).
  int pid = testing::SpawnSaleslake({"--lake", lake_, "start-job", "--job-name", "test-job"},
                                    {"SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS=60000"});
  ASSERT_GT(pid, 0);
  const std::string first_run = first["run_id"];
  ASSERT_TRUE(testing::KillWhen(pid, [&] { return testing::OtherRunWroteDataFiles(lake_, first_run); }));
  auto desc = Sl({"describe", "sales_data", "--format", "json"});
  auto d = nlohmann::json::parse(desc.out, nullptr, false);
  ASSERT_FALSE(d.is_discarded()) << desc.out << desc.err;
  EXPECT_EQ(d["snapshot_id"], first["snapshot_id"]);
  EXPECT_EQ(d["row_count"], 3000);
  // The rerun takes over the dead run's lock, removes its files and loads b.csv exactly once.
  auto rerun = StartJob();
  EXPECT_EQ(rerun["rows_loaded"], 2000);
  auto after = nlohmann::json::parse(Sl({"describe", "sales_data", "--format", "json"}).out, nullptr, false);
  EXPECT_EQ(after["row_count"], 5000);
  SL_REQUIRE_DUCKDB();
  auto n = testing::RunDuckDb("SELECT count(*) AS n FROM read_parquet('" + lake_ +
                              "/processed_data/sales_data/**/*.parquet')");
  EXPECT_EQ(n.out, "n\n5000\n") << n.err;  // no orphan of the killed run is left for other engines to see
}

TEST_F(EtlIntegrationTest, BadJobsFailClearly) {
  auto missing = Sl({"start-job", "--job-name", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no job named 'nope'"), std::string::npos) << missing.err;
  auto no_source = Sl({"start-job", "--job-name", "test-job"});  // nothing crawled yet
  EXPECT_EQ(no_source.exit_code, 1);
  EXPECT_NE(no_source.err.find("raw_sales"), std::string::npos) << no_source.err;
  auto bad_flag = Sl({"start-job"});
  EXPECT_EQ(bad_flag.exit_code, 2);
}

}  // namespace
}  // namespace saleslake

namespace saleslake {
namespace {

// The default job of `saleslake init`, with its SQL column mappings, on messy data.
TEST(EtlDefaultJobTest, DefaultPipelineRunsWithSqlMappings) {
  testing::TempDir dir;
  std::string lake = dir.Join("lake");
  auto sl = [&](std::vector<std::string> args) { return testing::RunSaleslakeIn(lake, std::move(args)); };
  ASSERT_EQ(sl({"init"}).exit_code, 0);
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "20000", "--messy", "--out", dir.Join("s.csv")}).exit_code, 0);
  ASSERT_EQ(sl({"upload", dir.Join("s.csv")}).exit_code, 0);
  ASSERT_EQ(sl({"crawl"}).exit_code, 0);
  auto r = sl({"start-job", "--job-name", "my-etl-job", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rep = nlohmann::json::parse(r.out);
  EXPECT_EQ(rep["rows_read"].get<uint64_t>(),
            rep["rows_loaded"].get<uint64_t>() + rep["rows_quarantined"].get<uint64_t>());
  EXPECT_GT(rep["rows_per_partition"].size(), 8u * 7);  // region x month
  EXPECT_NE(rep["rows_per_partition"].dump().find("region=North%20America/purchase_month=2025-03"),
            std::string::npos);
  SL_REQUIRE_DUCKDB();
  std::string files = "read_parquet('" + lake + "/processed_data/sales_data/**/*.parquet', hive_partitioning=true)";
  auto statuses = testing::RunDuckDb("SELECT DISTINCT status FROM " + files + " ORDER BY 1");
  EXPECT_EQ(statuses.out, "status\nCOMPLETED\nOUT\nPENDING\nREFUNDED\n") << statuses.err;
  auto months = testing::RunDuckDb("SELECT count(*) AS bad FROM " + files +
                                   " WHERE strftime(purchase_date, '%Y-%m') <> purchase_month");
  EXPECT_EQ(months.out, "bad\n0\n") << months.err;
}

}  // namespace
}  // namespace saleslake

namespace saleslake {
namespace {

// Splits DuckDB's CSV output into rows of fields (no quoting in these results).
std::vector<std::vector<std::string>> CsvRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = text.find('\n') + 1;  // skip the header
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::vector<std::string> f(1);
    for (char c : line) {
      if (c == ',') f.emplace_back();
      else f.back() += c;
    }
    rows.push_back(f);
  }
  return rows;
}

// The real UCI Online Retail file through a second job with SQL mappings: every line accounted
// for, revenue per country and month equal to DuckDB's on the raw CSV.
TEST(EtlUciTest, OnlineRetailRevenueMatchesDuckDb) {
  SL_REQUIRE_SHARED(csv, "real/uci-online-retail/online_retail.csv");
  testing::TempDir dir;
  std::string lake = dir.Join("lake");
  auto sl = [&](std::vector<std::string> args) { return testing::RunSaleslakeIn(lake, std::move(args)); };
  ASSERT_EQ(sl({"init"}).exit_code, 0);
  testing::WriteFile(lake + "/pipeline.yaml", R"(crawlers:
  - {name: uci, path: raw_data/, table: raw_retail}
jobs:
  - name: uci-job
    source: raw_retail
    target: {table: retail_sales, location: processed_data/retail_sales/, partition_by: [region, purchase_month]}
    columns:
      purchase_date: CAST(InvoiceDate AS DATE)
      customer_id: CAST(CustomerID AS VARCHAR)
      product_id: StockCode
      amount: Quantity * UnitPrice
      region: Country
      status: "CASE WHEN starts_with(InvoiceNo, 'C') THEN 'REFUNDED' ELSE 'COMPLETED' END"
      purchase_month: date_format(InvoiceDate, '%Y-%m')
    pii: {tokenize: [customer_id], scan_strings: mask}
)");
  ASSERT_EQ(sl({"upload", csv}).exit_code, 0);
  auto crawl = sl({"crawl"});
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  auto r = sl({"start-job", "--job-name", "uci-job", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rep = nlohmann::json::parse(r.out);
  EXPECT_EQ(rep["rows_read"], 541909);
  EXPECT_EQ(rep["rows_loaded"].get<uint64_t>() + rep["rows_quarantined"].get<uint64_t>(), 541909u);
  EXPECT_EQ(rep["rows_quarantined"], 0);
  EXPECT_EQ(rep["tokenized_values"], 541909 - 135080);  // NULL ids stay NULL

  SL_REQUIRE_DUCKDB();
  auto expected = testing::RunDuckDb(
      "SELECT Country AS region, strftime(InvoiceDate, '%Y-%m') AS m, count(*) AS n, "
      "sum(Quantity * UnitPrice) AS revenue, "
      "count(*) FILTER (WHERE InvoiceNo LIKE 'C%') AS refunded FROM read_csv('" + csv + "') "
      "GROUP BY ALL ORDER BY ALL");
  auto ours = testing::RunDuckDb(
      "SELECT region, purchase_month AS m, count(*) AS n, sum(amount) AS revenue, "
      "count(*) FILTER (WHERE status = 'REFUNDED') AS refunded FROM read_parquet('" + lake +
      "/processed_data/retail_sales/**/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL");
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto e = CsvRows(expected.out), o = CsvRows(ours.out);
  ASSERT_EQ(o.size(), e.size());
  double total = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    SCOPED_TRACE(e[i][0] + " " + e[i][1]);
    ASSERT_EQ(o[i][0], e[i][0]);
    EXPECT_EQ(o[i][1], e[i][1]);
    EXPECT_EQ(o[i][2], e[i][2]);
    EXPECT_NEAR(std::stod(o[i][3]), std::stod(e[i][3]), 1e-6 * std::max(1.0, std::fabs(std::stod(e[i][3]))));
    EXPECT_EQ(o[i][4], e[i][4]);
    total += std::stod(o[i][3]);
  }
  EXPECT_NEAR(total, 9747747.93, 0.01);  // the README's reference figure
}

}  // namespace
}  // namespace saleslake
