#include "server/internal/metrics.h"

#include <cstdio>

#include <nlohmann/json.hpp>


namespace saleslake::server::internal {

namespace {
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
// Bucket bounds as people write them ("0.0005", not "0.00050000000000000001").
std::string Le(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

void Metrics::Observe(const std::string& api, const std::string& operation, int status,
                      double seconds, uint64_t bytes_in, uint64_t bytes_out) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{api, operation, status}];
  Histogram& h = latency_[{api, operation}];
  for (size_t i = 0; i < kNumBuckets; ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
  bytes_in_ += bytes_in;
  bytes_out_ += bytes_out;
}

Metrics::Totals Metrics::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  Totals t;
  for (const auto& [key, n] : requests_) {
    t.requests += n;
    if (std::get<2>(key) >= 500) t.errors_5xx += n;
  }
  for (const auto& [key, h] : latency_) {
    auto& l = t.latency[key.first];
    l.first += h.sum;
    l.second += h.count;
  }
  return t;
}

void Metrics::AuthDenied(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++denials_[reason];
}

void Metrics::Count(const std::string& name, const std::string& help, uint64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = counters_[name];
  if (c.first.empty()) c.first = help;
  c.second += delta;
}

std::string Metrics::Render(const io::ObjectStore* lake) const {
  std::string o;
  {
    std::lock_guard<std::mutex> lock(mu_);
    o += "# HELP saleslake_requests_total Requests served, by API, operation and HTTP status.\n"
         "# TYPE saleslake_requests_total counter\n";
    for (const auto& [k, n] : requests_) {
      o += "saleslake_requests_total{api=\"" + Label(std::get<0>(k)) + "\",operation=\"" +
           Label(std::get<1>(k)) + "\",status=\"" + std::to_string(std::get<2>(k)) + "\"} " +
           std::to_string(n) + "\n";
    }
    o += "# HELP saleslake_request_duration_seconds Request latency, by API and operation.\n"
         "# TYPE saleslake_request_duration_seconds histogram\n";
    for (const auto& [k, h] : latency_) {
      std::string labels = "api=\"" + Label(k.first) + "\",operation=\"" + Label(k.second) + "\"";
      for (size_t i = 0; i < kNumBuckets; ++i) {
        o += "saleslake_request_duration_seconds_bucket{" + labels + ",le=\"" + Le(kBuckets[i]) +
             "\"} " + std::to_string(h.buckets[i]) + "\n";
      }
      o += "saleslake_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
      o += "saleslake_request_duration_seconds_sum{" + labels + "} " + Num(h.sum) + "\n";
      o += "saleslake_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) + "\n";
    }
    o += "# HELP saleslake_received_bytes_total Request body bytes received.\n"
         "# TYPE saleslake_received_bytes_total counter\n"
         "saleslake_received_bytes_total " + std::to_string(bytes_in_) + "\n";
    o += "# HELP saleslake_sent_bytes_total Response body bytes sent.\n"
         "# TYPE saleslake_sent_bytes_total counter\n"
         "saleslake_sent_bytes_total " + std::to_string(bytes_out_) + "\n";
    o += "# HELP saleslake_auth_denials_total Requests refused by authentication or authorization.\n"
         "# TYPE saleslake_auth_denials_total counter\n";
    for (const auto& [reason, n] : denials_) {
      o += "saleslake_auth_denials_total{code=\"" + Label(reason) + "\"} " + std::to_string(n) + "\n";
    }
    for (const auto& [name, c] : counters_) {
      o += "# HELP saleslake_" + name + " " + c.first + "\n# TYPE saleslake_" + name +
           " counter\nsaleslake_" + name + " " + std::to_string(c.second) + "\n";
    }
  }
  o += "# HELP saleslake_open_connections Client connections open now.\n"
       "# TYPE saleslake_open_connections gauge\n"
       "saleslake_open_connections " + std::to_string(open_connections()) + "\n";
  if (lake != nullptr) {
    // Job figures come from the run history, so they survive restarts and include CLI runs.
    std::map<std::pair<std::string, std::string>, uint64_t> runs;  // (job, status) -> runs
    std::map<std::string, std::pair<uint64_t, uint64_t>> rows;     // job -> (loaded, quarantined)
    // The run reports `saleslake runs` shows: _system/runs/<job>/<run_id>.json (read directly,
    // so the server does not link the ETL engine for one listing).
    auto reports = lake->List("_system/runs/");
    if (reports.ok()) {
      std::lock_guard<std::mutex> lock(reports_mu_);
      std::map<std::string, RunSummary> seen;
      for (const io::ObjectInfo& o : *reports) {
        if (o.key.size() < 5 || o.key.compare(o.key.size() - 5, 5, ".json") != 0) continue;
        auto cached = reports_.find(o.key);
        if (cached != reports_.end() && cached->second.etag == o.etag && cached->second.size == o.size) {
          seen.insert(reports_.extract(cached));
          continue;
        }
        auto text = lake->Get(o.key);
        if (!text.ok()) continue;
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_discarded() || !j.is_object()) continue;
        seen[o.key] = {o.etag, o.size, j.value("job", ""), j.value("status", ""),
                       j.value("rows_loaded", uint64_t{0}), j.value("rows_quarantined", uint64_t{0})};
      }
      reports_ = std::move(seen);  // reports deleted since are forgotten
      for (const auto& [key, r] : reports_) {
        ++runs[{r.job, r.status}];
        rows[r.job].first += r.rows_loaded;
        rows[r.job].second += r.rows_quarantined;
      }
    }
    o += "# HELP saleslake_job_runs_total ETL job runs in the lake's run history, by status.\n"
         "# TYPE saleslake_job_runs_total counter\n";
    for (const auto& [k, n] : runs) {
      o += "saleslake_job_runs_total{job=\"" + Label(k.first) + "\",status=\"" + Label(k.second) +
           "\"} " + std::to_string(n) + "\n";
    }
    o += "# HELP saleslake_job_rows_loaded_total Rows loaded by ETL job runs.\n"
         "# TYPE saleslake_job_rows_loaded_total counter\n";
    for (const auto& [job, r] : rows) {
      o += "saleslake_job_rows_loaded_total{job=\"" + Label(job) + "\"} " + std::to_string(r.first) + "\n";
    }
    o += "# HELP saleslake_job_rows_quarantined_total Rows quarantined by ETL job runs.\n"
         "# TYPE saleslake_job_rows_quarantined_total counter\n";
    for (const auto& [job, r] : rows) {
      o += "saleslake_job_rows_quarantined_total{job=\"" + Label(job) + "\"} " +
           std::to_string(r.second) + "\n";
    }
  }
  return o;
}

}  // namespace saleslake::server::internal
