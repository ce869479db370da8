#include "common/clock.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace saleslake {

namespace {

class WallClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

int64_t ToNs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

Clock& SystemClock() {
  static WallClock clock;
  return clock;
}

ManualClock::ManualClock(TimePoint start) : ns_(ToNs(start)) {}

TimePoint ManualClock::Now() const {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::nanoseconds(ns_.load(std::memory_order_acquire))));
}

void ManualClock::Set(TimePoint t) { ns_.store(ToNs(t), std::memory_order_release); }

void ManualClock::Advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count(), std::memory_order_acq_rel); }

FileClock::FileClock(std::string path) : path_(std::move(path)) {}

TimePoint FileClock::Now() const {
  std::ifstream in(path_);
  long long ms = 0;
  if (in >> ms) return FromEpochMs(ms);
  return std::chrono::system_clock::now();
}

namespace {
std::atomic<Clock*> process_clock{nullptr};
}  // namespace

Clock& ProcessClock() {
  Clock* c = process_clock.load(std::memory_order_acquire);
  return c != nullptr ? *c : SystemClock();
}

void UseClockFile(const std::string& path) {
  process_clock.store(new FileClock(path), std::memory_order_release);  // lives for the process
}

int64_t ToEpochMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint FromEpochMs(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

}  // namespace saleslake
