// The HTTP layer: Boost.Beast sessions on a few Asio I/O threads, handlers on a worker pool.
//
// A connection costs a socket and a small buffer while idle (no thread). A request's header must
// arrive within idle_timeout (slowloris clients are cut off there); each read of its body must
// make progress within body_timeout. The whole body is read before the handler runs, then the
// handler runs on the worker pool (lake I/O blocks), and the response is written back on the
// connection's strand. Object bodies are streamed from the lake file (mapped, zero copy). An
// object's GET/HEAD over a local lake is the exception: it runs on the I/O thread
// (Dispatcher::HandleInline), as its work is an open and an fstat, less than the hand-offs.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <list>
#include <mutex>
#include <thread>
#include <utility>  // std::exchange, which Boost 1.74's Asio uses without including

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/optional.hpp>

#include "common/logging.h"
#include "common/thread_pool.h"
#include "common/types.h"
#include "server/internal/dispatch.h"
#include "server/internal/gate.h"
#include "server/internal/metrics.h"
#include "server/internal/s3.h"
#include "server/internal/served_lake.h"
#include "server/internal/server_internal.h"
#include "server/internal/service.h"
#include "server/internal/util.h"
#include "server/server.h"

namespace saleslake::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using internal::HttpRequest;
using internal::HttpResponse;

namespace {

// A response body that is either text or a byte range of a lake file.
struct ResponseBody {
  struct value_type {
    std::string text;
    std::optional<internal::FileRange> file;
  };
  static std::uint64_t size(const value_type& v) { return v.file ? v.file->length : v.text.size(); }

  class writer {
   public:
    using const_buffers_type = net::const_buffer;
    template <bool isRequest, class Fields>
    writer(const http::header<isRequest, Fields>&, const value_type& body) : body_(body) {}
    void init(beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (!body_.file) {
        if (done_ || body_.text.empty()) return boost::none;
        done_ = true;
        return {{net::const_buffer(body_.text.data(), body_.text.size()), false}};
      }
      const internal::FileRange& f = *body_.file;
      if (pos_ >= f.length) return boost::none;
      uint64_t n = std::min<uint64_t>(kChunk, f.length - pos_);
      const char* data;
      if (const uint8_t* mapped = f.file->mapped_data()) {
        // Pages already sent may leave memory: a large GET does not grow the resident set.
        if (pos_ >= kChunk) f.file->DoneWith(f.offset + pos_ - kChunk, kChunk);
        data = reinterpret_cast<const char*>(mapped) + f.offset + pos_;
      } else {
        buf_.resize(n);
        Status s = f.file->ReadAt(f.offset + pos_, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf_.data()), n));
        if (!s.ok()) {
          ec = make_error_code(beast::errc::io_error);
          return boost::none;
        }
        data = buf_.data();
      }
      pos_ += n;
      return {{net::const_buffer(data, n), pos_ < f.length}};
    }

   private:
    static constexpr uint64_t kChunk = 4 << 20;
    const value_type& body_;
    bool done_ = false;
    uint64_t pos_ = 0;
    std::string buf_;
  };
};

using Response = http::response<ResponseBody>;

// The Date header's text, formatted once a second per I/O thread.
const std::string& DateNow() {
  thread_local std::time_t second = -1;
  thread_local std::string text;
  const std::time_t now = std::time(nullptr);
  if (now != second) {
    text = internal::HttpDate(now);
    second = now;
  }
  return text;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  return host.rfind("127.", 0) == 0;
}

std::string RedactedTarget(const std::string& target) {
  // Presigned URLs carry a signature and credential in the query: never log them.
  size_t q = target.find('?');
  if (q == std::string::npos) return target;
  std::string out = target.substr(0, q + 1);
  std::string_view rest = std::string_view(target).substr(q + 1);
  bool first = true;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    if (part.rfind("X-Amz-Signature=", 0) == 0 || part.rfind("X-Amz-Credential=", 0) == 0 ||
        part.rfind("X-Amz-Security-Token=", 0) == 0 || part.rfind("Signature=", 0) == 0) {
      out += std::string(part.substr(0, part.find('=') + 1)) + "REDACTED";
    } else {
      out += part;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

class AccessLog {
 public:
  explicit AccessLog(const std::string& where) {
    if (where == "-") {
      f_ = stdout;
    } else if (!where.empty()) {
      f_ = std::fopen(where.c_str(), "a");
      owned_ = f_ != nullptr;
    }
  }
  ~AccessLog() {
    Flush();
    if (owned_) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }
  void Write(const std::string& line) {
    if (!f_) return;
    std::lock_guard<std::mutex> lock(mu_);
    std::fwrite(line.data(), 1, line.size(), f_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_flush_ > std::chrono::milliseconds(500)) {
      std::fflush(f_);
      last_flush_ = now;
    }
  }
  void Flush() {
    if (!f_) return;
    std::lock_guard<std::mutex> lock(mu_);
    std::fflush(f_);
  }

 private:
  std::mutex mu_;
  FILE* f_ = nullptr;
  bool owned_ = false;
  std::chrono::steady_clock::time_point last_flush_;
};

class ServerImpl;

// What every session shares with the server.
struct Shared {
  ServerOptions options;
  internal::Dispatcher* dispatcher;
  internal::Metrics* metrics;
  AccessLog* log;
  ThreadPool* workers;
  std::atomic<int> queued{0};
  std::atomic<int> in_flight{0};  // requests read and not yet fully answered
  std::atomic<bool> stopping{false};
  std::string id_prefix;
  std::string keep_alive_value;  // "timeout=<idle seconds>"
  std::atomic<uint64_t> next_id{1};
  // Sessions that may need closing at Stop (each registers a closer; removed when it ends).
  std::mutex sessions_mu;
  std::list<std::function<void()>> closers;  // GUARDED_BY(sessions_mu)

  std::string NextRequestId() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%08llX", id_prefix.c_str(),
                  static_cast<unsigned long long>(next_id.fetch_add(1)));
    return buf;
  }
};

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream stream, Shared* shared, tcp::endpoint remote, bool secure)
      : stream_(std::move(stream)), shared_(shared), remote_(remote), remote_ip_(remote.address().to_string()),
        secure_(secure) {
    shared_->metrics->ConnectionOpened();
  }
  ~Session() {
    shared_->metrics->ConnectionClosed();
    std::lock_guard<std::mutex> lock(shared_->sessions_mu);
    if (registered_) shared_->closers.erase(closer_);
  }

  void Start() {
    {
      std::lock_guard<std::mutex> lock(shared_->sessions_mu);
      std::weak_ptr<Session> weak = this->shared_from_this();
      auto exec = beast::get_lowest_layer(stream_).get_executor();
      shared_->closers.push_front([weak, exec] {
        net::post(exec, [weak] {
          if (auto self = weak.lock()) self->CloseIfIdle();
        });
      });
      closer_ = shared_->closers.begin();
      registered_ = true;
    }
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(shared_->options.idle_timeout_ms));
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    } else {
      net::dispatch(stream_.get_executor(),
                    beast::bind_front_handler(&Session::ReadHeader, this->shared_from_this()));
    }
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) return;
    ReadHeader();
  }

  void CloseIfIdle() {
    if (!busy_) {
      beast::error_code ec;
      beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(stream_).close();
    }
  }

  void ReadHeader() {
    busy_ = false;
    if (shared_->stopping.load()) return Close();
    if (buffer_.capacity() > kBodyReadBytes / 2 && buffer_.size() < 4096) buffer_.shrink_to_fit();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    parser_->body_limit(shared_->options.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(shared_->options.idle_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == http::error::header_limit) {
        return Reject(431, "RequestHeaderSectionTooLarge", "Your request header section is too large.");
      }
      if (ec == http::error::body_limit) {  // a Content-Length over the limit
        return Reject(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
      }
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == net::error::operation_aborted || ec == net::error::eof ||
          ec == net::error::connection_reset) {
        return Close();
      }
      return Reject(400, "BadRequest", "The HTTP request is malformed: " + ec.message());
    }
    busy_ = true;
    shared_->in_flight.fetch_add(1);
    counted_ = true;
    started_ = std::chrono::steady_clock::now();
    auto& h = parser_->get();
    auto len = parser_->content_length();
    if (len && *len > shared_->options.max_body_bytes) {
      return Reject(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
    }
    auto expect = h.find(http::field::expect);
    if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(shared_->options.body_timeout_ms));
      http::async_write(stream_, *cont,
                        [self = this->shared_from_this(), cont](beast::error_code e, std::size_t) {
                          if (e) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    // Beast sizes each read by the buffer's free capacity (at least 512 bytes), which after a
    // header is small: an 8 MiB part took 16,000 reads. Give a body 64 KiB reads (ReadHeader
    // gives the memory back, so 1,000 idle connections stay small).
    if (buffer_.capacity() < kBodyReadBytes) buffer_.reserve(kBodyReadBytes);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(shared_->options.body_timeout_ms));
    http::async_read_some(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnBody, this->shared_from_this()));
  }

  void OnBody(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == http::error::body_limit) {
        return Reject(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.");
      }
      if (ec == http::error::partial_message || ec == net::error::eof ||
          ec == http::error::end_of_stream) {
        return Close();  // truncated body: the client is gone, no one to answer
      }
      if (ec == beast::error::timeout) {
        return Reject(400, "RequestTimeout",
                      "Your socket connection to the server was not read from or written to within the timeout period.");
      }
      if (ec == net::error::operation_aborted || ec == net::error::connection_reset) return Close();
      return Reject(400, "BadRequest", "The HTTP request is malformed: " + ec.message());
    }
    ReadBody();
  }

  void Dispatch() {
    beast::get_lowest_layer(stream_).expires_never();
    auto req = std::make_shared<HttpRequest>();
    auto& msg = parser_->get();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    size_t q = req->target.find('?');
    req->raw_path = req->target.substr(0, q);
    req->raw_query = q == std::string::npos ? "" : req->target.substr(q + 1);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req->headers.emplace(std::move(name), std::string(f.value()));
    }
    req->body = std::move(msg.body());
    req->remote_ip = remote_ip_;
    req->remote_port = remote_.port();
    req->secure = secure_;
    req->request_id = shared_->NextRequestId();
    keep_alive_ = msg.keep_alive();
    bytes_in_ = req->body.size();
    {
      // A short request (an object's GET over a local lake) is answered here, on the I/O thread:
      // the hand-off to the pool and back cost more than the request itself.
      auto note = std::make_shared<internal::RequestNote>();
      if (std::optional<HttpResponse> inline_resp = shared_->dispatcher->HandleInline(*req, note.get())) {
        return Write(req, std::make_shared<HttpResponse>(std::move(*inline_resp)), note);
      }
    }
    if (shared_->queued.load() >= shared_->options.max_queued_requests) {
      internal::ApiError e = internal::MakeError(503, "SlowDown", "Please reduce your request rate.");
      auto note = std::make_shared<internal::RequestNote>();
      note->error_code = e.code;
      return Write(req, std::make_shared<HttpResponse>(internal::Dispatcher::RenderError(internal::Protocol::kRestXml, e, *req)), note);
    }
    shared_->queued.fetch_add(1);
    auto self = this->shared_from_this();
    shared_->workers->Submit([self, req] {
      self->shared_->queued.fetch_sub(1);
      auto note = std::make_shared<internal::RequestNote>();
      auto resp = std::make_shared<HttpResponse>(self->shared_->dispatcher->Handle(*req, note.get()));
      net::post(self->stream_.get_executor(), [self, req, resp, note] { self->Write(req, resp, note); });
    });
  }

  void Write(std::shared_ptr<HttpRequest> req, std::shared_ptr<HttpResponse> resp,
             std::shared_ptr<internal::RequestNote> note) {
    auto res = std::make_shared<Response>();
    res->version(11);
    res->result(static_cast<unsigned>(resp->status));
    res->set(http::field::server, "saleslake");
    res->set("x-amz-request-id", req->request_id);
    res->set("x-amz-id-2", req->request_id);
    res->set(http::field::date, DateNow());
    // insert, not set: set looks each name up in the fields first (strcasecmp over the list),
    // and a handler names each header once and none of the four above.
    for (auto& [k, v] : resp->headers) res->insert(k, v);
    bool keep = keep_alive_ && !shared_->stopping.load();
    res->keep_alive(keep);
    // The idle timeout, told to the client: node's http agent (the AWS SDK for JavaScript,
    // trino-client) then drops a pooled connection before the server closes it, instead of
    // writing the next request into a socket that is being closed (EPIPE).
    if (keep) res->set("keep-alive", shared_->keep_alive_value);
    uint64_t out_bytes = 0;
    if (resp->head_length) {
      if (resp->status != 204 && resp->status != 304) res->content_length(*resp->head_length);
    } else if (resp->status == 204 || resp->status == 304) {
      // no body, no length
    } else {
      res->body().text = std::move(resp->body);
      res->body().file = std::move(resp->file);
      out_bytes = ResponseBody::size(res->body());
      res->content_length(out_bytes);
    }
    req_ = req;
    note_ = note;
    status_ = resp->status;
    bytes_out_ = out_bytes;
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
                        self->OnWrite(ec, keep);
                      });
  }

  void OnWrite(beast::error_code ec, bool keep) {
    Finish();
    if (ec || !keep) return Close();
    ReadHeader();
  }

  // Logs and counts the request just answered (or refused).
  void Finish() {
    if (!counted_) return;
    counted_ = false;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::string api = note_ ? note_->api : "-";
    std::string op = note_ ? note_->operation : "-";
    shared_->metrics->Observe(api, op, status_, seconds, bytes_in_, bytes_out_);
    if (shared_->log->ok()) {
      std::string line = "{\"time\":" + JsonQuote(UtcNow("%Y-%m-%dT%H:%M:%SZ")) +
                         ",\"request_id\":" + JsonQuote(req_ ? req_->request_id : "") +
                         ",\"remote\":" + JsonQuote(remote_ip_) +
                         ",\"method\":" + JsonQuote(req_ ? req_->method : "") +
                         ",\"target\":" + JsonQuote(req_ ? RedactedTarget(req_->target) : "") +
                         ",\"status\":" + std::to_string(status_) + ",\"api\":" + JsonQuote(api) +
                         ",\"operation\":" + JsonQuote(op) +
                         ",\"principal\":" + JsonQuote(note_ ? note_->principal : "") +
                         ",\"error\":" + JsonQuote(note_ ? note_->error_code : "") +
                         ",\"bytes_in\":" + std::to_string(bytes_in_) +
                         ",\"bytes_out\":" + std::to_string(bytes_out_) +
                         ",\"duration_ms\":" + std::to_string(seconds * 1000) + "}\n";
      shared_->log->Write(line);
    }
    req_.reset();
    note_.reset();
    bytes_in_ = bytes_out_ = 0;
    shared_->in_flight.fetch_sub(1);
  }

  // Answers an unparsable or oversized request and closes the connection.
  void Reject(int status, const std::string& code, const std::string& message) {
    if (!counted_) {
      shared_->in_flight.fetch_add(1);
      counted_ = true;
      started_ = std::chrono::steady_clock::now();
    }
    busy_ = true;
    keep_alive_ = false;
    auto req = std::make_shared<HttpRequest>();
    req->request_id = shared_->NextRequestId();
    if (parser_ && parser_->is_header_done()) {
      req->method = std::string(parser_->get().method_string());
      req->target = std::string(parser_->get().target());
    }
    auto note = std::make_shared<internal::RequestNote>();
    note->error_code = code;
    auto resp = std::make_shared<HttpResponse>(internal::Dispatcher::RenderError(
        internal::Protocol::kRestXml, internal::MakeError(status, code, message), *req));
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(shared_->options.body_timeout_ms));
    Write(req, resp, note);
  }

  void Close() {
    Finish();
    beast::error_code ec;
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::get_lowest_layer(self->stream_).close();
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.close();
    }
  }

  Stream stream_;
  Shared* shared_;
  tcp::endpoint remote_;
  std::string remote_ip_;  // remote_'s address as text, once per connection
  bool secure_;
  static constexpr std::size_t kBodyReadBytes = 64 * 1024;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool counted_ = false;
  std::chrono::steady_clock::time_point started_;
  std::shared_ptr<HttpRequest> req_;
  std::shared_ptr<internal::RequestNote> note_;
  int status_ = 0;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  bool registered_ = false;
  std::list<std::function<void()>>::iterator closer_;
};

class ServerImpl final : public Server {
 public:
  // `options` has lake and state resolved by Start (lake: the split store over a lake that is not
  // local, owned by `served_lake`).
  ServerImpl(const ServerOptions& options, std::unique_ptr<io::ObjectStore> served_lake,
             std::unique_ptr<internal::Gate> gate)
      : served_lake_(std::move(served_lake)),
        options_(options),
        gate_(std::move(gate)),
        s3_(options.lake, options.state, options.bucket),
        dispatcher_(internal::DispatcherOptions{options.bucket, IsLoopback(options.host) || options.no_auth, options.lake,
                                                dynamic_cast<io::LocalStore*>(options.lake) != nullptr},
                    gate_.get(), &s3_, &metrics_),
        log_(options.access_log),
        ioc_(std::max(1, options.io_threads)),
        acceptor_(ioc_),
        workers_(static_cast<size_t>(options.worker_threads > 0
                                         ? options.worker_threads
                                         : std::max(16u, 8 * std::thread::hardware_concurrency()))) {
    shared_.options = options;
    shared_.dispatcher = &dispatcher_;
    shared_.metrics = &metrics_;
    shared_.log = &log_;
    shared_.workers = &workers_;
    shared_.id_prefix = internal::RandomHex(4);
    shared_.keep_alive_value = "timeout=" + std::to_string(std::max(1, options.idle_timeout_ms / 1000));
    for (char& c : shared_.id_prefix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    service_context_ = internal::ServiceContext{&options_, options_.lake, gate_.get(), &metrics_,
                                                options_.clock ? options_.clock : &ProcessClock(), options_.state};
    services_ = internal::MakeServices(service_context_);
  }

  ~ServerImpl() override { Stop(); }

  Status Init() {
    if (!options_.access_log.empty() && !log_.ok()) {
      return Status::IOError("cannot open the access log " + options_.access_log);
    }
    SL_RETURN_IF_ERROR(s3_.Recover());
    for (auto& service : services_) SL_RETURN_IF_ERROR(service->Register(dispatcher_));
    if (!options_.tls_cert_file.empty()) {
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      beast::error_code ec;
      tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec) return Status::InvalidArgument("TLS certificate " + options_.tls_cert_file + ": " + ec.message());
      tls_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
      if (ec) return Status::InvalidArgument("TLS key " + options_.tls_key_file + ": " + ec.message());
    }
    beast::error_code ec;
    auto addr = net::ip::make_address(options_.host == "localhost" ? "127.0.0.1" : options_.host, ec);
    if (ec) return Status::InvalidArgument("bad --host " + options_.host + ": " + ec.message());
    tcp::endpoint ep(addr, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    for (auto& service : services_) {
      Status st = service->Start();
      if (!st.ok()) return Status(st.code(), service->name() + ": " + st.message());
      ++started_;
    }
    Accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      io_threads_.emplace_back([this] { ioc_.run(); });
    }
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    {
      std::unique_lock<std::mutex> lock(stop_mu_);
      if (stopping_) {
        stop_cv_.wait(lock, [this] { return stopped_; });
        return;
      }
      stopping_ = true;
    }
    shared_.stopping.store(true);
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_deadline_ms);
    // Idle connections close now; busy ones close after their response (keep-alive is off).
    // Repeat: a connection may turn idle between two sweeps.
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(shared_.sessions_mu);
        for (auto& close : shared_.closers) close();
      }
      if (shared_.in_flight.load() == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Only the services that started: a server whose start failed (the lake already served, a
    // port taken) is stopped too, and a service's Stop may use what its Start made.
    for (size_t i = started_; i-- > 0;) services_[i]->Stop();
    ioc_.stop();
    for (auto& t : io_threads_) {
      if (t.joinable()) t.join();
    }
    log_.Flush();
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopped_ = true;
    stop_cv_.notify_all();
  }

  void Wait() override {
    std::unique_lock<std::mutex> lock(stop_mu_);
    stop_cv_.wait(lock, [this] { return stopped_; });
  }

  void Reload() override {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    for (auto& service : services_) service->Reload();
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        // Out of descriptors and the like: keep accepting after a short pause.
        auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(50));
        timer->async_wait([this, timer](beast::error_code) { Accept(); });
        return;
      }
      beast::error_code e2;
      tcp::endpoint remote = socket.remote_endpoint(e2);
      socket.set_option(tcp::no_delay(true), e2);
      if (tls_) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls_), &shared_,
            remote, true)
            ->Start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), &shared_, remote, false)
            ->Start();
      }
      Accept();
    });
  }

  // Declaration order is destruction order, reversed: the worker pool goes first (its tasks use
  // sessions and the dispatcher), then the I/O context with its sessions (they use shared_ and the
  // TLS context), then everything they use.
  std::unique_ptr<io::ObjectStore> served_lake_;  // first: everything below may use it
  ServerOptions options_;
  std::unique_ptr<internal::Gate> gate_;
  internal::Metrics metrics_;
  internal::S3Service s3_;
  internal::Dispatcher dispatcher_;
  internal::ServiceContext service_context_;
  std::vector<std::unique_ptr<internal::Service>> services_;
  size_t started_ = 0;  // services_[0, started_) have started
  AccessLog log_;
  Shared shared_;
  std::optional<ssl::context> tls_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  ThreadPool workers_;
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // GUARDED_BY(stop_mu_)
  bool stopped_ = false;   // GUARDED_BY(stop_mu_)
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  if (options.lake == nullptr) return Status::InvalidArgument("no lake to serve");
  bool loopback = IsLoopback(options.host);
  if (options.no_auth && !loopback) {
    return Status::InvalidArgument("--no-auth is refused on a non-loopback address (" + options.host + ")");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  }
  if (!loopback && options.tls_cert_file.empty() && !options.allow_plain_http) {
    return Status::InvalidArgument("TLS is required off loopback: give --tls-cert/--tls-key, or --allow-plain-http");
  }
  if (options.max_body_bytes == 0 || options.max_header_bytes == 0) {
    return Status::InvalidArgument("header and body limits must be positive");
  }
  // Over a local lake the lake holds the server's state; over any other (S3) the state has its
  // own local directory and one split store routes each key to its place (served_lake.h).
  ServerOptions resolved = options;
  std::unique_ptr<io::ObjectStore> served_lake;
  if (resolved.state == nullptr) {
    resolved.state = dynamic_cast<io::LocalStore*>(options.lake);
    if (resolved.state == nullptr) {
      return Status::InvalidArgument("serving " + options.lake->uri() +
                                     " needs a local state directory (--state-dir)");
    }
  } else if (resolved.state != options.lake) {
    served_lake = internal::MakeServedLake(*options.lake, *options.state);
    resolved.lake = served_lake.get();
  }
  SL_ASSIGN_OR_RETURN(std::unique_ptr<internal::Gate> gate, internal::MakeGate(resolved));
  // Many keep-alive clients need many descriptors: raise the soft limit to the hard one.
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  auto server = std::make_unique<ServerImpl>(resolved, std::move(served_lake), std::move(gate));
  SL_RETURN_IF_ERROR(server->Init());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace saleslake::server
