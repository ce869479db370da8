#include "common/progress.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

#include <fmt/format.h>

namespace saleslake {

namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// $SALESLAKE_PROGRESS: "always" or "never", or nullopt.
std::optional<bool> Forced() {
  const char* force = std::getenv("SALESLAKE_PROGRESS");
  if (force != nullptr && std::strcmp(force, "always") == 0) return true;
  if (force != nullptr && std::strcmp(force, "never") == 0) return false;
  return std::nullopt;
}

bool EnabledByDefault(int fd) {
  if (auto forced = Forced()) return *forced;
  const char* term = std::getenv("TERM");
  return isatty(fd) == 1 && (term == nullptr || std::strcmp(term, "dumb") != 0);
}

std::string Amount(Progress::Unit unit, double v) {
  if (unit == Progress::Unit::kBytes) {
    static const char* kUnits[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
      v /= 1024;
      ++u;
    }
    return u == 0 ? fmt::format("{:.0f} B", v) : fmt::format("{:.1f} {}", v, kUnits[u]);
  }
  const char* noun = unit == Progress::Unit::kRows ? "rows" : unit == Progress::Unit::kFiles ? "files" : "series";
  if (v >= 1e9) return fmt::format("{:.2f}G {}", v / 1e9, noun);
  if (v >= 1e6) return fmt::format("{:.2f}M {}", v / 1e6, noun);
  if (v >= 1e4) return fmt::format("{:.1f}k {}", v / 1e3, noun);
  return fmt::format("{:.0f} {}", v, noun);
}

std::string Clock(double seconds) {
  auto s = static_cast<int64_t>(std::ceil(seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

std::string FormatProgressLine(std::string_view label, Progress::Unit unit, uint64_t done, uint64_t total,
                               double elapsed_seconds) {
  std::string line(label);
  line += "  " + Amount(unit, static_cast<double>(done));
  if (total > 0) {
    line += " / " + Amount(unit, static_cast<double>(total));
    line += fmt::format("  {:.0f}%", std::floor(100.0 * static_cast<double>(std::min(done, total)) / static_cast<double>(total)));
  }
  if (elapsed_seconds > 0.05 && done > 0) {
    const double rate = static_cast<double>(done) / elapsed_seconds;
    line += "  " + Amount(unit, rate) + "/s";
    if (total > done) line += "  ETA " + Clock(static_cast<double>(total - done) / rate);
  }
  return line;
}

Progress::Progress(std::string label, Unit unit, uint64_t total) : Progress(std::move(label), unit, total, Options{}) {}

Progress::Progress(std::string label, Unit unit, uint64_t total, Options options)
    : label_(std::move(label)), unit_(unit), options_(std::move(options)) {
  if (!options_.now) options_.now = SteadySeconds;
  enabled_ = options_.enabled ? *options_.enabled : EnabledByDefault(options_.fd);
  eager_ = !options_.enabled && Forced().value_or(false);
  total_ = total;
  start_ = options_.now();
}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t n) {
  done_ += n;
  if (enabled_) Draw(false);
}

void Progress::SetTotal(uint64_t total) { total_ = total; }

void Progress::Update(uint64_t done, uint64_t total) {
  total_ = total;
  done_ = done;
  if (enabled_) Draw(false);
}

void Progress::Draw(bool force) {
  std::unique_lock<std::mutex> lock(draw_mu_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  const double now = options_.now();
  if (!force && last_draw_ >= 0 && now - last_draw_ < 0.1) return;
  // The first line waits a moment: a command that ends at once draws nothing.
  if (!force && !eager_ && now - start_ < 0.2) return;
  last_draw_ = now;
  std::string text = "\r" + FormatProgressLine(label_, unit_, done_.load(), total_.load(), now - start_) + "\033[K";
  drawn_ = true;
  (void)!write(options_.fd, text.data(), text.size());
}

void Progress::Finish() {
  std::lock_guard<std::mutex> lock(draw_mu_);
  if (finished_) return;
  finished_ = true;
  if (drawn_) (void)!write(options_.fd, "\r\033[K", 4);
}

}  // namespace saleslake
