#include "stream/delivery.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <yaml-cpp/yaml.h>

#include "catalog/crawler.h"
#include "formats/csv/csv_writer.h"

namespace saleslake::stream {
namespace {

Status SaveState(const std::string& path, const nlohmann::json& state) {
  // Written whole to a temporary name, fsynced and renamed over the old state.
  std::string tmp = path + ".tmp", text = state.dump();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("create " + tmp);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("write " + path);
  return Status::OK();
}

std::string Padded(uint64_t v) {
  std::string d = std::to_string(v);
  return std::string(d.size() < 20 ? 20 - d.size() : 0, '0') + d;
}

}  // namespace

Result<std::vector<DeliverySpec>> ParseDeliveries(std::string_view yaml_text) {
  std::vector<DeliverySpec> out;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("pipeline.yaml: ") + e.what());
  }
  if (!root.IsMap() || !root["streams"]) return out;
  const YAML::Node list = root["streams"];
  if (!list.IsSequence()) return Status::InvalidArgument("pipeline.yaml: streams: must be a list");
  try {
    for (const auto& n : list) {
      DeliverySpec d;
      if (!n.IsMap() || !n["name"]) return Status::InvalidArgument("pipeline.yaml: every stream needs a name");
      d.stream = n["name"].as<std::string>();
      if (n["shards"]) d.shards = n["shards"].as<int>();
      if (n["table"]) d.table = n["table"].as<std::string>();
      if (n["format"]) d.format = n["format"].as<std::string>();
      if (n["buffer_mb"]) d.buffer_mb = n["buffer_mb"].as<uint64_t>();
      if (n["buffer_seconds"]) d.buffer_seconds = n["buffer_seconds"].as<int>();
      const std::string where = "pipeline.yaml: stream " + d.stream + ": ";
      if (d.shards < 1 || d.shards > 1000) return Status::InvalidArgument(where + "shards must be 1..1000");
      if (d.format != "json" && d.format != "csv") return Status::InvalidArgument(where + "format must be json or csv");
      if (d.buffer_mb < 1 || d.buffer_mb > 128) return Status::InvalidArgument(where + "buffer_mb must be 1..128");
      if (d.buffer_seconds < 1 || d.buffer_seconds > 900) {
        return Status::InvalidArgument(where + "buffer_seconds must be 1..900");
      }
      out.push_back(std::move(d));
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("pipeline.yaml: streams: ") + e.what());
  }
  return out;
}

Delivery::Delivery(StreamStore* streams, std::string streams_root, io::ObjectStore* lake, DeliverySpec spec,
                   std::vector<std::string> columns, Loader loader)
    : streams_(streams),
      state_path_(streams_root + "/" + spec.stream + "/delivery.json"),
      lake_(lake),
      spec_(std::move(spec)),
      columns_(std::move(columns)),
      loader_(std::move(loader)) {}

uint64_t Delivery::backlog_records() const {
  auto end = streams_->EndPositions(spec_.stream);
  if (!end.ok()) return 0;
  std::ifstream in(state_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  auto state = nlohmann::json::parse(ss.str(), nullptr, false);
  uint64_t n = 0;
  for (size_t i = 0; i < end->size(); ++i) {
    uint64_t done = 0;
    if (state.is_object() && state.contains("committed") && i < state["committed"].size()) {
      done = state["committed"][i].get<uint64_t>();
    }
    n += (*end)[i] > done ? (*end)[i] - done : 0;
  }
  return n;
}

Result<DeliveryResult> Delivery::RunOnce() {
  auto end = streams_->EndPositions(spec_.stream);
  if (!end.ok()) return end.status();
  const size_t shards = end->size();
  nlohmann::json state = nlohmann::json::object();
  {
    std::ifstream in(state_path_);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      state = nlohmann::json::parse(ss.str(), nullptr, false);
      if (!state.is_object()) return Status::Corruption(state_path_ + " is not JSON");
    }
  }
  std::vector<uint64_t> from(shards, 0), to(shards, 0);
  if (state.contains("committed")) {
    for (size_t i = 0; i < shards && i < state["committed"].size(); ++i) from[i] = state["committed"][i].get<uint64_t>();
  }
  std::vector<std::string> columns = columns_;
  if (state.contains("pending") && state["pending"].is_object()) {
    // A delivery that did not finish: redo exactly its range, with the columns it used.
    for (size_t i = 0; i < shards && i < state["pending"]["to"].size(); ++i) to[i] = state["pending"]["to"][i].get<uint64_t>();
    columns = state["pending"]["columns"].get<std::vector<std::string>>();
  } else {
    // Plan a new delivery: everything acknowledged, up to the buffer size (shared by shards).
    const uint64_t budget = spec_.buffer_mb << 20;
    bool any = false;
    for (size_t i = 0; i < shards; ++i) {
      to[i] = std::max(from[i], (*end)[i]);
      any = any || to[i] > from[i];
    }
    if (!any) return DeliveryResult{};
    // Estimate sizes by reading: cap each shard's share of the budget.
    for (size_t i = 0; i < shards; ++i) {
      uint64_t bytes = 0, pos = from[i];
      while (pos < to[i] && bytes < budget / shards) {
        auto recs = streams_->ReadShard(spec_.stream, static_cast<int>(i), pos, 10000);
        if (!recs.ok()) return recs.status();
        if (recs->empty()) break;
        for (const auto& r : *recs) {
          if (r.position >= to[i] || bytes >= budget / shards) break;
          bytes += r.data.size();
          pos = r.position + 1;
        }
      }
      to[i] = pos;
    }
    state["pending"] = {{"to", to}, {"columns", columns}};
    if (!state.contains("committed")) state["committed"] = from;
    SL_RETURN_IF_ERROR(SaveState(state_path_, state));
  }

  std::string name = "raw_data/streams/" + spec_.stream + "/";
  uint64_t total_from = 0, total_to = 0;
  for (size_t i = 0; i < shards; ++i) total_from += from[i], total_to += to[i];
  std::string range = Padded(total_from) + "-" + Padded(total_to);
  DeliveryResult result;
  result.object_key = name + range + ".csv";
  std::string text, rejected;
  csv::CsvWriter writer(&text, columns);
  for (size_t i = 0; i < shards; ++i) {
    uint64_t pos = from[i];
    while (pos < to[i]) {
      auto recs = streams_->ReadShard(spec_.stream, static_cast<int>(i), pos, 10000);
      if (!recs.ok()) return recs.status();
      if (recs->empty()) break;
      for (const auto& r : *recs) {
        if (r.position >= to[i]) break;
        pos = r.position + 1;
        ++result.records;
        if (spec_.format == "csv") {
          text += r.data;
          text += '\n';
          ++result.staged;
          continue;
        }
        auto j = nlohmann::json::parse(r.data, nullptr, false);
        if (!j.is_object()) {
          nlohmann::json q{{"stream", spec_.stream}, {"shard", ShardIdOf(static_cast<int>(i))},
                           {"sequence_number", r.sequence_number},
                           {"reason", j.is_discarded() ? "not JSON" : "not a JSON object"},
                           {"data", r.data}};
          rejected += q.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
          ++result.quarantined;
          continue;
        }
        for (const auto& c : columns) {
          auto v = j.find(c);
          if (v == j.end() || v->is_null()) writer.AddNull();
          else if (v->is_string()) writer.AddField(v->get<std::string>());
          else writer.AddField(v->dump());
        }
        SL_RETURN_IF_ERROR(writer.EndRow());
        ++result.staged;
      }
      if (pos >= to[i]) break;
    }
  }
  SL_RETURN_IF_ERROR(writer.Finish());
  if (!rejected.empty()) {
    SL_RETURN_IF_ERROR(lake_->Put("quarantine/streams/" + spec_.stream + "/" + range + ".jsonl", rejected));
  }
  if (result.staged > 0) {
    SL_ASSIGN_OR_RETURN(auto out, catalog::RawObjectWriter::Open(*lake_, result.object_key));
    SL_RETURN_IF_ERROR(out->Append(text));
    SL_RETURN_IF_ERROR(out->Commit());
    SL_RETURN_IF_ERROR(loader_(result.object_key));
  } else {
    result.object_key.clear();
  }
  state["committed"] = to;
  state.erase("pending");
  SL_RETURN_IF_ERROR(SaveState(state_path_, state));
  return result;
}

}  // namespace saleslake::stream
