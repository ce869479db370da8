// The Kinesis handlers decode JSON 1.1 input, check Kinesis's input constraints (reported as
// ValidationException, the way Kinesis reports shape violations) and call stream::StreamStore;
// semantic errors come back as Status and are named by stream::KinesisErrorOf.
#include "server/internal/kinesis_api.h"

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "auth/auth.h"
#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "etl/job_runner.h"
#include "etl/job_spec.h"
#include "stream/delivery.h"
#include "stream/metrics.h"
#include "sql/sql.h"
#include "common/logging.h"
#include "server/internal/kinesis_records.h"
#include "server/internal/util.h"
#include "stream/stream.h"

namespace saleslake::server::internal {
namespace {

using nlohmann::json;

constexpr char kTargetPrefix[] = "Kinesis_20131202.";
constexpr char kRegion[] = "us-east-1";

ApiError Validation(const std::string& message) {
  return MakeError(400, "ValidationException", "1 validation error detected: " + message);
}

ApiError FromStatus(const Status& st) {
  std::string type = stream::KinesisErrorOf(st);
  return MakeError(type == "InternalFailure" ? 500 : 400, type, st.message());
}

HttpResponse Reply(std::string body) {
  HttpResponse r;
  r.Set("Content-Type", "application/x-amz-json-1.1");
  r.body = std::move(body);
  return r;
}

HttpResponse Reply(const json& body) { return Reply(body.dump(-1, ' ', false, json::error_handler_t::replace)); }

double EpochSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// A string member, "" when absent; a non-string value is a ValidationException.
std::optional<ApiError> GetString(const json& in, const char* key, std::string* out) {
  out->clear();
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return Validation(std::string("Value at '") + key + "' must be a string");
  *out = it->get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> GetInt(const json& in, const char* key, std::optional<int64_t>* out) {
  out->reset();
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return Validation(std::string("Value at '") + key + "' must be an integer");
  *out = it->get<int64_t>();
  return std::nullopt;
}

// An optional integer member within [lo, hi]; outside it is Kinesis's ValidationException.
std::optional<ApiError> GetBounded(const json& in, const char* key, const char* field, int64_t lo, int64_t hi,
                                   std::optional<int64_t>* out) {
  if (auto e = GetInt(in, key, out)) return e;
  if (*out && (**out < lo || **out > hi)) {
    return Validation("Value '" + std::to_string(**out) + "' at '" + field + "' failed to satisfy constraint: " +
                      "Member must have value between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return std::nullopt;
}

class KinesisService final : public Service {
 public:
  KinesisService(const ServiceContext& context, sql::SystemTables* system_tables)
      : context_(context), system_tables_(system_tables) {}

  std::string name() const override { return "kinesis"; }

  Status Register(Dispatcher& d) override {
    if (!context_.lake) return Status::OK();  // a server without a lake hosts no streams
    account_ = "000000000000";
    auth::IamOptions iam_options;
    if (auto iam = auth::Iam::Open(*context_.lake, iam_options); iam.ok()) account_ = (*iam)->account_id();
    stream::StoreOptions o;
    o.root = context_.state->root() + "/streams";  // shard logs: the serving machine's disk
    o.clock = context_.clock;
    SL_ASSIGN_OR_RETURN(store_, stream::StreamStore::Open(o));
    stream::MetricsOptions mo;
    mo.clock = context_.clock;
    metrics_ = std::make_unique<stream::StreamMetrics>(store_.get(), mo);
    SL_RETURN_IF_ERROR(system_tables_->Register("system.stream_metrics", MetricsSchema(),
                                                [this] { return MetricsTable(); }));
    SL_RETURN_IF_ERROR(system_tables_->Register("system.streams", SystemStreamsSchema(), [this] { return StreamsTable(); }));

    Add(d, "CreateStream", &KinesisService::CreateStream);
    Add(d, "DeleteStream", &KinesisService::DeleteStream);
    Add(d, "ListStreams", &KinesisService::ListStreams, /*stream_resource=*/false);
    Add(d, "DescribeStream", &KinesisService::DescribeStream);
    Add(d, "DescribeStreamSummary", &KinesisService::DescribeStreamSummary);
    Add(d, "ListShards", &KinesisService::ListShards);
    Add(d, "PutRecord", &KinesisService::PutRecord);
    Add(d, "PutRecords", &KinesisService::PutRecords, true,
        [this](const HttpRequest& request) { return FastPutRecords(request); });
    Add(d, "GetShardIterator", &KinesisService::GetShardIterator);
    Add(d, "GetRecords", &KinesisService::GetRecords);
    Add(d, "IncreaseStreamRetentionPeriod", &KinesisService::IncreaseRetention);
    Add(d, "DecreaseStreamRetentionPeriod", &KinesisService::DecreaseRetention);
    Add(d, "AddTagsToStream", &KinesisService::AddTags);
    Add(d, "RemoveTagsFromStream", &KinesisService::RemoveTags);
    Add(d, "ListTagsForStream", &KinesisService::ListTags);
    return Status::OK();
  }

  Status Start() override {
    if (!store_) return Status::OK();
    SL_RETURN_IF_ERROR(store_->EnforceRetention());
    SL_RETURN_IF_ERROR(StartDeliveries());
    delivery_thread_ = std::thread([this] { DeliveryLoop(); });
    return Status::OK();
  }

  void Stop() override {
    if (metrics_) {  // no statement reads them now
      system_tables_->Unregister("system.stream_metrics");
      system_tables_->Unregister("system.streams");
    }
    if (!delivery_thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(delivery_mu_);
      stopping_ = true;
    }
    delivery_cv_.notify_all();
    delivery_thread_.join();
    DeliverAll();  // a graceful stop delivers everything acknowledged
  }

 private:
  using Handler = Outcome (KinesisService::*)(const json&);

  void Add(Dispatcher& d, const std::string& op, Handler handler, bool stream_resource = true,
           std::function<std::optional<FastJsonCall>(const HttpRequest&)> fast = nullptr) {
    JsonOperation j;
    j.fast = std::move(fast);
    j.accepts_cbor = true;  // the AWS SDK for Java's default for Kinesis
    j.iam_action = "kinesis:" + op;
    j.resource = [this, stream_resource, op](const json& in) -> std::string {
      if (!stream_resource) return "arn:aws:kinesis:" + std::string(kRegion) + ":" + account_ + ":stream/*";
      std::string name;
      if (op == "GetRecords") {
        if (auto it = in.find("ShardIterator"); it != in.end() && it->is_string()) {
          name = store_->IteratorStream(it->get<std::string>());
        }
      } else {
        name = StreamNameOf(in);
      }
      return Arn(name.empty() ? "*" : name);
    };
    j.handler = [this, handler](const json& in, const Principal&, const HttpRequest&) {
      return (this->*handler)(in);
    };
    d.AddJsonOperation("kinesis", kTargetPrefix + op, std::move(j));
  }

  std::string Arn(const std::string& stream) const {
    return "arn:aws:kinesis:" + std::string(kRegion) + ":" + account_ + ":stream/" + stream;
  }

  // StreamName, or the name inside StreamARN (newer SDKs may send only the ARN).
  static std::string StreamNameOf(const json& in) {
    if (auto it = in.find("StreamName"); it != in.end() && it->is_string()) return it->get<std::string>();
    if (auto it = in.find("StreamARN"); it != in.end() && it->is_string()) {
      std::string arn = it->get<std::string>();
      auto p = arn.find(":stream/");
      if (p != std::string::npos) return arn.substr(p + 8);
    }
    return "";
  }

  // The stream an operation names, checked like Kinesis does.
  std::optional<ApiError> RequireStream(const json& in, std::string* name) const {
    *name = StreamNameOf(in);
    if (name->empty()) {
      return Validation("Value null at 'streamName' failed to satisfy constraint: Member must not be null");
    }
    if (name->size() > 128) {
      return Validation("Value '" + *name + "' at 'streamName' failed to satisfy constraint: "
                        "Member must have length less than or equal to 128");
    }
    return std::nullopt;
  }

  json ModeDetails(bool on_demand) const {
    return json{{"StreamMode", on_demand ? "ON_DEMAND" : "PROVISIONED"}};
  }

  json ShardJson(const stream::ShardInfo& s) const {
    return json{{"ShardId", s.shard_id},
                {"HashKeyRange", {{"StartingHashKey", s.starting_hash_key}, {"EndingHashKey", s.ending_hash_key}}},
                {"SequenceNumberRange", {{"StartingSequenceNumber", s.starting_sequence_number}}}};
  }

  Outcome CreateStream(const json& in) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    std::optional<int64_t> shards;
    if (auto e = GetInt(in, "ShardCount", &shards)) return *e;
    bool on_demand = false;
    if (auto it = in.find("StreamModeDetails"); it != in.end() && it->is_object()) {
      std::string mode = it->value("StreamMode", "");
      if (mode != "ON_DEMAND" && mode != "PROVISIONED") {
        return Validation("Value '" + mode + "' at 'streamModeDetails.streamMode' failed to satisfy constraint: "
                          "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]");
      }
      on_demand = mode == "ON_DEMAND";
    }
    if (on_demand && shards) return MakeError(400, "InvalidArgumentException", "ShardCount is not allowed for ON_DEMAND streams");
    if (!on_demand && !shards) on_demand = true;  // Kinesis creates an on-demand stream then
    if (shards && (*shards < 1 || *shards > 100000)) {
      return Validation("Value '" + std::to_string(*shards) +
                        "' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1");
    }
    Status st = store_->CreateStream(name, shards ? static_cast<int>(*shards) : 0, on_demand);
    if (!st.ok()) return FromStatus(st);
    return Reply(json::object());
  }

  Outcome DeleteStream(const json& in) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    Status st = store_->DeleteStream(name);
    if (!st.ok()) return FromStatus(st);
    return Reply(json::object());
  }

  Outcome ListStreams(const json& in) {
    std::optional<int64_t> limit;
    if (auto e = GetBounded(in, "Limit", "limit", 1, 10000, &limit)) return *e;
    std::string start, token;
    if (auto e = GetString(in, "ExclusiveStartStreamName", &start)) return *e;
    if (auto e = GetString(in, "NextToken", &token)) return *e;
    if (!token.empty()) {
      auto decoded = Base64Decode(token);
      if (!decoded) return MakeError(400, "InvalidArgumentException", "Invalid NextToken");
      start = *decoded;
    }
    const size_t max = limit ? static_cast<size_t>(*limit) : 100;
    json names = json::array(), summaries = json::array();
    bool more = false;
    std::string last;
    for (const std::string& n : store_->ListStreams()) {
      if (!start.empty() && n <= start) continue;
      if (names.size() >= max) {
        more = true;
        break;
      }
      auto info = store_->Describe(n);
      if (!info.ok()) continue;  // deleted meanwhile
      names.push_back(n);
      summaries.push_back({{"StreamName", n}, {"StreamARN", Arn(n)}, {"StreamStatus", info->status},
                           {"StreamModeDetails", ModeDetails(info->on_demand)},
                           {"StreamCreationTimestamp", EpochSeconds(info->created_ms)}});
      last = n;
    }
    json out{{"StreamNames", names}, {"HasMoreStreams", more}, {"StreamSummaries", summaries}};
    if (more) out["NextToken"] = Base64Encode(last);
    return Reply(out);
  }

  Outcome DescribeStream(const json& in) {
    std::string name, start;
    if (auto e = RequireStream(in, &name)) return *e;
    if (auto e = GetString(in, "ExclusiveStartShardId", &start)) return *e;
    std::optional<int64_t> limit;
    if (auto e = GetBounded(in, "Limit", "limit", 1, 10000, &limit)) return *e;
    auto info = store_->Describe(name);
    if (!info.ok()) return FromStatus(info.status());
    json shards = json::array();
    bool more = false;
    const size_t max = limit ? static_cast<size_t>(*limit) : 100;
    for (const auto& s : info->shards) {
      if (!start.empty() && s.shard_id <= start) continue;
      if (shards.size() >= max) {
        more = true;
        break;
      }
      shards.push_back(ShardJson(s));
    }
    json d{{"StreamName", info->name}, {"StreamARN", Arn(info->name)}, {"StreamStatus", info->status},
           {"StreamModeDetails", ModeDetails(info->on_demand)}, {"Shards", shards}, {"HasMoreShards", more},
           {"RetentionPeriodHours", info->retention_hours},
           {"StreamCreationTimestamp", EpochSeconds(info->created_ms)},
           {"EnhancedMonitoring", json::array({json{{"ShardLevelMetrics", json::array()}}})},
           {"EncryptionType", "NONE"}};
    return Reply(json{{"StreamDescription", d}});
  }

  Outcome DescribeStreamSummary(const json& in) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    auto info = store_->Describe(name);
    if (!info.ok()) return FromStatus(info.status());
    json d{{"StreamName", info->name}, {"StreamARN", Arn(info->name)}, {"StreamStatus", info->status},
           {"StreamModeDetails", ModeDetails(info->on_demand)},
           {"RetentionPeriodHours", info->retention_hours},
           {"StreamCreationTimestamp", EpochSeconds(info->created_ms)},
           {"EnhancedMonitoring", json::array({json{{"ShardLevelMetrics", json::array()}}})},
           {"EncryptionType", "NONE"}, {"OpenShardCount", info->shards.size()}, {"ConsumerCount", 0}};
    return Reply(json{{"StreamDescriptionSummary", d}});
  }

  Outcome ListShards(const json& in) {
    std::string token, start;
    if (auto e = GetString(in, "NextToken", &token)) return *e;
    if (auto e = GetString(in, "ExclusiveStartShardId", &start)) return *e;
    std::optional<int64_t> max_results;
    if (auto e = GetBounded(in, "MaxResults", "maxResults", 1, 10000, &max_results)) return *e;
    std::string name = StreamNameOf(in);
    if (!token.empty()) {
      if (!name.empty()) {
        return MakeError(400, "InvalidArgumentException", "NextToken and StreamName cannot be provided together.");
      }
      auto decoded = Base64Decode(token);
      auto nl = decoded ? decoded->find('\n') : std::string::npos;
      if (nl == std::string::npos) return MakeError(400, "InvalidArgumentException", "Invalid NextToken");
      name = decoded->substr(0, nl);
      start = decoded->substr(nl + 1);
    } else if (name.empty()) {
      return MakeError(400, "InvalidArgumentException", "Either NextToken or StreamName should be provided.");
    }
    auto info = store_->Describe(name);
    if (!info.ok()) return FromStatus(info.status());
    const size_t max = max_results ? static_cast<size_t>(*max_results) : 1000;
    json shards = json::array();
    std::string last;
    bool more = false;
    for (const auto& s : info->shards) {
      if (!start.empty() && s.shard_id <= start) continue;
      if (shards.size() >= max) {
        more = true;
        break;
      }
      shards.push_back(ShardJson(s));
      last = s.shard_id;
    }
    json out{{"Shards", shards}};
    if (more) out["NextToken"] = Base64Encode(name + "\n" + last);
    return Reply(out);
  }

  // One record of PutRecord/PutRecords: shape checks, then the decoded entry.
  std::optional<ApiError> DecodeEntry(const json& r, const std::string& where, stream::PutEntry* e) {
    if (!r.is_object()) return Validation("Value at '" + where + "' must be an object");
    std::string data;
    if (auto err = GetString(r, "Data", &data)) return err;
    if (!r.contains("Data")) {
      return Validation("Value null at '" + where + "data' failed to satisfy constraint: Member must not be null");
    }
    auto bytes = Base64Decode(data);
    if (!bytes) return MakeError(400, "SerializationException", "Data at '" + where + "data' is not valid base64");
    if (auto err = GetString(r, "PartitionKey", &e->partition_key)) return err;
    if (e->partition_key.empty() || e->partition_key.size() > 256) {
      return Validation("Value at '" + where + "partitionKey' failed to satisfy constraint: "
                        "Member must have length between 1 and 256");
    }
    if (bytes->size() > stream::kMaxRecordBytes) {
      return Validation("Value at '" + where + "data' failed to satisfy constraint: "
                        "Member must have length less than or equal to 1048576");
    }
    if (auto err = GetString(r, "ExplicitHashKey", &e->explicit_hash_key)) return err;
    e->data = std::move(*bytes);
    return std::nullopt;
  }

  Outcome PutRecord(const json& in) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    stream::PutEntry entry;
    if (auto e = DecodeEntry(in, "", &entry)) return *e;
    auto r = store_->Put(name, entry);
    if (!r.ok()) return FromStatus(r.status());
    return Reply(json{{"ShardId", r->shard_id}, {"SequenceNumber", r->sequence_number}, {"EncryptionType", "NONE"}});
  }

  Outcome PutRecords(const json& in) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    auto it = in.find("Records");
    if (it == in.end() || !it->is_array()) {
      return Validation("Value null at 'records' failed to satisfy constraint: Member must not be null");
    }
    if (it->empty() || it->size() > stream::kMaxPutRecordsCount) {
      return Validation("Value at 'records' failed to satisfy constraint: Member must have length less than or "
                        "equal to 500 and greater than or equal to 1");
    }
    std::vector<stream::PutEntry> entries(it->size());
    size_t total = 0;
    for (size_t i = 0; i < it->size(); ++i) {
      if (auto e = DecodeEntry((*it)[i], "records." + std::to_string(i + 1) + ".member.", &entries[i])) return *e;
      total += entries[i].data.size() + entries[i].partition_key.size();
    }
    if (total > stream::kMaxPutRecordsBytes) {
      return MakeError(400, "InvalidArgumentException",
                       "Records size exceeds 5 MB limit (" + std::to_string(total) + " bytes)");
    }
    std::vector<stream::PutEntryRef> refs;
    refs.reserve(entries.size());
    for (const auto& e : entries) refs.push_back({e.partition_key, e.explicit_hash_key, e.data});
    return PutRefs(name, refs);
  }

  Outcome PutRefs(const std::string& name, std::span<const stream::PutEntryRef> records) {
    auto r = store_->PutRefs(name, records);
    if (!r.ok()) return FromStatus(r.status());
    return Reply(PutRecordsReply(*r));
  }

  // PutRecords without a JSON tree (kinesis_records.h); nullopt leaves the request to the
  // generic path above.
  std::optional<FastJsonCall> FastPutRecords(const HttpRequest& request) {
    auto in = std::make_shared<PutRecordsInput>();
    if (!ScanPutRecords(request.body, in.get())) return std::nullopt;
    std::string resource = Arn(in->stream);
    return FastJsonCall{std::move(resource), [this, in] { return PutRefs(in->stream, in->records); }};
  }

  Outcome GetShardIterator(const json& in) {
    std::string name, shard, type_text, seq;
    if (auto e = RequireStream(in, &name)) return *e;
    if (auto e = GetString(in, "ShardId", &shard)) return *e;
    if (auto e = GetString(in, "ShardIteratorType", &type_text)) return *e;
    if (auto e = GetString(in, "StartingSequenceNumber", &seq)) return *e;
    if (shard.empty()) return Validation("Value null at 'shardId' failed to satisfy constraint: Member must not be null");
    auto type = stream::ParseIteratorType(type_text);
    if (!type) {
      return Validation("Value '" + type_text + "' at 'shardIteratorType' failed to satisfy constraint: Member must "
                        "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, "
                        "TRIM_HORIZON, LATEST]");
    }
    int64_t ts_ms = 0;
    const bool by_seq = *type == stream::IteratorType::kAtSequenceNumber ||
                        *type == stream::IteratorType::kAfterSequenceNumber;
    if (by_seq && seq.empty()) {
      return MakeError(400, "InvalidArgumentException",
                       "Must specify StartingSequenceNumber for " + type_text + " iterator type");
    }
    if (!by_seq && !seq.empty()) {
      return MakeError(400, "InvalidArgumentException",
                       "Request should not have StartingSequenceNumber for " + type_text + " iterator type");
    }
    if (*type == stream::IteratorType::kAtTimestamp) {
      auto t = in.find("Timestamp");
      if (t == in.end() || !t->is_number()) {
        return MakeError(400, "InvalidArgumentException", "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP");
      }
      ts_ms = static_cast<int64_t>(std::llround(t->get<double>() * 1000.0));
    }
    auto it = store_->GetShardIterator(name, shard, *type, seq, ts_ms);
    if (!it.ok()) return FromStatus(it.status());
    return Reply(json{{"ShardIterator", *it}});
  }

  Outcome GetRecords(const json& in) {
    std::string iterator;
    if (auto e = GetString(in, "ShardIterator", &iterator)) return *e;
    if (iterator.empty() || iterator.size() > 512) {
      return Validation("Value at 'shardIterator' failed to satisfy constraint: Member must have length between 1 and 512");
    }
    std::optional<int64_t> limit;
    if (auto e = GetBounded(in, "Limit", "limit", 1, stream::kMaxGetRecordsLimit, &limit)) return *e;
    auto r = store_->GetRecords(iterator, limit ? static_cast<int>(*limit) : stream::kMaxGetRecordsLimit);
    if (!r.ok()) return FromStatus(r.status());
    return Reply(GetRecordsReply(*r));
  }

  Outcome Retention(const json& in, bool increase) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    std::optional<int64_t> hours;
    if (auto e = GetInt(in, "RetentionPeriodHours", &hours)) return *e;
    if (!hours) {
      return Validation("Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must not be null");
    }
    if (*hours < 1 || *hours > 100000) {
      return Validation("Value at 'retentionPeriodHours' failed to satisfy constraint: Member must have value "
                        "between 1 and 100000");
    }
    Status st = store_->SetRetention(name, static_cast<int>(*hours), increase);
    if (!st.ok()) return FromStatus(st);
    return Reply(json::object());
  }
  Outcome IncreaseRetention(const json& in) { return Retention(in, true); }
  Outcome DecreaseRetention(const json& in) { return Retention(in, false); }

  Outcome AddTags(const json& in) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    auto it = in.find("Tags");
    if (it == in.end() || !it->is_object() || it->empty()) {
      return Validation("Value null at 'tags' failed to satisfy constraint: Member must not be null");
    }
    std::map<std::string, std::string> tags;
    for (auto& [k, v] : it->items()) {
      if (k.empty() || k.size() > 128 || !v.is_string() || v.get<std::string>().size() > 256) {
        return Validation("Value at 'tags' failed to satisfy constraint: keys of 1 to 128 and values of up to 256 characters");
      }
      tags[k] = v.get<std::string>();
    }
    Status st = store_->AddTags(name, tags);
    if (!st.ok()) return FromStatus(st);
    return Reply(json::object());
  }

  Outcome RemoveTags(const json& in) {
    std::string name;
    if (auto e = RequireStream(in, &name)) return *e;
    auto it = in.find("TagKeys");
    if (it == in.end() || !it->is_array() || it->empty()) {
      return Validation("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
    }
    std::vector<std::string> keys;
    for (const auto& k : *it) {
      if (!k.is_string()) return Validation("Value at 'tagKeys' must hold strings");
      keys.push_back(k.get<std::string>());
    }
    Status st = store_->RemoveTags(name, keys);
    if (!st.ok()) return FromStatus(st);
    return Reply(json::object());
  }

  Outcome ListTags(const json& in) {
    std::string name, start;
    if (auto e = RequireStream(in, &name)) return *e;
    if (auto e = GetString(in, "ExclusiveStartTagKey", &start)) return *e;
    std::optional<int64_t> limit;
    if (auto e = GetBounded(in, "Limit", "limit", 1, 50, &limit)) return *e;
    auto info = store_->Describe(name);
    if (!info.ok()) return FromStatus(info.status());
    json tags = json::array();
    bool more = false;
    const size_t max = limit ? static_cast<size_t>(*limit) : 50;
    for (const auto& [k, v] : info->tags) {
      if (!start.empty() && k <= start) continue;
      if (tags.size() >= max) {
        more = true;
        break;
      }
      tags.push_back({{"Key", k}, {"Value", v}});
    }
    return Reply(json{{"Tags", tags}, {"HasMoreTags", more}});
  }

  // Streams declared under `streams:` in pipeline.yaml: created when missing, delivered into
  // their table by the crawl and ETL job that load uploads (stream/delivery.h).
  Status StartDeliveries() {
    auto text = context_.lake->Get("pipeline.yaml");
    if (!text.ok()) return Status::OK();  // a lake without a pipeline delivers nothing
    SL_ASSIGN_OR_RETURN(auto specs, stream::ParseDeliveries(*text));
    if (specs.empty()) return Status::OK();
    SL_ASSIGN_OR_RETURN(auto jobs, etl::ParseJobs("pipeline.yaml", *text));
    SL_ASSIGN_OR_RETURN(auto crawlers, catalog::ParseCrawlerConfigs(*text, "pipeline.yaml"));
    SL_ASSIGN_OR_RETURN(catalog_, catalog::Catalog::Open(context_.lake));
    for (const auto& spec : specs) {
      if (!store_->Describe(spec.stream).ok()) SL_RETURN_IF_ERROR(store_->CreateStream(spec.stream, spec.shards, false));
      const etl::JobSpec* job = nullptr;
      for (const auto& j : jobs) {
        if (j.target_table == spec.table) job = &j;
      }
      if (!job) return Status::InvalidArgument("pipeline.yaml: stream " + spec.stream + ": no job loads table " + spec.table);
      const catalog::CrawlerConfig* crawler = nullptr;
      for (const auto& c : crawlers) {
        if (c.table == job->source_table && std::string("raw_data/streams/").rfind(c.path, 0) == 0) crawler = &c;
      }
      if (!crawler) {
        return Status::InvalidArgument("pipeline.yaml: stream " + spec.stream + ": no crawler of raw_data/ feeds " +
                                       job->source_table);
      }
      // The raw table's columns when it exists (its order is what the job reads), else the
      // sales columns of an upload.
      std::vector<std::string> columns;
      if (auto raw = catalog_->LoadTable(job->source_table); raw.ok()) {
        for (const auto& f : (*raw)->spec.schema.fields) columns.push_back(f.name);
      } else {
        columns = {"purchase_date", "customer_id", "product_id", "amount", "region", "status"};
      }
      catalog::CrawlerConfig crawl = *crawler;
      etl::JobSpec run = *job;
      auto loader = [this, crawl, run](const std::string&) -> Result<stream::LoadReport> {
        auto crawled = catalog::Crawl(*catalog_, crawl);
        if (!crawled.ok()) return crawled.status();
        auto report = etl::RunJob(*catalog_, run);
        if (!report.ok()) return report.status();
        return stream::LoadReport{report->run_id, report->status, report->rows_loaded, report->rows_quarantined};
      };
      metrics_->Format(spec.stream, spec.format, columns);
      std::lock_guard<std::mutex> lock(specs_mu_);  // system.streams may be read meanwhile
      delivery_specs_.push_back(spec);
      deliveries_.push_back(std::make_unique<stream::Delivery>(store_.get(), context_.state->root() + "/streams",
                                                               context_.lake, spec, columns, loader, context_.clock));
    }
    return Status::OK();
  }

  // system.stream_metrics: one row per stream, minute and region (stream/metrics.h).
  static Schema MetricsSchema() {
    Schema s;
    s.fields = {{"stream", DataType::Varchar(), false},     {"window_start", DataType::Timestamp(), false},
                {"window_end", DataType::Timestamp(), false}, {"region", DataType::Varchar(), true},
                {"orders", DataType::Int64(), false},        {"revenue", DataType::Double(), false},
                {"refunds", DataType::Int64(), false},       {"out_rows", DataType::Int64(), false},
                {"invalid", DataType::Int64(), false}};
    return s;
  }
  Result<sql::SystemTableRows> MetricsTable() {
    SL_ASSIGN_OR_RETURN(auto rows, metrics_->Rows());
    sql::SystemTableRows out;
    out.reserve(rows.size());
    for (const stream::MetricsRow& r : rows) {
      out.push_back({Value::Varchar(r.stream), Value::Timestamp(r.window_start_ms * 1000),
                     Value::Timestamp((r.window_start_ms + stream::kMetricsWindowMs) * 1000),
                     r.region ? Value::Varchar(*r.region) : Value::Null(DataType::Varchar()),
                     Value::Int64(r.orders), Value::Double(r.revenue), Value::Int64(r.refunds),
                     Value::Int64(r.out_rows), Value::Int64(r.invalid)});
    }
    return out;
  }

  Result<sql::SystemTableRows> StreamsTable() {
    sql::SystemTableRows out;
    for (const std::string& name : store_->ListStreams()) {
      auto info = store_->Describe(name);
      if (!info.ok()) continue;  // deleted meanwhile
      auto ends = store_->EndPositions(name);
      if (!ends.ok()) continue;
      const stream::Delivery* delivery = nullptr;
      std::string table;
      {
        std::lock_guard<std::mutex> lock(specs_mu_);
        for (size_t i = 0; i < deliveries_.size(); ++i) {
          if (delivery_specs_[i].stream == name) {
            delivery = deliveries_[i].get();  // never removed while the service runs
            table = delivery_specs_[i].table;
          }
        }
      }
      const int64_t backlog = delivery ? static_cast<int64_t>(delivery->backlog_records()) : 0;
      const int64_t backlog_bytes = delivery ? static_cast<int64_t>(delivery->BacklogBytes()) : 0;
      for (size_t k = 0; k < info->shards.size() && k < ends->size(); ++k) {
        out.push_back({Value::Varchar(name), Value::Varchar(info->shards[k].shard_id), Value::Varchar(info->status),
                       Value::Varchar(info->on_demand ? "ON_DEMAND" : "PROVISIONED"),
                       Value::Int64(info->retention_hours), Value::Timestamp(info->created_ms * 1000),
                       Value::Int64(static_cast<int64_t>((*ends)[k])),
                       delivery ? Value::Varchar(table) : Value::Null(DataType::Varchar()),
                       delivery ? Value::Int64(backlog) : Value::Null(DataType::Int64()),
                       delivery ? Value::Int64(backlog_bytes) : Value::Null(DataType::Int64())});
      }
    }
    return out;
  }

  // Every half second: the live metrics count what was acknowledged since (reads catch up by
  // themselves too), and each stream whose delivery is due (interval or size) is delivered.
  void DeliveryLoop() {
    std::vector<int64_t> last(deliveries_.size(), ToEpochMs(context_.clock->Now()));
    std::unique_lock<std::mutex> lock(delivery_mu_);
    while (!stopping_) {
      delivery_cv_.wait_for(lock, std::chrono::milliseconds(500));
      if (stopping_) break;
      lock.unlock();
      if (Status st = metrics_->Refresh(); !st.ok()) {
        Log(LogLevel::kWarn, "stream metrics could not read the log", {{"error", st.ToString()}});
      }
      for (size_t i = 0; i < deliveries_.size(); ++i) {
        if (!deliveries_[i]->Due(last[i])) continue;
        last[i] = ToEpochMs(context_.clock->Now());
        Deliver(i);
      }
      lock.lock();
    }
  }

  void DeliverAll() {
    for (size_t i = 0; i < deliveries_.size(); ++i) Deliver(i);
  }

  void Deliver(size_t i) {
    // Until the stream is drained (each round is bounded by buffer_mb).
    for (int round = 0; round < 1000; ++round) {
      auto r = deliveries_[i]->RunOnce();
      if (!r.ok()) {
        Log(LogLevel::kWarn, "stream delivery failed (retried later)", {{"error", r.status().ToString()}});
        return;
      }
      if (r->records == 0) return;
    }
  }

  ServiceContext context_;
  std::string account_;
  std::unique_ptr<stream::StreamStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::vector<std::unique_ptr<stream::Delivery>> deliveries_;
  std::vector<stream::DeliverySpec> delivery_specs_;  // deliveries_[i]'s spec
  std::mutex specs_mu_;  // guards adding to deliveries_ and delivery_specs_ against system.streams
  std::unique_ptr<stream::StreamMetrics> metrics_;
  sql::SystemTables* system_tables_;  // the lake-sql service's: system.stream_metrics lives there
  std::thread delivery_thread_;
  std::mutex delivery_mu_;
  std::condition_variable delivery_cv_;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<Service> MakeKinesisService(const ServiceContext& context, sql::SystemTables* system_tables) {
  return std::make_unique<KinesisService>(context, system_tables);
}

Schema SystemStreamsSchema() {
  Schema s;
  s.fields = {{"stream", DataType::Varchar(), false},          {"shard_id", DataType::Varchar(), false},
              {"status", DataType::Varchar(), false},          {"mode", DataType::Varchar(), false},
              {"retention_hours", DataType::Int64(), false},   {"created", DataType::Timestamp(), false},
              {"records", DataType::Int64(), false},           {"delivery_table", DataType::Varchar(), true},
              {"backlog_records", DataType::Int64(), true},    {"backlog_bytes", DataType::Int64(), true}};
  return s;
}

}  // namespace saleslake::server::internal
