// The SQL REPL driven through a real pseudo-terminal, keystroke by keystroke, as a user would:
// line editing, history (arrow up, $HOME/.saleslake_history), multi-line statements, tab
// completion, Ctrl-C at the prompt, commands (.mode, \d, \timing, .maxrows, \q), error positions.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace saleslake::testing {
namespace {

class PtySession {
 public:
  PtySession(const std::string& lake, const std::string& home) {
    winsize ws{};
    ws.ws_row = 40;
    ws.ws_col = 120;
    pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      setenv("HOME", home.c_str(), 1);
      setenv("TERM", "xterm", 1);
      unsetenv("COLUMNS");
      execl(SALESLAKE_BINARY, SALESLAKE_BINARY, "--lake", lake.c_str(), "query", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PtySession() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }

  bool started() const { return pid_ > 0 && fd_ >= 0; }

  // Types `keys` once the line editor reads the terminal raw. Keys typed while the terminal is
  // still cooked are the line discipline's (a Ctrl-D there is an EOF no editor ever sees), as for
  // a person typing ahead of the prompt; a test must not depend on winning that race.
  void Type(const std::string& keys) {
    WaitForEditor();
    size_t off = 0;
    while (off < keys.size()) {
      const ssize_t n = write(fd_, keys.data() + off, keys.size() - off);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  void WaitForEditor() {
    for (int i = 0; i < 5000; ++i) {  // at most ~5 s
      termios t{};
      if (tcgetattr(fd_, &t) != 0 || (t.c_lflag & ICANON) == 0) return;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 1) > 0) {
        char buf[4096];
        const ssize_t n = read(fd_, buf, sizeof buf);
        if (n <= 0) return;
        out_.append(buf, static_cast<size_t>(n));
      }
    }
  }

  // Reads until `text` appears in the output after the position of the last Expect (bounded).
  bool Expect(const std::string& text, int timeout_ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      const size_t at = out_.find(text, mark_);
      if (at != std::string::npos) {
        mark_ = at + text.size();
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
      char buf[4096];
      const ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return false;  // EIO: the child closed the terminal
      out_.append(buf, static_cast<size_t>(n));
    }
  }

  // Output since the last Expect match, read until the prompt comes back.
  std::string UntilPrompt() {
    const size_t from = mark_;
    Expect("sql> ");
    return out_.substr(from, mark_ - from);
  }

  int Wait() {
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {  // drain (and keep, for failure messages)
        const ssize_t n = read(fd_, buf, sizeof buf);
        if (n > 0) {
          out_.append(buf, static_cast<size_t>(n));
          continue;
        }
      }
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return -1;
  }

  const std::string& output() const { return out_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string out_;
  size_t mark_ = 0;
};

class ReplTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.Join("lake");
    home_ = dir_.Join("home");
    ASSERT_EQ(RunProgram({"mkdir", "-p", home_}).exit_code, 0);
    ASSERT_EQ(RunSaleslakeIn(lake_, {"init"}).exit_code, 0);
    ASSERT_EQ(RunSaleslakeIn(lake_, {"generate", "--rows", "200"}).exit_code, 0);
    ASSERT_EQ(RunSaleslakeIn(lake_, {"crawl"}).exit_code, 0);
  }
  TempDir dir_;
  std::string lake_, home_;
};

TEST_F(ReplTest, EditingHistoryCompletionAndCommands) {
  PtySession s(lake_, home_);
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();

  s.Type("SELECT 2 AS two;\r");
  ASSERT_TRUE(s.Expect("(1 row)")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();

  // Arrow up recalls the last line (not "^[[A"), Enter runs it again.
  s.Type("\x1b[A\r");
  ASSERT_TRUE(s.Expect("(1 row)")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  EXPECT_EQ(s.output().find("^[[A"), std::string::npos);

  // Multi-line: the continuation prompt, then the result; a fresh prompt after it.
  s.Type("SELECT\r");
  ASSERT_TRUE(s.Expect("  -> ")) << s.output();
  s.Type("5 AS five;\r");
  ASSERT_TRUE(s.Expect("five")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();

  // Tab completes a table name from the catalog and a keyword.
  s.Type("SELECT count(*) AS n FRO\t");
  ASSERT_TRUE(s.Expect("FROM")) << s.output();  // FROM, from_unixtime, ...: the common prefix
  s.Type(" raw_sa\t");
  ASSERT_TRUE(s.Expect("raw_sales ")) << s.output();
  s.Type(";\r");
  ASSERT_TRUE(s.Expect("200")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();

  // .mode csv, then \d lists the table.
  s.Type(".mode csv\r");
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type("SELECT 4 AS four;\r");
  ASSERT_TRUE(s.Expect("four\r\n4\r\n")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type("\\d\r");
  ASSERT_TRUE(s.Expect("raw_sales")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type("\\d raw_sales\r");
  ASSERT_TRUE(s.Expect("amount")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type(".help\r");
  ASSERT_TRUE(s.Expect(".maxrows N")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();

  // \q leaves with 0, and the history file has the statements.
  s.Type("\\q\r");
  EXPECT_EQ(s.Wait(), 0) << s.output();
  const std::string hist = ReadFile(home_ + "/.saleslake_history");
  // libedit's format writes a space as \040.
  EXPECT_NE(hist.find("SELECT\\0402\\040AS\\040two;"), std::string::npos) << hist;
}

TEST_F(ReplTest, ErrorsKeepThePromptAndPositionsRight) {
  PtySession s(lake_, home_);
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  // A failed two-line statement reports line 2 ...
  s.Type("SELECT\r");
  ASSERT_TRUE(s.Expect("  -> ")) << s.output();
  s.Type("nope;\r");
  ASSERT_TRUE(s.Expect("line 2:1: column 'nope' not found")) << s.output();
  // ... and the prompt is fresh again: the next one-line statement reports line 1.
  std::string after = s.UntilPrompt();
  EXPECT_EQ(after.find("  -> "), std::string::npos) << after;
  s.Type("SELECT nope2;\r");
  ASSERT_TRUE(s.Expect("line 1:8: column 'nope2' not found")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  // exit and quit are commands, not SQL.
  s.Type("quit\r");
  EXPECT_EQ(s.Wait(), 0) << s.output();
}

TEST_F(ReplTest, CtrlCClearsTheInputAtThePrompt) {
  PtySession s(lake_, home_);
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  // A half-typed multi-line statement, then Ctrl-C: it is dropped, the prompt is fresh.
  s.Type("SELECT 'dropped'\r");
  ASSERT_TRUE(s.Expect("  -> ")) << s.output();
  s.Type("+ 1\x03");
  ASSERT_TRUE(s.Expect("^C")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type("SELECT 3 AS three;\r");
  ASSERT_TRUE(s.Expect("three")) << s.output();
  const std::string rest = s.UntilPrompt();
  EXPECT_EQ(s.output().find("error"), std::string::npos) << s.output();
  EXPECT_EQ(s.output().find("dropped |"), std::string::npos) << s.output();
  s.Type("exit\r");
  EXPECT_EQ(s.Wait(), 0) << s.output();
}

TEST_F(ReplTest, TimingAndMaxRows) {
  PtySession s(lake_, home_);
  ASSERT_TRUE(s.started());
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type("\\timing\r");
  ASSERT_TRUE(s.Expect("Timing is on.")) << s.output();
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type(".maxrows 4\r");
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type("SELECT customer_id FROM raw_sales;\r");
  ASSERT_TRUE(s.Expect("… 196 more rows …")) << s.output();
  ASSERT_TRUE(s.Expect("(200 rows, 4 shown, ")) << s.output();
  ASSERT_TRUE(s.Expect(" s)")) << s.output();
  // (A Ctrl-D typed before the prompt switches the terminal to raw mode is the cooked-mode EOF,
  // which no line editor sees: wait for the prompt first.)
  ASSERT_TRUE(s.Expect("sql> ")) << s.output();
  s.Type("\x04");  // Ctrl-D
  EXPECT_EQ(s.Wait(), 0) << s.output();
}

}  // namespace
}  // namespace saleslake::testing
