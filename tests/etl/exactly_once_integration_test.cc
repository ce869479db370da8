// Every raw row loaded exactly once (issue #19), end to end through the CLI: content identity
// of raw files across re-uploads, copies, renames and lake copies; replacement of a changed
// file's rows (or refusal, append-only); header-only files; a killed replacing run.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "etl/etl_test_util.h"
#include "support/test_support.h"

namespace saleslake {
namespace {

using testing::RunProgram;
using testing::RunSaleslake;

constexpr const char* kPipeline = R"(crawlers:
  - {name: raw-crawler, path: raw_data/, table: raw_sales}
jobs:
  - name: test-job
    source: raw_sales
    target: {table: sales_data, location: processed_data/sales_data/, partition_by: [region]}
    pii: {tokenize: [customer_id], scan_strings: off}
)";

class ExactlyOnceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    ASSERT_EQ(Sl({"init"}).exit_code, 0);
    testing::WriteFile(lake_ + "/pipeline.yaml", kPipeline);
  }
  testing::CommandResult Sl(std::vector<std::string> args, const std::string& lake = "") {
    return testing::RunSaleslakeIn(lake.empty() ? lake_ : lake, std::move(args));
  }
  // A generated CSV file outside the lake.
  std::string Make(const std::string& name, int rows, int seed) {
    std::string path = dir_.Join(name);
    auto r = RunSaleslake({"generate", "--rows", std::to_string(rows), "--seed", std::to_string(seed), "--out", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }
  void Upload(const std::string& path, const std::string& as = "") {
    std::string src = path;
    if (!as.empty()) {
      src = dir_.Join("upload-tmp/" + as);
      std::filesystem::create_directories(dir_.Join("upload-tmp"));
      std::filesystem::copy_file(path, src, std::filesystem::copy_options::overwrite_existing);
    }
    auto up = Sl({"upload", src});
    ASSERT_EQ(up.exit_code, 0) << up.err;
  }
  testing::CommandResult Crawl(const std::string& lake = "") { return Sl({"crawl"}, lake); }
  nlohmann::json Job(const std::string& lake = "", int want_exit = 0) {
    auto r = Sl({"start-job", "--job-name", "test-job", "--format", "json"}, lake);
    EXPECT_EQ(r.exit_code, want_exit) << r.out << r.err;
    auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
  int64_t Rows(const std::string& lake = "") {
    auto r = Sl({"query", "SELECT count(*) AS n FROM sales_data", "--format", "csv"}, lake);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::stoll(r.out.substr(r.out.find('\n') + 1));
  }
  // count, sum(amount) to the cent and distinct customers, as "n,sum,ids".
  std::string Figures(const std::string& lake = "") {
    auto r = Sl({"query",
                 "SELECT count(*) AS n, round(sum(amount), 2) AS s, count(DISTINCT customer_id) AS c FROM sales_data",
                 "--format", "csv"},
                lake);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // The first `keep` lines (header included) of a CSV file.
  std::string Head(const std::string& path, size_t keep) {
    std::istringstream in(testing::ReadFile(path));
    std::string line, out;
    for (size_t i = 0; i < keep && std::getline(in, line); ++i) out += line + "\n";
    return out;
  }
  testing::TempDir dir_;
  std::string lake_;
};

TEST_F(ExactlyOnceTest, SameBytesUploadedTwiceLoadNothingNew) {
  std::string a = Make("a.csv", 3000, 1);
  Upload(a);
  ASSERT_EQ(Crawl().exit_code, 0);
  auto first = Job();
  EXPECT_EQ(first["rows_loaded"], 3000);
  EXPECT_EQ(first["files_new"].size(), 1u);

  // Same name, same bytes: unchanged for the crawler and the job.
  Upload(a);
  auto crawl = Crawl();
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.out.find("no changes"), std::string::npos) << crawl.out;
  EXPECT_EQ(Job()["status"], "no_op");

  // Same bytes under another name: reported and skipped.
  Upload(a, "copy-of-a.csv");
  crawl = Crawl();
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.out.find("raw_data/copy-of-a.csv: same content as raw_data/a.csv, skipped"), std::string::npos)
      << crawl.out;
  EXPECT_EQ(Job()["status"], "no_op");
  EXPECT_EQ(Rows(), 3000);

  // `generate` into the lake goes through the same door: twice the same data loads once.
  ASSERT_EQ(Sl({"generate", "--rows", "500", "--seed", "7"}).exit_code, 0);
  ASSERT_EQ(Crawl().exit_code, 0);
  EXPECT_EQ(Job()["rows_loaded"], 500);
  ASSERT_EQ(Sl({"generate", "--rows", "500", "--seed", "7"}).exit_code, 0);
  crawl = Crawl();
  EXPECT_NE(crawl.out.find("no changes"), std::string::npos) << crawl.out;
  EXPECT_EQ(Job()["status"], "no_op");
  EXPECT_EQ(Rows(), 3500);
  std::string events = testing::ReadFile(lake_ + "/_system/events.jsonl");
  EXPECT_NE(events.find("\"key\":\"raw_data/sales.csv\""), std::string::npos) << events;
}

TEST_F(ExactlyOnceTest, RenamedFileIsNotNewData) {
  Upload(Make("a.csv", 2000, 1));
  Upload(Make("b.csv", 1000, 2));
  ASSERT_EQ(Crawl().exit_code, 0);
  Job();
  std::string before = Figures();
  std::filesystem::rename(lake_ + "/raw_data/a.csv", lake_ + "/raw_data/renamed.csv");
  auto crawl = Crawl();
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.out.find("renamed   raw_data/a.csv -> raw_data/renamed.csv"), std::string::npos) << crawl.out;
  auto job = Job();
  EXPECT_EQ(job["status"], "no_op");
  EXPECT_EQ(job["files_unchanged"], 2);
  EXPECT_EQ(Figures(), before);
}

TEST_F(ExactlyOnceTest, CopiedLakesReadAndLoadNothing) {
  Upload(Make("a.csv", 2000, 1));
  Upload(Make("b.csv", 1500, 2));
  ASSERT_EQ(Crawl().exit_code, 0);
  Job();
  const std::string before = Figures();

  auto check = [&](const std::string& copy, const std::string& how) {
    SCOPED_TRACE(how);
    auto crawl = Crawl(copy);
    ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
    EXPECT_NE(crawl.out.find("no changes"), std::string::npos) << crawl.out;
    EXPECT_NE(crawl.out.find(", 0 read,"), std::string::npos) << crawl.out;  // no schema inference
    auto job = Job(copy);
    EXPECT_EQ(job["status"], "no_op");
    EXPECT_EQ(job["bytes_read"], 0);
    EXPECT_EQ(Figures(copy), before);
  };
  std::string cp = dir_.Join("cp-lake");
  ASSERT_EQ(RunProgram({"cp", "-a", lake_, cp}).exit_code, 0);
  check(cp, "cp -a");

  // A copy that keeps no times at all (cp -r): every file is hashed again, and still nothing is new.
  std::string cpr = dir_.Join("cpr-lake");
  ASSERT_EQ(RunProgram({"cp", "-r", lake_, cpr}).exit_code, 0);
  check(cpr, "cp -r");

  std::string tar = dir_.Join("lake.tar"), untar = dir_.Join("untar");
  std::filesystem::create_directories(untar);
  ASSERT_EQ(RunProgram({"tar", "-C", dir_.path(), "-cf", tar, "lake"}).exit_code, 0);
  ASSERT_EQ(RunProgram({"tar", "-C", untar, "-xf", tar}).exit_code, 0);
  check(untar + "/lake", "tar");

  if (RunProgram({"sh", "-c", "command -v rsync"}).exit_code != 0) {
    std::cout << "rsync is not installed: the rsync round trip is not checked\n";
    return;
  }
  std::string rs = dir_.Join("rsync-lake");
  ASSERT_EQ(RunProgram({"rsync", "-a", lake_ + "/", rs + "/"}).exit_code, 0);
  check(rs, "rsync -a");
}

TEST_F(ExactlyOnceTest, ChangedFileReplacesItsRowsExactly) {
  std::string a = Make("a.csv", 4000, 1), b = Make("b.csv", 1000, 2);
  Upload(a);
  Upload(b);
  ASSERT_EQ(Crawl().exit_code, 0);
  EXPECT_EQ(Job()["rows_loaded"], 5000);

  // a.csv overwritten with its first 60% of rows (header + 2400 records).
  std::string a60 = dir_.Join("a60/a.csv");
  std::filesystem::create_directories(dir_.Join("a60"));
  testing::WriteFile(a60, Head(a, 1 + 2400));
  Upload(a60);
  auto crawl = Crawl();
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.out.find("updated   raw_data/a.csv"), std::string::npos) << crawl.out;
  auto job = Job();
  EXPECT_EQ(job["files_replaced"], nlohmann::json::array({"raw_data/a.csv"}));
  EXPECT_EQ(job["rows_replaced"], 4000);
  EXPECT_EQ(job["rows_loaded"], 2400);
  EXPECT_EQ(Rows(), 3400);
  EXPECT_EQ(Job()["status"], "no_op");

  SL_REQUIRE_DUCKDB();
  auto raw = testing::RunDuckDb(
      "SELECT count(*) AS n, round(sum(amount), 2) AS s, count(DISTINCT customer_id) AS c FROM read_csv(['" +
      a60 + "', '" + b + "'], header=true, union_by_name=true)");
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  // Second lines of both CSV outputs, as numbers (the engines print decimals differently).
  auto numbers = [](const std::string& csv) {
    std::vector<double> v;
    std::istringstream in(csv.substr(csv.find('\n') + 1));
    std::string cell;
    while (std::getline(in, cell, ',')) v.push_back(std::stod(cell));
    return v;
  };
  std::vector<double> ours = numbers(Figures()), theirs = numbers(raw.out);
  ASSERT_EQ(ours.size(), 3u);
  ASSERT_EQ(theirs.size(), 3u) << raw.out;
  EXPECT_EQ(ours[0], theirs[0]);
  EXPECT_NEAR(ours[1], theirs[1], 0.005);
  EXPECT_EQ(ours[2], theirs[2]);
}

TEST_F(ExactlyOnceTest, AppendOnlyTableRefusesAChangedFile) {
  std::string pipeline = std::string(kPipeline) + "    append_only: true\n";
  testing::WriteFile(lake_ + "/pipeline.yaml", pipeline);
  std::string a = Make("a.csv", 3000, 1);
  Upload(a);
  ASSERT_EQ(Crawl().exit_code, 0);
  Job();
  const std::string before = Figures();
  std::string a60 = dir_.Join("a60/a.csv");
  std::filesystem::create_directories(dir_.Join("a60"));
  testing::WriteFile(a60, Head(a, 1 + 1800));
  Upload(a60);
  ASSERT_EQ(Crawl().exit_code, 0);
  auto r = Sl({"start-job", "--job-name", "test-job"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("raw_data/a.csv: its content changed after it was loaded and the job is append_only"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("refused"), std::string::npos) << r.out;
  std::string alerts = testing::ReadFile(lake_ + "/_system/alerts.jsonl");
  EXPECT_NE(alerts.find("\"metric\":\"refused_file\""), std::string::npos) << alerts;
  EXPECT_EQ(Figures(), before);
  // Refused again next time, never loaded half.
  EXPECT_EQ(Sl({"start-job", "--job-name", "test-job"}).exit_code, 1);
  EXPECT_EQ(Figures(), before);
}

TEST_F(ExactlyOnceTest, HeaderOnlyAndEmptyFilesKeepTheTypes) {
  Upload(Make("a.csv", 1000, 1));
  ASSERT_EQ(Crawl().exit_code, 0);
  auto types = [&] { return Sl({"describe", "raw_sales", "--format", "json"}).out; };
  auto schema = [&](const std::string& desc) {
    auto j = nlohmann::json::parse(desc, nullptr, false);
    return j.is_discarded() ? std::string("?") : j["columns"].dump();
  };
  const std::string typed = schema(types());
  ASSERT_NE(typed.find("DOUBLE"), std::string::npos) << typed;
  std::string header = Head(dir_.Join("a.csv"), 1);
  std::filesystem::create_directories(dir_.Join("odd"));
  testing::WriteFile(dir_.Join("odd/header-only.csv"), header);
  testing::WriteFile(dir_.Join("odd/empty.csv"), "");
  Upload(dir_.Join("odd/header-only.csv"));
  Upload(dir_.Join("odd/empty.csv"));
  auto crawl = Crawl();
  ASSERT_EQ(crawl.exit_code, 0) << crawl.out << crawl.err;
  EXPECT_EQ(schema(types()), typed);
  auto job = Job();
  EXPECT_EQ(job["rows_loaded"], 1000);
  EXPECT_EQ(Rows(), 1000);
}

TEST_F(ExactlyOnceTest, RealTypeConflictIsReportedNotWidened) {
  Upload(Make("a.csv", 1000, 1));
  ASSERT_EQ(Crawl().exit_code, 0);
  const std::string before = Sl({"describe", "raw_sales", "--format", "json"}).out;
  std::filesystem::create_directories(dir_.Join("bad"));
  testing::WriteFile(dir_.Join("bad/text-amounts.csv"),
                     Head(dir_.Join("a.csv"), 1) +
                         "2025-01-02,CUST-1,SKU-1,lots,EU,COMPLETED\n2025-01-03,CUST-2,SKU-2,some,EU,COMPLETED\n");
  Upload(dir_.Join("bad/text-amounts.csv"));
  auto crawl = Crawl();
  EXPECT_EQ(crawl.exit_code, 1) << crawl.out;
  EXPECT_NE(crawl.err.find("raw_data/text-amounts.csv"), std::string::npos) << crawl.err;
  EXPECT_NE(crawl.err.find("amount"), std::string::npos) << crawl.err;
  EXPECT_EQ(Sl({"describe", "raw_sales", "--format", "json"}).out, before);
  EXPECT_EQ(Job()["rows_loaded"], 1000);
}

TEST_F(ExactlyOnceTest, DedupeRemovesRowsOfOverlappingExports) {
  std::string a = Make("a.csv", 1000, 1), c = Make("c.csv", 300, 3);
  Upload(a);
  ASSERT_EQ(Crawl().exit_code, 0);
  auto first = Job();
  ASSERT_EQ(first["exact_duplicates"], 0);
  // The next export overlaps the first: 500 of its rows again, then 300 new ones.
  std::string overlap = Head(a, 1 + 500), fresh = Head(c, 1 + 300);
  std::filesystem::create_directories(dir_.Join("exp"));
  testing::WriteFile(dir_.Join("exp/b.csv"), overlap + fresh.substr(fresh.find('\n') + 1));
  Upload(dir_.Join("exp/b.csv"));
  ASSERT_EQ(Crawl().exit_code, 0);
  auto r = Sl({"start-job", "--job-name", "test-job", "--format", "json", "--dedupe"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["rows_read"], 800);
  EXPECT_EQ(j["quarantined_by_reason"]["duplicate:exact"], 500);
  EXPECT_EQ(j["rows_loaded"], 300);
  EXPECT_EQ(Rows(), 1300);
  std::string quarantine = testing::ReadFile(lake_ + "/" + j["quarantine"].get<std::string>());
  EXPECT_NE(quarantine.find("the same raw row as one loaded before"), std::string::npos);
}

TEST_F(ExactlyOnceTest, RawFileChangedOrGoneAfterTheCrawlIsAClearError) {
  std::string a = Make("a.csv", 1000, 1);
  Upload(a);
  ASSERT_EQ(Crawl().exit_code, 0);
  // Changed behind the crawler's back (no upload): the job refuses to read other bytes than
  // the catalog registered, and commits nothing.
  testing::WriteFile(lake_ + "/raw_data/a.csv", Head(a, 1 + 10));
  auto r = Sl({"start-job", "--job-name", "test-job"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("raw_data/a.csv changed since the last crawl"), std::string::npos) << r.err;
  std::filesystem::remove(lake_ + "/raw_data/a.csv");
  r = Sl({"start-job", "--job-name", "test-job"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("raw_data/a.csv vanished since the last crawl"), std::string::npos) << r.err;
  auto d = nlohmann::json::parse(Sl({"describe", "sales_data", "--format", "json"}).out, nullptr, false);
  EXPECT_TRUE(d.is_discarded() || d["row_count"] == 0);
}

TEST_F(ExactlyOnceTest, KilledReplacingRunShowsOneVersionOnly) {
  std::string a = Make("a.csv", 3000, 1);
  Upload(a);
  ASSERT_EQ(Crawl().exit_code, 0);
  auto first = Job();
  const std::string before = Figures();
  std::filesystem::create_directories(dir_.Join("a60"));
  testing::WriteFile(dir_.Join("a60/a.csv"), Head(a, 1 + 1800));
  Upload(dir_.Join("a60/a.csv"));
  ASSERT_EQ(Crawl().exit_code, 0);

  // Killed once its new data files exist (before its commit).
  int pid = testing::SpawnSaleslake({"--lake", lake_, "start-job", "--job-name", "test-job"},
                                    {"SALESLAKE_TEST_PAUSE_BEFORE_COMMIT_MS=60000"});
  ASSERT_GT(pid, 0);
  const std::string first_run = first["run_id"];
  ASSERT_TRUE(testing::KillWhen(pid, [&] { return testing::OtherRunWroteDataFiles(lake_, first_run); }));
  EXPECT_EQ(Figures(), before);  // the old version, whole
  auto rerun = Job();
  EXPECT_EQ(rerun["files_replaced"].size(), 1u);
  EXPECT_EQ(Rows(), 1800);  // the new version, whole
  SL_REQUIRE_DUCKDB();
  auto n = testing::RunDuckDb("SELECT count(*) AS n FROM read_parquet('" + lake_ +
                              "/processed_data/sales_data/**/*.parquet')");
  // Files of the old version stay for time travel; those of the killed run are gone.
  EXPECT_EQ(n.out, "n\n4800\n") << n.err;
}

}  // namespace
}  // namespace saleslake
