#include "etl/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace saleslake::etl {

std::string RunReport::ToJson() const {
  nlohmann::ordered_json j;
  j["job"] = job;
  j["run_id"] = run_id;
  j["status"] = status;
  if (!error.empty()) j["error"] = error;
  j["started_at"] = started_at;
  j["duration_s"] = duration_s;
  j["input_files"] = input_files;
  j["files_new"] = files_new;
  j["files_replaced"] = files_replaced;
  j["files_refused"] = files_refused;
  j["files_unchanged"] = files_unchanged;
  j["rows_replaced"] = rows_replaced;
  j["bytes_read"] = bytes_read;
  j["rows_read"] = rows_read;
  j["rows_loaded"] = rows_loaded;
  j["rows_quarantined"] = rows_quarantined;
  j["blank_lines"] = blank_lines;
  j["quarantined_by_reason"] = quarantined_by_reason;
  j["flagged"] = flagged;
  j["fixed_values"] = fixed_values;
  for (const auto& [name, n] : counts) {
    j[name] = n;
    j[name + "_share"] = share(n);
  }
  j["exact_duplicates"] = exact_duplicates;
  j["date_min"] = date_min;
  j["date_max"] = date_max;
  j["rows_per_partition"] = rows_per_partition;
  nlohmann::ordered_json pii;
  for (int e = 0; e < kNumPiiEntities; ++e)
    pii[std::string(PiiEntityName(static_cast<PiiEntity>(e)))] = pii_detections.by_entity[e];
  j["pii_detections"] = pii;
  j["tokenized_values"] = tokenized_values;
  j["files_written"] = files_written;
  j["bytes_written"] = bytes_written;
  j["mb_per_s"] = mb_per_s();
  j["snapshot_id"] = snapshot_id;
  j["quarantine"] = quarantine_key;
  nlohmann::ordered_json alerts_json = nlohmann::ordered_json::array();
  for (const Alert& a : alerts) {
    alerts_json.push_back({{"level", a.level}, {"metric", a.metric}, {"value", a.value},
                           {"threshold", a.threshold}, {"message", a.message}});
  }
  j["alerts"] = alerts_json;
  return j.dump();
}

std::string RunReport::ToText() const {
  std::string out;
  char buf[256];
  auto line = [&](const char* k, const std::string& v) {
    std::snprintf(buf, sizeof buf, "  %-22s %s\n", k, v.c_str());
    out += buf;
  };
  auto pct = [&](uint64_t part) {
    std::snprintf(buf, sizeof buf, "%llu (%.2f%%)", static_cast<unsigned long long>(part),
                  100.0 * share(part));
    return std::string(buf);
  };
  out += "job " + job + " run " + run_id + ": " + status + "\n";
  if (!error.empty()) line("error", error);
  std::snprintf(buf, sizeof buf, "%.2f s (%.1f MB/s)", duration_s, mb_per_s());
  line("duration", buf);
  line("input files", std::to_string(input_files.size()));
  for (const auto& f : files_new) line("  new", f);
  for (const auto& f : files_replaced) line("  replaced", f);
  for (const auto& f : files_refused) line("  refused", f);
  if (files_unchanged) line("  unchanged", std::to_string(files_unchanged) + " (already loaded)");
  if (rows_replaced) line("rows replaced", std::to_string(rows_replaced));
  line("rows read", std::to_string(rows_read));
  line("rows loaded", std::to_string(rows_loaded));
  line("rows quarantined", std::to_string(rows_quarantined));
  for (const auto& [k, v] : quarantined_by_reason) line(("  " + k).c_str(), std::to_string(v));
  line("blank lines", std::to_string(blank_lines));
  for (const auto& [name, n] : counts) {
    std::string label = name;
    std::replace(label.begin(), label.end(), '_', ' ');
    line(label.c_str(), pct(n));
  }
  line("exact duplicates", std::to_string(exact_duplicates));
  for (const auto& [k, v] : flagged) line(("flagged " + k).c_str(), std::to_string(v));
  for (const auto& [k, v] : fixed_values) line(("cleaned " + k).c_str(), std::to_string(v));
  if (!date_min.empty()) line("dates", date_min + " .. " + date_max);
  std::string pii;
  for (int e = 0; e < kNumPiiEntities; ++e) {
    if (pii_detections.by_entity[e] == 0) continue;
    pii += (pii.empty() ? "" : ", ") + std::string(PiiEntityName(static_cast<PiiEntity>(e))) + " " +
           std::to_string(pii_detections.by_entity[e]);
  }
  line("PII redacted", pii.empty() ? "none found" : pii);
  line("values tokenized", std::to_string(tokenized_values));
  line("partitions", std::to_string(rows_per_partition.size()));
  std::snprintf(buf, sizeof buf, "%llu (%.1f MB)", static_cast<unsigned long long>(files_written),
                bytes_written / 1e6);
  line("files written", buf);
  line("snapshot", std::to_string(snapshot_id));
  if (!quarantine_key.empty()) line("quarantine", quarantine_key);
  for (const Alert& a : alerts) line(("alert " + a.level).c_str(), a.message);
  return out;
}

Status SaveRunReport(io::ObjectStore& store, const RunReport& report) {
  return store.Put("_system/runs/" + report.job + "/" + report.run_id + ".json", report.ToJson() + "\n");
}

Result<std::vector<std::string>> LoadRunReports(const io::ObjectStore& store, std::string_view job) {
  std::string prefix = "_system/runs/" + (job.empty() ? std::string() : std::string(job) + "/");
  SL_ASSIGN_OR_RETURN(auto objects, store.List(prefix));
  // Run ids start with a UTC timestamp, so sorting by them is sorting by start time.
  std::sort(objects.begin(), objects.end(), [](const io::ObjectInfo& a, const io::ObjectInfo& b) {
    auto id = [](const std::string& k) { return k.substr(k.rfind('/') + 1); };
    return id(a.key) < id(b.key);
  });
  std::vector<std::string> out;
  for (const auto& o : objects) {
    if (o.key.size() < 5 || o.key.compare(o.key.size() - 5, 5, ".json") != 0) continue;
    SL_ASSIGN_OR_RETURN(std::string text, store.Get(o.key));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace saleslake::etl
