// Prometheus metrics of the server (text exposition format 0.0.4).
// Thread safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "io/object_store.h"

namespace saleslake::server::internal {

class Metrics {
 public:
  // One finished request.
  void Observe(const std::string& api, const std::string& operation, int status, double seconds,
               uint64_t bytes_in, uint64_t bytes_out);
  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void AuthDenied(const std::string& reason);
  int64_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  // A counter a hosted service keeps ("console_cache_hits_total"), rendered as
  // saleslake_<name> with `help`; created at 0 on first use.
  void Count(const std::string& name, const std::string& help, uint64_t delta = 1);

  // Running totals since the start, for alarms over the server's own figures (the events
  // service samples them).
  struct Totals {
    uint64_t requests = 0;
    uint64_t errors_5xx = 0;
    std::map<std::string, std::pair<double, uint64_t>> latency;  // api -> (sum of seconds, count)
  };
  Totals totals() const;

  // The exposition text; job figures are read from the lake's run history (_system/runs/): one
  // listing per scrape, and a GET only for a report not seen before or changed since (by its
  // ETag and size), so a scrape of a lake on S3 does not read every report every time.
  std::string Render(const io::ObjectStore* lake) const;

 private:
  static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  static constexpr size_t kNumBuckets = sizeof(kBuckets) / sizeof(kBuckets[0]);
  struct Histogram {
    uint64_t buckets[kNumBuckets] = {};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;  // GUARDED_BY(mu_)
  std::map<std::pair<std::string, std::string>, Histogram> latency_;        // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> denials_;                                 // GUARDED_BY(mu_)
  std::map<std::string, std::pair<std::string, uint64_t>> counters_;        // GUARDED_BY(mu_)
  uint64_t bytes_in_ = 0;                                                   // GUARDED_BY(mu_)
  uint64_t bytes_out_ = 0;                                                  // GUARDED_BY(mu_)
  std::atomic<int64_t> open_connections_{0};
  // What Render keeps of each run report, by key.
  struct RunSummary {
    std::string etag;
    uint64_t size = 0;
    std::string job, status;
    uint64_t rows_loaded = 0, rows_quarantined = 0;
  };
  mutable std::mutex reports_mu_;                       // held by one Render at a time
  mutable std::map<std::string, RunSummary> reports_;  // GUARDED_BY(reports_mu_)
};

}  // namespace saleslake::server::internal
