#include "stream/delivery.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
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

// 20261205T180000Z and 2026-12-05T18:00:00Z for epoch milliseconds.
std::string UtcFormat(int64_t ms, const char* format) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
std::string UtcCompact(int64_t ms) { return UtcFormat(ms, "%Y%m%dT%H%M%SZ"); }
std::string UtcIso(int64_t ms) { return UtcFormat(ms, "%Y-%m-%dT%H:%M:%SZ"); }

std::string Padded(uint64_t v) {
  std::string d = std::to_string(v);
  return std::string(d.size() < 20 ? 20 - d.size() : 0, '0') + d;
}

// RFC 4180 fields of one line ("a,\"b,c\",d"); a quote inside a quoted field is doubled.
void SplitCsvLine(std::string_view line, size_t columns, std::vector<std::optional<std::string>>* out) {
  out->assign(columns, std::nullopt);
  size_t col = 0, i = 0;
  while (col < columns) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      for (++i; i < line.size(); ++i) {
        if (line[i] != '"') {
          field += line[i];
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          ++i;
          break;
        }
      }
      while (i < line.size() && line[i] != ',') field += line[i++];
    } else {
      while (i < line.size() && line[i] != ',' && line[i] != '\r') field += line[i++];
    }
    (*out)[col++] = std::move(field);
    if (i >= line.size() || line[i] != ',') break;
    ++i;
  }
}

}  // namespace

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A JSON number token at `p` (JSON's grammar exactly); its end, or nullptr.
const char* NumberEnd(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p >= end || *p < '0' || *p > '9') return nullptr;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && *p >= '0' && *p <= '9') ++p;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || *p < '0' || *p > '9') return nullptr;
    while (p < end && *p >= '0' && *p <= '9') ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p >= end || *p < '0' || *p > '9') return nullptr;
    while (p < end && *p >= '0' && *p <= '9') ++p;
  }
  return p;
}

// The tree's text of a number token: what nlohmann parses it to (an integer, else strtod's
// double), dumped by nlohmann. Long integers (which may become unsigned or double), overflowing
// numbers and long tokens return false.
bool NumberText(std::string_view token, std::optional<std::string>* out) {
  char buf[64];
  if (token.size() >= sizeof buf) return false;
  if (token.find_first_of(".eE") == std::string_view::npos) {
    if (token.size() > 18) return false;
    int64_t v = 0;
    for (char c : token) v = c == '-' ? v : v * 10 + (c - '0');
    out->emplace(std::to_string(token[0] == '-' ? -v : v));
    return true;
  }
  std::memcpy(buf, token.data(), token.size());
  buf[token.size()] = '\0';
  const double v = std::strtod(buf, nullptr);
  if (!std::isfinite(v)) return false;  // the tree rejects the whole text then
  out->emplace(nlohmann::json(v).dump());
  return true;
}

// The common case of RecordFields without a JSON tree (every record passes here twice: the
// live metrics and delivery): a flat object of ASCII strings without escapes, numbers, booleans
// and nulls. Returns false for anything else (nested values, escapes, non-ASCII, malformed
// text), which the tree parser then judges; for what it takes, the fields are the tree's.
bool FlatObjectFields(std::string_view data, const std::vector<std::string>& columns,
                      std::vector<std::optional<std::string>>* fields) {
  const char* p = data.data();
  const char* end = p + data.size();
  auto skip = [&] {
    while (p < end && IsJsonSpace(*p)) ++p;
  };
  auto string = [&](std::string_view* out) {
    if (p >= end || *p != '"') return false;
    const char* start = ++p;
    for (; p < end; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        *out = std::string_view(start, static_cast<size_t>(p - start));
        ++p;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  };
  fields->assign(columns.size(), std::nullopt);
  skip();
  if (p >= end || *p != '{') return false;
  ++p;
  skip();
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      std::string_view key;
      skip();
      if (!string(&key)) return false;
      skip();
      if (p >= end || *p != ':') return false;
      ++p;
      skip();
      if (p >= end) return false;
      size_t col = columns.size();
      for (size_t c = 0; c < columns.size(); ++c) {
        if (columns[c] == key) col = c;
      }
      // A repeated member: the last one counts, as in the tree.
      std::optional<std::string> value;
      if (*p == '"') {
        std::string_view text;
        if (!string(&text)) return false;
        value.emplace(text);
      } else if (*p == 'n' || *p == 't' || *p == 'f') {
        std::string_view word = *p == 'n' ? "null" : *p == 't' ? "true" : "false";
        if (static_cast<size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) return false;
        p += word.size();
        if (word != "null") value.emplace(word);
      } else {
        const char* stop = NumberEnd(p, end);
        if (!stop) return false;
        // Every number is checked, asked for or not: one the tree cannot hold (1E999) makes
        // the tree reject the whole record, so the flat reading must not take it either.
        const std::string_view token(p, static_cast<size_t>(stop - p));
        std::optional<std::string> unused;
        if (!NumberText(token, col < columns.size() ? &value : &unused)) return false;
        p = stop;
      }
      if (col < columns.size()) (*fields)[col] = std::move(value);
      skip();
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      if (p < end && *p == '}') {
        ++p;
        break;
      }
      return false;
    }
  }
  skip();
  return p == end;
}

}  // namespace

bool RecordFields(std::string_view format, std::string_view data, const std::vector<std::string>& columns,
                  std::vector<std::optional<std::string>>* fields, std::string* reason) {
  if (format == "csv") {
    SplitCsvLine(data, columns.size(), fields);
    return true;
  }
  if (FlatObjectFields(data, columns, fields)) return true;
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_object()) {
    *reason = j.is_discarded() ? "not JSON" : "not a JSON object";
    return false;
  }
  fields->assign(columns.size(), std::nullopt);
  for (size_t c = 0; c < columns.size(); ++c) {
    auto v = j.find(columns[c]);
    if (v == j.end() || v->is_null()) continue;
    (*fields)[c] = v->is_string() ? v->get<std::string>() : v->dump();
  }
  return true;
}

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
                   std::vector<std::string> columns, Loader loader, Clock* clock)
    : streams_(streams),
      state_path_(streams_root + "/" + spec.stream + "/delivery.json"),
      lake_(lake),
      spec_(std::move(spec)),
      columns_(std::move(columns)),
      loader_(std::move(loader)),
      clock_(clock ? clock : &ProcessClock()) {}

Result<std::vector<uint64_t>> Delivery::Committed() const {
  SL_ASSIGN_OR_RETURN(auto end, streams_->EndPositions(spec_.stream));
  std::vector<uint64_t> done(end.size(), 0);
  std::ifstream in(state_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  auto state = nlohmann::json::parse(ss.str(), nullptr, false);
  if (state.is_object() && state.contains("committed") && state["committed"].is_array()) {
    for (size_t i = 0; i < done.size() && i < state["committed"].size(); ++i) {
      if (state["committed"][i].is_number_unsigned()) done[i] = state["committed"][i].get<uint64_t>();
    }
  }
  return done;
}

uint64_t Delivery::backlog_records() const {
  auto end = streams_->EndPositions(spec_.stream);
  auto done = Committed();
  if (!end.ok() || !done.ok()) return 0;
  uint64_t n = 0;
  for (size_t i = 0; i < end->size(); ++i) n += (*end)[i] > (*done)[i] ? (*end)[i] - (*done)[i] : 0;
  return n;
}

uint64_t Delivery::BacklogBytes() const {
  auto done = Committed();
  if (!done.ok()) return 0;
  auto bytes = streams_->BytesFrom(spec_.stream, *done);
  return bytes.ok() ? *bytes : 0;
}

bool Delivery::Due(int64_t last_ms) const {
  if (ToEpochMs(clock_->Now()) - last_ms >= int64_t{spec_.buffer_seconds} * 1000) return true;
  return BacklogBytes() >= (spec_.buffer_mb << 20);
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
        const uint64_t before = pos;
        SL_RETURN_IF_ERROR(streams_->VisitShard(spec_.stream, static_cast<int>(i), pos, 10000,
                                                [&](uint64_t position, int64_t, std::string_view data) {
          if (position >= to[i] || bytes >= budget / shards) return;
          bytes += data.size();
          pos = position + 1;
        }));
        if (pos == before) break;
      }
      to[i] = pos;
    }
    state["pending"] = {{"to", to}, {"columns", columns}, {"planned_ms", ToEpochMs(clock_->Now())}};
    if (!state.contains("committed")) state["committed"] = from;
    SL_RETURN_IF_ERROR(SaveState(state_path_, state));
  }

  const int64_t planned_ms = state["pending"].value("planned_ms", ToEpochMs(clock_->Now()));
  const auto started = std::chrono::steady_clock::now();
  std::string name = "raw_data/streams/" + spec_.stream + "/";
  uint64_t total_from = 0, total_to = 0;
  for (size_t i = 0; i < shards; ++i) total_from += from[i], total_to += to[i];
  std::string range = Padded(total_from) + "-" + Padded(total_to);
  DeliveryResult result;
  result.object_key = name + range + ".csv";
  std::string text, rejected, reason;
  std::vector<std::optional<std::string>> fields;
  csv::CsvWriter writer(&text, columns);
  for (size_t i = 0; i < shards; ++i) {
    uint64_t pos = from[i];
    while (pos < to[i]) {
      const uint64_t before = pos;
      Status row_status;
      SL_RETURN_IF_ERROR(streams_->VisitShard(spec_.stream, static_cast<int>(i), pos, 10000,
                                              [&](uint64_t position, int64_t, std::string_view data) {
        if (position >= to[i] || !row_status.ok()) return;
        pos = position + 1;
        ++result.records;
        if (spec_.format == "csv") {
          text += data;
          text += '\n';
          ++result.staged;
          return;
        }
        if (!RecordFields(spec_.format, data, columns, &fields, &reason)) {
          std::string sequence_number;
          AppendSequenceNumber(&sequence_number, position);
          nlohmann::json q{{"stream", spec_.stream}, {"shard", ShardIdOf(static_cast<int>(i))},
                           {"sequence_number", sequence_number}, {"reason", reason}, {"data", std::string(data)}};
          rejected += q.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
          ++result.quarantined;
          return;
        }
        for (const auto& f : fields) {
          if (f) writer.AddField(*f);
          else writer.AddNull();
        }
        row_status = writer.EndRow();
        if (row_status.ok()) ++result.staged;
      }));
      SL_RETURN_IF_ERROR(row_status);
      if (pos == before) break;
    }
  }
  SL_RETURN_IF_ERROR(writer.Finish());
  if (!rejected.empty()) {
    SL_RETURN_IF_ERROR(lake_->Put("quarantine/streams/" + spec_.stream + "/" + range + ".jsonl", rejected));
  }
  LoadReport load;
  if (result.staged > 0) {
    SL_ASSIGN_OR_RETURN(auto out, catalog::RawObjectWriter::Open(*lake_, result.object_key));
    SL_RETURN_IF_ERROR(out->Append(text));
    SL_RETURN_IF_ERROR(out->Commit());
    SL_ASSIGN_OR_RETURN(load, loader_(result.object_key));
  } else {
    result.object_key.clear();
  }
  if (result.records > 0) {
    // The event and the run entry are keyed by the range, so a redo rewrites the same ones.
    auto info = streams_->Describe(spec_.stream);
    const int64_t created_ms = info.ok() ? info->created_ms : 0;
    const std::string run_id = UtcCompact(planned_ms) + "-" + range;
    nlohmann::json fields{{"stream", spec_.stream},       {"table", spec_.table},
                          {"run_id", run_id},             {"object_key", result.object_key},
                          {"records", result.records},    {"staged", result.staged},
                          {"quarantined", result.quarantined}, {"from", from},
                          {"to", to},                     {"job_run_id", load.run_id},
                          {"job_status", load.status}};
    nlohmann::json run = fields;
    run["job"] = "stream:" + spec_.stream;
    run["status"] = "succeeded";
    run["started_at"] = UtcIso(planned_ms);
    run["duration_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run["rows_read"] = result.records;
    run["rows_loaded"] = result.staged;
    run["rows_quarantined"] = result.quarantined;
    SL_RETURN_IF_ERROR(lake_->Put("_system/runs/stream:" + spec_.stream + "/" + run_id + ".json", run.dump() + "\n"));
    SL_RETURN_IF_ERROR(catalog::JournalEvent(*lake_, "stream.delivered", fields.dump(),
                                             "stream.delivered:" + spec_.stream + ":" + std::to_string(created_ms) +
                                                 ":" + range)
                           .status());
  }
  state["committed"] = to;
  state.erase("pending");
  SL_RETURN_IF_ERROR(SaveState(state_path_, state));
  return result;
}

}  // namespace saleslake::stream
