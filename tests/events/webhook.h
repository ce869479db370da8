// A webhook receiver for tests: a loopback HTTP/1.1 server on a free port that records every
// request (method, path, headers, body) and answers with a status the test chooses (0 = close the
// connection without answering, like an endpoint that is down). Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace saleslake::testing {

struct WebhookRequest {
  std::string method, path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class Webhook {
 public:
  Webhook() {
    fd_ = saleslake::testing::ListenLoopback(&port_);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Webhook() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void set_status(int status) { status_ = status; }
  // Called for each request after it is recorded (e.g. to confirm a subscription).
  void set_on_request(std::function<void(const WebhookRequest&)> f) {
    std::lock_guard lock(mu_);
    on_request_ = std::move(f);
  }
  std::vector<WebhookRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Waits (bounded) until at least n requests arrived.
  bool WaitFor(size_t n, int timeout_ms = 10000) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return requests_.size() >= n; });
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      Serve(c);
      close(c);
    }
  }
  void Serve(int c) {
    std::string buf;
    char tmp[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = read(c, tmp, sizeof tmp);
      if (n <= 0) return;
      buf.append(tmp, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = buf.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          WebhookRequest r = ParseHead(buf.substr(0, header_end));
          auto it = r.headers.find("content-length");
          content_length = it == r.headers.end() ? 0 : std::stoul(it->second);
        }
      }
      if (header_end != std::string::npos && buf.size() >= header_end + 4 + content_length) break;
    }
    if (header_end == std::string::npos) return;
    WebhookRequest r = ParseHead(buf.substr(0, header_end));
    r.body = buf.substr(header_end + 4, content_length);
    int status = status_;
    if (status == 0) return;  // "down": the connection closes without an answer
    std::function<void(const WebhookRequest&)> hook;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
      hook = on_request_;
    }
    cv_.notify_all();
    std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!write(c, reply.data(), reply.size());
    if (hook) hook(r);
  }
  static WebhookRequest ParseHead(const std::string& head) {
    WebhookRequest r;
    size_t eol = head.find("\r\n");
    std::string first = head.substr(0, eol);
    size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
    r.method = first.substr(0, sp1);
    r.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = eol == std::string::npos ? head.size() : eol + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string k = line.substr(0, colon), v = line.substr(colon + 1);
        for (char& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        r.headers[k] = v;
      }
      pos = e + 2;
    }
    return r;
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> status_{200};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WebhookRequest> requests_;
  std::function<void(const WebhookRequest&)> on_request_;
  std::thread thread_;
};

}  // namespace saleslake::testing
