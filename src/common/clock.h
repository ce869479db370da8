// The injectable clock. Everything whose behaviour depends on "now" (signature skew, presigned
// and iterator expiry, schedules, alarms, retries, staleness) asks a Clock it was given instead
// of the system, so tests move time instead of sleeping.
// Thread safety: every Clock here may be read from many threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace saleslake {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The wall clock (a process-wide singleton).
Clock& SystemClock();

// A clock that only moves when told (unit tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);
  TimePoint Now() const override;
  void Set(TimePoint t);
  void Advance(std::chrono::nanoseconds d);

 private:
  std::atomic<int64_t> ns_;
};

// The clock of a whole process under test: the time is read from a file holding milliseconds
// since the epoch (rewritten by the test; an unreadable file reads as the system clock). Tests
// that drive a real `saleslake serve` use it through the CLI's $SALESLAKE_TEST_CLOCK_FILE.
class FileClock final : public Clock {
 public:
  explicit FileClock(std::string path);
  TimePoint Now() const override;

 private:
  std::string path_;
};

// The clock a process uses: the system clock, or a FileClock over `path` once UseClockFile was
// called (the CLI does, first thing, for $SALESLAKE_TEST_CLOCK_FILE; library code reads no
// environment).
Clock& ProcessClock();
void UseClockFile(const std::string& path);

// Milliseconds since the epoch.
int64_t ToEpochMs(TimePoint t);
TimePoint FromEpochMs(int64_t ms);

}  // namespace saleslake
