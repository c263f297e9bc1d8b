// An HTTP/1.1 server for Portunus's HTTP endpoints: the gateway's REST API and token endpoint,
// and any other service that must speak HTTP (the scanner's Harbor adapter API).
//
// Built on Boost.Beast, which stays inside http_server.cc: users see only the plain structs
// below. The layout is the one that measured fastest on the project machine
// (PERFORMANCE-CEILINGS.md, 3c/5e): N threads, each running its own io_context, accepted
// connections spread round-robin over them, so a connection lives on one thread and needs no
// strand. Handlers run on that io thread and must never block it: blocking work goes to a
// worker pool, remote calls are asynchronous, and the response is handed back through the
// HttpResponder, which may be called from any thread.
//
// Per connection: keep-alive and pipelined requests (answered in order, one at a time), a limit
// on the request head (431) and on the body (413, also for chunked bodies, answered before the
// body is read when Content-Length is too large), `Expect: 100-continue`, a read timeout that
// drops clients which send nothing or trickle a request, an idle timeout between keep-alive
// requests, a write timeout, and optional TLS (OpenSSL). Errors the server answers itself carry
// a JSON body {"message": ..., "request_id": ...}.
//
// Every request gets a request id: the client's X-Request-Id when SanitizeRequestId accepts it,
// else a new one. It is in HttpRequest::request_id and echoed as X-Request-Id in the response.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace portunus {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One parsed request. Movable; owned by the handler once delivered.
struct HttpRequest {
  std::string method;     // as sent, e.g. "GET"
  std::string target;     // the request target as sent: "/api/v1/users?page=2"
  std::string path;       // the target before '?', still percent-encoded: "/api/v1/users"
  std::string raw_query;  // the target after '?', still encoded: "page=2"
  // The query parameters, percent-decoded ('+' is a space), in order; repeated names repeat.
  std::vector<std::pair<std::string, std::string>> query;
  HttpHeaders headers;  // names lower-case, values as sent, in order
  std::string body;
  std::string remote_addr;  // the peer's IP address
  std::string request_id;   // see the file comment
  bool tls = false;         // arrived over HTTPS
  int version = 11;         // 10 for HTTP/1.0, 11 for HTTP/1.1

  // Sets `target` and what the server derives from it: path, raw_query and the decoded query.
  void SetTarget(std::string new_target);

  // The first value of header `name` (any case), or "".
  std::string Header(absl::string_view name) const;
  bool HasHeader(absl::string_view name) const;
  // The first value of query parameter `name` (exact case), or "".
  std::string Query(absl::string_view name) const;
  // Every value of query parameter `name`, in order.
  std::vector<std::string> QueryAll(absl::string_view name) const;
  bool HasQuery(absl::string_view name) const;
};

// A response. The server sets Content-Length, Connection, Date and (unless present)
// X-Request-Id itself; handlers must not set Content-Length, Transfer-Encoding or Connection
// (they are dropped). CR and LF in header values are replaced by spaces.
struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;

  HttpResponse() = default;
  explicit HttpResponse(int status_code) : status(status_code) {}
  HttpResponse(int status_code, std::string content_type, std::string body_text);

  // Replaces every header named `name` (any case) by one with `value`.
  void SetHeader(absl::string_view name, std::string value);
  // Appends a header, keeping others of the same name (e.g. Link, Set-Cookie).
  void AddHeader(std::string name, std::string value);
  // The first value of header `name` (any case), or "".
  std::string Header(absl::string_view name) const;
  bool HasHeader(absl::string_view name) const;
};

// Delivers the response of one request. Call it exactly once, from any thread; a second call is
// ignored (and logged). If every copy is destroyed without a call, the client gets a 500, so a
// dropped request never hangs a connection. After HttpServer::Shutdown returned, calls are
// ignored.
using HttpResponder = std::function<void(HttpResponse)>;

// Handles one request. Runs on an io thread: it must return quickly and never block; it may
// respond inline or later from another thread.
using HttpHandler = std::function<void(HttpRequest&&, HttpResponder)>;

// Called, on an io thread, for each request the server answered itself without calling the
// handler (400 malformed, 413 body too large, 431 head too large). `request` holds what could
// be parsed (method and target may be empty). For access logs and metrics.
using HttpRejectObserver = std::function<void(const HttpRequest& request, const HttpResponse&)>;

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port (see port())
  int threads = 1;                     // io threads, each with its own io_context
  int64_t max_header_bytes = 16 * 1024;       // request line + headers; over it: 431
  int64_t max_body_bytes = 1024 * 1024;       // decoded body; over it: 413
  absl::Duration read_timeout = absl::Seconds(15);   // to receive one whole request
  absl::Duration idle_timeout = absl::Seconds(60);   // between keep-alive requests
  absl::Duration write_timeout = absl::Seconds(30);  // to send one response
  // PEM files; both set: HTTPS only (TLS 1.2+), both empty: plain HTTP.
  std::string tls_cert_file;  // certificate chain, leaf first
  std::string tls_key_file;
  // Added to every response (also the server's own errors) unless the handler set the same
  // name, e.g. the gateway's X-Frame-Options and friends.
  HttpHeaders default_headers;
  HttpRejectObserver on_reject;
};

// Counters in the spirit of nginx's stub_status. Gauges are connections now; the rest are
// totals since start.
struct HttpServerStats {
  int64_t active = 0;    // open client connections: reading + writing + waiting
  int64_t accepts = 0;   // connections accepted
  int64_t handled = 0;   // accepted connections that were served (not refused at shutdown)
  int64_t requests = 0;  // requests received (including rejected ones)
  int64_t reading = 0;   // connections reading a request (or doing the TLS handshake)
  int64_t writing = 0;   // connections with a request being handled or answered
  int64_t waiting = 0;   // idle keep-alive connections
};

// A running HTTP server. Thread-safe. Destroying it shuts it down with no grace period.
class HttpServer {
 public:
  // Binds, loads TLS material, and starts the io threads.
  // kInvalidArgument: bad options or unreadable/mismatched TLS files (message names the file).
  // kUnavailable: the address cannot be bound (e.g. the port is in use).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound TCP port.
  int port() const;
  bool tls() const;
  HttpServerStats Stats() const;

  // Graceful shutdown: stops accepting, closes idle connections, lets requests already being
  // received or handled finish (their responses carry `Connection: close`) until `deadline`,
  // then closes every connection and joins the io threads. Returns true when every connection
  // finished before the deadline. Idempotent; later calls return at once.
  bool Shutdown(absl::Time deadline);

  class Impl;  // opaque (public only so http_server.cc's helpers can name it)

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A JSON error response {"message": message, "request_id": request_id} with
// Content-Type application/json.
HttpResponse HttpJsonError(int status, absl::string_view message, absl::string_view request_id);

// Percent-decodes `in` into *out ('+' becomes a space when `plus_is_space`). False on a
// malformed escape ("%", "%4", "%zz"); *out is then unspecified.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string PercentEncode(absl::string_view in);

// Parses "a=1&b=x+y&a=%2F" into decoded pairs; a malformed escape is kept literally.
std::vector<std::pair<std::string, std::string>> ParseQueryString(absl::string_view raw);

}  // namespace portunus
