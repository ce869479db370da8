// The Kinesis API of `saleslake serve` through real clients (the AWS CLI v2, boto3, the AWS SDK
// for JavaScript), and the log's durability: records acknowledged before a SIGKILL are all
// there exactly once, per shard in order, after restarts.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/server_test_util.h"
#include "stream/stream.h"
#include "support/test_support.h"

namespace saleslake::testing {
namespace {

constexpr const char* kPolicy =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]})";

class KinesisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    auto init = RunSaleslakeIn(lake_, {"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    Key key = CreateUserWithKey(lake_, "producer", kPolicy);
    env_ = {"AWS_ACCESS_KEY_ID=" + key.id, "AWS_SECRET_ACCESS_KEY=" + key.secret,
            "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
            "AWS_PAGER=", "HOME=" + dir_.path()};
  }

  void StartServer() {
    std::string err;
    ASSERT_TRUE(server_.Start(lake_, {"--access-log", ""}, &err)) << err;
  }

  // Runs a client script of the source tree against the server (stream `stream`) and expects it
  // to pass: exit 0 and its closing line.
  void ExpectClientPasses(const std::string& runtime, const std::string& script, const std::string& stream,
                          const std::string& ok_line) {
    auto r = RunProgram({runtime, std::string(SALESLAKE_SOURCE_DIR) + "/" + script, server_.url(), stream}, "", env_);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(ok_line), std::string::npos) << r.out << r.err;
  }

  CommandResult Aws(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/aws", "--endpoint-url", server_.url(), "--output", "json", "kinesis"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, "", env_);
  }

  // Every record of every shard, read through the store (the same code as GetRecords).
  std::map<std::string, std::vector<stream::StreamRecord>> ReadAll(const std::string& name) {
    std::map<std::string, std::vector<stream::StreamRecord>> out;
    stream::StoreOptions o;
    o.root = lake_ + "/streams";
    auto store = stream::StreamStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return out;
    auto info = (*store)->Describe(name);
    EXPECT_TRUE(info.ok());
    if (!info.ok()) return out;
    for (const auto& shard : info->shards) {
      auto it = (*store)->GetShardIterator(name, shard.shard_id, stream::IteratorType::kTrimHorizon, "", 0);
      EXPECT_TRUE(it.ok());
      std::string iter = *it;
      for (int round = 0; round < 100000; ++round) {
        auto page = (*store)->GetRecords(iter, 10000);
        EXPECT_TRUE(page.ok()) << page.status().ToString();
        if (!page.ok() || page->records.empty()) break;
        for (auto& r : page->records) out[shard.shard_id].push_back(std::move(r));
        iter = page->next_iterator;
      }
    }
    return out;
  }

  TempDir dir_;
  std::string lake_;
  ServerProcess server_;
  std::vector<std::string> env_;
};

TEST_F(KinesisTest, AwsCliPutsAndReadsBackInOrder) {
  StartServer();
  auto create = Aws({"create-stream", "--stream-name", "cli", "--shard-count", "3"});
  ASSERT_EQ(create.exit_code, 0) << create.err;
  auto shards = Aws({"list-shards", "--stream-name", "cli"});
  ASSERT_EQ(shards.exit_code, 0) << shards.err;
  EXPECT_NE(shards.out.find("\"StartingHashKey\": \"113427455640312821154458202477256070485\""), std::string::npos)
      << shards.out;
  EXPECT_NE(shards.out.find("shardId-000000000002"), std::string::npos);
  // "aGVsbG8=" is "hello": AWS CLI v2 sends --data as base64 text by default.
  auto one = Aws({"put-record", "--stream-name", "cli", "--partition-key", "k1", "--data", "aGVsbG8="});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  std::string batch = "[";
  for (int i = 0; i < 40; ++i) {
    // base64 of "r00".."r39": three bytes each, so four characters.
    std::string text = "r" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = (unsigned char)text[0] << 16 | (unsigned char)text[1] << 8 | (unsigned char)text[2];
    std::string enc = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
    batch += std::string(i ? "," : "") + R"({"Data":")" + enc + R"(","PartitionKey":"k)" + std::to_string(i % 4) + "\"}";
  }
  batch += "]";
  WriteFile(dir_.Join("batch.json"), batch);
  auto many = Aws({"put-records", "--stream-name", "cli", "--records", "file://" + dir_.Join("batch.json")});
  ASSERT_EQ(many.exit_code, 0) << many.err;
  EXPECT_NE(many.out.find("\"FailedRecordCount\": 0"), std::string::npos) << many.out;

  // Read every shard back with the CLI; then (the server stopped: one process holds the
  // streams) compare with the log: per shard, the records come in put order.
  std::map<std::string, std::string> read_back;
  for (int i = 0; i < 3; ++i) {
    std::string shard = "shardId-00000000000" + std::to_string(i);
    auto it = Aws({"get-shard-iterator", "--stream-name", "cli", "--shard-id", shard,
                   "--shard-iterator-type", "TRIM_HORIZON", "--query", "ShardIterator", "--output", "text"});
    ASSERT_EQ(it.exit_code, 0) << it.err;
    std::string iter = it.out.substr(0, it.out.find_last_not_of("\n") + 1);
    auto got = Aws({"get-records", "--shard-iterator", iter, "--limit", "1000"});
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_NE(got.out.find("\"MillisBehindLatest\": 0"), std::string::npos) << got.out;
    read_back[shard] = got.out;
  }
  auto missing = Aws({"describe-stream", "--stream-name", "nope"});
  EXPECT_NE(missing.err.find("ResourceNotFoundException"), std::string::npos) << missing.err;
  server_.Stop();
  auto all = ReadAll("cli");
  size_t total = 0;
  for (const auto& [shard, recs] : all) {
    const std::string& out = read_back[shard];
    size_t pos = 0;
    std::string prev_seq;
    for (const auto& r : recs) {
      size_t at = out.find("\"SequenceNumber\": \"" + r.sequence_number + "\"", pos);
      ASSERT_NE(at, std::string::npos) << "shard " << shard << " lacks " << r.sequence_number << " in order";
      pos = at;
      EXPECT_LT(prev_seq, r.sequence_number);
      prev_seq = r.sequence_number;
    }
    total += recs.size();
  }
  EXPECT_EQ(total, 41u);
  // Records of one partition key keep their put order (they share a shard).
  std::vector<std::string> k1;
  for (const auto& [shard, recs] : all) {
    for (const auto& r : recs) {
      if (r.partition_key == "k1") k1.push_back(r.data);
    }
  }
  ASSERT_FALSE(k1.empty());
  EXPECT_EQ(k1.front(), "hello");
  EXPECT_EQ(std::vector<std::string>(k1.begin() + 1, k1.end()),
            (std::vector<std::string>{"r01", "r05", "r09", "r13", "r17", "r21", "r25", "r29", "r33", "r37"}));
}

// `saleslake stream` works on the same logs as the server, one process at a time: records put by
// the CLI are read through the API, and the CLI refuses while the server holds the streams.
TEST_F(KinesisTest, CliSharesTheLogWithTheServerOneProcessAtATime) {
  ASSERT_EQ(RunSaleslakeIn(lake_, {"stream", "create", "events", "--shards", "2"}).exit_code, 0);
  auto put = RunSaleslake({"--lake", lake_, "stream", "put", "events"},
                          "{\"customer_id\":\"C1\",\"amount\":1}\n{\"customer_id\":\"C2\",\"amount\":2}\nnot json\n");
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_NE(put.out.find("put 3 record(s)"), std::string::npos) << put.out;
  auto tail = RunSaleslakeIn(lake_, {"stream", "tail", "events"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_NE(tail.out.find("\tC2\t{\"customer_id\":\"C2\",\"amount\":2}"), std::string::npos) << tail.out;
  EXPECT_NE(tail.out.find("\tnot json\n"), std::string::npos) << tail.out;
  StartServer();
  auto busy = RunSaleslakeIn(lake_, {"stream", "list"});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.err.find("open in another process"), std::string::npos) << busy.err;
  auto summary = Aws({"describe-stream-summary", "--stream-name", "events"});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("\"OpenShardCount\": 2"), std::string::npos) << summary.out;
  server_.Stop();
  auto all = ReadAll("events");
  size_t n = 0;
  for (const auto& [shard, recs] : all) n += recs.size();
  EXPECT_EQ(n, 3u);
  ASSERT_EQ(RunSaleslakeIn(lake_, {"stream", "delete", "events"}).exit_code, 0);
  auto gone = RunSaleslakeIn(lake_, {"stream", "describe", "events"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("not found"), std::string::npos) << gone.err;
}

TEST_F(KinesisTest, Boto3RoundTrip) {
  StartServer();
  ExpectClientPasses("/usr/bin/python3", "tests/server/clients/kinesis_boto3.py", "py-stream", "boto3 kinesis ok");
}

TEST_F(KinesisTest, CborClientRoundTrip) {
  StartServer();
  ExpectClientPasses("/usr/bin/python3", "tests/server/clients/kinesis_cbor.py", "cbor-stream", "cbor kinesis ok");
}

// A full disk is played by a file-size limit (RLIMIT_FSIZE, inherited by the server): a write
// past it fails (EFBIG) as one on a full disk fails (ENOSPC). Puts must then fail — per record in
// PutRecords, 500 InternalFailure for PutRecord — and nothing unacknowledged may be in the log.
TEST_F(KinesisTest, AFullDiskFailsPutsAndAcknowledgesNothingItDidNotWrite) {
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit limited = old;
  limited.rlim_cur = 256 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string err;
  const bool started = server_.Start(lake_, {"--access-log", ""}, &err);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);  // only the server keeps the limit
  ASSERT_TRUE(started) << err;

  auto r = RunProgram({"/usr/bin/python3", std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/kinesis_full_disk.py",
                       server_.url(), "full"}, "", env_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto got = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(got.is_object()) << r.out;
  ASSERT_GT(got["failed"].get<int>(), 0) << "puts never failed: the limit was not reached";
  EXPECT_EQ(got["failed_codes"], nlohmann::json::array({"InternalFailure"})) << r.out;
  EXPECT_EQ(got["single"]["status"], 500) << r.out;
  EXPECT_EQ(got["single"]["code"], "InternalFailure") << r.out;
  ASSERT_GT(got["acked"].size(), 0u) << r.out;
  server_.Stop();

  // Exactly the acknowledged records, in order: nothing lost, no partial write left behind.
  auto all = ReadAll("full");
  ASSERT_EQ(all.size(), 1u);
  std::vector<std::string> stored;
  for (const auto& rec : all.begin()->second) stored.push_back(rec.data.substr(0, 11));
  EXPECT_EQ(stored, got["acked"].get<std::vector<std::string>>());

  // Without the limit the same stream takes records again.
  StartServer();
  auto put = Aws({"put-record", "--stream-name", "full", "--partition-key", "p", "--data", "YWdhaW4=",
                  "--cli-binary-format", "base64"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
}

TEST_F(KinesisTest, JavaScriptSdkRoundTrip) {
  StartServer();
  ExpectClientPasses("node", "tools/peers/kinesis_sdk_roundtrip.mjs", "js-stream", "sdk kinesis ok");
}

TEST_F(KinesisTest, IamDeniesKinesisActionsOutsideThePolicy) {
  Key reader = CreateUserWithKey(lake_, "reader",
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:DescribeStream*","kinesis:ListShards"],)"
      R"("Resource":"arn:aws:kinesis:*:*:stream/allowed"}]})");
  StartServer();
  ASSERT_EQ(Aws({"create-stream", "--stream-name", "allowed", "--shard-count", "1"}).exit_code, 0);
  ASSERT_EQ(Aws({"create-stream", "--stream-name", "other", "--shard-count", "1"}).exit_code, 0);
  env_[0] = "AWS_ACCESS_KEY_ID=" + reader.id;
  env_[1] = "AWS_SECRET_ACCESS_KEY=" + reader.secret;
  EXPECT_EQ(Aws({"list-shards", "--stream-name", "allowed"}).exit_code, 0);
  auto other = Aws({"list-shards", "--stream-name", "other"});
  EXPECT_NE(other.err.find("AccessDenied"), std::string::npos) << other.err;
  auto put = Aws({"put-record", "--stream-name", "allowed", "--partition-key", "k", "--data", "eA=="});
  EXPECT_NE(put.err.find("AccessDenied"), std::string::npos) << put.err;
}

// Starts `argv` with stdout/stderr to /dev/null; returns its pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

size_t CountLines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

// A node producer puts batches of 500 while the server is SIGKILLed at random moments and
// restarted; every acknowledged record is then in the log exactly once, in its shard, at the
// sequence number it was acknowledged with, and each shard reads back in sequence order.
TEST_F(KinesisTest, AcknowledgedRecordsSurviveSigkillExactlyOnce) {
  // The default pipeline.yaml declares sales-events (4 shards): the server creates it.
  constexpr int kRounds = 6;
  constexpr int kPerRound = 8000;
  std::mt19937 rng(20261205);
  std::vector<std::string> ack_files;
  for (int round = 0; round < kRounds; ++round) {
    StartServer();
    std::string acks = dir_.Join("acks-" + std::to_string(round) + ".txt");
    WriteFile(acks, "");
    ack_files.push_back(acks);
    pid_t producer = Spawn({"node", std::string(SALESLAKE_SOURCE_DIR) + "/tools/peers/kinesis_producer.mjs",
                            server_.url(), "sales-events", std::to_string(round * kPerRound),
                            std::to_string(kPerRound), "8", acks},
                           env_);
    ASSERT_GT(producer, 0);
    // Kill once a random share of the round is acknowledged (the last round is not killed).
    const size_t threshold = round + 1 == kRounds ? kPerRound
                                                  : std::uniform_int_distribution<size_t>(500, kPerRound - 1000)(rng);
    int status = 0;
    bool exited = false;
    for (int i = 0; i < 6000 && CountLines(acks) < threshold; ++i) {
      if (waitpid(producer, &status, WNOHANG) == producer) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (round + 1 < kRounds) server_.Kill();
    for (int i = 0; !exited && i < 3000; ++i) {
      if (waitpid(producer, &status, WNOHANG) == producer) exited = true;
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!exited) {
      kill(producer, SIGKILL);
      waitpid(producer, &status, 0);
    }
    ASSERT_TRUE(exited) << "the producer of round " << round << " did not stop";
    if (round + 1 == kRounds) server_.Stop();
  }
  std::map<int64_t, std::pair<std::string, std::string>> acked;  // id -> (shard, sequence)
  for (const auto& f : ack_files) {
    std::ifstream in(f);
    int64_t id;
    std::string shard, seq;
    while (in >> id >> shard >> seq) {
      ASSERT_TRUE(acked.emplace(id, std::make_pair(shard, seq)).second) << "id " << id << " acknowledged twice";
    }
  }
  EXPECT_GT(acked.size(), static_cast<size_t>(kPerRound));  // at least the last round whole
  auto all = ReadAll("sales-events");
  std::map<int64_t, std::pair<std::string, std::string>> stored;
  int64_t valid = 0, invalid = 0, cents = 0;
  std::set<int64_t> customers;
  for (const auto& [shard, recs] : all) {
    std::string prev;
    for (const auto& r : recs) {
      EXPECT_LT(prev, r.sequence_number) << shard;
      prev = r.sequence_number;
      size_t at = r.data.find("\"id\":");
      int64_t id;
      if (at != std::string::npos) {
        id = std::stoll(r.data.substr(at + 5));
        ++valid;
        // amount = ((id * 37) % 100000) / 100 (kinesis_producer.mjs), summed in cents.
        cents += (id * 37) % 100000;
        customers.insert(id % 5000);
      } else {
        ASSERT_EQ(r.data.rfind("not json ", 0), 0u) << r.data;
        id = std::stoll(r.data.substr(9));
        ++invalid;
      }
      ASSERT_TRUE(stored.emplace(id, std::make_pair(shard, r.sequence_number)).second)
          << "id " << id << " stored twice";
    }
  }
  size_t missing = 0, moved = 0;
  for (const auto& [id, where] : acked) {
    auto it = stored.find(id);
    if (it == stored.end()) {
      ++missing;
    } else if (it->second != where) {
      ++moved;
    }
  }
  std::cout << "durability: " << acked.size() << " acknowledged, " << stored.size() << " stored of "
            << kRounds * kPerRound << " sent over " << kRounds - 1 << " kills\n";
  EXPECT_EQ(missing, 0u) << "acknowledged records lost";
  EXPECT_EQ(moved, 0u) << "acknowledged records at another shard or sequence number";
  // Unacknowledged puts (in flight at a kill) may or may not be there; nothing else may be.
  EXPECT_LE(stored.size(), static_cast<size_t>(kRounds * kPerRound));
  EXPECT_GE(stored.size(), acked.size());

  // Delivery into sales_data: a restart and a graceful stop deliver everything in the log, each
  // valid record once (the crawl + my-etl-job path), the others to quarantine.
  StartServer();
  ASSERT_EQ(server_.Stop(), 0);
  auto q = RunSaleslakeIn(lake_, {"query", "SELECT count(*), CAST(round(sum(amount) * 100) AS BIGINT), count(DISTINCT customer_id) FROM sales_data",
                                  "--format", "csv"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find(std::to_string(valid) + "," + std::to_string(cents) + "," + std::to_string(customers.size())),
            std::string::npos) << q.out << " expected " << valid << " rows, " << cents << " cents, " << customers.size() << " customers";
  size_t quarantined = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(lake_ + "/quarantine/streams/sales-events")) {
    if (e.is_regular_file()) quarantined += CountLines(e.path().string());
  }
  EXPECT_EQ(quarantined, static_cast<size_t>(invalid));

  // A crash after the job's commit and before the delivery state moved on redoes the last
  // delivery: the same staged content, which the job's bookmark loads once.
  std::string state_path = lake_ + "/streams/sales-events/delivery.json";
  std::string state = ReadFile(state_path);
  ASSERT_NE(state.find("committed"), std::string::npos) << state;
  std::string redo = state;
  redo.replace(redo.find("\"committed\""), 11, "\"pending\":{\"to\":");
  WriteFile(state_path, "{\"committed\":[0,0,0,0]," + redo.substr(1, redo.size() - 2) +
                            ",\"columns\":[\"purchase_date\",\"customer_id\",\"product_id\",\"amount\",\"region\",\"status\"]}}");
  StartServer();
  ASSERT_EQ(server_.Stop(), 0);
  auto again = RunSaleslakeIn(lake_, {"query", "SELECT count(*) FROM sales_data", "--format", "csv"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(std::to_string(valid)), std::string::npos) << again.out << " state was " << state;
}


// The lines of one client's block in the output of tools/peers/trino_clients.mjs (the header of
// column names first), for the statement numbered 1.
std::vector<std::string> TrinoClientRows(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("== ", 0) == 0) {
      inside = line == "== trino-client 1";
      continue;
    }
    if (inside) lines.push_back(line);
  }
  return lines;
}

// Records put with boto3 are in the live metrics at the next read (no delivery, no waiting);
// system.stream_metrics, read over the Trino protocol, equals DuckDB's aggregation of the
// acknowledged records per minute and region; the console's JSON API shows the same; the figures
// survive a restart; a delivery journals stream.delivered and leaves a run-history entry.
TEST_F(KinesisTest, LiveMetricsEqualDuckDbOverTheAcknowledgedRecords) {
  if (!HaveDuckDb()) GTEST_SKIP() << "node + @duckdb/node-api not installed";
  // Time is the test's: two minutes a minute apart, near the real time (SigV4 checks skew).
  const int64_t real_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t w1 = real_ms / 60000 * 60000, w2 = w1 + 60000;
  const std::string clock_file = dir_.Join("clock.ms");
  WriteFile(clock_file, std::to_string(w1 + 1500));
  ::setenv("SALESLAKE_TEST_CLOCK_FILE", clock_file.c_str(), 1);
  struct Unset {
    ~Unset() { ::unsetenv("SALESLAKE_TEST_CLOCK_FILE"); }
  } unset;
  Key analyst = CreateUserWithKey(lake_, "analyst", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})");
  StartServer();

  const std::string script = std::string(SALESLAKE_SOURCE_DIR) + "/tests/server/clients/kinesis_metrics_boto3.py";
  const std::string valid1 = dir_.Join("valid1.jsonl"), invalid1 = dir_.Join("invalid1.txt");
  const std::string valid2 = dir_.Join("valid2.jsonl"), invalid2 = dir_.Join("invalid2.txt");
  auto put1 = RunProgram({"/usr/bin/python3", script, server_.url(), "sales-events", "1", "1500", valid1, invalid1}, "", env_);
  ASSERT_EQ(put1.exit_code, 0) << put1.out << put1.err;
  WriteFile(clock_file, std::to_string(w2 + 700));
  auto put2 = RunProgram({"/usr/bin/python3", script, server_.url(), "sales-events", "2", "700", valid2, invalid2}, "", env_);
  ASSERT_EQ(put2.exit_code, 0) << put2.out << put2.err;

  const std::string queries = dir_.Join("metrics.sql");
  WriteFile(queries,
            "SELECT date_diff('second', TIMESTAMP '1970-01-01 00:00:00', window_start) AS w, region, orders, "
            "CAST(round(revenue * 100) AS BIGINT) AS cents, refunds, out_rows, invalid FROM system.stream_metrics "
            "WHERE stream = 'sales-events' ORDER BY 1, 2 NULLS LAST\n");
  auto sql_rows = [&]() {
    auto r = RunProgram({"node", std::string(SALESLAKE_SOURCE_DIR) + "/tools/peers/trino_clients.mjs", server_.url(),
                         analyst.id, analyst.secret, queries});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> rows = TrinoClientRows(r.out);
    EXPECT_FALSE(rows.empty()) << r.out << r.err;
    if (!rows.empty()) rows.erase(rows.begin());  // the header
    std::string text;
    for (std::string row : rows) {
      for (char& c : row) c = c == '\t' ? ',' : c;
      if (auto n = row.find("\\N"); n != std::string::npos) row.replace(n, 2, "");
      text += row + "\n";
    }
    return text;
  };
  const std::string ours = sql_rows();

  auto count_lines = [](const std::string& path) { return std::to_string(CountLines(path)); };
  const std::string cols =
      "columns={purchase_date: 'VARCHAR', customer_id: 'VARCHAR', product_id: 'VARCHAR', amount: 'DOUBLE', "
      "region: 'VARCHAR', status: 'VARCHAR'}";
  const std::string s1 = std::to_string(w1 / 1000), s2 = std::to_string(w2 / 1000);
  auto duck = RunDuckDb(
      "SELECT w, region, orders, cents, refunds, out_rows, invalid FROM ("
      " SELECT w, region, count(*) AS orders, CAST(round(coalesce(sum(amount), 0) * 100) AS BIGINT) AS cents,"
      "  count(*) FILTER (WHERE upper(trim(status)) = 'REFUNDED') AS refunds,"
      "  count(*) FILTER (WHERE upper(trim(status)) = 'OUT') AS out_rows, 0 AS invalid"
      " FROM (SELECT " + s1 + " AS w, * FROM read_json('" + valid1 + "', " + cols + ") UNION ALL"
      "       SELECT " + s2 + " AS w, * FROM read_json('" + valid2 + "', " + cols + ")) GROUP BY 1, 2"
      " UNION ALL SELECT w, NULL, 0, 0, 0, 0, n FROM (VALUES (" + s1 + ", " + count_lines(invalid1) + "), (" + s2 +
      ", " + count_lines(invalid2) + ")) t(w, n) WHERE n > 0) ORDER BY 1, 2 NULLS LAST;\n");
  ASSERT_EQ(duck.exit_code, 0) << duck.err;
  std::string expected = duck.out.substr(duck.out.find('\n') + 1);
  EXPECT_GT(CountLines(valid1), 1000u);
  EXPECT_EQ(ours, expected);

  // The console's JSON API: the same windows.
  const std::string login_body = R"({"access_key_id":")" + analyst.id + R"(","secret_access_key":")" + analyst.secret + "\"}";
  auto login = RawExchange(server_.port(), "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                           "Content-Length: " + std::to_string(login_body.size()) + "\r\n\r\n" + login_body);
  ASSERT_EQ(login.status, 200) << login.body;
  std::string cookie = login.headers["set-cookie"].substr(0, login.headers["set-cookie"].find(';'));
  auto api = RawExchange(server_.port(), "GET /api/streams/sales-events/metrics HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n");
  ASSERT_EQ(api.status, 200) << api.body;
  auto j = nlohmann::json::parse(api.body);
  int64_t orders = 0, invalid = 0;
  std::set<int64_t> windows;
  for (const auto& w : j["windows"]) {
    orders += w["orders"].get<int64_t>();
    invalid += w["invalid"].get<int64_t>();
    windows.insert(w["window_start_ms"].get<int64_t>());
  }
  EXPECT_EQ(orders, static_cast<int64_t>(CountLines(valid1) + CountLines(valid2)));
  EXPECT_EQ(invalid, static_cast<int64_t>(CountLines(invalid1) + CountLines(invalid2)));
  EXPECT_EQ(windows, (std::set<int64_t>{w1, w2}));
  auto missing = RawExchange(server_.port(), "GET /api/streams/nope/metrics HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n");
  EXPECT_EQ(missing.status, 200) << missing.body;  // a stream without records has no windows
  EXPECT_EQ(nlohmann::json::parse(missing.body)["windows"].size(), 0u);

  // A restart rebuilds the metrics from the log; a graceful stop delivered everything first.
  ASSERT_EQ(server_.Stop(), 0);
  StartServer();
  EXPECT_EQ(sql_rows(), expected);
  ASSERT_EQ(server_.Stop(), 0);
  std::string events = ReadFile(lake_ + "/_system/events.jsonl");
  EXPECT_NE(events.find("\"type\":\"stream.delivered\""), std::string::npos);
  auto runs = RunSaleslakeIn(lake_, {"runs", "--job", "stream:sales-events"});
  EXPECT_EQ(runs.exit_code, 0) << runs.err;
  EXPECT_NE(runs.out.find("stream:sales-events"), std::string::npos) << runs.out;
}

}  // namespace
}  // namespace saleslake::testing
