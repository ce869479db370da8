// The bus reader and the engine (see events.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>
#include <thread>
#include <unordered_set>

#include "catalog/crawler.h"
#include "common/logging.h"
#include "etl/job_runner.h"
#include "etl/job_spec.h"
#include "events/events.h"
#include "events/internal/outbound.h"
#include "sql/sql.h"

namespace saleslake::events {

namespace {

constexpr std::string_view kJournalKey = "_system/events.jsonl";
constexpr std::string_view kStatePrefix = "_system/events/";
constexpr std::string_view kDoneLogKey = "_system/events/done.jsonl";

// A stable id for an event a target emits on behalf of `cause` (FNV-1a 64, twice, for 128 bits).
std::string DerivedId(const std::string& cause, const std::string& rule, size_t target, const std::string& what) {
  std::string key = cause + "\x1f" + rule + "\x1f" + std::to_string(target) + "\x1f" + what;
  auto fnv = [&](uint64_t h) {
    for (unsigned char c : key) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    return h;
  };
  char b[40];
  std::snprintf(b, sizeof b, "d-%016llx%016llx", static_cast<unsigned long long>(fnv(14695981039346656037ULL)),
                static_cast<unsigned long long>(fnv(0x9e3779b97f4a7c15ULL)));
  return b;
}

std::string IsoSeconds(TimePoint t) {
  time_t s = static_cast<time_t>(ToEpochMs(t) / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

// Keys inside the lake: ids and rule names are [A-Za-z0-9._-] already; anything else is dropped.
std::string SafeKeyPart(const std::string& s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') out += c;
  return out.empty() ? "_" : out;
}

}  // namespace

namespace {

// One journal line (without its newline) as an event ending at `end` in the journal; nullopt
// when it is not a JSON object.
std::optional<Event> ParseEventLine(std::string_view line, uint64_t end) {
  Event e;
  e.json = nlohmann::json::parse(line, nullptr, false);
  e.end_offset = end;
  if (!e.json.is_object()) return std::nullopt;
  e.type = e.json.value("type", "");
  // Lines from before ids existed are known by their offset (stable: the journal only grows).
  e.id = e.json.contains("id") && e.json["id"].is_string() ? e.json["id"].get<std::string>()
                                                             : "o" + std::to_string(end);
  e.json["id"] = e.id;
  return e;
}

// One object of the inbox (catalog::kEventInboxPrefix): its text, and its event unless the text
// is not one JSON event.
struct InboxItem {
  std::string key;
  std::string line;
  std::optional<Event> event;
};

// The inbox's first `max` objects in the order they were recorded (ids begin with their UTC
// time, so key order is that order); *more when there were others. Objects gone meanwhile
// (another consumer took them) are left out.
Result<std::vector<InboxItem>> ReadInbox(const io::ObjectStore& store, size_t max, bool* more) {
  SL_ASSIGN_OR_RETURN(std::vector<io::ObjectInfo> objects, store.List(catalog::kEventInboxPrefix));
  std::erase_if(objects, [](const io::ObjectInfo& o) { return !o.key.ends_with(".json"); });
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  *more = objects.size() > max;
  if (*more) objects.resize(max);
  std::vector<InboxItem> out;
  for (const io::ObjectInfo& o : objects) {
    auto text = store.Get(o.key);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) continue;
      return text.status();
    }
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
    InboxItem item{o.key, std::move(*text), std::nullopt};
    if (item.line.find('\n') == std::string::npos) item.event = ParseEventLine(item.line, 0);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Result<std::vector<Event>> ReadInboxEvents(const io::ObjectStore& store) {
  bool more = false;
  SL_ASSIGN_OR_RETURN(std::vector<InboxItem> items, ReadInbox(store, std::numeric_limits<size_t>::max(), &more));
  std::vector<Event> out;
  for (InboxItem& i : items)
    if (i.event) out.push_back(std::move(*i.event));
  return out;
}

Result<std::vector<Event>> ReadEvents(const io::ObjectStore& store, uint64_t offset, size_t max) {
  std::vector<Event> out;
  auto info = store.Stat(kJournalKey);
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound) return out;
    return info.status();
  }
  if (info->size <= offset) return out;
  // Read about what `max` events need (journal lines are a few hundred bytes), and more only
  // while lines are missing: reading 8 MiB for a batch of 1,000 events cost the consumer a fifth
  // of its time in copies. No read goes past 8 MiB ahead of the checkpoint.
  const uint64_t limit = std::min<uint64_t>(info->size - offset, uint64_t{8} << 20);
  uint64_t chunk = std::clamp<uint64_t>(uint64_t{512} * std::max<size_t>(max, 1), 64 << 10, limit);
  std::string text;
  size_t pos = 0;
  while (out.size() < max) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      // A torn or unfinished last line is not yet an event; read on only while there is more.
      if (text.size() >= limit) break;
      uint64_t more = std::min<uint64_t>(std::max<uint64_t>(chunk, text.size()), limit - text.size());
      SL_ASSIGN_OR_RETURN(std::string next, store.GetRange(kJournalKey, offset + text.size(), more));
      if (next.empty()) break;
      text += next;
      continue;
    }
    std::string_view line(text.data() + pos, nl - pos);
    uint64_t end = offset + nl + 1;
    pos = nl + 1;
    if (line.empty()) continue;
    std::optional<Event> e = ParseEventLine(line, end);
    if (!e) {
      Log(LogLevel::kWarn, "events: a journal line is not JSON; skipped", {{"offset", std::to_string(end)}});
      continue;
    }
    out.push_back(std::move(*e));
  }
  return out;
}

namespace {

// The fields of an event as the journal takes them: an object, without the journal's own keys.
std::string FieldsJson(const nlohmann::json& fields) {
  nlohmann::json f = fields.is_object() ? fields : nlohmann::json::object();
  f.erase("id");
  f.erase("type");
  f.erase("time");
  return f.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<std::string> PublishEvent(io::ObjectStore& store, const std::string& type, const nlohmann::json& fields,
                                 const std::string& id) {
  return catalog::JournalEvent(store, type, FieldsJson(fields), id);
}

struct Engine::Impl {
  catalog::Catalog* catalog = nullptr;
  io::ObjectStore* store = nullptr;
  Topics* topics = nullptr;
  EngineOptions options;
  Clock* clock = nullptr;
  EventsConfig config;
  std::map<std::string, TimePoint> next_fire;  // schedule rule -> next firing
  // Materialized views created WITH (refresh = 'rate(...)' or 'cron(...)'): a schedule rule
  // each ("matview-<view>"), re-listed at most once a minute of the clock.
  std::vector<Rule> matview_rules;
  std::optional<int64_t> matviews_listed_ms;
  std::vector<Alarm> alarms;
  EngineStats stats;

  // Done markers: lines {"rule","event","target",...result} in the log kDoneLogKey, known here
  // as DoneId()s. The log is read from done_offset on (other processes append too); markers of
  // this process wait in pending_markers until FlushMarkers makes them durable in one append.
  std::unordered_set<std::string> done;
  uint64_t done_offset = 0;
  std::string pending_markers;
  bool legacy_markers = false;  // a lake from before the log: one file per marker under done/

  std::string CheckpointKey() const {
    return std::string(kStatePrefix) + "checkpoints/" + SafeKeyPart(options.consumer) + ".json";
  }
  // The marker file of a lake from before the marker log.
  std::string LegacyDoneKey(const std::string& rule, const std::string& id, size_t target) const {
    return std::string(kStatePrefix) + "done/" + SafeKeyPart(rule) + "/" + SafeKeyPart(id) + "." + std::to_string(target);
  }
  static std::string DoneId(const std::string& rule, const std::string& id, size_t target) {
    return rule + '\x1f' + id + '\x1f' + std::to_string(target);
  }

  // Reads the markers other writers (or an earlier process) appended since the last call;
  // complete lines only (a torn last line is closed by the next append and then skipped).
  Status LoadMarkers() {
    const std::string key = std::string(kDoneLogKey);
    auto info = store->Stat(key);
    if (!info.ok()) return info.status().code() == StatusCode::kNotFound ? Status::OK() : info.status();
    if (info->size <= done_offset) return Status::OK();
    SL_ASSIGN_OR_RETURN(std::string text, store->GetRange(key, done_offset, info->size - done_offset));
    size_t pos = 0;
    for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      auto j = nlohmann::json::parse(std::string_view(text).substr(pos, nl - pos), nullptr, false);
      if (!j.is_object() || !j.contains("rule") || !j.contains("event") || !j.contains("target")) continue;
      if (!j["rule"].is_string() || !j["event"].is_string() || !j["target"].is_number_unsigned()) continue;
      done.insert(DoneId(j["rule"], j["event"], j["target"].get<size_t>()));
    }
    done_offset += pos;
    return Status::OK();
  }

  Result<bool> IsDone(const std::string& rule, const std::string& id, size_t target) const {
    if (done.count(DoneId(rule, id, target))) return true;
    if (legacy_markers) return store->Exists(LegacyDoneKey(rule, id, target));
    return false;
  }

  void MarkDone(const std::string& rule, const std::string& id, size_t target, nlohmann::json result) {
    done.insert(DoneId(rule, id, target));
    result["rule"] = rule;
    result["event"] = id;
    result["target"] = target;
    pending_markers += result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    pending_markers += '\n';
  }

  // One durable append for the markers since the last flush (group commit with other writers).
  Status FlushMarkers() {
    if (pending_markers.empty()) return Status::OK();
    Status s = store->Append(kDoneLogKey, pending_markers);
    if (s.code() == StatusCode::kNotImplemented) {
      // A store without appends (S3): one object per flush; LoadMarkers does not see them, so
      // such a lake also checks them one by one (legacy_markers).
      s = Status::OK();
      size_t pos = 0;
      for (size_t nl; s.ok() && (nl = pending_markers.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        auto j = nlohmann::json::parse(std::string_view(pending_markers).substr(pos, nl - pos));
        s = store->Put(LegacyDoneKey(j["rule"], j["event"], j["target"].get<size_t>()), j.dump());
      }
    }
    SL_RETURN_IF_ERROR(s);
    pending_markers.clear();
    return Status::OK();
  }

  // Events that commands recorded on a store without appends (`saleslake upload` on a lake on
  // S3) wait as objects in the inbox (catalog::kEventInboxPrefix). Where the journal can be
  // appended to (a server's state directory), they are moved into it and processed from there;
  // else (`saleslake events process` on that lake) they are processed where they lie. An object
  // is deleted only once its event is safe elsewhere (journaled, or its markers durable), so a
  // crash in between repeats it, and the repeat is skipped by its done markers. The inbox is
  // listed at most once a second of the clock while it was last found empty (on S3 a listing is
  // a request). Returns the events processed here (not those moved into the journal).
  bool journal_appendable = false;
  std::optional<TimePoint> inbox_listed;
  bool inbox_empty = true;

  Result<int> DrainInbox(size_t max) {
    const TimePoint now = clock->Now();
    if (inbox_listed && inbox_empty && now - *inbox_listed < std::chrono::seconds(1)) return 0;
    inbox_listed = now;
    bool more = false;
    SL_ASSIGN_OR_RETURN(std::vector<InboxItem> items, ReadInbox(*store, max, &more));
    inbox_empty = !more;
    if (items.empty()) return 0;
    std::vector<std::string> lines;
    std::vector<std::string> keys;
    for (InboxItem& i : items) {
      keys.push_back(i.key);
      if (!i.event) {
        Log(LogLevel::kWarn, "events: an inbox object is not one JSON event; dropped", {{"key", i.key}});
        continue;
      }
      lines.push_back(std::move(i.line));
    }
    int processed = 0;
    if (journal_appendable) {
      std::string all;
      for (const std::string& l : lines) all += l + "\n";
      if (!all.empty()) SL_RETURN_IF_ERROR(store->Append(kJournalKey, all));
    } else {
      SL_RETURN_IF_ERROR(LoadMarkers());
      for (const std::string& l : lines) {
        bool moved = false;  // no journal, no checkpoint: the object's deletion is its checkpoint
        SL_RETURN_IF_ERROR(ProcessEvent(*ParseEventLine(l, 0), &moved));
        ++processed;
      }
      SL_RETURN_IF_ERROR(FlushMarkers());
    }
    for (const std::string& k : keys) {
      Status s = store->Delete(k);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    return processed;
  }

  Result<uint64_t> LoadCheckpoint() const {
    auto text = store->Get(CheckpointKey());
    if (!text.ok()) return text.status().code() == StatusCode::kNotFound ? Result<uint64_t>(uint64_t{0}) : text.status();
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains("offset")) return Status::Corruption(CheckpointKey() + " is unreadable");
    return j["offset"].get<uint64_t>();
  }
  Status SaveCheckpoint(uint64_t offset) {
    return store->Put(CheckpointKey(), nlohmann::json{{"offset", offset}, {"time", IsoSeconds(clock->Now())}}.dump());
  }

  bool RuleMatches(const Rule& r, const Event& e, std::string* why) const {
    if (r.pattern) return r.pattern->Matches(e.json, why);
    if (e.type == "schedule.tick" && e.json.value("rule", "") == r.name) return true;
    if (why) *why = "a schedule rule runs on its own schedule.tick only";
    return false;
  }

  // The materialized views of the lake: (name, refresh mode) from SHOW MATERIALIZED VIEWS.
  Result<std::vector<std::pair<std::string, std::string>>> MaterializedViews(const sql::Engine& engine) const {
    SL_ASSIGN_OR_RETURN(sql::StatementResult shown, engine.Execute("SHOW MATERIALIZED VIEWS"));
    std::vector<std::pair<std::string, std::string>> out;
    int name_col = -1, refresh_col = -1;
    for (size_t i = 0; i < shown.result.schema.fields.size(); ++i) {
      if (shown.result.schema.fields[i].name == "name") name_col = static_cast<int>(i);
      if (shown.result.schema.fields[i].name == "refresh") refresh_col = static_cast<int>(i);
    }
    if (name_col < 0 || refresh_col < 0) return Status::Internal("SHOW MATERIALIZED VIEWS has no name/refresh column");
    for (const Batch& b : shown.result.batches)
      for (size_t r = 0; r < b.num_rows; ++r)
        out.emplace_back(std::string(b.columns[name_col].GetValue<std::string_view>(r)),
                         std::string(b.columns[refresh_col].GetValue<std::string_view>(r)));
    return out;
  }

  // Refreshes `name` (or every materialized view for "*") through the SQL facade.
  Result<std::vector<std::string>> RefreshViews(const std::string& name) {
    SL_ASSIGN_OR_RETURN(auto engine, sql::Engine::OpenLake(store, catalog));
    std::vector<std::string> names;
    if (name == "*") {
      SL_ASSIGN_OR_RETURN(auto views, MaterializedViews(*engine));
      for (auto& [v, mode] : views) names.push_back(v);
    } else {
      names.push_back(name);
    }
    std::vector<std::string> messages;
    for (const auto& v : names) {
      auto r = engine->Execute("REFRESH MATERIALIZED VIEW " + v);
      if (!r.ok()) return Status(r.status().code(), v + ": " + r.status().message());
      messages.push_back(v + ": " + r->message);
    }
    return messages;
  }

  // Keeps matview_rules in step with the views' refresh modes (rate(...) / cron(...)).
  void ListScheduledViews(TimePoint now) {
    int64_t ms = ToEpochMs(now);
    if (matviews_listed_ms && ms >= *matviews_listed_ms && ms - *matviews_listed_ms < 60000) return;
    matviews_listed_ms = ms;
    auto engine = sql::Engine::OpenLake(store, catalog);
    if (!engine.ok()) return;
    auto views = MaterializedViews(**engine);
    if (!views.ok()) {
      Log(LogLevel::kWarn, "events: could not list materialized views", {{"error", views.status().ToString()}});
      return;
    }
    std::vector<Rule> rules;
    for (const auto& [view, mode] : *views) {
      if (mode.rfind("rate(", 0) != 0 && mode.rfind("cron(", 0) != 0) continue;
      auto schedule = Schedule::Parse(mode);
      if (!schedule.ok()) {
        Log(LogLevel::kWarn, "events: a materialized view's refresh schedule is not valid; not scheduled",
            {{"view", view}, {"refresh", mode}, {"error", schedule.status().message()}});
        continue;
      }
      Rule r;
      r.name = "matview-" + view;
      r.schedule = std::move(*schedule);
      Target t;
      t.kind = Target::Kind::kMatview;
      t.name = view;
      r.targets.push_back(t);
      rules.push_back(std::move(r));
    }
    matview_rules = std::move(rules);
  }

  void Emit(const std::string& type, nlohmann::json fields, const std::string& id) {
    auto r = PublishEvent(*store, type, fields, id);
    if (!r.ok()) Log(LogLevel::kError, "events: could not journal an event", {{"type", type}, {"error", r.status().ToString()}});
  }

  void DeadLetter(const Rule& rule, const Event& e, size_t target, const std::string& reason, int attempts) {
    nlohmann::json j = {{"time", IsoSeconds(clock->Now())}, {"rule", rule.name}, {"target", target},
                        {"kind", std::string(TargetKindName(rule.targets[target].kind))},
                        {"event", e.json}, {"reason", reason}, {"attempts", attempts}};
    Status s = store->Append("_system/dlq/" + SafeKeyPart(rule.name) + ".jsonl", j.dump() + "\n");
    if (!s.ok()) Log(LogLevel::kError, "events: could not dead-letter", {{"rule", rule.name}, {"error", s.ToString()}});
    ++stats.dead_lettered;
  }

  // Runs one target for one event. Returns what the done marker records.
  nlohmann::json RunTarget(const Rule& rule, size_t index, const Event& e) {
    const Target& t = rule.targets[index];
    nlohmann::json cause = {{"rule", rule.name}, {"cause", e.id}};
    switch (t.kind) {
      case Target::Kind::kCrawler: {
        auto configs = catalog::LoadCrawlerConfigs(*store, options.pipeline_key);
        Status err;
        if (configs.ok()) {
          auto it = std::find_if(configs->begin(), configs->end(), [&](const auto& c) { return c.name == t.name; });
          if (it == configs->end()) {
            err = Status::NotFound("no crawler named '" + t.name + "'");
          } else {
            auto report = catalog::Crawl(*catalog, *it);
            if (report.ok()) {
              nlohmann::json f = cause;
              f["crawler"] = t.name;
              f["table"] = report->table;
              f["committed"] = report->committed;
              f["added"] = report->added.size();
              f["updated"] = report->updated.size();
              f["conflicts"] = report->conflicts.size();
              f["snapshot_id"] = report->snapshot_id;
              Emit("crawler.succeeded", f, DerivedId(e.id, rule.name, index, "crawler"));
              return {{"status", "succeeded"}};
            }
            err = report.status();
          }
        } else {
          err = configs.status();
        }
        ++stats.failures;
        nlohmann::json f = cause;
        f["crawler"] = t.name;
        f["error"] = err.ToString();
        Emit("crawler.failed", f, DerivedId(e.id, rule.name, index, "crawler"));
        return {{"status", "failed"}, {"error", err.ToString()}};
      }
      case Target::Kind::kJob: {
        std::string run_id = "ev-" + DerivedId(e.id, rule.name, index, "run").substr(2, 20);
        nlohmann::json f = cause;
        f["job"] = t.name;
        f["run_id"] = run_id;
        Status err;
        auto text = store->Get(options.pipeline_key);
        if (!text.ok()) {
          err = text.status();
        } else if (auto jobs = etl::ParseJobs(options.pipeline_key, *text); !jobs.ok()) {
          err = jobs.status();
        } else if (auto job = etl::FindJob(*jobs, t.name); !job.ok()) {
          err = job.status();
        } else {
          etl::RunOptions ro;
          ro.run_id = run_id;
          auto report = etl::RunJob(*catalog, *job, ro);
          if (report.ok()) {
            f["status"] = report->status;
            f["rows_read"] = report->rows_read;
            f["rows_loaded"] = report->rows_loaded;
            f["rows_quarantined"] = report->rows_quarantined;
            f["snapshot_id"] = report->snapshot_id;
            // Figures alarms watch: the run's duration and shares in percent of its rows.
            f["duration_s"] = report->duration_s;
            f["quarantined_pct"] = report->rows_read ? 100.0 * report->rows_quarantined / report->rows_read : 0.0;
            for (const auto& [count, n] : report->counts)
              f[count + "_pct"] = report->rows_loaded ? 100.0 * n / report->rows_loaded : 0.0;
            std::string type = report->status == "no_op" ? "job.no_op" : "job.succeeded";
            Emit(type, f, DerivedId(e.id, rule.name, index, "job"));
            for (size_t i = 0; i < report->alerts.size(); ++i) {
              const auto& a = report->alerts[i];
              nlohmann::json q = cause;
              q["job"] = t.name;
              q["run_id"] = run_id;
              q["level"] = a.level;
              q["metric"] = a.metric;
              q["value"] = a.value;
              q["threshold"] = a.threshold;
              q["message"] = a.message;
              q["rows_read"] = report->rows_read;
              q["rows_quarantined"] = report->rows_quarantined;
              Emit("quality.violation", q, DerivedId(e.id, rule.name, index, "quality" + std::to_string(i)));
            }
            return {{"status", report->status}, {"run_id", run_id}};
          }
          err = report.status();
        }
        ++stats.failures;
        f["status"] = "failed";
        f["error"] = err.ToString();
        Emit("job.failed", f, DerivedId(e.id, rule.name, index, "job"));
        return {{"status", "failed"}, {"run_id", run_id}, {"error", err.ToString()}};
      }
      case Target::Kind::kTopic: {
        std::string message = TransformInput(t, e.json);
        std::map<std::string, MessageAttribute> attrs = {{"type", {"String", e.type}}, {"rule", {"String", rule.name}}};
        if (e.json.contains("level") && e.json["level"].is_string()) attrs["level"] = {"String", e.json["level"]};
        auto r = topics ? topics->Publish(topics->TopicArn(t.name), message, "saleslake " + e.type, attrs,
                                          DerivedId(e.id, rule.name, index, "publish").substr(2, 32))
                        : Result<PublishResult>(Status::NotFound("no topics in this process"));
        if (!r.ok()) {
          ++stats.failures;
          DeadLetter(rule, e, index, r.status().ToString(), 1);
          return {{"status", "dead_lettered"}, {"error", r.status().ToString()}};
        }
        return {{"status", "published"}, {"message_id", r->message_id}, {"deliveries", r->deliveries}};
      }
      case Target::Kind::kMatview: {
        nlohmann::json f = cause;
        f["view"] = t.name;
        auto refreshed = RefreshViews(t.name);
        if (refreshed.ok()) {
          f["refreshed"] = *refreshed;
          Emit("matview.refreshed", f, DerivedId(e.id, rule.name, index, "matview"));
          return {{"status", "succeeded"}, {"refreshed", *refreshed}};
        }
        ++stats.failures;
        f["error"] = refreshed.status().ToString();
        Emit("matview.refresh_failed", f, DerivedId(e.id, rule.name, index, "matview"));
        return {{"status", "failed"}, {"error", refreshed.status().ToString()}};
      }
      case Target::Kind::kCommand: {
        std::string input = TransformInput(t, e.json);
        std::map<std::string, std::string> env = t.env;
        env["SALESLAKE_EVENT_ID"] = e.id;
        env["SALESLAKE_EVENT_TYPE"] = e.type;
        env["SALESLAKE_RULE"] = rule.name;
        internal::CommandResult res;
        int attempts = 0;
        for (; attempts <= t.retries; ++attempts) {
          if (attempts > 0 && options.command_backoff_ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(options.command_backoff_ms << (attempts - 1)));
          res = internal::RunCommand(t.name, input, env, t.timeout_s * 1000, t.memory_mb);
          nlohmann::json run = {{"time", IsoSeconds(clock->Now())}, {"event", e.id}, {"attempt", attempts + 1},
                                {"exit_code", res.exit_code}, {"signal", res.signal}, {"timed_out", res.timed_out},
                                {"stdout", res.out}, {"stderr", res.err}, {"truncated", res.truncated}};
          (void)store->Append(std::string(kStatePrefix) + "runs/" + SafeKeyPart(rule.name) + ".jsonl",
                              run.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
          if (res.ok()) return {{"status", "succeeded"}, {"attempts", attempts + 1}};
        }
        ++stats.failures;
        DeadLetter(rule, e, index, res.Reason(), attempts);
        return {{"status", "dead_lettered"}, {"error", res.Reason()}};
      }
    }
    return {{"status", "unknown"}};
  }

  // `moved_checkpoint` is set when an action's marker was made durable at once (the checkpoint
  // then follows right after the event).
  Status ProcessEvent(const Event& e, bool* moved_checkpoint) {
    ++stats.events;
    for (Alarm& a : alarms) {
      if (a.spec().event_type != e.type) continue;
      auto it = e.json.find(a.spec().metric);
      if (it != e.json.end() && it->is_number()) a.AddSample(clock->Now(), it->get<double>());
    }
    std::vector<const Rule*> all;
    for (const Rule& rule : config.rules) all.push_back(&rule);
    for (const Rule& rule : matview_rules) all.push_back(&rule);
    for (const Rule* rp : all) {
      const Rule& rule = *rp;
      if (!RuleMatches(rule, e, nullptr)) continue;
      for (size_t i = 0; i < rule.targets.size(); ++i) {
        SL_ASSIGN_OR_RETURN(bool is_done, IsDone(rule.name, e.id, i));
        if (is_done) {
          ++stats.skipped_done;
          continue;
        }
        nlohmann::json result = RunTarget(rule, i, e);
        ++stats.actions;
        result["time"] = IsoSeconds(clock->Now());
        MarkDone(rule.name, e.id, i, std::move(result));
        // A topic target repeated after a crash publishes the same message id again (at-least-once
        // delivery), so its marker may wait for the batch's flush; a crawl, a job run, a refresh
        // or a command is never repeated: its marker is durable before anything else happens.
        if (rule.targets[i].kind != Target::Kind::kTopic) {
          SL_RETURN_IF_ERROR(FlushMarkers());
          *moved_checkpoint = true;
        }
      }
    }
    return Status::OK();
  }

  Status CheckReferences(const EventsConfig& c, const std::string& text) {
    auto crawlers = catalog::ParseCrawlerConfigs(text, options.pipeline_key);
    auto jobs = etl::ParseJobs(options.pipeline_key, text);
    for (const Rule& r : c.rules) {
      for (const Target& t : r.targets) {
        auto where = options.pipeline_key + ":" + std::to_string(r.line) + ": rule '" + r.name + "': ";
        if (t.kind == Target::Kind::kCrawler && crawlers.ok() &&
            std::none_of(crawlers->begin(), crawlers->end(), [&](const auto& x) { return x.name == t.name; }))
          return Status::InvalidArgument(where + "no crawler named '" + t.name + "' in crawlers:");
        if (t.kind == Target::Kind::kJob && jobs.ok() && !etl::FindJob(*jobs, t.name).ok())
          return Status::InvalidArgument(where + "no job named '" + t.name + "' in jobs:");
      }
    }
    return Status::OK();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(catalog::Catalog* catalog, Topics* topics, EngineOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->catalog = catalog;
  impl->store = catalog->store();
  impl->topics = topics;
  impl->options = options;
  impl->clock = options.clock ? options.clock : &ProcessClock();
  {
    auto legacy = impl->store->List(std::string(kStatePrefix) + "done/");
    impl->legacy_markers = !impl->store->Append(kDoneLogKey, "").ok() || (legacy.ok() && !legacy->empty());
    impl->journal_appendable = impl->store->Append(kJournalKey, "").code() != StatusCode::kNotImplemented;
  }
  SL_RETURN_IF_ERROR(impl->LoadMarkers());
  auto engine = std::unique_ptr<Engine>(new Engine(std::move(impl)));
  SL_RETURN_IF_ERROR(engine->Reload());
  return engine;
}

Status Engine::Reload() {
  auto text = impl_->store->Get(impl_->options.pipeline_key);
  std::string yaml;
  if (text.ok()) yaml = std::move(*text);
  else if (text.status().code() != StatusCode::kNotFound) return text.status();
  SL_ASSIGN_OR_RETURN(EventsConfig c, ParseEventsConfig(impl_->options.pipeline_key, yaml));
  SL_RETURN_IF_ERROR(impl_->CheckReferences(c, yaml));
  if (impl_->topics) {
    SL_RETURN_IF_ERROR(impl_->topics->ApplyDeclared(c.topics));
    impl_->topics->SetMailServer(c.smtp);
  }
  impl_->config = std::move(c);
  // Alarms keep their state across a reload when their definition is the same name.
  std::vector<Alarm> alarms;
  for (const AlarmSpec& spec : impl_->config.alarms) {
    auto old = std::find_if(impl_->alarms.begin(), impl_->alarms.end(), [&](const Alarm& a) { return a.spec().name == spec.name; });
    alarms.push_back(old != impl_->alarms.end() ? std::move(*old) : Alarm(spec));
  }
  impl_->alarms = std::move(alarms);
  // Schedules of rules that changed restart from now.
  std::map<std::string, TimePoint> kept;
  for (const Rule& r : impl_->config.rules)
    if (r.schedule && impl_->next_fire.count(r.name)) kept[r.name] = impl_->next_fire[r.name];
  for (const Rule& r : impl_->matview_rules)
    if (impl_->next_fire.count(r.name)) kept[r.name] = impl_->next_fire[r.name];
  impl_->next_fire = std::move(kept);
  return Status::OK();
}

const EventsConfig& Engine::config() const { return impl_->config; }

Result<int> Engine::Tick() {
  TimePoint now = impl_->clock->Now();
  int ticks = 0;
  impl_->ListScheduledViews(now);
  std::vector<const Rule*> scheduled;
  for (const Rule& r : impl_->config.rules) scheduled.push_back(&r);
  for (const Rule& r : impl_->matview_rules) scheduled.push_back(&r);
  std::vector<catalog::JournalEntry> due;
  std::vector<std::pair<std::string, std::optional<TimePoint>>> fired;  // rule -> its next firing
  for (const Rule* rp : scheduled) {
    const Rule& r = *rp;
    if (!r.schedule) continue;
    auto it = impl_->next_fire.find(r.name);
    if (it == impl_->next_fire.end()) {
      auto next = r.schedule->NextAfter(now);
      if (next) impl_->next_fire[r.name] = *next;
      continue;
    }
    if (it->second > now) continue;
    TimePoint fire = it->second;
    for (int guard = 0; guard < 1000000; ++guard) {
      auto n = r.schedule->NextAfter(fire);
      if (!n || *n > now) break;
      fire = *n;
    }
    int64_t ms = ToEpochMs(fire);
    nlohmann::json fields = {{"rule", r.name}, {"scheduled_time", IsoSeconds(fire)}, {"schedule", r.schedule->expression()}};
    due.push_back({"schedule.tick", FieldsJson(fields), "schedule-" + r.name + "-" + std::to_string(ms)});
    fired.emplace_back(r.name, r.schedule->NextAfter(fire));
  }
  // The ticks that came due together are one durable append; the clocks move on only once it
  // is (a failed append leaves them due, and the repeat has the same ids).
  SL_RETURN_IF_ERROR(catalog::JournalEvents(*impl_->store, due).status());
  for (auto& [name, next] : fired) {
    if (next) impl_->next_fire[name] = *next;
    else impl_->next_fire.erase(name);
  }
  ticks = static_cast<int>(due.size());
  for (Alarm& a : impl_->alarms) {
    auto tr = a.Evaluate(now);
    if (!tr) continue;
    std::string id = "alarm-" + a.spec().name + "-" + std::to_string(ToEpochMs(now));
    nlohmann::json f = {{"alarm", a.spec().name}, {"from", std::string(AlarmStateName(tr->from))},
                        {"to", std::string(AlarmStateName(tr->to))}, {"reason", tr->reason}};
    SL_RETURN_IF_ERROR(PublishEvent(*impl_->store, "alarm.state_change", f, id).status());
    const auto& actions = tr->to == AlarmState::kAlarm ? a.spec().alarm_actions
                          : tr->to == AlarmState::kOk  ? a.spec().ok_actions
                                                       : std::vector<std::string>{};
    for (const auto& topic : actions) {
      if (!impl_->topics) break;
      f["type"] = "alarm.state_change";
      auto r = impl_->topics->Publish(impl_->topics->TopicArn(topic), f.dump(), "ALARM: " + a.spec().name,
                                      {{"type", {"String", "alarm.state_change"}}}, id.substr(0, 64));
      if (!r.ok()) Log(LogLevel::kError, "events: alarm action", {{"alarm", a.spec().name}, {"error", r.status().ToString()}});
    }
  }
  return ticks;
}

void Engine::RecordMetric(const std::string& metric, double value) {
  for (Alarm& a : impl_->alarms)
    if (a.spec().event_type == "server.metrics" && a.spec().metric == metric) a.AddSample(impl_->clock->Now(), value);
}

Result<int> Engine::ProcessPending(size_t max) {
  SL_ASSIGN_OR_RETURN(int from_inbox, impl_->DrainInbox(max));
  if (from_inbox > 0) return from_inbox;
  SL_ASSIGN_OR_RETURN(uint64_t offset, impl_->LoadCheckpoint());
  SL_ASSIGN_OR_RETURN(std::vector<Event> events, ReadEvents(*impl_->store, offset, max));
  if (events.empty()) return 0;
  SL_RETURN_IF_ERROR(impl_->LoadMarkers());
  int n = 0;
  for (const Event& e : events) {
    bool moved = false;
    SL_RETURN_IF_ERROR(impl_->ProcessEvent(e, &moved));
    ++n;
    // After a crawl, job, refresh or command the checkpoint moves at once (a crash replays
    // little); other events move it once per batch. Either way the markers of every event
    // before the checkpoint are durable first: it is never ahead of them.
    if (moved) SL_RETURN_IF_ERROR(impl_->SaveCheckpoint(e.end_offset));
  }
  SL_RETURN_IF_ERROR(impl_->FlushMarkers());
  SL_RETURN_IF_ERROR(impl_->SaveCheckpoint(events.back().end_offset));
  return n;
}

std::vector<RuleMatch> Engine::Test(const nlohmann::json& event) const {
  Event e;
  e.json = event;
  e.type = event.value("type", "");
  e.id = event.value("id", "");
  std::vector<RuleMatch> out;
  for (const Rule& r : impl_->config.rules) {
    RuleMatch m;
    m.rule = r.name;
    m.matched = impl_->RuleMatches(r, e, &m.why);
    if (m.matched) m.why = r.pattern ? "pattern matches" : "its schedule tick";
    out.push_back(std::move(m));
  }
  return out;
}

EngineStats Engine::stats() const { return impl_->stats; }

std::vector<std::pair<std::string, AlarmState>> Engine::AlarmStates() const {
  std::vector<std::pair<std::string, AlarmState>> out;
  for (const Alarm& a : impl_->alarms) out.emplace_back(a.spec().name, a.state());
  return out;
}

}  // namespace saleslake::events
