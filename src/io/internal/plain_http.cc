// PlainHttp: HTTP/1.1 over TCP sockets for http:// endpoints (see http_client.h for why).
//
// One request at a time per connection, keep-alive, no pipelining. Bodies are framed by
// Content-Length or chunked transfer coding, or run to the connection's close. Every wait is a
// poll(2) bounded by the stall timeout (no byte either way for that long fails the transfer), the
// connect by the connect timeout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "io/internal/http_client.h"

namespace saleslake::io::internal {
namespace {

constexpr size_t kMaxIdle = 16;
constexpr size_t kMaxHeaderBytes = 64 << 10;

struct Url {
  std::string host;  // without brackets for an IPv6 literal
  std::string port;
  std::string target;  // "/path?query"
};

Result<Url> ParseUrl(const std::string& url) {
  std::string_view rest = std::string_view(url).substr(7);  // after "http://"
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url u;
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("bad URL " + url);
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    const size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty() || port.empty()) return Status::InvalidArgument("bad URL " + url);
  u.port = std::string(port);
  return u;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

// A connected socket and the bytes read past the last answer (none, with keep-alive and no
// pipelining, but kept honest).
struct Conn {
  int fd = -1;
  std::string key;  // host:port
  std::string buffered;
};

void Close(Conn& c) {
  if (c.fd >= 0) ::close(c.fd);
  c.fd = -1;
}

// Why a transfer failed, and whether any byte of the answer had arrived (a pooled connection
// that fails before that was closed by the server while idle, and is replaced once).
struct Failure {
  std::string why;
  bool answered = false;
};

class Io {
 public:
  Io(Conn& c, int64_t stall_ms) : c_(c), stall_ms_(static_cast<int>(std::min<int64_t>(stall_ms, 1 << 30))) {}

  bool Wait(short events, Failure* f) {
    pollfd p{c_.fd, events, 0};
    while (true) {
      const int r = ::poll(&p, 1, stall_ms_);
      if (r > 0) return true;
      if (r == 0) {
        f->why = "no data for " + std::to_string(stall_ms_ / 1000) + " s (stalled)";
        return false;
      }
      if (errno != EINTR) {
        f->why = std::string("poll: ") + std::strerror(errno);
        return false;
      }
    }
  }

  bool WriteAll(std::string_view data, Failure* f) {
    while (!data.empty()) {
      const ssize_t n = ::send(c_.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!Wait(POLLOUT, f)) return false;
        continue;
      }
      f->why = std::string("send: ") + (n < 0 ? std::strerror(errno) : "connection closed");
      return false;
    }
    return true;
  }

  // Up to `max` bytes into `into`, buffered ones first; 0 at the end of the stream, -1 on failure.
  ssize_t ReadSome(char* into, size_t max, Failure* f) {
    if (!c_.buffered.empty()) {
      const size_t n = std::min(max, c_.buffered.size());
      std::memcpy(into, c_.buffered.data(), n);
      c_.buffered.erase(0, n);
      return static_cast<ssize_t>(n);
    }
    return Recv(into, max, f);
  }

  // Up to `max` bytes from the socket.
  ssize_t Recv(char* into, size_t max, Failure* f) {
    while (true) {
      const ssize_t n = ::recv(c_.fd, into, max, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!Wait(POLLIN, f)) return -1;
        continue;
      }
      f->why = std::string("recv: ") + std::strerror(errno);
      return -1;
    }
  }

  // The header block, up to and including the empty line; what follows stays buffered.
  bool ReadHead(std::string* head, Failure* f) {
    char buf[16 << 10];
    while (true) {
      const size_t end = head->find("\r\n\r\n");
      if (end != std::string::npos) {
        c_.buffered.insert(0, head->substr(end + 4));
        head->resize(end + 4);
        return true;
      }
      if (head->size() > kMaxHeaderBytes) {
        f->why = "answer headers over " + std::to_string(kMaxHeaderBytes) + " bytes";
        return false;
      }
      const ssize_t n = ReadSome(buf, sizeof buf, f);
      if (n < 0) return false;
      if (n == 0) {
        f->why = head->empty() ? "connection closed before an answer" : "connection closed inside the answer's headers";
        return false;
      }
      f->answered = true;
      head->append(buf, static_cast<size_t>(n));
    }
  }

  // One line (without CRLF) of a chunked body; what follows it stays buffered.
  bool ReadLine(std::string* line, Failure* f) {
    while (true) {
      const size_t eol = c_.buffered.find('\n');
      if (eol != std::string::npos) {
        line->assign(c_.buffered, 0, eol);
        c_.buffered.erase(0, eol + 1);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return true;
      }
      if (c_.buffered.size() > 4096) {
        f->why = "chunk header too long";
        return false;
      }
      char buf[16 << 10];
      const ssize_t n = Recv(buf, sizeof buf, f);
      if (n < 0) return false;
      if (n == 0) {
        f->why = "connection closed inside a chunked body";
        return false;
      }
      c_.buffered.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  Conn& c_;
  int stall_ms_;
};

// Where a body goes: the caller's buffer for a 206 when it gave one (more than fits is an
// error), else the result's string.
class BodyOut {
 public:
  BodyOut(HttpResult* r, std::span<uint8_t> into, bool direct) : r_(r), into_(into), direct_(direct) {}
  bool Add(const char* p, size_t n, Failure* f) {
    if (!direct_) {
      r_->body.append(p, n);
      return true;
    }
    if (n > into_.size() - r_->into_bytes) {
      f->why = "the answer's body is longer than the range asked for";
      return false;
    }
    std::memcpy(into_.data() + r_->into_bytes, p, n);
    r_->into_bytes += n;
    return true;
  }

 private:
  HttpResult* r_;
  std::span<uint8_t> into_;
  bool direct_;
};

}  // namespace

struct PlainHttp::Pool {
  std::mutex mu;
  std::vector<Conn> idle;  // guarded by mu
};

PlainHttp::PlainHttp(HttpOptions options) : options_(options), pool_(std::make_unique<Pool>()) {}

PlainHttp::~PlainHttp() {
  for (Conn& c : pool_->idle) Close(c);
}

namespace {

// A new connection to host:port within the connect timeout, TCP_NODELAY set (requests are small
// and answered one at a time: Nagle's delay would add up to 40 ms to each).
Result<Conn> Connect(const Url& u, int64_t connect_timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int gai = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found);
  if (gai != 0) return Status::IOError("cannot resolve host '" + u.host + "': " + ::gai_strerror(gai));
  std::string last = "no address";
  Conn c;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      last = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      do {
        r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(connect_timeout_ms, 1 << 30)));
      } while (r < 0 && errno == EINTR);
      if (r == 0) {
        ::close(fd);
        last = "connection timed out after " + std::to_string(connect_timeout_ms) + " ms";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      if (r < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      r = err == 0 ? 0 : -1;
      errno = err;
    }
    if (r != 0) {
      last = std::string("connect: ") + std::strerror(errno);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.fd = fd;
    break;
  }
  ::freeaddrinfo(found);
  if (c.fd < 0) return Status::IOError("cannot connect to " + u.host + ":" + u.port + ": " + last);
  return c;
}

// Sends the request on `c` and reads its answer into `result`. False with `f` on a transport
// failure; `keep` says whether the connection may serve another request.
bool Exchange(Conn& c, const HttpCall& call, const Url& u, int64_t stall_ms, HttpResult* result, bool* keep,
              Failure* f) {
  Io io(c, stall_ms);
  std::string head = call.method + " " + u.target + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const auto& [k, v] : call.headers) {
    if (Lower(k) == "host") has_host = true;
    head += k + ": " + v + "\r\n";
  }
  if (!has_host) head += "host: " + u.host + (u.port == "80" ? "" : ":" + u.port) + "\r\n";
  const bool sends_body = call.method == "PUT" || call.method == "POST" || !call.body.empty();
  if (sends_body) head += "content-length: " + std::to_string(call.body.size()) + "\r\n";
  head += "\r\n";
  // Small bodies go in the same write as the headers (one packet for a small PUT).
  if (call.body.size() <= (16 << 10)) {
    head.append(call.body);
    if (!io.WriteAll(head, f)) return false;
  } else if (!io.WriteAll(head, f) || !io.WriteAll(call.body, f)) {
    return false;
  }

  std::string resp;
  long status = 0;
  while (true) {  // 1xx answers (100 Continue) come before the real one
    resp.clear();
    if (!io.ReadHead(&resp, f)) return false;
    if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12) {
      f->why = "not an HTTP/1.x answer";
      return false;
    }
    status = std::strtol(resp.c_str() + 9, nullptr, 10);
    if (status < 100 || status > 599) {
      f->why = "bad status line";
      return false;
    }
    if (status >= 200) break;
  }
  const bool http10 = resp.compare(0, 8, "HTTP/1.0") == 0;
  result->status = status;
  result->headers.clear();
  int64_t length = -1;
  bool chunked = false, close = http10;
  size_t pos = resp.find("\r\n") + 2;
  while (pos < resp.size()) {
    const size_t eol = resp.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) break;
    std::string_view line(resp.data() + pos, eol - pos);
    pos = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = Lower(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (name == "content-length") length = std::strtoll(std::string(value).c_str(), nullptr, 10);
    if (name == "transfer-encoding" && Lower(value).find("chunked") != std::string::npos) chunked = true;
    if (name == "connection") {
      const std::string v = Lower(value);
      if (v.find("close") != std::string::npos) close = true;
      if (v.find("keep-alive") != std::string::npos) close = false;
    }
    result->headers.emplace_back(std::move(name), std::string(value));
  }

  BodyOut out(result, call.into, status == 206 && !call.into.empty());
  if (call.into.empty()) result->body.reserve(std::min<size_t>(call.expect_body, size_t{256} << 20));
  const bool no_body = call.method == "HEAD" || status == 204 || status == 304;
  char buf[64 << 10];
  if (no_body) {
    // Nothing follows, whatever Content-Length says.
  } else if (chunked) {
    std::string line;
    while (true) {
      if (!io.ReadLine(&line, f)) return false;
      const uint64_t size = std::strtoull(line.c_str(), nullptr, 16);
      if (size == 0) {
        do {  // trailers, up to the empty line
          if (!io.ReadLine(&line, f)) return false;
        } while (!line.empty());
        break;
      }
      for (uint64_t left = size; left > 0;) {
        const ssize_t n = io.ReadSome(buf, static_cast<size_t>(std::min<uint64_t>(left, sizeof buf)), f);
        if (n < 0) return false;
        if (n == 0) {
          f->why = "connection closed inside a chunk";
          return false;
        }
        if (!out.Add(buf, static_cast<size_t>(n), f)) return false;
        left -= static_cast<uint64_t>(n);
      }
      if (!io.ReadLine(&line, f)) return false;  // the CRLF after the chunk
    }
  } else if (length >= 0) {
    for (uint64_t left = static_cast<uint64_t>(length); left > 0;) {
      const ssize_t n = io.ReadSome(buf, static_cast<size_t>(std::min<uint64_t>(left, sizeof buf)), f);
      if (n < 0) return false;
      if (n == 0) {
        f->why = "connection closed after " + std::to_string(static_cast<uint64_t>(length) - left) + " of " +
                 std::to_string(length) + " bytes of the body";
        return false;
      }
      if (!out.Add(buf, static_cast<size_t>(n), f)) return false;
      left -= static_cast<uint64_t>(n);
    }
  } else {
    // No framing: the body runs to the close.
    close = true;
    while (true) {
      const ssize_t n = io.ReadSome(buf, sizeof buf, f);
      if (n < 0) return false;
      if (n == 0) break;
      if (!out.Add(buf, static_cast<size_t>(n), f)) return false;
    }
  }
  *keep = !close;
  return true;
}

}  // namespace

Result<HttpResult> PlainHttp::Send(const HttpCall& call) {
  SL_ASSIGN_OR_RETURN(Url u, ParseUrl(call.url));
  const std::string key = u.host + ":" + u.port;
  // A pooled connection first; one the server closed while it sat idle fails before any byte of
  // the answer, and the request goes once more on a new connection.
  for (int round = 0;; ++round) {
    Conn c;
    bool pooled = false;
    if (round == 0) {
      std::lock_guard<std::mutex> lock(pool_->mu);
      for (size_t i = pool_->idle.size(); i-- > 0;) {
        if (pool_->idle[i].key != key) continue;
        c = std::move(pool_->idle[i]);
        pool_->idle.erase(pool_->idle.begin() + static_cast<ptrdiff_t>(i));
        pooled = true;
        break;
      }
    }
    if (!pooled) {
      SL_ASSIGN_OR_RETURN(c, Connect(u, options_.connect_timeout_ms));
      c.key = key;
    }
    HttpResult result;
    bool keep = false;
    Failure f;
    const bool ok = Exchange(c, call, u, options_.stall_timeout_ms, &result, &keep, &f);
    if (!ok) {
      Close(c);
      if (pooled && !f.answered) continue;
      return Status::IOError(call.method + " " + call.url + ": " + f.why);
    }
    if (keep && c.buffered.empty()) {
      std::lock_guard<std::mutex> lock(pool_->mu);
      if (pool_->idle.size() < kMaxIdle) {
        pool_->idle.push_back(std::move(c));
        c.fd = -1;
      }
    }
    Close(c);
    return result;
  }
}

}  // namespace saleslake::io::internal
