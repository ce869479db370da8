// The web console's sign-in state: sessions (an opaque cookie token -> principal, with a CSRF
// token and an expiry) and the login rate limiter. Both are in memory: a restart signs
// everyone out, which is the safe direction.
// Thread safety: every method may be called from many worker threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "server/internal/gate.h"

namespace saleslake::server::internal {

struct ConsoleSession {
  std::string token;  // the cookie value: 32 random bytes, hex
  std::string csrf;   // sent back in X-CSRF-Token on state-changing requests
  Principal principal;
  TimePoint expires{};
};

class SessionStore {
 public:
  // Sessions live `ttl` from sign-in; at most `max_sessions` at once (the oldest expiry goes).
  explicit SessionStore(std::chrono::seconds ttl, size_t max_sessions = 10000)
      : ttl_(ttl), max_sessions_(max_sessions) {}
  Result<ConsoleSession> Create(const Principal& principal, TimePoint now);
  // nullopt when unknown or expired (an expired session is removed).
  std::optional<ConsoleSession> Find(std::string_view token, TimePoint now);
  void Erase(std::string_view token);
  std::chrono::seconds ttl() const { return ttl_; }

 private:
  const std::chrono::seconds ttl_;
  const size_t max_sessions_;
  std::mutex mu_;
  std::map<std::string, ConsoleSession, std::less<>> sessions_;  // GUARDED_BY(mu_)
};

// Failed sign-ins per key (the client address, and the user name): after `max_failures` within
// `window`, further attempts are refused until the oldest failure leaves the window. Counting
// per user name too stops a distributed guess at one account.
class LoginLimiter {
 public:
  LoginLimiter(int max_failures, std::chrono::seconds window)
      : max_failures_(max_failures), window_(window) {}
  // Seconds until an attempt is allowed for `key`; 0 = allowed now.
  int64_t RetryAfterSeconds(const std::string& key, TimePoint now);
  void Failed(const std::string& key, TimePoint now);
  void Succeeded(const std::string& key);

 private:
  void Prune(std::deque<TimePoint>& failures, TimePoint now) const;
  const int max_failures_;
  const std::chrono::seconds window_;
  std::mutex mu_;
  std::map<std::string, std::deque<TimePoint>> failures_;  // GUARDED_BY(mu_)
};

// Hex of `n` random bytes from OpenSSL's CSPRNG; an error (never a weaker fallback) when it fails.
Result<std::string> SecretHex(size_t n);

}  // namespace saleslake::server::internal
