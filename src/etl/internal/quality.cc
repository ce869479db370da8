// Quality thresholds over a run's figures, the alerts they raise, and the quarantine object.
#include "etl/internal/run.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "common/types.h"

namespace saleslake::etl::internal {

void EvaluateQuality(const JobSpec& job, RunReport& report) {
  for (const QualityThreshold& t : job.quality) {
    double value = 0;
    for (const auto& [name, n] : report.counts)
      if (t.metric == name + "_share") value = report.share(n);
    if (t.metric == "quarantined_share") value = report.rows_read ? static_cast<double>(report.rows_quarantined) / report.rows_read : 0;
    else if (t.metric == "duplicate_share") value = report.rows_read ? static_cast<double>(report.exact_duplicates) / report.rows_read : 0;
    auto raise = [&](const char* level, double threshold) {
      char msg[256];
      std::snprintf(msg, sizeof msg, "%s = %.4f is above the %s threshold %.4f", t.metric.c_str(), value, level, threshold);
      report.alerts.push_back({level, t.metric, value, threshold, msg});
    };
    if (t.fail && value > *t.fail) raise("fail", *t.fail);
    else if (t.warn && value > *t.warn) raise("warn", *t.warn);
  }
}

Status AppendAlerts(io::ObjectStore& store, const JobSpec& job, const RunReport& report) {
  if (report.alerts.empty()) return Status::OK();
  // Alerts go to _system/alerts.jsonl until topics and subscriptions exist; the store has no
  // append, so the object is rewritten (alerts are rare and small).
  std::string text;
  auto old = store.Get("_system/alerts.jsonl");
  if (old.ok()) text = *old;
  for (const Alert& a : report.alerts) {
    nlohmann::ordered_json j = {{"time", UtcNow()}, {"topic", job.alert_topic}, {"job", job.name},
                                {"run_id", report.run_id}, {"level", a.level}, {"metric", a.metric},
                                {"value", a.value}, {"threshold", a.threshold}, {"message", a.message}};
    text += j.dump() + "\n";
  }
  return store.Put("_system/alerts.jsonl", text);
}

Status WriteQuarantine(Run& run, RunReport& report) {
  MutexLock lock(run.mu);  // uncontended: the rows' workers are done
  if (run.quarantine.empty()) return Status::OK();
  std::sort(run.quarantine.begin(), run.quarantine.end(), [](const Quarantined& a, const Quarantined& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  std::string key = "quarantine/" + run.job.name + "/" + run.run_id + "/rejected.jsonl";
  SL_ASSIGN_OR_RETURN(auto out, run.store.OpenWrite(key));
  for (const Quarantined& q : run.quarantine) {
    nlohmann::ordered_json j = {{"file", q.file}, {"line", q.line}, {"column", q.column}, {"reason", q.reason}, {"raw", q.raw}};
    SL_RETURN_IF_ERROR(out->Append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  }
  SL_RETURN_IF_ERROR(out->Commit());
  report.quarantine_key = key;
  return Status::OK();
}

}  // namespace saleslake::etl::internal
