#include "server/internal/console_ops.h"

#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "events/rules.h"
#include "sql/result_format.h"

namespace saleslake::server::internal {

using nlohmann::json;

namespace {

// Each row of a statement's result as cell texts (nullopt for NULL).
using TextRows = std::vector<std::vector<std::optional<std::string>>>;

Result<TextRows> RunText(const sql::Engine& engine, const std::string& statement) {
  SL_ASSIGN_OR_RETURN(sql::StatementResult r, engine.Execute(statement));
  TextRows out;
  for (const Batch& b : r.result.batches) {
    for (size_t i = 0; i < b.num_rows; ++i) {
      const size_t row = b.selection ? b.selection->Get(i) : i;
      std::vector<std::optional<std::string>> cells;
      for (const ColumnVector& c : b.columns) {  // both handle constant columns
        if (c.IsValid(row)) cells.push_back(sql::CellText(c, row));
        else cells.push_back(std::nullopt);
      }
      out.push_back(std::move(cells));
    }
  }
  return out;
}

json IntOrNull(const std::optional<std::string>& cell) {
  if (!cell) return nullptr;
  return std::strtoll(cell->c_str(), nullptr, 10);
}

// The newest `max` items of `items` (oldest first), newest first.
json NewestFirst(const json& items, size_t max) {
  json out = json::array();
  for (size_t i = items.size(); i > 0 && out.size() < max; --i) out.push_back(items[i - 1]);
  return out;
}

}  // namespace

Result<json> StreamsJson(const sql::Engine& engine) {
  auto rows = RunText(engine,
                      "SELECT stream, shard_id, status, mode, retention_hours, CAST(created AS VARCHAR), records, "
                      "delivery_table, backlog_records, backlog_bytes FROM system.streams ORDER BY stream, shard_id");
  if (!rows.ok()) return Status::NotFound("this server hosts no streams: " + rows.status().message());
  json streams = json::array();
  for (const auto& r : *rows) {
    if (r.size() < 10 || !r[0] || !r[1]) continue;
    if (streams.empty() || streams.back()["name"] != *r[0]) {
      streams.push_back({{"name", *r[0]},
                         {"status", r[2].value_or("")},
                         {"mode", r[3].value_or("")},
                         {"retention_hours", IntOrNull(r[4])},
                         {"created", r[5].value_or("")},
                         {"records", 0},
                         {"delivery_table", r[7] ? json(*r[7]) : json(nullptr)},
                         {"backlog_records", IntOrNull(r[8])},
                         {"backlog_bytes", IntOrNull(r[9])},
                         {"shards", json::array()}});
    }
    json& s = streams.back();
    const json records = IntOrNull(r[6]);
    s["shards"].push_back({{"shard_id", *r[1]}, {"records", records}});
    if (records.is_number_integer()) s["records"] = s["records"].get<int64_t>() + records.get<int64_t>();
  }
  return json{{"streams", streams}};
}

Result<json> TailJsonLines(const io::ObjectStore& lake, const std::string& key, size_t max_lines, size_t* total) {
  if (total) *total = 0;
  auto text = lake.Get(key);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return json::array();
    return text.status();
  }
  // Complete lines only: a torn last line (an append in progress) is not one yet.
  std::vector<std::string_view> lines;
  std::string_view all = *text;
  while (!all.empty()) {
    size_t nl = all.find('\n');
    if (nl == std::string_view::npos) break;
    if (nl > 0) lines.push_back(all.substr(0, nl));
    all.remove_prefix(nl + 1);
  }
  if (total) *total = lines.size();
  json out = json::array();
  for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i) {
    json j = json::parse(lines[i], nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

Result<json> EventsJson(const io::ObjectStore& lake, size_t recent, bool rules, bool topics) {
  json out = json::object();
  events::EventsConfig config;
  if (auto text = lake.Get("pipeline.yaml"); text.ok()) {
    auto parsed = events::ParseEventsConfig("pipeline.yaml", *text);
    if (parsed.ok()) config = std::move(*parsed);
    else out["config_error"] = parsed.status().message();
  }
  // Dead-letter files: _system/dlq/<rule>.jsonl for rules, sns-<topic>.jsonl for topics.
  std::vector<std::pair<std::string, bool>> dlq_files;  // key, of a topic
  if (auto listed = lake.List("_system/dlq/"); listed.ok()) {
    for (const auto& o : *listed) {
      std::string name = o.key.substr(std::string("_system/dlq/").size());
      if (name.size() <= 6 || name.substr(name.size() - 6) != ".jsonl") continue;
      dlq_files.emplace_back(o.key, name.rfind("sns-", 0) == 0);
    }
  }
  json dead = json::array();
  auto add_dead = [&](bool of_topic) -> Status {
    for (const auto& [key, topic] : dlq_files) {
      if (topic != of_topic) continue;
      size_t total = 0;
      SL_ASSIGN_OR_RETURN(json lines, TailJsonLines(lake, key, recent, &total));
      std::string name = key.substr(std::string("_system/dlq/").size());
      name = name.substr(0, name.size() - 6);
      dead.push_back({{"file", key}, {"name", topic ? name.substr(4) : name}, {"total", total},
                      {"recent", NewestFirst(lines, recent)}});
    }
    return Status::OK();
  };
  if (rules) {
    json rs = json::array();
    for (const events::Rule& r : config.rules) {
      json targets = json::array();
      for (const events::Target& t : r.targets) {
        targets.push_back({{"kind", std::string(events::TargetKindName(t.kind))}, {"name", t.name}});
      }
      size_t runs_total = 0;
      SL_ASSIGN_OR_RETURN(json runs, TailJsonLines(lake, "_system/events/runs/" + r.name + ".jsonl", recent, &runs_total));
      rs.push_back({{"name", r.name},
                    {"pattern", r.pattern ? r.pattern->json() : json(nullptr)},
                    {"schedule", r.schedule ? json(r.schedule->expression()) : json(nullptr)},
                    {"targets", targets},
                    {"runs_total", runs_total},
                    {"runs", NewestFirst(runs, recent)}});
    }
    out["rules"] = rs;
    json alarms = json::array();
    for (const events::AlarmSpec& a : config.alarms) {
      alarms.push_back({{"name", a.name}, {"event_type", a.event_type}, {"metric", a.metric},
                        {"statistic", a.statistic}, {"comparison", a.comparison}, {"threshold", a.threshold}});
    }
    out["alarms"] = alarms;
    size_t events_total = 0;
    SL_ASSIGN_OR_RETURN(json journal, TailJsonLines(lake, "_system/events.jsonl", recent, &events_total));
    out["events_total"] = events_total;
    out["events"] = NewestFirst(journal, recent);
    SL_RETURN_IF_ERROR(add_dead(false));
  }
  if (topics) {
    json ts = json::array(), subs = json::array();
    if (auto text = lake.Get("_system/sns/state.json"); text.ok()) {
      json state = json::parse(*text, nullptr, false);
      if (state.is_object()) {
        for (const auto& t : state.value("topics", json::array())) {
          if (t.is_object()) ts.push_back({{"name", t.value("name", "")}, {"declared", t.value("declared", false)}});
        }
        for (const auto& s : state.value("subscriptions", json::array())) {
          if (!s.is_object()) continue;
          // Every field but the confirmation token (whoever holds it can confirm).
          json copy = s;
          copy.erase("token");
          subs.push_back(std::move(copy));
        }
      }
    }
    out["topics"] = ts;
    out["subscriptions"] = subs;
    SL_RETURN_IF_ERROR(add_dead(true));
  }
  out["dead_letters"] = dead;
  return out;
}

}  // namespace saleslake::server::internal
