#include "services/common/http_server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using Response = http::response<http::string_body>;

// Polls `condition` every millisecond until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// A blocking client connection to the server under test.
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                  static_cast<unsigned short>(port)));
  }

  void Send(absl::string_view raw) { net::write(socket_, net::buffer(raw.data(), raw.size())); }

  // Reads one response; `head` for the response to a HEAD request.
  Response Read(bool head = false, beast::error_code* error = nullptr) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    beast::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    if (error != nullptr) *error = ec;
    EXPECT_TRUE(error != nullptr || !ec) << ec.message();
    return parser.release();
  }

  // Blocks until the server closes the connection; true when it did (EOF or reset).
  bool WaitClosed() {
    char c;
    beast::error_code ec;
    for (;;) {
      socket_.read_some(net::buffer(&c, 1), ec);
      if (ec) return ec == net::error::eof || ec == net::error::connection_reset;
    }
  }

  tcp::socket& socket() { return socket_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string Get(absl::string_view target, absl::string_view extra_headers = "") {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: test\r\n", extra_headers, "\r\n");
}

// Echoes what the server parsed, as text.
void EchoHandler(HttpRequest&& req, HttpResponder respond) {
  std::vector<std::string> query;
  for (const auto& [k, v] : req.query) query.push_back(absl::StrCat(k, "=", v));
  HttpResponse r(200, "text/plain",
                 absl::StrCat(req.method, " ", req.path, " raw=", req.raw_query,
                              " query=", absl::StrJoin(query, ","), " x-test=", req.Header("X-Test"),
                              " body=", req.body, " remote=", req.remote_addr,
                              " tls=", req.tls ? "yes" : "no"));
  respond(std::move(r));
}

std::unique_ptr<HttpServer> StartServer(HttpServerOptions options, HttpHandler handler) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(std::move(options), std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

std::string Header(const Response& r, absl::string_view name) {
  auto it = r.find(beast::string_view(name.data(), name.size()));
  return it == r.end() ? "" : std::string(it->value());
}

TEST(HttpServerTest, ParsesTheRequestAndEchoesTheRequestId) {
  auto server = StartServer({}, EchoHandler);
  Client c(server->port());
  c.Send(Get("/api/v1/x%20y?a=1&b=x+y&a=%2F&empty", "X-Test: hello\r\nX-Request-Id: abc-123\r\n"));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(),
            "GET /api/v1/x%20y raw=a=1&b=x+y&a=%2F&empty query=a=1,b=x y,a=/,empty= x-test=hello "
            "body= remote=127.0.0.1 tls=no");
  EXPECT_EQ(Header(r, "X-Request-Id"), "abc-123");
  EXPECT_FALSE(Header(r, "Date").empty());
  EXPECT_EQ(Header(r, "Content-Length"), std::to_string(r.body().size()));

  // An id a client could use to inject text into logs is replaced by a fresh one.
  c.Send(Get("/", "X-Request-Id: bad id\"{}\r\n"));
  Response r2 = c.Read();
  EXPECT_THAT(Header(r2, "X-Request-Id"), ::testing::MatchesRegex("[0-9a-f-]{36}"));
  // No id sent: one is generated.
  c.Send(Get("/"));
  EXPECT_THAT(Header(c.Read(), "X-Request-Id"),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                      "[0-9a-f]{12}"));  // a random (version 4) UUID
}

TEST(HttpServerTest, KeepAliveServesSequentialAndPipelinedRequestsInOrder) {
  auto server = StartServer({}, EchoHandler);
  Client c(server->port());
  for (int i = 0; i < 3; ++i) {
    c.Send(Get(absl::StrCat("/seq/", i)));
    Response r = c.Read();
    EXPECT_THAT(r.body(), HasSubstr(absl::StrCat("/seq/", i)));
    EXPECT_TRUE(r.keep_alive());
  }
  // Three pipelined requests in one write, one with a body.
  c.Send(absl::StrCat(Get("/p/1"),
                      "POST /p/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", Get("/p/3")));
  EXPECT_THAT(c.Read().body(), HasSubstr("GET /p/1"));
  EXPECT_THAT(c.Read().body(), HasSubstr("POST /p/2 raw= query= x-test= body=hello"));
  EXPECT_THAT(c.Read().body(), HasSubstr("GET /p/3"));
  const HttpServerStats stats = server->Stats();
  EXPECT_EQ(stats.accepts, 1);
  EXPECT_EQ(stats.handled, 1);
  EXPECT_EQ(stats.requests, 6);
}

TEST(HttpServerTest, ConnectionCloseAndHttp10AreHonoured) {
  auto server = StartServer({}, EchoHandler);
  Client c(server->port());
  c.Send(Get("/", "Connection: close\r\n"));
  Response r = c.Read();
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.WaitClosed());

  Client c10(server->port());
  c10.Send("GET /old HTTP/1.0\r\n\r\n");
  Response r10 = c10.Read();
  EXPECT_EQ(r10.version(), 10u);
  EXPECT_TRUE(c10.WaitClosed());
}

TEST(HttpServerTest, HeadKeepsContentLengthWithoutBody) {
  auto server = StartServer({}, [](HttpRequest&&, HttpResponder respond) {
    respond(HttpResponse(200, "text/plain", "twelve bytes"));
  });
  Client c(server->port());
  c.Send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n");
  Response r = c.Read(/*head=*/true);
  EXPECT_EQ(Header(r, "Content-Length"), "12");
  EXPECT_EQ(r.body(), "");
  // The connection is still in sync: the next response is read correctly.
  c.Send(Get("/y"));
  EXPECT_EQ(c.Read().body(), "twelve bytes");
}

TEST(HttpServerTest, BodyOverTheLimitGets413WithJson) {
  HttpServerOptions o;
  o.max_body_bytes = 1024;
  std::atomic<int> handled{0};
  auto server = StartServer(o, [&](HttpRequest&& req, HttpResponder respond) {
    ++handled;
    EchoHandler(std::move(req), std::move(respond));
  });
  {  // Declared too large: answered before the body is read.
    Client c(server->port());
    c.Send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n");
    c.Send(std::string(4096, 'x'));
    Response r = c.Read();
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_THAT(Header(r, "Content-Type"), HasSubstr("application/json"));
    EXPECT_THAT(r.body(), HasSubstr("\"message\":\"request body is larger than 1024 bytes\""));
    EXPECT_THAT(r.body(), HasSubstr("\"request_id\":\""));
    EXPECT_FALSE(r.keep_alive());
  }
  {  // Chunked: the limit applies to the decoded body.
    Client c(server->port());
    std::string chunk(800, 'y');
    c.Send(absl::StrCat("POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "320\r\n", chunk, "\r\n320\r\n", chunk, "\r\n0\r\n\r\n"));
    EXPECT_EQ(c.Read().result_int(), 413);
  }
  {  // At the limit: accepted.
    Client c(server->port());
    c.Send(absl::StrCat("POST /ok HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n",
                        std::string(1024, 'z')));
    EXPECT_EQ(c.Read().result_int(), 200);
  }
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServerTest, HeadersOverTheLimitGet431AndGarbageGets400) {
  HttpServerOptions o;
  o.max_header_bytes = 2048;
  std::vector<std::pair<int, std::string>> rejected;
  absl::Mutex mu;
  o.on_reject = [&](const HttpRequest& req, const HttpResponse& res) {
    absl::MutexLock lock(&mu);
    rejected.emplace_back(res.status, req.method);
  };
  auto server = StartServer(o, EchoHandler);
  {
    Client c(server->port());
    c.Send(Get("/", absl::StrCat("X-Big: ", std::string(4096, 'a'), "\r\n")));
    Response r = c.Read();
    EXPECT_EQ(r.result_int(), 431);
    EXPECT_THAT(r.body(), HasSubstr("request headers are larger than 2048 bytes"));
  }
  {
    Client c(server->port());
    c.Send("THIS IS NOT HTTP\r\n\r\n");
    Response r = c.Read();
    EXPECT_EQ(r.result_int(), 400);
    EXPECT_THAT(r.body(), HasSubstr("malformed HTTP request"));
  }
  absl::MutexLock lock(&mu);
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].first, 431);
  EXPECT_EQ(rejected[1].first, 400);
}

TEST(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  auto server = StartServer({}, EchoHandler);
  Client c(server->port());
  c.Send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  char buf[25] = {};
  net::read(c.socket(), net::buffer(buf, 25));
  EXPECT_EQ(std::string(buf, 25), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("data");
  EXPECT_THAT(c.Read().body(), HasSubstr("body=data"));
}

TEST(HttpServerTest, SilentAndTricklingClientsAreDropped) {
  HttpServerOptions o;
  o.read_timeout = absl::Milliseconds(300);
  auto server = StartServer(o, EchoHandler);
  {
    Client c(server->port());
    const absl::Time start = absl::Now();
    EXPECT_TRUE(c.WaitClosed());
    EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  }
  {
    Client c(server->port());
    std::atomic<bool> stop{false};
    std::thread trickler([&] {
      const std::string request = Get("/slow", "X-Pad: " + std::string(200, 'p') + "\r\n");
      for (char ch : request) {
        if (stop) return;
        beast::error_code ec;
        net::write(c.socket(), net::buffer(&ch, 1), ec);
        if (ec) return;
        absl::SleepFor(absl::Milliseconds(20));
      }
    });
    const absl::Time start = absl::Now();
    EXPECT_TRUE(c.WaitClosed());
    // Cut off after about the read timeout, long before the ~4 s the request would take.
    EXPECT_LT(absl::Now() - start, absl::Seconds(3));
    stop = true;
    trickler.join();
  }
  EXPECT_TRUE(WaitFor([&] { return server->Stats().active == 0; }));
}

TEST(HttpServerTest, IdleKeepAliveConnectionsAreClosed) {
  HttpServerOptions o;
  o.idle_timeout = absl::Milliseconds(200);
  auto server = StartServer(o, EchoHandler);
  Client c(server->port());
  c.Send(Get("/"));
  EXPECT_EQ(c.Read().result_int(), 200);
  EXPECT_TRUE(WaitFor([&] { return server->Stats().waiting == 1; }));
  EXPECT_TRUE(c.WaitClosed());
}

TEST(HttpServerTest, RespondsFromAnotherThreadAndCountsConnectionStates) {
  absl::Mutex mu;
  std::vector<HttpResponder> held;
  auto server = StartServer({}, [&](HttpRequest&&, HttpResponder respond) {
    absl::MutexLock lock(&mu);
    held.push_back(std::move(respond));
  });
  Client c(server->port());
  c.Send(Get("/later"));
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return held.size() == 1;
  }));
  HttpServerStats s = server->Stats();
  EXPECT_EQ(s.writing, 1);
  EXPECT_EQ(s.active, 1);
  std::thread other([&] {
    absl::MutexLock lock(&mu);
    held[0](HttpResponse(201, "text/plain", "made"));
    held[0](HttpResponse(500));  // a second call is ignored
  });
  other.join();
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 201);
  EXPECT_EQ(r.body(), "made");
  EXPECT_TRUE(WaitFor([&] { return server->Stats().waiting == 1; }));
  s = server->Stats();
  EXPECT_EQ(s.writing, 0);
  EXPECT_EQ(s.reading, 0);
  c.socket().close();
  EXPECT_TRUE(WaitFor([&] { return server->Stats().active == 0; }));
}

TEST(HttpServerTest, DroppedResponderAnswers500AndThrowingHandlerToo) {
  auto server = StartServer({}, [](HttpRequest&& req, HttpResponder) {
    if (req.path == "/throw") throw std::runtime_error("boom");
  });
  Client c(server->port());
  c.Send(Get("/drop"));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_THAT(r.body(), HasSubstr("internal error"));
  c.Send(Get("/throw"));
  EXPECT_EQ(c.Read().result_int(), 500);
}

TEST(HttpServerTest, DefaultHeadersUnlessTheHandlerSetsThemAndNoHeaderInjection) {
  HttpServerOptions o;
  o.default_headers = {{"X-Frame-Options", "DENY"}, {"Cache-Control", "no-cache"}};
  auto server = StartServer(o, [](HttpRequest&&, HttpResponder respond) {
    HttpResponse r(200, "text/plain", "x");
    r.SetHeader("cache-control", "max-age=5");
    r.AddHeader("X-Evil", "a\r\nSet-Cookie: pwned");
    r.AddHeader("Content-Length", "999");  // the server owns framing
    respond(std::move(r));
  });
  Client c(server->port());
  c.Send(Get("/"));
  Response r = c.Read();
  EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY");
  EXPECT_EQ(Header(r, "Cache-Control"), "max-age=5");
  EXPECT_EQ(Header(r, "Set-Cookie"), "");
  EXPECT_EQ(Header(r, "X-Evil"), "a  Set-Cookie: pwned");
  EXPECT_EQ(Header(r, "Content-Length"), "1");
}

TEST(HttpServerTest, GracefulShutdownFinishesInFlightRequestsAndClosesIdleOnes) {
  absl::Mutex mu;
  HttpResponder held;
  absl::Notification got;
  auto server = StartServer({}, [&](HttpRequest&& req, HttpResponder respond) {
    if (req.path == "/slow") {
      absl::MutexLock lock(&mu);
      held = std::move(respond);
      got.Notify();
      return;
    }
    respond(HttpResponse(200));
  });
  const int port = server->port();
  Client idle(port);
  idle.Send(Get("/fast"));
  EXPECT_EQ(idle.Read().result_int(), 200);
  Client busy(port);
  busy.Send(Get("/slow"));
  got.WaitForNotification();

  std::atomic<bool> drained{false};
  std::atomic<bool> returned{false};
  std::thread stopper([&] {
    drained = server->Shutdown(absl::Now() + absl::Seconds(20));
    returned = true;
  });
  EXPECT_TRUE(idle.WaitClosed());  // idle keep-alive connections go at once
  // No new connections once shutdown began.
  EXPECT_TRUE(WaitFor([&] {
    net::io_context ioc;
    tcp::socket s(ioc);
    beast::error_code ec;
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
              ec);
    return static_cast<bool>(ec);
  }));
  EXPECT_FALSE(returned.load());
  {
    absl::MutexLock lock(&mu);
    held(HttpResponse(200, "text/plain", "finished"));
  }
  Response r = busy.Read();
  EXPECT_EQ(r.body(), "finished");
  EXPECT_FALSE(r.keep_alive());
  stopper.join();
  EXPECT_TRUE(drained.load());
  EXPECT_TRUE(server->Shutdown(absl::Now()));  // idempotent
}

TEST(HttpServerTest, ShutdownDeadlineClosesStuckRequests) {
  absl::Mutex mu;
  HttpResponder held;
  absl::Notification got;
  auto server = StartServer({}, [&](HttpRequest&&, HttpResponder respond) {
    absl::MutexLock lock(&mu);
    held = std::move(respond);
    got.Notify();
  });
  Client c(server->port());
  c.Send(Get("/stuck"));
  got.WaitForNotification();
  EXPECT_FALSE(server->Shutdown(absl::Now() + absl::Milliseconds(200)));
  EXPECT_TRUE(c.WaitClosed());
  server.reset();
  absl::MutexLock lock(&mu);
  held(HttpResponse(200));  // after the server is gone: ignored, no crash
}

TEST(HttpServerTest, BusyPortIsUnavailable) {
  auto first = StartServer({}, EchoHandler);
  HttpServerOptions o;
  o.listen = absl::StrCat("127.0.0.1:", first->port());
  absl::StatusOr<std::unique_ptr<HttpServer>> second = HttpServer::Start(o, EchoHandler);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("cannot listen"));
}

TEST(HttpServerTest, SpreadsConnectionsOverSeveralThreads) {
  HttpServerOptions o;
  o.threads = 2;
  absl::Mutex mu;
  std::set<std::thread::id> threads;
  auto server = StartServer(o, [&](HttpRequest&&, HttpResponder respond) {
    {
      absl::MutexLock lock(&mu);
      threads.insert(std::this_thread::get_id());
    }
    respond(HttpResponse(200));
  });
  for (int i = 0; i < 4; ++i) {
    Client c(server->port());
    c.Send(Get("/"));
    EXPECT_EQ(c.Read().result_int(), 200);
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(threads.size(), 2u);
}

// ---- TLS ---------------------------------------------------------------------------------------

// A throwaway self-signed P-256 certificate for "localhost", deleted with the object.
class TlsFiles {
 public:
  explicit TlsFiles(const std::string& tag) {
    // Unique per process: other builds may run the same tests at the same time.
    const std::string prefix =
        absl::StrCat(::testing::TempDir(), "portunus-http-", getpid(), "-", tag);
    cert = prefix + "-cert.pem";
    key = prefix + "-key.pem";
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* x509 = X509_new();
    X509_set_version(x509, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x509), 1);
    X509_gmtime_adj(X509_getm_notBefore(x509), -60);
    X509_gmtime_adj(X509_getm_notAfter(x509), 3600);
    X509_set_pubkey(x509, pkey);
    X509_NAME* name = X509_get_subject_name(x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x509, name);
    X509_sign(x509, pkey, EVP_sha256());
    FILE* f = std::fopen(cert.c_str(), "w");
    PEM_write_X509(f, x509);
    std::fclose(f);
    f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(x509);
    EVP_PKEY_free(pkey);
  }
  ~TlsFiles() {
    std::remove(cert.c_str());
    std::remove(key.c_str());
  }
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;

  std::string cert;
  std::string key;
};

TEST(HttpServerTest, ServesHttpsWithACertificateFromConfig) {
  const TlsFiles files("ok");
  HttpServerOptions o;
  o.tls_cert_file = files.cert;
  o.tls_key_file = files.key;
  auto server = StartServer(o, EchoHandler);
  ASSERT_TRUE(server->tls());

  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(files.cert);
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<tcp::socket> stream(ioc, ctx);
  stream.set_verify_callback(ssl::host_name_verification("localhost"));
  stream.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(server->port())));
  stream.handshake(ssl::stream_base::client);
  for (int i = 0; i < 2; ++i) {  // keep-alive over TLS
    const std::string req = Get("/secure?x=1");
    net::write(stream, net::buffer(req));
    beast::flat_buffer buffer;
    Response r;
    http::read(stream, buffer, r);
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_THAT(r.body(), HasSubstr("GET /secure raw=x=1"));
    EXPECT_THAT(r.body(), HasSubstr("tls=yes"));
  }

  // A plain-text client gets nowhere.
  Client plain(server->port());
  plain.Send(Get("/"));
  EXPECT_TRUE(plain.WaitClosed());
}

TEST(HttpServerTest, BadTlsFilesAreInvalidArgument) {
  const TlsFiles a("a");
  const TlsFiles b("b");
  HttpServerOptions o;
  o.tls_cert_file = a.cert;
  o.tls_key_file = b.key;
  auto mismatched = HttpServer::Start(o, EchoHandler);
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mismatched.status().message(), HasSubstr("does not match"));
  o.tls_cert_file = "/nonexistent/cert.pem";
  auto missing = HttpServer::Start(o, EchoHandler);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/cert.pem"));
  o.tls_key_file = "";
  EXPECT_EQ(HttpServer::Start(o, EchoHandler).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- helpers -----------------------------------------------------------------------------------

TEST(HttpHelpersTest, PercentCodingAndQueryStrings) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%20b%2Fc+d", false, &out));
  EXPECT_EQ(out, "a b/c+d");
  EXPECT_TRUE(PercentDecode("a+b", true, &out));
  EXPECT_EQ(out, "a b");
  EXPECT_FALSE(PercentDecode("%", false, &out));
  EXPECT_FALSE(PercentDecode("%4", false, &out));
  EXPECT_FALSE(PercentDecode("%zz", false, &out));
  EXPECT_EQ(PercentEncode("a b/ü~"), "a%20b%2F%C3%BC~");

  auto q = ParseQueryString("scope=repository%3Aa%2Fb%3Apull&scope=x&&flag&bad=%zz");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], std::make_pair(std::string("scope"), std::string("repository:a/b:pull")));
  EXPECT_EQ(q[1].second, "x");
  EXPECT_EQ(q[2], std::make_pair(std::string("flag"), std::string()));
  EXPECT_EQ(q[3].second, "%zz");

  HttpRequest req;
  req.query = q;
  req.headers = {{"authorization", "Basic x"}};
  EXPECT_EQ(req.QueryAll("scope").size(), 2u);
  EXPECT_TRUE(req.HasQuery("flag"));
  EXPECT_FALSE(req.HasQuery("Flag"));
  EXPECT_EQ(req.Header("Authorization"), "Basic x");
}

TEST(HttpHelpersTest, JsonErrorBody) {
  HttpResponse r = HttpJsonError(413, "too \"big\"", "id-1");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"message":"too \"big\"","request_id":"id-1"})");
  EXPECT_THAT(r.Header("content-type"), HasSubstr("application/json"));
}

}  // namespace
}  // namespace portunus
