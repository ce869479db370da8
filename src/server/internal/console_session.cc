#include "server/internal/console_session.h"

#include <openssl/rand.h>

#include <algorithm>
#include <vector>

namespace saleslake::server::internal {

Result<std::string> SecretHex(size_t n) {
  std::vector<unsigned char> raw(n);
  if (RAND_bytes(raw.data(), static_cast<int>(n)) != 1) return Status::Internal("no randomness available");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<ConsoleSession> SessionStore::Create(const Principal& principal, TimePoint now) {
  ConsoleSession s;
  SL_ASSIGN_OR_RETURN(s.token, SecretHex(32));
  SL_ASSIGN_OR_RETURN(s.csrf, SecretHex(32));
  s.principal = principal;
  s.expires = now + ttl_;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  }
  while (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    });
    sessions_.erase(oldest);
  }
  sessions_[s.token] = s;
  return s;
}

std::optional<ConsoleSession> SessionStore::Find(std::string_view token, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Erase(std::string_view token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(token);
  if (it != sessions_.end()) sessions_.erase(it);
}

void LoginLimiter::Prune(std::deque<TimePoint>& failures, TimePoint now) const {
  while (!failures.empty() && failures.front() + window_ <= now) failures.pop_front();
}

int64_t LoginLimiter::RetryAfterSeconds(const std::string& key, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  Prune(it->second, now);
  if (static_cast<int>(it->second.size()) < max_failures_) return 0;
  auto wait = std::chrono::ceil<std::chrono::seconds>(it->second.front() + window_ - now);
  return std::max<int64_t>(1, wait.count());
}

void LoginLimiter::Failed(const std::string& key, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& f = failures_[key];
  Prune(f, now);
  f.push_back(now);
  // Bounded memory: one deque of at most max_failures per key, and keys with nothing recent go.
  while (static_cast<int>(f.size()) > max_failures_) f.pop_front();
  if (failures_.size() > 100000) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      Prune(it->second, now);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
}

void LoginLimiter::Succeeded(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

}  // namespace saleslake::server::internal
