// The main pipeline with the lake on S3: `saleslake serve` on a free loopback port holds the
// bucket, and init -> upload -> crawl -> start-job -> query run with --lake s3://bucket/lake,
// credentials from the served lake's admin-credentials file through AWS_PROFILE (the standard
// chain). Every answer must equal the same pipeline's on a local lake.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <mutex>
#include <sstream>

#include <filesystem>
#include <functional>
#include <thread>

#include "server/server_test_util.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {


// A fault-injecting HTTP proxy between saleslake and the S3 server: one request per client
// connection; every sixth request gets a fault, in turn a 503 SlowDown, a 500, a dropped reply
// (the request reached the server, the answer never comes back) and a truncated body. Every
// wait is bounded; the destructor joins everything.
class FaultProxy {
 public:
  explicit FaultProxy(int upstream) : upstream_(upstream) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(0);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 64);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_ = std::thread([this] { AcceptLoop(); });
  }
  ~FaultProxy() {
    stop_ = true;
    accept_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : conns_) t.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int faults() const { return faults_.load(); }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
  }
  // Reads until `done(buffer)` or EOF or ~10 s of silence; false on timeout or error.
  static bool ReadUntil(int fd, std::string* buf, const std::function<bool(const std::string&)>& done) {
    char tmp[65536];
    for (int idle = 0; !done(*buf);) {
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, 100);
      if (r == 0) {
        if (++idle > 100) return false;
        continue;
      }
      ssize_t n = read(fd, tmp, sizeof tmp);
      if (n <= 0) return n == 0;
      buf->append(tmp, static_cast<size_t>(n));
      idle = 0;
    }
    return true;
  }
  static bool WriteAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  // Bytes of a message whose headers end at `head_end`, or npos when it runs to EOF.
  static size_t MessageEnd(const std::string& buf, size_t head_end, bool no_body) {
    if (no_body) return head_end + 4;
    std::string head = Lower(buf.substr(0, head_end));
    size_t cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos) return head_end + 4 + std::stoul(head.substr(cl + 17));
    if (head.find("transfer-encoding: chunked") != std::string::npos) {
      size_t end = buf.find("\r\n0\r\n\r\n", head_end);
      return end == std::string::npos ? std::string::npos - 1 : end + 7;
    }
    return std::string::npos;
  }

  void AcceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      conns_.emplace_back([this, c] {
        Serve(c);
        close(c);
      });
    }
  }

  void Serve(int c) {
    std::string req;
    size_t head_end = std::string::npos;
    bool ok = ReadUntil(c, &req, [&](const std::string& b) {
      head_end = b.find("\r\n\r\n");
      // A request without Content-Length has no body (our client never sends chunked).
      bool no_body = head_end != std::string::npos &&
                     Lower(b.substr(0, head_end)).find("\r\ncontent-length:") == std::string::npos;
      return head_end != std::string::npos && b.size() >= MessageEnd(b, head_end, no_body);
    });
    if (!ok || head_end == std::string::npos) return;
    const bool head_request = req.rfind("HEAD ", 0) == 0;
    const int n = count_++;
    const int fault = n % 6 == 5 ? (n / 6) % 4 : -1;
    if (fault == 0 || fault == 1) {
      ++faults_;
      std::string body = fault == 0 ? "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                                    : "<Error><Code>InternalError</Code><Message>injected</Message></Error>";
      WriteAll(c, std::string(fault == 0 ? "HTTP/1.1 503 Slow Down" : "HTTP/1.1 500 Internal Server Error") +
                      "\r\nConnection: close\r\nContent-Length: " + std::to_string(head_request ? 0 : body.size()) +
                      "\r\n\r\n" + (head_request ? "" : body));
      return;
    }
    int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(upstream_);
    if (connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || !WriteAll(up, req)) {
      close(up);
      return;
    }
    std::string resp;
    size_t rhead = std::string::npos;
    ok = ReadUntil(up, &resp, [&](const std::string& b) {
      rhead = b.find("\r\n\r\n");
      if (rhead == std::string::npos) return false;
      bool no_body = head_request || b.rfind("HTTP/1.1 204", 0) == 0 || b.rfind("HTTP/1.1 304", 0) == 0;
      return b.size() >= MessageEnd(b, rhead, no_body);
    });
    close(up);
    if (!ok || rhead == std::string::npos) return;
    size_t line_end = resp.find("\r\n");
    resp.insert(line_end + 2, "Connection: close\r\n");
    rhead += 19;
    if (fault == 2) {  // applied upstream, reply lost
      ++faults_;
      return;
    }
    if (fault == 3 && resp.size() > rhead + 4 + 1) {  // half the body, then the connection drops
      ++faults_;
      WriteAll(c, std::string_view(resp).substr(0, rhead + 4 + (resp.size() - rhead - 4) / 2));
      return;
    }
    WriteAll(c, resp);
  }

  int upstream_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0}, faults_{0};
  std::thread accept_;
  std::mutex mu_;
  std::vector<std::thread> conns_;  // GUARDED_BY(mu_)
};

// Two `start-job` runs started at once: exactly one commits; the other ran after it (no_op) or
// was refused by the job lock or lost the commit race, committing nothing either way.
void ExpectExactlyOneCommitted(const CommandResult& a, const CommandResult& b) {
  int succeeded = 0;
  for (const CommandResult* r : {&a, &b}) {
    if (r->exit_code == 0 && r->out.find(": succeeded") != std::string::npos) {
      ++succeeded;
    } else if (r->exit_code == 0) {
      EXPECT_NE(r->out.find("no_op"), std::string::npos) << r->out;
    } else {
      EXPECT_TRUE(r->err.find("already running") != std::string::npos ||
                  r->err.find("committed meanwhile") != std::string::npos) << r->err;
    }
  }
  EXPECT_EQ(succeeded, 1) << a.out << a.err << b.out << b.err;
}

class S3LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    served_ = dir_.Join("served");
    ASSERT_EQ(RunSaleslakeIn(served_, {"init"}).exit_code, 0);
    std::string error;
    ASSERT_TRUE(server_.Start(served_, {"--access-log", ""}, &error)) << error;
    env_ = {"AWS_SHARED_CREDENTIALS_FILE=" + served_ + "/_system/admin-credentials",
            "AWS_CONFIG_FILE=" + dir_.Join("no-config"),
            "AWS_PROFILE=saleslake",
            "AWS_ACCESS_KEY_ID=",  // the profile, not whatever the environment has
            "AWS_SECRET_ACCESS_KEY=",
            "AWS_ENDPOINT_URL_S3=",
            "AWS_ENDPOINT_URL=" + server_.url()};
  }
  CommandResult S3(std::vector<std::string> args, const std::string& lake = "s3://my-analytics-bucket/lake") {
    args.insert(args.begin(), {"--lake", lake});
    return RunSaleslake(args, "", env_);
  }

  TempDir dir_;
  std::string served_;
  ServerProcess server_;
  std::vector<std::string> env_;
};

TEST_F(S3LakeTest, PipelineGivesTheSameAnswersAsALocalLake) {
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "6000", "--messy", "--out", csv}).exit_code, 0);
  const std::string local = dir_.Join("local");
  // One PII secret for both lakes (init keeps an existing one): customer_id tokens, and so q14's
  // point lookup of the smallest token, are then the same on both. The S3 lake's copy is written
  // into the served directory, where the server reads its bucket.
  const std::string secret = std::string(64, 'c') + "\n";
  for (const std::string& d : {local + "/_system", served_ + "/lake/_system"}) {
    std::filesystem::create_directories(d);
    WriteFile(d + "/secret.key", secret);
    std::filesystem::permissions(d + "/secret.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  auto step = [&](const std::vector<std::string>& args) {
    CommandResult l = RunSaleslakeIn(local, args);
    CommandResult s = S3(args);
    EXPECT_EQ(l.exit_code, 0) << l.err;
    EXPECT_EQ(s.exit_code, 0) << "s3: " << s.err;
    return std::make_pair(l, s);
  };
  auto init = step({"init"});
  EXPECT_NE(init.second.out.find("lake s3://my-analytics-bucket/lake ready"), std::string::npos) << init.second.out;
  step({"upload", csv});
  // Both lakes list the upload's event: the local one from its journal, the one on S3 from the
  // inbox where it waits (no server acts on that lake's rules here).
  auto uploaded = step({"events", "list", "--type", "object.created"});
  for (const std::string& out : {uploaded.first.out, uploaded.second.out})
    EXPECT_NE(out.find("raw_data/sales.csv"), std::string::npos) << out;
  auto crawl = step({"crawl"});
  EXPECT_EQ(crawl.first.out, crawl.second.out);
  auto job = step({"start-job", "--job-name", "my-etl-job", "--format", "json"});
  EXPECT_NE(job.second.out.find("\"succeeded\""), std::string::npos) << job.second.out;

  // Sums are rounded: float addition order follows the files' row groups and the order in which
  // parallel partial aggregates merge.
  const std::vector<std::string> queries = {
      "SELECT count(*), count(DISTINCT customer_id), round(sum(amount), 2), min(purchase_date), max(purchase_date) FROM sales_data",
      "SELECT region, purchase_month, count(*), round(sum(amount), 2), round(avg(amount), 4) FROM sales_data GROUP BY 1, 2 ORDER BY 1, 2",
      "SELECT status, count(*) FROM sales_data WHERE region = 'Western Europe' OR region = 'Asia Pacific' GROUP BY 1 ORDER BY 1",
      "SELECT product_id, round(sum(amount), 2) AS s FROM sales_data WHERE purchase_month = '2025-03' GROUP BY 1 ORDER BY s DESC, 1 LIMIT 10",
      "SELECT quality_flags, count(*) FROM sales_data GROUP BY 1 ORDER BY 1",
      "SELECT purchase_date, amount, status FROM sales_data WHERE region = 'Oceania' ORDER BY purchase_date, amount, status LIMIT 20",
  };
  for (const std::string& q : queries) {
    auto r = step({"query", q, "--format", "csv"});
    EXPECT_EQ(r.first.out, r.second.out) << q;
    EXPECT_GT(r.second.out.size(), 10u) << q;
  }
  // The SQL tests' 25-query dashboard suite, run through one -f script on each lake. Cells
  // compare exactly, numbers to 1e-9 relative (unrounded float sums follow the order in which
  // parallel partial aggregates merge), q14, q15 and q22 (which show or order by customer_id
  // tokens) included: both lakes have the same secret.
  std::string script;  // one statement per line in the suite file, without semicolons
  {
    std::istringstream lines(ReadFile(std::string(SALESLAKE_SOURCE_DIR) + "/tests/sql/dashboard_suite.sql"));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) script += line + ";\n";
  }
  WriteFile(dir_.Join("suite.sql"), script);
  auto suite = step({"query", "-f", dir_.Join("suite.sql"), "--format", "json"});
  auto local_results = nlohmann::json::parse(suite.first.out, nullptr, false);
  auto s3_results = nlohmann::json::parse(suite.second.out, nullptr, false);
  ASSERT_TRUE(local_results.is_array()) << suite.first.out.substr(0, 200);
  ASSERT_TRUE(s3_results.is_array()) << suite.second.out.substr(0, 200);
  ASSERT_EQ(local_results.size(), 25u);
  ASSERT_EQ(s3_results.size(), 25u);
  for (size_t q = 0; q < 25; ++q) {
    const auto& l = local_results[q];
    const auto& r = s3_results[q];
    ASSERT_EQ(l.size(), r.size()) << "q" << q + 1;
    EXPECT_GT(l.size(), 0u) << "q" << q + 1;
    for (size_t row = 0; row < l.size(); ++row) {
      for (auto& [name, value] : l[row].items()) {
        const auto& other = r[row][name];
        if (value.is_number() && other.is_number()) {
          double a = value.get<double>(), b = other.get<double>();
          EXPECT_NEAR(a, b, 1e-9 * std::max(1.0, std::abs(a))) << "q" << q + 1 << " row " << row << " " << name;
        } else {
          EXPECT_EQ(value, other) << "q" << q + 1 << " row " << row << " " << name;
        }
      }
    }
  }
  auto tables = step({"tables"});
  EXPECT_EQ(tables.first.out, tables.second.out);
  // forecast --to-table writes its table on S3 as locally, and it reads back the same.
  auto forecast = step({"forecast", "--query", "SELECT purchase_date, region, amount FROM sales_data", "--date",
                        "purchase_date", "--value", "amount", "--by", "region", "--duplicates", "sum", "--horizon", "7",
                        "--format", "csv", "--to-table", "forecasts"});
  EXPECT_EQ(forecast.first.out, forecast.second.out);
  auto stored = step({"query", "SELECT region, count(*), min(date), max(date) FROM forecasts GROUP BY 1 ORDER BY 1",
                      "--format", "csv"});
  EXPECT_EQ(stored.first.out, stored.second.out);
  EXPECT_GT(stored.second.out.size(), 40u) << stored.second.out;

  // A second run loads nothing, a second crawl reads nothing (ETag and size unchanged).
  CommandResult again = S3({"start-job", "--job-name", "my-etl-job"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("no_op"), std::string::npos) << again.out;
  CommandResult recrawl = S3({"crawl"});
  EXPECT_NE(recrawl.out.find("no changes"), std::string::npos) << recrawl.out;

  // The objects written are ordinary Parquet: the table's folder copied down by AWS CLI v2's
  // `s3 sync` reads in DuckDB to the same rows the S3 lake answers with.
  const std::string copy = dir_.Join("synced-down");
  CommandResult down = RunProgram({"/usr/bin/aws", "--endpoint-url", server_.url(), "s3", "sync",
                                   "s3://my-analytics-bucket/lake/processed_data/sales_data/", copy, "--only-show-errors"},
                                  "", env_);
  ASSERT_EQ(down.exit_code, 0) << down.err;
  size_t parquet = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(copy)) parquet += e.path().extension() == ".parquet";
  ASSERT_GT(parquet, 0u);
  CommandResult ours = S3({"query", "SELECT count(*) AS n, count(DISTINCT customer_id) AS c, sum(amount) AS s FROM sales_data",
                           "--format", "csv"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  if (!HaveDuckDb()) GTEST_SKIP() << "node + @duckdb/node-api not installed: the synced copy was not read by DuckDB";
  CommandResult theirs = RunDuckDb("SELECT count(*) AS n, count(DISTINCT customer_id) AS c, sum(amount) AS s FROM read_parquet('" +
                                   copy + "/**/*.parquet', hive_partitioning = true)");
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  auto cells = [](const std::string& csv) {  // the one data row's three cells
    std::vector<std::string> out;
    std::istringstream row(csv.substr(csv.find('\n') + 1));
    for (std::string cell; std::getline(row, cell, ',');) out.push_back(cell);
    return out;
  };
  std::vector<std::string> a = cells(ours.out), b = cells(theirs.out);
  ASSERT_EQ(a.size(), 3u) << ours.out;
  ASSERT_EQ(b.size(), 3u) << theirs.out;
  EXPECT_EQ(a[0], b[0]) << ours.out << theirs.out;
  EXPECT_EQ(a[1], b[1]) << ours.out << theirs.out;
  EXPECT_GT(std::stoll(a[0]), 5000);
  EXPECT_NEAR(std::stod(a[2]), std::stod(b[2]), 1e-6 * std::abs(std::stod(a[2]))) << ours.out << theirs.out;
}

// A local lake copied to S3 by AWS CLI v2's `s3 sync` and opened there: the crawler sees its
// files unchanged (their content identity, not the new ETags, decides) and reads none, the job
// loads nothing, and the table answers as before.
TEST_F(S3LakeTest, ALocalLakeSyncedToS3LoadsNothingAgain) {
  const std::string local = dir_.Join("local");
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "3000", "--out", csv}).exit_code, 0);
  for (std::vector<std::string> args : {std::vector<std::string>{"init"}, {"upload", csv}, {"crawl"},
                                        {"start-job", "--job-name", "my-etl-job"}}) {
    CommandResult r = RunSaleslakeIn(local, args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
  }
  CommandResult sync = RunProgram({"/usr/bin/aws", "--endpoint-url", server_.url(), "s3", "sync", local,
                                   "s3://my-analytics-bucket/synced", "--only-show-errors"},
                                  "", env_);
  ASSERT_EQ(sync.exit_code, 0) << sync.out << sync.err;
  const std::string lake = "s3://my-analytics-bucket/synced";
  CommandResult crawl = S3({"crawl"}, lake);
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.out.find("no changes"), std::string::npos) << crawl.out;
  EXPECT_NE(crawl.out.find("1 files seen, 0 read, 1 unchanged"), std::string::npos) << crawl.out;
  CommandResult job = S3({"start-job", "--job-name", "my-etl-job"}, lake);
  ASSERT_EQ(job.exit_code, 0) << job.err;
  EXPECT_NE(job.out.find("no_op"), std::string::npos) << job.out;
  const std::string count = "SELECT count(*), round(sum(amount), 2) FROM sales_data";
  CommandResult there = S3({"query", count, "--format", "csv"}, lake);
  EXPECT_EQ(there.out, RunSaleslakeIn(local, {"query", count, "--format", "csv"}).out) << there.err;
  EXPECT_NE(there.out.find("\n3000,"), std::string::npos) << there.out;
}

TEST_F(S3LakeTest, TwoConcurrentJobsNeverBothCommit) {
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "4000", "--out", csv}).exit_code, 0);
  ASSERT_EQ(S3({"init"}).exit_code, 0);
  ASSERT_EQ(S3({"upload", csv}).exit_code, 0);
  ASSERT_EQ(S3({"crawl"}).exit_code, 0);
  CommandResult a, b;
  std::thread ta([&] { a = S3({"start-job", "--job-name", "my-etl-job"}); });
  std::thread tb([&] { b = S3({"start-job", "--job-name", "my-etl-job"}); });
  ta.join();
  tb.join();
  ExpectExactlyOneCommitted(a, b);
  CommandResult count = S3({"query", "SELECT count(*) FROM sales_data", "--format", "csv"});
  EXPECT_EQ(count.out, "_col0\n4000\n") << count.err;  // loaded once, not twice
  CommandResult snaps = S3({"catalog", "snapshots", "sales_data"});
  EXPECT_EQ(snaps.out.find("       2 "), std::string::npos) << snaps.out;  // one snapshot only
}

TEST_F(S3LakeTest, FaultsOnTheWireChangeNoAnswer) {
  FaultProxy proxy(server_.port());
  for (std::string& e : env_)
    if (e.rfind("AWS_ENDPOINT_URL=", 0) == 0) e = "AWS_ENDPOINT_URL=" + proxy.url();
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "3000", "--messy", "--out", csv}).exit_code, 0);
  const std::string local = dir_.Join("local");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"init"}, {"upload", csv}, {"crawl"}, {"start-job", "--job-name", "my-etl-job"}}) {
    ASSERT_EQ(RunSaleslakeIn(local, args).exit_code, 0);
    CommandResult r = S3(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
  }
  CommandResult again = S3({"start-job", "--job-name", "my-etl-job"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("no_op"), std::string::npos) << again.out;
  for (const char* q :
       {"SELECT count(*), count(DISTINCT customer_id), round(sum(amount), 2) FROM sales_data",
        "SELECT region, purchase_month, count(*), round(sum(amount), 2) FROM sales_data GROUP BY 1, 2 ORDER BY 1, 2"}) {
    CommandResult l = RunSaleslakeIn(local, {"query", q, "--format", "csv"});
    CommandResult r = S3({"query", q, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(l.out, r.out) << q;
  }
  CommandResult snaps = S3({"catalog", "snapshots", "sales_data"});
  EXPECT_EQ(snaps.out.find("       2 "), std::string::npos) << snaps.out;  // committed once
  EXPECT_GE(proxy.faults(), 10);
}

TEST_F(S3LakeTest, ClearErrorsForMissingLakesAndBuckets) {
  CommandResult none = S3({"tables"}, "s3://my-analytics-bucket/nothing-here");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("not a lake: s3://my-analytics-bucket/nothing-here"), std::string::npos) << none.err;

  CommandResult bucket = S3({"tables"}, "s3://no-such-bucket/lake");
  EXPECT_EQ(bucket.exit_code, 1);
  EXPECT_NE(bucket.err.find("no-such-bucket"), std::string::npos) << bucket.err;

  // `serve` takes an S3 lake (tests/server/served_s3_lake_integration_test.cc), but not a missing
  // one; the stream commands need the serving machine's streams.
  CommandResult serve = S3({"serve", "--port", "0", "--state-dir", dir_.Join("state")},
                           "s3://my-analytics-bucket/nothing-here");
  EXPECT_EQ(serve.exit_code, 1);
  EXPECT_NE(serve.err.find("not a lake: s3://my-analytics-bucket/nothing-here"), std::string::npos) << serve.err;
  CommandResult streams = S3({"stream", "list"});
  EXPECT_EQ(streams.exit_code, 1);
  EXPECT_NE(streams.err.find("needs a local lake"), std::string::npos) << streams.err;

  std::vector<std::string> no_creds = {"AWS_SHARED_CREDENTIALS_FILE=" + dir_.Join("none"),
                                       "AWS_CONFIG_FILE=" + dir_.Join("none"), "AWS_PROFILE=",
                                       "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
                                       "AWS_ENDPOINT_URL=" + server_.url()};
  CommandResult anon = RunSaleslake({"--lake", "s3://my-analytics-bucket/lake", "tables"}, "", no_creds);
  EXPECT_EQ(anon.exit_code, 1);
  EXPECT_NE(anon.err.find("no AWS credentials"), std::string::npos) << anon.err;
}

// s3rver (npm; tools/setup.sh installs it in tools/peers), a second S3 implementation no one here
// wrote. It ignores If-None-Match, so the store must refuse to commit there unless the lake is
// declared single-writer, and then the pipeline must still give the local lake's answers.
class S3rverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string script = std::string(SALESLAKE_SOURCE_DIR) + "/tools/peers/node_modules/s3rver/bin/s3rver.js";
    ASSERT_EQ(access(script.c_str(), R_OK), 0) << script << " missing: run tools/setup.sh";
    std::string data = dir_.Join("s3rver"), log = dir_.Join("s3rver.log");
    std::filesystem::create_directories(data);
    std::vector<std::string> args = {"node", script, "-d", data, "-a", "127.0.0.1", "-p", "0",
                                     "--configure-bucket", "my-analytics-bucket", "--silent"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawnp(&pid_, "node", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ASSERT_EQ(rc, 0) << "cannot start node";
    for (int i = 0; i < 200 && port_ == 0; ++i) {  // at most ~20 s
      std::string out = ReadFile(log);
      size_t at = out.find("127.0.0.1:");
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) port_ = std::stoi(out.substr(at + 10));
      else usleep(100'000);
    }
    ASSERT_GT(port_, 0) << ReadFile(log);
    env_ = {"AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER", "AWS_PROFILE=",
            "AWS_SHARED_CREDENTIALS_FILE=" + dir_.Join("none"), "AWS_CONFIG_FILE=" + dir_.Join("none"),
            "AWS_ENDPOINT_URL_S3=", "AWS_ENDPOINT_URL=http://127.0.0.1:" + std::to_string(port_)};
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(50'000);
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
    }
  }
  CommandResult S3(std::vector<std::string> args, std::vector<std::string> extra_env = {}) {
    args.insert(args.begin(), {"--lake", "s3://my-analytics-bucket/lake"});
    std::vector<std::string> env = env_;
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return RunSaleslake(args, "", env);
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::vector<std::string> env_;
};

TEST_F(S3rverTest, NoConditionalWritesMeansNoSilentCommitsAndSingleWriterWorks) {
  CommandResult refused = S3({"init"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("ignores conditional writes"), std::string::npos) << refused.err;

  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "3000", "--out", csv}).exit_code, 0);
  const std::string local = dir_.Join("local");
  const std::vector<std::string> single = {"SALESLAKE_S3_SINGLE_WRITER=1"};
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"init"}, {"upload", csv}, {"crawl"}, {"start-job", "--job-name", "my-etl-job"}}) {
    ASSERT_EQ(RunSaleslakeIn(local, args).exit_code, 0);
    CommandResult r = S3(args, single);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    if (args[0] != "upload") {  // the steps that commit say how, never silently
      EXPECT_NE(r.err.find("rely on a single writer"), std::string::npos) << args[0] << ": " << r.err;
    }
  }
  const char* q = "SELECT region, purchase_month, count(*), round(sum(amount), 2) FROM sales_data GROUP BY 1, 2 ORDER BY 1, 2";
  CommandResult l = RunSaleslakeIn(local, {"query", q, "--format", "csv"});
  CommandResult r = S3({"query", q, "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(l.out, r.out);
}

// With a lock file every writer names, commits on a server without conditional writes are safe
// for concurrent writers: of two jobs started at once exactly one commits, and the table is
// loaded once.
TEST_F(S3rverTest, ALockFileMakesConcurrentWritersSafeWithoutConditionalWrites) {
  const std::vector<std::string> locked = {"SALESLAKE_S3_LOCK_FILE=" + dir_.Join("commits.lock")};
  const std::string csv = dir_.Join("sales.csv");
  ASSERT_EQ(RunSaleslake({"generate", "--rows", "3000", "--out", csv}).exit_code, 0);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"init"}, {"upload", csv}, {"crawl"}}) {
    CommandResult r = S3(args, locked);
    ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err.find("rely on a single writer"), std::string::npos) << r.err;
  }
  CommandResult a, b;
  std::thread ta([&] { a = S3({"start-job", "--job-name", "my-etl-job"}, locked); });
  std::thread tb([&] { b = S3({"start-job", "--job-name", "my-etl-job"}, locked); });
  ta.join();
  tb.join();
  ExpectExactlyOneCommitted(a, b);
  CommandResult count = S3({"query", "SELECT count(*) FROM sales_data", "--format", "csv"}, locked);
  EXPECT_EQ(count.out, "_col0\n3000\n") << count.err;
  // Without the lock (and without declaring a single writer) the same lake refuses to commit.
  CommandResult refused = S3({"start-job", "--job-name", "my-etl-job"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("SALESLAKE_S3_LOCK_FILE"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace saleslake::testing
