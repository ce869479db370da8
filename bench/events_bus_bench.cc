// The event bus in one process (issue 16): how many events per second catalog::JournalEvent makes
// durable in _system/events.jsonl (the one door every producer uses: uploads, the S3 API's
// PutObject, crawls, job runs), from 1 producer thread and from several at once (a server with
// concurrent uploads), and how many per second events::Engine consumes with a rule that matches
// every event and does nothing (a topic without subscriptions; the done marker and checkpoint
// are still written, as for any target).
//
// Not a Google Benchmark: one run prints one JSON line per phase (bench/events_bench.sh).
// Usage: events_bus_bench DIR [EVENTS=20000] [THREADS=8] [MANY=64] [BATCH=500] [SINGLE=EVENTS]
// (DIR is created and left behind; SINGLE: the events of the 1-thread phase). MANY producer
// threads journal once more: the journal's group commit shares one fdatasync among all
// appenders waiting, so the rate grows with how many wait at once. Then one thread journals
// EVENTS more in batches of BATCH (catalog::JournalEvents), printed as its own line
// ("journal_batches"): a different producer, not the per-event rate.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/crawler.h"
#include "events/events.h"
#include "io/local_store.h"

namespace {

using saleslake::Status;
namespace sl = saleslake;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// CPU time (user + system, all threads) and context switches of the process so far: per event,
// they show what the group commit costs apart from the disk's flushes.
struct Usage {
  double cpu_us = 0;
  long switches = 0;
};
Usage Now() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return {static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 +
              static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec),
          r.ru_nvcsw + r.ru_nivcsw};
}
void PrintPhase(const char* phase, int threads, int events, double seconds, Usage before, const char* extra = "") {
  Usage after = Now();
  std::printf("{\"phase\":\"%s\",\"threads\":%d,%s\"events\":%d,\"seconds\":%.3f,\"events_per_s\":%.0f,"
              "\"cpu_us_per_event\":%.1f,\"ctx_switches_per_event\":%.2f}\n",
              phase, threads, extra, events, seconds, events / seconds, (after.cpu_us - before.cpu_us) / events,
              static_cast<double>(after.switches - before.switches) / events);
  std::fflush(stdout);
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "events_bus_bench: %s\n", what.c_str());
  std::exit(1);
}

// `threads` producers journal `total` object.created events between them, like JournalCreated.
double Produce(sl::io::ObjectStore& store, int total, int threads) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&store, total, threads, t] {
      for (int i = t; i < total; i += threads) {
        std::string fields = "{\"key\":\"bench/t" + std::to_string(t) + "/f" + std::to_string(i) +
                             ".csv\",\"size\":1234,\"sha256\":\"" + std::string(64, 'a') + "\"}";
        auto id = sl::catalog::JournalEvent(store, "object.created", fields);
        if (!id.ok()) Die(id.status().ToString());
      }
    });
  }
  for (auto& th : pool) th.join();
  return Seconds(start);
}

// One producer journals `total` events in batches of `batch` (catalog::JournalEvents: one
// durable append per batch), as a producer that has many events at once would.
double ProduceBatches(sl::io::ObjectStore& store, int total, int batch) {
  auto start = std::chrono::steady_clock::now();
  std::vector<sl::catalog::JournalEntry> entries;
  for (int i = 0; i < total;) {
    entries.clear();
    for (; i < total && static_cast<int>(entries.size()) < batch; ++i)
      entries.push_back({"object.created",
                         "{\"key\":\"bench/batch/f" + std::to_string(i) + ".csv\",\"size\":1234,\"sha256\":\"" +
                             std::string(64, 'a') + "\"}",
                         ""});
    auto ids = sl::catalog::JournalEvents(store, entries);
    if (!ids.ok()) Die(ids.status().ToString());
  }
  return Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: events_bus_bench DIR [EVENTS] [THREADS]");
  std::string dir = argv[1];
  int events = argc > 2 ? std::atoi(argv[2]) : 20000;
  int threads = argc > 3 ? std::atoi(argv[3]) : 8;
  int many = argc > 4 ? std::atoi(argv[4]) : 64;
  int batch = argc > 5 ? std::atoi(argv[5]) : 500;
  // The single producer waits one fdatasync per event (4 ms on a busy disk): fewer events keep
  // its phase short without changing its rate.
  int single = argc > 6 ? std::atoi(argv[6]) : events;
  std::filesystem::remove_all(dir);
  auto store = sl::io::LocalStore::Open(dir, true);
  if (!store.ok()) Die(store.status().ToString());
  // Only the bench's rule: nothing else in pipeline.yaml matches bench/ keys.
  Status s = (*store)->Put("pipeline.yaml",
                           "topics:\n  - name: bench-noop\n"
                           "rules:\n  - name: bench-noop\n    pattern:\n      type: [object.created]\n"
                           "      key: [{prefix: bench/}]\n    targets:\n      - topic: bench-noop\n");
  if (!s.ok()) Die(s.ToString());

  Usage u = Now();
  double t1 = Produce(**store, single, 1);
  PrintPhase("journal", 1, single, t1, u);
  u = Now();
  double tn = Produce(**store, events, threads);
  PrintPhase("journal", threads, events, tn, u);
  u = Now();
  double tm = Produce(**store, events, many);
  PrintPhase("journal", many, events, tm, u);
  // Not the per-event figure: one producer that hands over `batch` events per durable append.
  u = Now();
  double tb = ProduceBatches(**store, events, batch);
  std::string extra = "\"batch\":" + std::to_string(batch) + ",";
  PrintPhase("journal_batches", 1, events, tb, u, extra.c_str());

  auto catalog = sl::catalog::Catalog::Open(store->get());
  if (!catalog.ok()) Die(catalog.status().ToString());
  auto topics = sl::events::Topics::Open(store->get());
  if (!topics.ok()) Die(topics.status().ToString());
  auto engine = sl::events::Engine::Open(catalog->get(), topics->get());
  if (!engine.ok()) Die(engine.status().ToString());
  auto start = std::chrono::steady_clock::now();
  int consumed = 0;
  for (;;) {
    auto n = (*engine)->ProcessPending(1000);
    if (!n.ok()) Die(n.status().ToString());
    if (*n == 0) break;
    consumed += *n;
  }
  double tc = Seconds(start);
  auto st = (*engine)->stats();
  std::printf("{\"phase\":\"consume\",\"events\":%d,\"actions\":%llu,\"seconds\":%.3f,\"events_per_s\":%.0f}\n",
              consumed, static_cast<unsigned long long>(st.actions), tc, consumed / tc);
  int journaled = single + 3 * events;
  return consumed == journaled && st.actions == static_cast<uint64_t>(journaled) ? 0 : 2;
}
