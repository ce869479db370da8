// A real SMTP server for tests: Debian's aiosmtpd (`python3 -m aiosmtpd`, installed by
// tools/setup.sh) on a free loopback port, storing what it accepts in a Maildir the test reads.
// With a certificate it offers STARTTLS. Every wait is bounded; the server is stopped (SIGTERM,
// then SIGKILL) when the object goes.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

extern char** environ;

namespace saleslake::testing {

class SmtpServer {
 public:
  // `maildir` is created by the server. `cert`/`key`: PEM files for STARTTLS ("" = plain).
  // Nothing listens until Start() (a connection to port() is refused: a server that is down).
  explicit SmtpServer(std::string maildir, std::string cert = "", std::string key = "")
      : maildir_(std::move(maildir)), cert_(std::move(cert)), key_(std::move(key)), port_(FreePort()) {}
  ~SmtpServer() { Stop(); }
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  // Starts the server and waits (bounded) until it accepts connections.
  bool Start() {
    std::vector<std::string> args = {"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                                     "127.0.0.1:" + std::to_string(port_)};
    if (!cert_.empty()) {
      // STARTTLS offered; plain sessions still allowed, so "try" and "required" both work.
      args.insert(args.end(), {"--tlscert", cert_, "--tlskey", key_, "--no-requiretls"});
    }
    args.insert(args.end(), {"-c", "aiosmtpd.handlers.Mailbox", maildir_});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (pid_ <= 0) return false;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < end) {
      if (Accepts()) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  // The messages received so far (whole RFC 5322 texts, in no particular order).
  std::vector<std::string> Messages() const {
    std::vector<std::string> out;
    for (const char* sub : {"/new", "/cur"}) {
      std::string dir = maildir_ + sub;
      DIR* d = opendir(dir.c_str());
      if (!d) continue;
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        out.push_back(ReadFile(dir + "/" + e->d_name));
      }
      closedir(d);
    }
    return out;
  }
  // Waits (bounded) until at least n messages arrived.
  bool WaitFor(size_t n, int timeout_ms = 15000) const {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
      if (Messages().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Messages().size() >= n;
  }

 private:
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
  }
  bool Accepts() const {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
  }

  std::string maildir_, cert_, key_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace saleslake::testing
