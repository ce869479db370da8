// A progress line for long commands (upload, crawl, start-job, convert, forecast, query):
//
//   upload sales.csv  1.2 GB / 2.0 GB  60%  410.3 MB/s  ETA 0:02
//
// It is drawn only on a terminal: when its stream (stderr) is a tty and TERM is not "dumb", so
// scripts, pipes and CI see nothing. $SALESLAKE_PROGRESS=always or never overrides that ("always"
// also draws the first update at once, where a terminal waits 0.2 s not to flash). The
// line is redrawn in place at most ten times a second and erased by Finish(), so the command's
// own output follows on a clean line.
//
//   Progress p("upload " + name, Progress::Unit::kBytes, size);
//   while (...) { ...; p.Add(n); }
//   p.Finish();
//
// Thread safety: Add() and SetTotal() from any thread (workers of a parallel job); Finish() once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace saleslake {

class Progress {
 public:
  enum class Unit : uint8_t { kBytes, kRows, kFiles, kSeries };
  struct Options {
    int fd = 2;                   // where the line is drawn
    std::optional<bool> enabled;  // default: $SALESLAKE_PROGRESS, else whether fd is a terminal
    // Seconds on a monotonic clock; tests inject one. Default: std::chrono::steady_clock.
    std::function<double()> now;
  };

  // `total` 0: unknown (no percentage, no ETA).
  Progress(std::string label, Unit unit, uint64_t total);
  Progress(std::string label, Unit unit, uint64_t total, Options options);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t n);
  void SetTotal(uint64_t total);
  // Sets the amount done (and the total) outright, for producers that count themselves.
  void Update(uint64_t done, uint64_t total);
  // Erases the line (when one was drawn). Later calls do nothing.
  void Finish();
  bool enabled() const { return enabled_; }
  uint64_t done() const { return done_.load(); }

 private:
  void Draw(bool force);

  std::string label_;
  Unit unit_;
  Options options_;
  bool enabled_ = false;
  bool eager_ = false;  // $SALESLAKE_PROGRESS=always: no initial wait
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> total_{0};
  std::mutex draw_mu_;  // one drawer at a time; others skip
  double start_ = 0;
  double last_draw_ = -1;
  bool drawn_ = false;
  bool finished_ = false;
};

// The text of the line (without the leading "\r" and the erase), for `done` of `total` units
// after `elapsed_seconds`: label, amount, percentage, rate and ETA when they are known.
std::string FormatProgressLine(std::string_view label, Progress::Unit unit, uint64_t done, uint64_t total,
                               double elapsed_seconds);

}  // namespace saleslake
