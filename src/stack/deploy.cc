#include "stack/deploy.h"

#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "stack/internal/dashboards_section.h"
#include "stack/internal/iam_section.h"

namespace saleslake::stack {
namespace {

std::string UtcTime(TimePoint t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string GenerationName(int64_t g) {
  std::string s = std::to_string(g);
  return std::string(s.size() < 6 ? 6 - s.size() : 0, '0') + s;
}

Result<DeployRecord> ParseRecord(const std::string& key, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("generation") || !j["generation"].is_number_integer())
    return Status::Corruption(key + ": not a deploy record");
  DeployRecord r;
  r.generation = j["generation"].get<int64_t>();
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  r.id = str("id");
  r.time = str("time");
  r.action = str("action");
  r.source = str("source");
  r.previous = str("previous");
  r.sha256 = str("sha256");
  r.changes = j.contains("changes") && j["changes"].is_number_integer() ? j["changes"].get<int>() : 0;
  return r;
}

// Held from reading the deployed version to replacing it, so that two deploys never interleave
// (the generation claim alone orders the records, not the writes of pipeline.yaml). A lock
// left by a killed deploy is taken over once it is older than kStaleLockSeconds.
constexpr std::string_view kLockKey = "_system/deploy/lock";
constexpr int64_t kStaleLockSeconds = 300;

class DeployLock {
 public:
  static Result<std::unique_ptr<DeployLock>> Acquire(io::ObjectStore& lake, Clock& clock, std::string_view what) {
    const std::string body = nlohmann::json({{"time", UtcTime(clock.Now())}, {"deploy", std::string(what)}}).dump();
    for (int attempt = 0; attempt < 2; ++attempt) {
      Status s = lake.PutIfAbsent(kLockKey, body);
      if (s.ok()) return std::unique_ptr<DeployLock>(new DeployLock(lake));
      if (s.code() != StatusCode::kAlreadyExists) return s;
      auto info = lake.Stat(kLockKey);
      if (!info.ok()) continue;  // released meanwhile
      const int64_t age_s = (ToEpochMs(clock.Now()) - info->mtime_ns / 1000000) / 1000;
      if (age_s < kStaleLockSeconds) {
        auto holder = lake.Get(kLockKey);
        return Status::Aborted("another deploy is in progress (" + std::string(kLockKey) + ": " +
                               (holder.ok() ? *holder : std::string("?")) + "); nothing was changed");
      }
      (void)lake.Delete(kLockKey);  // a killed deploy's: take it over
    }
    return Status::Aborted("another deploy is in progress (" + std::string(kLockKey) + "); nothing was changed");
  }
  ~DeployLock() { (void)lake_.Delete(kLockKey); }

 private:
  explicit DeployLock(io::ObjectStore& lake) : lake_(lake) {}
  io::ObjectStore& lake_;
};

Result<DeployResult> Apply(io::ObjectStore& lake, std::string_view source, std::string_view text,
                           std::string_view action, const DeployOptions& options,
                           int64_t expect_generation = -1) {
  SL_ASSIGN_OR_RETURN(Pipeline next, LoadPipeline(source, text));
  Clock& clock = options.clock ? *options.clock : ProcessClock();
  std::unique_ptr<DeployLock> lock;
  if (!options.dry_run) {
    SL_ASSIGN_OR_RETURN(lock, DeployLock::Acquire(lake, clock, source));
  }
  std::string current;
  if (auto got = lake.Get(kPipelineKey); got.ok()) {
    current = std::move(*got);
  } else if (got.status().code() != StatusCode::kNotFound) {
    return got.status();
  }
  // The deployed file may have been edited by hand into something unreadable: then everything
  // the new one declares is an addition.
  auto deployed = ReadPipeline(kPipelineKey, current);
  DeployResult result;
  result.changes = Diff(deployed.ok() ? *deployed : Pipeline{}, next);
  if (options.dry_run || (result.changes.empty() && current == text)) return result;

  SL_ASSIGN_OR_RETURN(std::vector<DeployRecord> history, History(lake));
  const int64_t last = history.empty() ? 0 : history.back().generation;
  if (expect_generation >= 0 && last != expect_generation)
    return Status::Aborted("generation " + std::to_string(last) + " was deployed meanwhile; nothing was changed");
  const int64_t generation = last + 1;
  const std::string sha = Sha256Hex(text);
  result.id = sha.substr(0, 12);
  result.previous_key = std::string(kVersionsPrefix) + GenerationName(generation) + "-" + result.id + ".yaml";
  // The IAM the file declares, applied before the file itself: a deploy stopped in between is
  // still a change against the deployed file, so running it again completes it (ApplyIam is
  // idempotent). An unreadable deployed file declared nothing.
  SL_RETURN_IF_ERROR(internal::ApplyIam(lake, internal::IamOf(current), internal::IamOf(text), &result.notices));
  // The dashboards likewise (idempotent; the console reads dashboards/ on each call).
  SL_RETURN_IF_ERROR(internal::ApplyDashboards(lake, internal::DashboardsOf(current), internal::DashboardsOf(text),
                                               &result.notices));

  SL_RETURN_IF_ERROR(lake.Put(result.previous_key, current));

  nlohmann::json record = {{"generation", generation},
                           {"id", result.id},
                           {"time", UtcTime(clock.Now())},
                           {"action", std::string(action)},
                           {"source", std::string(source)},
                           {"previous", result.previous_key},
                           {"sha256", sha},
                           {"changes", result.changes.changes.size()}};
  const std::string record_key = std::string(kVersionsPrefix) + GenerationName(generation) + ".json";
  Status claimed = lake.PutIfAbsent(record_key, record.dump() + "\n");
  if (claimed.code() == StatusCode::kAlreadyExists) {
    (void)lake.Delete(result.previous_key);
    return Status::Aborted("another deploy took generation " + std::to_string(generation) +
                           " meanwhile; nothing was changed (run the deploy again to see the new change set)");
  }
  SL_RETURN_IF_ERROR(claimed);
  SL_RETURN_IF_ERROR(lake.Put(kPipelineKey, text).WithContext("pipeline.yaml"));
  result.generation = generation;
  return result;
}

}  // namespace

Result<std::vector<DeployRecord>> History(const io::ObjectStore& lake) {
  SL_ASSIGN_OR_RETURN(std::vector<io::ObjectInfo> objects, lake.List(kVersionsPrefix));
  std::vector<DeployRecord> out;
  for (const io::ObjectInfo& o : objects) {
    if (o.key.size() < 5 || o.key.compare(o.key.size() - 5, 5, ".json") != 0) continue;
    SL_ASSIGN_OR_RETURN(std::string text, lake.Get(o.key));
    SL_ASSIGN_OR_RETURN(DeployRecord r, ParseRecord(o.key, text));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const DeployRecord& a, const DeployRecord& b) { return a.generation < b.generation; });
  return out;
}

Result<DeployResult> Deploy(io::ObjectStore& lake, std::string_view source, std::string_view text,
                            const DeployOptions& options) {
  return Apply(lake, source, text, "deploy", options);
}

Result<DeployResult> Rollback(io::ObjectStore& lake, const DeployOptions& options) {
  SL_ASSIGN_OR_RETURN(std::vector<DeployRecord> history, History(lake));
  if (history.empty()) return Status::NotFound("nothing was deployed to this lake yet: there is no version to roll back to");
  const DeployRecord& last = history.back();
  SL_ASSIGN_OR_RETURN(std::string previous, lake.Get(last.previous));
  const std::string source = last.previous + " (before generation " + std::to_string(last.generation) + ")";
  if (previous.empty())
    return Status::InvalidArgument("generation " + std::to_string(last.generation) +
                                   " was the lake's first pipeline.yaml: there is no earlier version to restore");
  auto result = Apply(lake, source, previous, "rollback", options, last.generation);
  if (!result.ok() && result.status().code() == StatusCode::kInvalidArgument)
    return Status::InvalidArgument("the version to restore no longer validates; nothing was changed:\n" +
                                   result.status().message());
  return result;
}

}  // namespace saleslake::stack
