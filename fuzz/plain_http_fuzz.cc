// Fuzzes the plain HTTP/1.1 client's reading of an answer (status line, headers, Content-Length,
// chunked and close framing, 1xx answers, a 206 body into the caller's buffer): a server thread
// on loopback answers every request with the input's bytes and closes. Whatever arrives, Send
// returns a result or a transport error; a body never overruns the caller's buffer.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "io/internal/http_client.h"

using namespace saleslake;

namespace {

std::mutex answer_mu;
std::string answer;  // GUARDED_BY(answer_mu): what the server sends next

void Serve(int listener) {
  while (true) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < (64 << 10)) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    std::string reply;
    {
      std::lock_guard<std::mutex> lock(answer_mu);
      reply = answer;
    }
    for (size_t sent = 0; sent < reply.size();) {
      const ssize_t n = ::send(fd, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::close(fd);
  }
}

int StartServer() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    __builtin_trap();
  }
  std::thread(Serve, fd).detach();
  return ntohs(addr.sin_port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int port = StartServer();
  if (size == 0) return 0;
  {
    std::lock_guard<std::mutex> lock(answer_mu);
    answer.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  }
  // The first byte picks the request: GET or HEAD, and whether a 206 body goes to a buffer.
  io::internal::PlainHttp client(io::internal::HttpOptions{.connect_timeout_ms = 2000, .stall_timeout_ms = 2000});
  io::internal::HttpCall call;
  call.method = (data[0] & 1) != 0 ? "HEAD" : "GET";
  call.url = "http://127.0.0.1:" + std::to_string(port) + "/bucket/key";
  std::array<uint8_t, 256> into{};
  if ((data[0] & 2) != 0) call.into = into;
  auto result = client.Send(call);
  if (result.ok()) {
    if (result->status < 100 || result->status > 599) __builtin_trap();
    if (result->into_bytes > into.size()) __builtin_trap();
  }
  return 0;
}
