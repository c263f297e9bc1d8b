#include "services/common/http_server.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/log.h"
#include "services/common/request_context.h"

namespace portunus {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using beast::error_code;
// A socket bound to its io_context's concrete executor: no polymorphic executor per operation.
using Socket = net::basic_stream_socket<tcp, net::io_context::executor_type>;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kDiscardBytes = 16 * 1024;
// After answering a request whose body was not read (413, 400), keep draining what the client
// still sends for a while before closing, so the close does not reset the connection and destroy
// the response in flight (nginx's lingering close).
constexpr absl::Duration kLingerTime = absl::Seconds(2);
constexpr absl::Duration kTlsShutdownTime = absl::Seconds(2);
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

SteadyClock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(absl::ToChronoNanoseconds(d));
}

bool IsToken(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                    absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Appends a header value with CR, LF and NUL replaced by spaces (no header injection).
void AppendHeaderValue(absl::string_view value, std::string* out) {
  const size_t at = out->size();
  out->append(value.data(), value.size());
  for (size_t i = at; i < out->size(); ++i) {
    char& c = (*out)[i];
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Per-io-thread counters; each is written by its own thread only, summed by Stats().
struct alignas(64) WorkerCounters {
  std::atomic<int64_t> handled{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> reading{0};
  std::atomic<int64_t> writing{0};
  std::atomic<int64_t> waiting{0};
};

void Bump(std::atomic<int64_t>& counter, int64_t delta) {
  counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

// Lets responders on any thread post to an io_context that may already be gone: Close() is
// called before the io_context is destroyed, and later posts are dropped. A std::shared_mutex,
// not absl::Mutex, on this per-response path: Debian's Abseil runs its deadlock detector on
// every absl::Mutex lock.
class Gate {
 public:
  explicit Gate(net::io_context* ioc) : ioc_(ioc) {}
  template <class F>
  void Post(F&& f) {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (ioc_ != nullptr) net::post(*ioc_, std::forward<F>(f));
  }
  void Close() {
    std::unique_lock<std::shared_mutex> lock(mu_);
    ioc_ = nullptr;
  }

 private:
  std::shared_mutex mu_;
  net::io_context* ioc_;  // guarded by mu_
};

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  virtual void Start() = 0;
  // Writes the response of request number `seq` (io thread).
  virtual void Deliver(uint64_t seq, HttpResponse response) = 0;
  // Graceful shutdown began: close when idle, else finish the current request.
  virtual void BeginShutdown() = 0;
  virtual void ForceClose() = 0;

  // When the current step (reading, writing, idling) must be over; checked by the worker's
  // sweep. max() while a handler works on the request (no server-side limit then).
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
};

// One io thread with its io_context and the connections it owns. Member order matters: the
// sessions must go before the io_context.
struct Worker {
  Worker() : ioc(1), gate(std::make_shared<Gate>(&ioc)), guard(net::make_work_guard(ioc)),
             sweep(ioc) {}

  const std::string& DateHeader() {
    const int64_t second = absl::ToUnixSeconds(absl::Now());
    if (second != date_second) {
      date_second = second;
      date = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::FromUnixSeconds(second),
                              absl::UTCTimeZone());
    }
    return date;
  }

  std::vector<std::shared_ptr<SessionBase>> Snapshot() const {
    std::vector<std::shared_ptr<SessionBase>> out;
    out.reserve(sessions.size());
    for (const auto& [ptr, session] : sessions) out.push_back(session);
    return out;
  }

  // Closes sessions past their deadline every `sweep_interval` while there are sessions. One
  // coarse timer per thread instead of a timer per socket operation.
  void ArmSweep() {
    if (sweep_armed || sessions.empty()) return;
    sweep_armed = true;
    sweep.expires_after(sweep_interval);
    sweep.async_wait([this](error_code ec) {
      sweep_armed = false;
      if (ec) return;
      const SteadyClock::time_point now = SteadyClock::now();
      for (auto& session : Snapshot()) {
        if (session->deadline <= now) session->ForceClose();
      }
      ArmSweep();
    });
  }

  WorkerCounters counters;
  net::io_context ioc;
  std::shared_ptr<Gate> gate;
  net::executor_work_guard<net::io_context::executor_type> guard;
  net::steady_timer sweep;
  SteadyClock::duration sweep_interval = std::chrono::milliseconds(100);
  bool sweep_armed = false;  // io thread only
  std::unordered_map<SessionBase*, std::shared_ptr<SessionBase>> sessions;  // io thread only
  std::thread thread;
  int64_t date_second = -1;  // io thread only
  std::string date;
};

// The shared state behind every copy of one HttpResponder.
class ResponderState {
 public:
  ResponderState(std::shared_ptr<Gate> gate, std::weak_ptr<SessionBase> session, uint64_t seq,
                 std::string request_id)
      : gate_(std::move(gate)),
        session_(std::move(session)),
        seq_(seq),
        request_id_(std::move(request_id)) {}

  ~ResponderState() {
    if (!called_.load(std::memory_order_acquire)) {
      LogError("http handler dropped a request without responding", {{"request_id", request_id_}});
      Send(HttpJsonError(500, "internal error", request_id_));
    }
  }

  void Respond(HttpResponse response) {
    if (called_.exchange(true, std::memory_order_acq_rel)) {
      LogError("http responder called twice; second response dropped",
               {{"request_id", request_id_}});
      return;
    }
    Send(std::move(response));
  }

 private:
  void Send(HttpResponse response) {
    gate_->Post([session = session_, seq = seq_, response = std::move(response)]() mutable {
      if (auto s = session.lock()) s->Deliver(seq, std::move(response));
    });
  }

  std::shared_ptr<Gate> gate_;
  std::weak_ptr<SessionBase> session_;
  const uint64_t seq_;
  const std::string request_id_;
  std::atomic<bool> called_{false};
};

// Beast's HTTP/1 request parser, filling an HttpRequest directly (no intermediate message).
// Limits (head and body size) are enforced by basic_parser.
class RequestParser final : public http::basic_parser<true> {
 public:
  HttpRequest request;

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, error_code&) override {
    request.method.assign(method.data(), method.size());
    request.target.assign(target.data(), target.size());
    request.version = version;
  }
  void on_response_impl(int, beast::string_view, int, error_code&) override {}
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     error_code&) override {
    std::string lower(name.data(), name.size());
    absl::AsciiStrToLower(&lower);
    request.headers.emplace_back(std::move(lower), std::string(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) request.body.reserve(static_cast<size_t>(std::min<uint64_t>(*length, 1 << 20)));
  }
  size_t on_body_impl(beast::string_view body, error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}
};

bool IsHttpParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

template <bool kTls>
struct StreamOf;
template <>
struct StreamOf<false> {
  using type = Socket;
  static type Make(Socket socket, ssl::context*) { return socket; }
};
template <>
struct StreamOf<true> {
  using type = ssl::stream<Socket>;
  static type Make(Socket socket, ssl::context* ctx) { return type(std::move(socket), *ctx); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions opts, HttpHandler h) : options(std::move(opts)), handler(std::move(h)) {}
  ~Impl() { Shutdown(absl::Now()); }

  absl::Status Init();
  void DoAccept();
  void StartSession(Worker& worker, Socket socket);
  void OnSessionClosed() {
    absl::MutexLock lock(&mu);
    --open;
  }
  bool Shutdown(absl::Time deadline);
  HttpServerStats Stats() const;

  const HttpServerOptions options;
  const HttpHandler handler;
  std::optional<ssl::context> tls;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<tcp::acceptor> acceptor;  // on workers[0]; destroyed before the workers
  std::unique_ptr<net::steady_timer> accept_backoff;
  size_t next_worker = 0;  // acceptor thread only
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> accepts{0};

  absl::Mutex mu;
  int64_t open ABSL_GUARDED_BY(mu) = 0;  // sessions started and not closed

  absl::Mutex shutdown_mu;
  bool shut_down ABSL_GUARDED_BY(shutdown_mu) = false;
  bool drained ABSL_GUARDED_BY(shutdown_mu) = true;
};

namespace {

// One client connection. Lives on one io thread; every member is touched only there. Kept alive
// by its worker's registry (until Close) and by its pending completion handlers.
//
// Reading: bytes go into buffer_ and are fed to the parser as they come, one read completion
// per socket read. Timeouts: `deadline` is set at each step and enforced by the worker's sweep:
// read_timeout for a whole request (from its first byte, or from accept for the first one),
// idle_timeout between keep-alive requests, write_timeout per response.
template <bool kTls>
class Session final : public SessionBase {
 public:
  using Stream = typename StreamOf<kTls>::type;

  Session(HttpServer::Impl& server, Worker& worker, Socket socket, std::string remote)
      : server_(server),
        worker_(worker),
        opts_(server.options),
        stream_(StreamOf<kTls>::Make(std::move(socket),
                                     server.tls.has_value() ? &*server.tls : nullptr)),
        remote_(std::move(remote)) {}

  void Start() override {
    worker_.sessions.emplace(this, shared_from_this());
    worker_.ArmSweep();
    SetState(State::kReading);
    Expire(opts_.read_timeout);
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](error_code ec) {
        if (ec) return self->Close();
        self->NextRequest(/*first=*/true);
      });
    } else {
      NextRequest(/*first=*/true);
    }
  }

  void Deliver(uint64_t seq, HttpResponse response) override {
    if (closed_ || seq != seq_ || !awaiting_response_) return;
    awaiting_response_ = false;
    Write(std::move(response));
  }

  void BeginShutdown() override {
    if (awaiting_first_byte_) Close();
  }

  void ForceClose() override { Close(); }

 private:
  enum class State { kNone, kReading, kWriting, kWaiting };

  std::shared_ptr<Session> Self() {
    return std::static_pointer_cast<Session>(shared_from_this());
  }
  Socket& Lowest() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }
  void Expire(absl::Duration d) { deadline = SteadyClock::now() + ToSteady(d); }

  std::atomic<int64_t>* Gauge(State s) {
    switch (s) {
      case State::kReading:
        return &worker_.counters.reading;
      case State::kWriting:
        return &worker_.counters.writing;
      case State::kWaiting:
        return &worker_.counters.waiting;
      case State::kNone:
        break;
    }
    return nullptr;
  }

  void SetState(State s) {
    if (s == state_) return;
    if (auto* g = Gauge(state_)) Bump(*g, -1);
    if (auto* g = Gauge(s)) Bump(*g, 1);
    state_ = s;
  }

  // Starts the next request: parses what is buffered (pipelining), else waits for its first
  // byte, up to the read timeout on a new connection and the idle timeout on a kept-alive one.
  void NextRequest(bool first) {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<int64_t>(opts_.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(static_cast<uint64_t>(opts_.max_body_bytes));
    header_seen_ = false;
    counted_ = false;
    if (buffer_.size() > 0) {
      SetState(State::kReading);
      Expire(opts_.read_timeout);
      return Parse();
    }
    if (!first && server_.stopping.load(std::memory_order_acquire)) return Close();
    awaiting_first_byte_ = true;
    if (!first) {
      SetState(State::kWaiting);
      Expire(opts_.idle_timeout);
    }
    ReadMore();
  }

  void ReadMore() {
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = Self()](error_code ec, size_t n) {
      self->OnRead(ec, n);
    });
  }

  void OnRead(error_code ec, size_t n) {
    if (closed_) return;
    if (ec) return Close();  // EOF, reset, or closed by a timeout: nobody to answer
    buffer_.commit(n);
    if (awaiting_first_byte_) {
      awaiting_first_byte_ = false;
      if (state_ == State::kWaiting) {
        // A kept-alive connection's next request: its own read timeout starts now.
        SetState(State::kReading);
        Expire(opts_.read_timeout);
      }
    }
    Parse();
  }

  void Parse() {
    while (buffer_.size() > 0 && !parser_->is_done()) {
      error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) return OnParseError(ec);
      if (parser_->is_header_done() && !header_seen_) {
        header_seen_ = true;
        CountRequest();
        if (!parser_->is_done() && ExpectsContinue()) return SendContinue();
      }
      if (used == 0) break;
    }
    if (parser_->is_done()) return Dispatch();
    ReadMore();
  }

  bool ExpectsContinue() const {
    return parser_->request.version >= 11 &&
           absl::EqualsIgnoreCase(parser_->request.Header("expect"), "100-continue");
  }

  void SendContinue() {
    net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                     [self = Self()](error_code ec, size_t) {
                       if (ec || self->closed_) return self->Close();
                       self->Parse();
                     });
  }

  void CountRequest() {
    if (counted_) return;
    counted_ = true;
    Bump(worker_.counters.requests, 1);
  }

  void OnParseError(const error_code& ec) {
    if (ec == http::error::header_limit) {
      return Reject(431, absl::StrCat("request headers are larger than ", opts_.max_header_bytes,
                                      " bytes"));
    }
    if (ec == http::error::body_limit) {
      return Reject(413, absl::StrCat("request body is larger than ", opts_.max_body_bytes,
                                      " bytes"));
    }
    if (IsHttpParseError(ec)) return Reject(400, absl::StrCat("malformed HTTP request: ", ec.message()));
    Close();
  }

  // Answers a request the handler never sees, then closes (after draining what the client
  // still sends, since its body was not read).
  void Reject(int status, std::string message) {
    CountRequest();
    HttpRequest partial;
    if (parser_.has_value() && parser_->is_header_done()) {
      partial = std::move(parser_->request);
      partial.body.clear();
      partial.path = partial.target.substr(0, partial.target.find('?'));
      request_id_ = SanitizeRequestId(partial.Header(kRequestIdMetadata));
    } else {
      request_id_ = NewRequestId();
    }
    partial.remote_addr = remote_;
    partial.tls = kTls;
    partial.request_id = request_id_;
    HttpResponse response = HttpJsonError(status, message, request_id_);
    if (opts_.on_reject) opts_.on_reject(partial, response);
    parser_.reset();
    keep_alive_ = false;
    linger_ = true;
    head_ = false;
    version_ = 11;
    SetState(State::kWriting);
    Write(std::move(response));
  }

  void Dispatch() {
    SetState(State::kWriting);
    deadline = SteadyClock::time_point::max();  // the handler's time is not limited here
    keep_alive_ = parser_->keep_alive();
    HttpRequest req = std::move(parser_->request);
    parser_.reset();

    req.SetTarget(std::move(req.target));
    req.remote_addr = remote_;
    req.tls = kTls;
    request_id_ = SanitizeRequestId(req.Header(kRequestIdMetadata));
    req.request_id = request_id_;

    version_ = req.version;
    head_ = req.method == "HEAD";
    linger_ = false;
    ++seq_;
    awaiting_response_ = true;

    auto state = std::make_shared<ResponderState>(worker_.gate, weak_from_this(), seq_,
                                                  request_id_);
    HttpResponder responder([state = std::move(state)](HttpResponse r) mutable {
      state->Respond(std::move(r));
    });
    try {
      server_.handler(std::move(req), std::move(responder));
    } catch (const std::exception& e) {
      // The responder (if the handler dropped it) answers 500.
      LogError("http handler threw", {{"request_id", request_id_}, {"error", e.what()}});
    }
  }

  // Serializes the response head into head_buf_ (reused across requests) and writes it with the
  // body in one gathered write.
  void Write(HttpResponse r) {
    int status = r.status;
    if (status < 100 || status > 999) {
      LogError("http handler returned an invalid status", {{"status", status}});
      status = 500;
    }
    const bool keep = keep_alive_ && !server_.stopping.load(std::memory_order_acquire);
    const bool no_body = status < 200 || status == 204 || status == 304;
    beast::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
    if (reason == "<unknown-status>") reason = "Unknown";

    head_buf_.clear();
    absl::StrAppend(&head_buf_, version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ", status, " ");
    head_buf_.append(reason.data(), reason.size());
    head_buf_.append("\r\n");
    auto add = [this](absl::string_view name, absl::string_view value) {
      head_buf_.append(name.data(), name.size());
      head_buf_.append(": ");
      AppendHeaderValue(value, &head_buf_);
      head_buf_.append("\r\n");
    };
    for (const auto& [name, value] : r.headers) {
      if (!IsToken(name) || absl::EqualsIgnoreCase(name, "content-length") ||
          absl::EqualsIgnoreCase(name, "transfer-encoding") ||
          absl::EqualsIgnoreCase(name, "connection")) {
        continue;
      }
      add(name, value);
    }
    for (const auto& [name, value] : opts_.default_headers) {
      if (!r.HasHeader(name)) add(name, value);
    }
    if (!r.HasHeader("x-request-id")) add("X-Request-Id", request_id_);
    add("Date", worker_.DateHeader());
    if (!no_body) absl::StrAppend(&head_buf_, "Content-Length: ", r.body.size(), "\r\n");
    if (!keep && version_ >= 11) head_buf_.append("Connection: close\r\n");
    if (keep && version_ == 10) head_buf_.append("Connection: keep-alive\r\n");
    head_buf_.append("\r\n");
    body_ = no_body || head_ ? std::string() : std::move(r.body);

    Expire(opts_.write_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_buf_), net::buffer(body_)};
    net::async_write(stream_, buffers, [self = Self(), keep](error_code ec, size_t) {
      if (ec || self->closed_) return self->Close();
      self->body_.clear();
      if (self->linger_) return self->Linger();
      if (!keep) return self->CloseAfterResponse();
      self->NextRequest(/*first=*/false);
    });
  }

  void CloseAfterResponse() {
    if constexpr (kTls) {
      Expire(kTlsShutdownTime);
      stream_.async_shutdown([self = Self()](error_code) { self->Close(); });
    } else {
      error_code ignored;
      Lowest().shutdown(tcp::socket::shutdown_send, ignored);
      Close();
    }
  }

  void Linger() {
    error_code ignored;
    Lowest().shutdown(tcp::socket::shutdown_send, ignored);
    discard_ = std::make_unique<char[]>(kDiscardBytes);
    Expire(std::min(kLingerTime, opts_.read_timeout));
    DiscardMore();
  }

  void DiscardMore() {
    Lowest().async_read_some(net::buffer(discard_.get(), kDiscardBytes),
                             [self = Self()](error_code ec, size_t) {
                               if (ec || self->closed_) return self->Close();
                               self->DiscardMore();
                             });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    awaiting_response_ = false;
    awaiting_first_byte_ = false;
    deadline = SteadyClock::time_point::max();
    SetState(State::kNone);
    error_code ignored;
    Lowest().close(ignored);  // pending operations complete with operation_aborted
    server_.OnSessionClosed();
    worker_.sessions.erase(this);  // callers hold a reference to this session
  }

  HttpServer::Impl& server_;
  Worker& worker_;
  const HttpServerOptions& opts_;
  Stream stream_;
  const std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::string head_buf_;
  std::string body_;
  std::unique_ptr<char[]> discard_;
  std::string request_id_;
  State state_ = State::kNone;
  uint64_t seq_ = 0;
  int version_ = 11;
  bool awaiting_first_byte_ = false;
  bool awaiting_response_ = false;
  bool header_seen_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  bool linger_ = false;
  bool counted_ = false;
  bool closed_ = false;
};

absl::StatusOr<tcp::endpoint> ResolveListen(net::io_context& ioc, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("listen address \"", listen,
                                                   "\" must be host:port"));
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 0 || port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("listen address \"", listen,
                                                   "\" has an invalid port"));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, static_cast<unsigned short>(port_number));
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, port, tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve listen host \"", host,
                                                   "\": ", ec.message()));
  }
  return results.begin()->endpoint();
}

}  // namespace

absl::Status HttpServer::Impl::Init() {
  if (options.threads < 1 || options.threads > 256) {
    return absl::InvalidArgumentError("threads must be between 1 and 256");
  }
  if (options.max_header_bytes < 1024) {
    return absl::InvalidArgumentError("max_header_bytes must be at least 1024");
  }
  if (options.read_timeout <= absl::ZeroDuration() || options.idle_timeout <= absl::ZeroDuration() ||
      options.write_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  if (options.max_body_bytes < 0) {
    return absl::InvalidArgumentError("max_body_bytes must not be negative");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  if (!options.tls_cert_file.empty()) {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                     ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    error_code ec;
    tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("cannot load TLS certificate ",
                                                     options.tls_cert_file, ": ", ec.message()));
    }
    tls->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec && absl::StrContains(ec.message(), "mismatch")) {
      return absl::InvalidArgumentError(absl::StrCat("TLS key ", options.tls_key_file,
                                                     " does not match certificate ",
                                                     options.tls_cert_file));
    }
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("cannot load TLS key ", options.tls_key_file,
                                                     ": ", ec.message()));
    }
    if (SSL_CTX_check_private_key(tls->native_handle()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("TLS key ", options.tls_key_file,
                                                     " does not match certificate ",
                                                     options.tls_cert_file));
    }
  }

  // Deadlines are checked by a sweep every 1/8 of the shortest timeout (5 ms .. 250 ms).
  const absl::Duration shortest =
      std::min({options.read_timeout, options.idle_timeout, options.write_timeout});
  const absl::Duration interval =
      std::clamp(shortest / 8, absl::Milliseconds(5), absl::Milliseconds(250));
  for (int i = 0; i < options.threads; ++i) {
    workers.push_back(std::make_unique<Worker>());
    workers.back()->sweep_interval = ToSteady(interval);
  }
  absl::StatusOr<tcp::endpoint> endpoint = ResolveListen(workers[0]->ioc, options.listen);
  if (!endpoint.ok()) return endpoint.status();
  acceptor = std::make_unique<tcp::acceptor>(workers[0]->ioc);
  error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(*endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options.listen, ": ",
                                               ec.message()));
  }
  port = acceptor->local_endpoint().port();
  accept_backoff = std::make_unique<net::steady_timer>(workers[0]->ioc);
  DoAccept();
  for (size_t i = 0; i < workers.size(); ++i) {
    Worker* w = workers[i].get();
    w->thread = std::thread([w, i] {
      pthread_setname_np(pthread_self(), absl::StrCat("http-io-", i).c_str());
      for (;;) {
        try {
          w->ioc.run();
          return;
        } catch (const std::exception& e) {
          LogError("http io thread caught an exception", {{"error", e.what()}});
        }
      }
    });
  }
  return absl::OkStatus();
}

void HttpServer::Impl::DoAccept() {
  Worker& target = *workers[next_worker++ % workers.size()];
  acceptor->async_accept(target.ioc, [this, &target](error_code ec, Socket socket) {
    if (ec == net::error::operation_aborted || stopping.load(std::memory_order_acquire)) return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning on the same error.
      LogWarn("http accept failed", {{"error", ec.message()}});
      accept_backoff->expires_after(std::chrono::milliseconds(100));
      accept_backoff->async_wait([this](error_code wait_ec) {
        if (!wait_ec && !stopping.load(std::memory_order_acquire)) DoAccept();
      });
      return;
    }
    accepts.fetch_add(1, std::memory_order_relaxed);
    net::post(target.ioc, [this, &target, socket = std::move(socket)]() mutable {
      StartSession(target, std::move(socket));
    });
    DoAccept();
  });
}

void HttpServer::Impl::StartSession(Worker& worker, Socket socket) {
  error_code ec;
  if (stopping.load(std::memory_order_acquire)) {
    socket.close(ec);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) {  // the peer is already gone
    socket.close(ec);
    return;
  }
  net::ip::address address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  Bump(worker.counters.handled, 1);
  {
    absl::MutexLock lock(&mu);
    ++open;
  }
  std::shared_ptr<SessionBase> session;
  if (tls.has_value()) {
    session = std::make_shared<Session<true>>(*this, worker, std::move(socket), address.to_string());
  } else {
    session = std::make_shared<Session<false>>(*this, worker, std::move(socket), address.to_string());
  }
  session->Start();
}

bool HttpServer::Impl::Shutdown(absl::Time deadline) {
  {
    absl::MutexLock lock(&shutdown_mu);
    if (shut_down) return drained;
    shut_down = true;
  }
  if (workers.empty()) return true;  // Init failed before starting anything
  stopping.store(true, std::memory_order_release);
  net::post(workers[0]->ioc, [this] {
    error_code ignored;
    if (acceptor) acceptor->close(ignored);
    if (accept_backoff) accept_backoff->cancel();
  });
  for (auto& w : workers) {
    net::post(w->ioc, [w = w.get()] {
      for (auto& session : w->Snapshot()) session->BeginShutdown();
    });
  }
  bool all_done;
  {
    absl::MutexLock lock(&mu);
    all_done = mu.AwaitWithDeadline(
        absl::Condition(+[](int64_t* n) { return *n == 0; }, &open), deadline);
  }
  for (auto& w : workers) {
    net::post(w->ioc, [w = w.get()] {
      for (auto& session : w->Snapshot()) session->ForceClose();
      w->sessions.clear();
      w->sweep.cancel();
      w->guard.reset();
      w->ioc.stop();
    });
  }
  for (auto& w : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  for (auto& w : workers) w->gate->Close();
  absl::MutexLock lock(&shutdown_mu);
  drained = all_done;
  return all_done;
}

HttpServerStats HttpServer::Impl::Stats() const {
  HttpServerStats s;
  s.accepts = accepts.load(std::memory_order_relaxed);
  for (const auto& w : workers) {
    s.handled += w->counters.handled.load(std::memory_order_relaxed);
    s.requests += w->counters.requests.load(std::memory_order_relaxed);
    s.reading += w->counters.reading.load(std::memory_order_relaxed);
    s.writing += w->counters.writing.load(std::memory_order_relaxed);
    s.waiting += w->counters.waiting.load(std::memory_order_relaxed);
  }
  s.active = s.reading + s.writing + s.waiting;
  return s;
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              HttpHandler handler) {
  if (!handler) return absl::InvalidArgumentError("an HTTP server needs a handler");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
int HttpServer::port() const { return impl_->port; }
bool HttpServer::tls() const { return impl_->tls.has_value(); }
HttpServerStats HttpServer::Stats() const { return impl_->Stats(); }
bool HttpServer::Shutdown(absl::Time deadline) { return impl_->Shutdown(deadline); }

// ---------------------------------------------------------------------------------------------

namespace {

template <class Pairs>
const std::string* FindHeader(const Pairs& headers, absl::string_view name) {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

}  // namespace

void HttpRequest::SetTarget(std::string new_target) {
  target = std::move(new_target);
  const size_t q = target.find('?');
  path = target.substr(0, q);
  raw_query = q == std::string::npos ? "" : target.substr(q + 1);
  query = q == std::string::npos ? std::vector<std::pair<std::string, std::string>>()
                                 : ParseQueryString(raw_query);
}

std::string HttpRequest::Header(absl::string_view name) const {
  const std::string* v = FindHeader(headers, name);
  return v == nullptr ? std::string() : *v;
}

bool HttpRequest::HasHeader(absl::string_view name) const {
  return FindHeader(headers, name) != nullptr;
}

std::string HttpRequest::Query(absl::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::string> HttpRequest::QueryAll(absl::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  return out;
}

bool HttpRequest::HasQuery(absl::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return true;
  }
  return false;
}

HttpResponse::HttpResponse(int status_code, std::string content_type, std::string body_text)
    : status(status_code), body(std::move(body_text)) {
  if (!content_type.empty()) headers.emplace_back("Content-Type", std::move(content_type));
}

void HttpResponse::SetHeader(absl::string_view name, std::string value) {
  bool replaced = false;
  for (auto it = headers.begin(); it != headers.end();) {
    if (absl::EqualsIgnoreCase(it->first, name)) {
      if (!replaced) {
        it->second = std::move(value);
        replaced = true;
        ++it;
      } else {
        it = headers.erase(it);
      }
    } else {
      ++it;
    }
  }
  if (!replaced) headers.emplace_back(std::string(name), std::move(value));
}

void HttpResponse::AddHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

std::string HttpResponse::Header(absl::string_view name) const {
  const std::string* v = FindHeader(headers, name);
  return v == nullptr ? std::string() : *v;
}

bool HttpResponse::HasHeader(absl::string_view name) const {
  return FindHeader(headers, name) != nullptr;
}

HttpResponse HttpJsonError(int status, absl::string_view message, absl::string_view request_id) {
  std::string body = "{\"message\":";
  AppendJsonString(message, &body);
  body.append(",\"request_id\":");
  AppendJsonString(request_id, &body);
  body.push_back('}');
  return HttpResponse(status, "application/json; charset=utf-8", std::move(body));
}

bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::string PercentEncode(absl::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQueryString(absl::string_view raw) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    const absl::string_view part = raw.substr(0, amp);
    raw = amp == absl::string_view::npos ? absl::string_view() : raw.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const absl::string_view k = part.substr(0, eq);
    const absl::string_view v = eq == absl::string_view::npos ? absl::string_view() : part.substr(eq + 1);
    std::string key, value;
    if (!PercentDecode(k, true, &key)) key = std::string(k);
    if (!PercentDecode(v, true, &value)) value = std::string(v);
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace portunus
