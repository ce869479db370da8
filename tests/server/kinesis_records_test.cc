// PutRecords' fast path: what the scanner takes (and decodes exactly like the generic path) and
// what it leaves to the generic path, and the answer writer against nlohmann's rendering.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/internal/kinesis_records.h"
#include "server/internal/util.h"

namespace saleslake::server::internal {
namespace {

std::string Body(const nlohmann::json& j) { return j.dump(); }

nlohmann::json Record(const std::string& data, const std::string& key) {
  return {{"Data", Base64Encode(data)}, {"PartitionKey", key}};
}

TEST(ScanPutRecordsTest, TakesTheUsualShape) {
  nlohmann::json records = nlohmann::json::array();
  for (int i = 0; i < 20; ++i) records.push_back(Record(std::string(static_cast<size_t>(i), static_cast<char>('a' + i)), "k" + std::to_string(i)));
  records[3]["ExplicitHashKey"] = "12345";
  PutRecordsInput in;
  const std::string body = Body({{"StreamName", "s1"}, {"Records", records}});  // `in` views it
  ASSERT_TRUE(ScanPutRecords(body, &in));
  EXPECT_EQ(in.stream, "s1");
  ASSERT_EQ(in.records.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(in.records[i].data, std::string(static_cast<size_t>(i), static_cast<char>('a' + i))) << i;
    EXPECT_EQ(in.records[i].partition_key, "k" + std::to_string(i));
    EXPECT_EQ(in.records[i].explicit_hash_key, i == 3 ? "12345" : "");
  }
  // Whitespace anywhere JSON allows it, the members in another order, the stream by ARN (as
  // newer SDKs send it).
  ASSERT_TRUE(ScanPutRecords(" {\n \"Records\" : [ { \"PartitionKey\":\"p\" ,\"Data\" : \"QUJD\" } ] ,\r\n"
                             "\t\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/orders\" } ", &in));
  EXPECT_EQ(in.stream, "orders");
  ASSERT_EQ(in.records.size(), 1u);
  EXPECT_EQ(in.records[0].data, "ABC");
  // Empty data is a record (Kinesis rejects it later, as the generic path would).
  ASSERT_TRUE(ScanPutRecords(R"({"StreamName":"s","Records":[{"Data":"","PartitionKey":"p"}]})", &in));
  EXPECT_EQ(in.records[0].data, "");
}

TEST(ScanPutRecordsTest, DecodesBase64LikeTheGenericPath) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes += static_cast<char>((i * 131 + 7) & 0xff);
  for (size_t n = 0; n <= 64; ++n) {
    std::string text = Base64Encode(bytes.substr(0, n));
    PutRecordsInput in;
    const std::string body = Body({{"StreamName", "s"}, {"Records", {{{"Data", text}, {"PartitionKey", "p"}}}}});
    ASSERT_TRUE(ScanPutRecords(body, &in)) << n;
    EXPECT_EQ(in.records[0].data, *Base64Decode(text)) << n;
  }
}

TEST(ScanPutRecordsTest, LeavesEverythingElseToTheGenericPath) {
  const std::string ok = R"({"Data":"QUJD","PartitionKey":"p"})";
  std::vector<std::string> declined = {
      "", "{}", "[]", "{", R"({"StreamName":"s"})", R"({"StreamName":"s","Records":[]})",
      R"({"StreamName":"s","Records":null})", R"({"StreamName":null,"Records":[)" + ok + "]}",
      R"({"Records":[)" + ok + "]}",                                    // no stream
      R"({"StreamName":"","Records":[)" + ok + "]}",                    // empty name
      R"({"StreamARN":"arn:aws:kinesis:us-east-1:1:s","Records":[)" + ok + "]}",  // no :stream/
      R"({"StreamName":"s","Records":[)" + ok + "]} x",                 // trailing bytes
      R"({"StreamName":"s","Records":[)" + ok + "]",                    // truncated
      R"({"StreamName":"s","Records":[)" + ok + ",]}",                  // trailing comma
      R"({"StreamName":"s","StreamName":"t","Records":[)" + ok + "]}",  // repeated member
      R"({"StreamName":"s","Extra":"x","Records":[)" + ok + "]}",       // unknown member
      R"({"StreamName":"s\u0041","Records":[)" + ok + "]}",             // an escape
      R"({"StreamName":"s\/","Records":[)" + ok + "]}",
      "{\"StreamName\":\"s\xc3\xa9\",\"Records\":[" + ok + "]}",        // non-ASCII
      R"({"StreamName":"s","Records":[{"Data":"QUJD"}]})",              // no partition key
      R"({"StreamName":"s","Records":[{"PartitionKey":"p"}]})",         // no data
      R"({"StreamName":"s","Records":[{"Data":"QUJD","PartitionKey":""}]})",
      R"({"StreamName":"s","Records":[{"Data":"QUJ","PartitionKey":"p"}]})",   // not base64
      R"({"StreamName":"s","Records":[{"Data":"QU=D","PartitionKey":"p"}]})",
      R"({"StreamName":"s","Records":[{"Data":"QU*D","PartitionKey":"p"}]})",
      R"({"StreamName":"s","Records":[{"Data":" QUJD","PartitionKey":"p"}]})",
      R"({"StreamName":"s","Records":[{"Data":"QUJD","PartitionKey":"p","Data":"QUJD"}]})",
      R"({"StreamName":"s","Records":[{"Data":"QUJD","PartitionKey":"p","ExplicitHashKey":1}]})",
      R"({"StreamName":"s","Records":[{"Data":"QUJD","PartitionKey":"p","X":"y"}]})",
      R"({"StreamName":"s","Records":[{"Data":"QUJD","PartitionKey":"p"},null]})",
  };
  for (const std::string& body : declined) {
    PutRecordsInput in;
    EXPECT_FALSE(ScanPutRecords(body, &in)) << body;
  }
  PutRecordsInput in;
  // Limits: 500 records, 256-character keys, 1 MiB of data, 5 MiB a request.
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 500; ++i) many.push_back(Record("x", "p"));
  EXPECT_TRUE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", many}}), &in));
  many.push_back(Record("x", "p"));
  EXPECT_FALSE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", many}}), &in));
  EXPECT_TRUE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", {Record("x", std::string(256, 'k'))}}}), &in));
  EXPECT_FALSE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", {Record("x", std::string(257, 'k'))}}}), &in));
  EXPECT_TRUE(ScanPutRecords(Body({{"StreamName", std::string(128, 'n')}, {"Records", {Record("x", "p")}}}), &in));
  EXPECT_FALSE(ScanPutRecords(Body({{"StreamName", std::string(129, 'n')}, {"Records", {Record("x", "p")}}}), &in));
  const std::string mib(1 << 20, 'd');
  EXPECT_TRUE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", {Record(mib, "p")}}}), &in));
  EXPECT_FALSE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", {Record(mib + "d", "p")}}}), &in));
  nlohmann::json big = nlohmann::json::array();
  for (int i = 0; i < 5; ++i) big.push_back(Record(mib, "p"));
  EXPECT_FALSE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", big}}), &in));  // 5 MiB + keys
  big.back() = Record(mib.substr(5), "p");  // exactly 5 MiB with the keys
  EXPECT_TRUE(ScanPutRecords(Body({{"StreamName", "s"}, {"Records", big}}), &in));
}

TEST(PutRecordsReplyTest, RendersLikeNlohmann) {
  std::vector<stream::PutPlacement> placed(4);
  placed[0] = {Status::OK(), 0, 0};
  placed[1] = {Status::OK(), 3, 12345678901234567ull};
  placed[2] = {Status::ResourceExhausted("Rate exceeded for shard shardId-000000000001 in stream \"s\""), 1, 0};
  placed[3] = {Status::IOError("fsync: No space left on device"), 2, 0};
  nlohmann::json records = nlohmann::json::array();
  records.push_back({{"SequenceNumber", "100000000000000000000"}, {"ShardId", "shardId-000000000000"}});
  records.push_back({{"SequenceNumber", "100012345678901234567"}, {"ShardId", "shardId-000000000003"}});
  records.push_back({{"ErrorCode", "ProvisionedThroughputExceededException"},
                     {"ErrorMessage", placed[2].status.message()}});
  records.push_back({{"ErrorCode", "InternalFailure"}, {"ErrorMessage", placed[3].status.message()}});
  nlohmann::json expected{{"FailedRecordCount", 2}, {"Records", records}, {"EncryptionType", "NONE"}};
  EXPECT_EQ(PutRecordsReply(placed), expected.dump());
  EXPECT_EQ(PutRecordsReply(std::span<const stream::PutPlacement>(placed).first(2)),
            (nlohmann::json{{"FailedRecordCount", 0}, {"Records", {records[0], records[1]}}, {"EncryptionType", "NONE"}}).dump());
}

TEST(GetRecordsReplyTest, RendersLikeNlohmann) {
  stream::GetRecordsResult r;
  r.next_iterator = "00ab12ff";
  r.millis_behind_latest = 1234;
  const std::vector<std::pair<std::string, std::string>> recs = {
      {"pk", "{\"a\":1}"}, {"", ""}, {"q\"uote\\back\nline", std::string("\0\xff\x80", 3)},
      {"caf\xc3\xa9", "xy"}, {"bad\xff", "abcd"}, {std::string(256, 'k'), std::string(1000, 'z')}};
  int64_t ms = 1'764'970'000'123;
  for (size_t i = 0; i < recs.size(); ++i) {
    stream::StreamRecord rec;
    rec.partition_key = recs[i].first;
    rec.data = recs[i].second;
    rec.sequence_number = "1000000000000000000" + std::to_string(10 + i);
    rec.arrival_ms = ms + static_cast<int64_t>(i / 2) * 7;  // pairs share a millisecond
    r.records.push_back(rec);
  }
  r.records[3].arrival_ms = 1000;  // 1.0
  nlohmann::json records = nlohmann::json::array();
  for (const auto& rec : r.records) {
    records.push_back({{"SequenceNumber", rec.sequence_number},
                       {"ApproximateArrivalTimestamp", static_cast<double>(rec.arrival_ms) / 1000.0},
                       {"Data", Base64Encode(rec.data)},
                       {"PartitionKey", rec.partition_key}});
  }
  nlohmann::json expected{{"Records", records}, {"NextShardIterator", r.next_iterator},
                          {"MillisBehindLatest", r.millis_behind_latest}};
  EXPECT_EQ(GetRecordsReply(r), expected.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.records.clear();
  EXPECT_EQ(GetRecordsReply(r), R"({"MillisBehindLatest":1234,"NextShardIterator":"00ab12ff","Records":[]})");
}

}  // namespace
}  // namespace saleslake::server::internal
