// A native Trino protocol client for the paging measurement of bench/query_protocols.sh: POSTs
// one statement to /v1/statement, follows nextUri over one keep-alive HTTP/1.1 connection to the
// end, and parses every page with simdjson's DOM parser, which parses every cell of every row
// (strings unescaped, numbers converted), so what it measures is a client that really consumes
// the rows. The JS clients (trino-client) spend ~1 µs per row in JSON.parse alone; this one
// shows what the server itself delivers.
//
//   trino_paging_client http://127.0.0.1:PORT KEY_ID SECRET "SELECT ..." [EXPECTED_COLUMNS]
//
// Prints one JSON line: rows, pages, bytes, seconds, rows_per_s, client_cpu_s. Exits 1 on any
// error (HTTP, a Trino error object, a row whose cell count is not the column count).
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

std::string Base64(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// One keep-alive HTTP/1.1 connection; responses with Content-Length or chunked bodies.
class Connection {
 public:
  Connection(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
      Fail("cannot resolve " + host);
    fd_ = ::socket(res->ai_family, SOCK_STREAM, 0);
    if (fd_ < 0 || ::connect(fd_, res->ai_addr, res->ai_addrlen) != 0)
      Fail("cannot connect to " + host + ":" + port);
    freeaddrinfo(res);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Sends the request and reads the response body into `body` (with simdjson's padding after it).
  int Exchange(const std::string& request, std::string* body) {
    for (size_t done = 0; done < request.size();) {
      ssize_t n = ::send(fd_, request.data() + done, request.size() - done, MSG_NOSIGNAL);
      if (n <= 0) Fail("send failed");
      done += static_cast<size_t>(n);
    }
    // Headers.
    size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) More();
    const std::string head = buf_.substr(0, header_end);
    buf_.erase(0, header_end + 4);
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) Fail("bad status line");
    const int status = std::stoi(head.substr(9, 3));
    long long length = -1;
    bool chunked = false;
    for (size_t pos = head.find("\r\n"); pos != std::string::npos;) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      for (size_t i = 0; i < line.size() && line[i] != ':'; ++i)
        line[i] = static_cast<char>(std::tolower(line[i]));
      if (line.rfind("content-length:", 0) == 0) length = std::stoll(line.substr(15));
      if (line.rfind("transfer-encoding:", 0) == 0 && line.find("chunked") != std::string::npos)
        chunked = true;
      pos = next;
    }
    body->clear();
    if (chunked) {
      while (true) {
        size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) More();
        const size_t n = std::stoull(buf_.substr(0, eol), nullptr, 16);
        buf_.erase(0, eol + 2);
        while (buf_.size() < n + 2) More();
        body->append(buf_, 0, n);
        buf_.erase(0, n + 2);
        if (n == 0) break;
      }
    } else {
      if (length < 0) Fail("response without a length");
      const size_t n = static_cast<size_t>(length);
      body->reserve(n + simdjson::SIMDJSON_PADDING);
      body->append(buf_, 0, std::min(n, buf_.size()));
      buf_.erase(0, std::min(n, buf_.size()));
      while (body->size() < n) {
        // Straight into the body: a page is ~1 MiB.
        const size_t old = body->size();
        body->resize(n);
        ssize_t got = ::recv(fd_, body->data() + old, n - old, 0);
        if (got <= 0) Fail("connection closed mid-body");
        body->resize(old + static_cast<size_t>(got));
      }
    }
    body->reserve(body->size() + simdjson::SIMDJSON_PADDING);
    return status;
  }

 private:
  void More() {
    char tmp[64 << 10];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) Fail("connection closed");
    buf_.append(tmp, static_cast<size_t>(n));
  }

  int fd_ = -1;
  std::string buf_;  // bytes read past the last response
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s http://HOST:PORT KEY_ID SECRET SQL [EXPECTED_COLUMNS]\n",
                 argv[0]);
    return 2;
  }
  try {
    std::string endpoint = argv[1];
    if (endpoint.rfind("http://", 0) != 0) Fail("only http:// endpoints");
    std::string hostport = endpoint.substr(7);
    while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
    const size_t colon = hostport.rfind(':');
    const std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    const std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
    const std::string sql = argv[4];
    const long expected_columns = argc > 5 ? std::stol(argv[5]) : -1;
    const std::string common =
        "Host: " + hostport + "\r\nAuthorization: Basic " +
        Base64(std::string(argv[2]) + ":" + argv[3]) +
        "\r\nX-Trino-User: bench\r\nX-Trino-Catalog: lake\r\nX-Trino-Schema: sales\r\n"
        "Connection: keep-alive\r\n";

    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = CpuSeconds();
    Connection conn(host, port);
    simdjson::dom::parser parser;
    std::string body;
    std::string request =
        "POST /v1/statement HTTP/1.1\r\n" + common +
        "Content-Type: text/plain\r\nContent-Length: " + std::to_string(sql.size()) + "\r\n\r\n" +
        sql;
    uint64_t rows = 0, pages = 0, bytes = 0, string_bytes = 0;
    double number_sum = 0;
    long columns = -1;
    while (true) {
      const int status = conn.Exchange(request, &body);
      bytes += body.size();
      if (status != 200) Fail("HTTP " + std::to_string(status) + ": " + body.substr(0, 300));
      ++pages;
      // The DOM parser: the library's kernels are picked at run time for this CPU (AVX2 here),
      // and it parses every value (strings unescaped, numbers converted) before we look.
      simdjson::dom::element doc = parser.parse(body.data(), body.size(), false);
      std::string next;
      for (auto [key, value] : simdjson::dom::object(doc)) {
        if (key == "nextUri") {
          next = std::string(std::string_view(value));
        } else if (key == "error") {
          Fail("trino error: " + simdjson::minify(value));
        } else if (key == "columns") {
          columns = static_cast<long>(simdjson::dom::array(value).size());
        } else if (key == "data") {
          for (simdjson::dom::element row : simdjson::dom::array(value)) {
            long cells = 0;
            for (simdjson::dom::element cell : simdjson::dom::array(row)) {
              ++cells;
              switch (cell.type()) {
                case simdjson::dom::element_type::STRING:
                  string_bytes += cell.get_string_length().value();
                  break;
                case simdjson::dom::element_type::INT64:
                  number_sum += static_cast<double>(int64_t(cell));
                  break;
                case simdjson::dom::element_type::UINT64:
                  number_sum += static_cast<double>(uint64_t(cell));
                  break;
                case simdjson::dom::element_type::DOUBLE:
                  number_sum += double(cell);
                  break;
                case simdjson::dom::element_type::BOOL:
                  number_sum += bool(cell) ? 1 : 0;
                  break;
                case simdjson::dom::element_type::NULL_VALUE:
                  break;
                default:
                  Fail("unexpected cell type in row " + std::to_string(rows));
              }
            }
            if (cells != columns) {
              Fail("row " + std::to_string(rows) + " has " + std::to_string(cells) +
                   " cells, columns " + std::to_string(columns));
            }
            ++rows;
          }
        }
      }
      if (next.empty()) break;
      // http://host:port/path -> /path
      const size_t path = next.find('/', next.find("://") + 3);
      request = "GET " + next.substr(path) + " HTTP/1.1\r\n" + common + "\r\n";
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (expected_columns >= 0 && columns != expected_columns) {
      Fail("columns " + std::to_string(columns) + ", expected " + std::to_string(expected_columns));
    }
    std::printf(
        "{\"rows\":%llu,\"pages\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.0f,"
        "\"client_cpu_s\":%.3f,"
        "\"string_bytes\":%llu,\"number_sum\":%.6g}\n",
        static_cast<unsigned long long>(rows), static_cast<unsigned long long>(pages),
        static_cast<unsigned long long>(bytes), seconds, static_cast<double>(rows) / seconds,
        CpuSeconds() - cpu0, static_cast<unsigned long long>(string_bytes), number_sum);
    return 0;
  } catch (const simdjson::simdjson_error& e) {
    std::fprintf(stderr, "trino_paging_client: JSON: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trino_paging_client: %s\n", e.what());
  }
  return 1;
}
