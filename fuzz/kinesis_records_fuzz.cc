// Fuzzes the Kinesis hot paths against the generic ones they stand in for: whatever
// ScanPutRecords takes must read exactly as nlohmann::json + base64 read it, and RecordFields'
// tree-less reading of flat objects must give the tree's fields (the input is used as both).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "server/internal/kinesis_records.h"
#include "server/internal/util.h"
#include "stream/delivery.h"

using namespace saleslake;
using namespace saleslake::server::internal;

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckPutRecords(const std::string& body) {
  PutRecordsInput in;
  if (!ScanPutRecords(body, &in)) return;
  auto j = nlohmann::json::parse(body, nullptr, false);
  Check(j.is_object());
  std::string name;
  if (j.contains("StreamName")) {
    name = j["StreamName"].get<std::string>();
  } else {
    std::string arn = j["StreamARN"].get<std::string>();
    name = arn.substr(arn.find(":stream/") + 8);
  }
  Check(name == in.stream);
  const auto& records = j["Records"];
  Check(records.is_array() && records.size() == in.records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    auto data = Base64Decode(records[i]["Data"].get<std::string>());
    Check(data && *data == in.records[i].data);
    Check(records[i]["PartitionKey"].get<std::string>() == in.records[i].partition_key);
    Check(records[i].value("ExplicitHashKey", std::string()) == in.records[i].explicit_hash_key);
  }
}

void CheckRecordFields(const std::string& text) {
  const std::vector<std::string> cols = {"amount", "region", "status"};
  std::vector<std::optional<std::string>> got, want;
  std::string reason;
  const bool ok = stream::RecordFields("json", text, cols, &got, &reason);
  auto j = nlohmann::json::parse(text, nullptr, false);
  Check(ok == j.is_object());
  if (!ok) {
    Check(reason == (j.is_discarded() ? "not JSON" : "not a JSON object"));
    return;
  }
  want.assign(cols.size(), std::nullopt);
  for (size_t c = 0; c < cols.size(); ++c) {
    auto v = j.find(cols[c]);
    if (v == j.end() || v->is_null()) continue;
    want[c] = v->is_string() ? v->get<std::string>() : v->dump();
  }
  Check(got == want);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  CheckPutRecords(in);
  CheckRecordFields(in);
  return 0;
}
