// The progress line of long commands (common/progress.h): its text, its pace, and silence off a
// terminal.
#include "common/progress.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace saleslake {
namespace {

TEST(ProgressTest, LineText) {
  using U = Progress::Unit;
  EXPECT_EQ(FormatProgressLine("upload a.csv", U::kBytes, 512 << 20, 2048ull << 20, 2.0),
            "upload a.csv  512.0 MB / 2.0 GB  25%  256.0 MB/s  ETA 0:06");
  EXPECT_EQ(FormatProgressLine("start-job j", U::kRows, 1'500'000, 0, 3.0), "start-job j  1.50M rows  500.0k rows/s");
  EXPECT_EQ(FormatProgressLine("crawl c", U::kFiles, 3, 10, 0.0), "crawl c  3 files / 10 files  30%");
  EXPECT_EQ(FormatProgressLine("forecast", U::kSeries, 90, 100, 3600.0), "forecast  90 series / 100 series  90%  0 series/s  ETA 6:40");
  EXPECT_EQ(FormatProgressLine("x", U::kBytes, 10, 10, 1.0), "x  10 B / 10 B  100%  10 B/s");
  EXPECT_EQ(FormatProgressLine("x", U::kBytes, 0, 100, 1.0), "x  0 B / 100 B  0%");
  EXPECT_EQ(FormatProgressLine("x", U::kRows, 1, 100000, 1.0), "x  1 rows / 100.0k rows  0%  1 rows/s  ETA 27:46:39");
}

// Reads what the progress wrote into the pipe so far.
std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(ProgressTest, DrawsAtMostTenTimesASecondAndErasesItsLine) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  double now = 100.0;
  {
    Progress p("job", Progress::Unit::kRows, 1000, {.fd = fds[1], .enabled = true, .now = [&] { return now; }});
    p.Add(10);  // at once: nothing yet (a command that ends at once draws nothing)
    EXPECT_EQ(Drain(fds[0]), "");
    now += 0.5;
    p.Add(40);
    EXPECT_EQ(Drain(fds[0]), "\rjob  50 rows / 1000 rows  5%  100 rows/s  ETA 0:10\033[K");
    now += 0.05;
    p.Add(50);  // within 100 ms of the last line: not drawn
    EXPECT_EQ(Drain(fds[0]), "");
    now += 0.1;
    p.Add(0);
    EXPECT_EQ(Drain(fds[0]).find("100 rows / 1000 rows  10%"), 6u);
    p.Finish();
    EXPECT_EQ(Drain(fds[0]), "\r\033[K");
    p.Add(1);
  }
  EXPECT_EQ(Drain(fds[0]), "");  // finished: silent, also at destruction
  close(fds[0]);
  close(fds[1]);
}

TEST(ProgressTest, SilentWhenDisabledAndCountsFromManyThreads) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  double now = 0;
  {
    Progress p("quiet", Progress::Unit::kBytes, 0, {.fd = fds[1], .enabled = false, .now = [&] { return now; }});
    EXPECT_FALSE(p.enabled());
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t)
      workers.emplace_back([&p] {
        for (int i = 0; i < 1000; ++i) p.Add(1);
      });
    for (auto& w : workers) w.join();
    now = 10;
    p.Add(0);
    EXPECT_EQ(p.done(), 4000u);
  }
  EXPECT_EQ(Drain(fds[0]), "");
  // A pipe is not a terminal: off by default.
  Progress piped("piped", Progress::Unit::kBytes, 0, {.fd = fds[1]});
  if (std::getenv("SALESLAKE_PROGRESS") == nullptr) {
    EXPECT_FALSE(piped.enabled());
  }
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace saleslake
