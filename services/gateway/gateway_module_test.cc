#include "services/gateway/gateway_module.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/worker_pool.h"

namespace portunus::gateway {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ::testing::HasSubstr;
using Response = http::response<http::string_body>;

EnvLookup Env(std::map<std::string, std::string> vars) {
  vars.emplace("PORTUNUS_INTERNAL_SECRET", std::string(40, 's'));
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::Status LoadConfig(std::map<std::string, std::string> vars, CommonConfig* common,
                        GatewayConfig* config) {
  ConfigBinder binder;
  BindCommonConfig(&binder, common);
  BindGatewayConfig(&binder, config);
  return binder.Load("", Env(std::move(vars)));
}

TEST(GatewayConfigTest, DefaultsAndValidation) {
  CommonConfig common;
  GatewayConfig config;
  ASSERT_TRUE(LoadConfig({}, &common, &config).ok());
  EXPECT_EQ(config.listen, "127.0.0.1:8080");
  EXPECT_EQ(config.threads, 1);
  EXPECT_EQ(config.max_body_bytes, 1024 * 1024);
  EXPECT_EQ(config.read_timeout, absl::Seconds(15));
  EXPECT_TRUE(config.access_log);

  ASSERT_TRUE(LoadConfig({{"PORTUNUS_GATEWAY_MAX_BODY_BYTES", "2MiB"},
                          {"PORTUNUS_GATEWAY_READ_TIMEOUT", "500ms"},
                          {"PORTUNUS_GATEWAY_ACCESS_LOG", "off"}},
                         &common, &config)
                  .ok());
  EXPECT_EQ(config.max_body_bytes, 2 * 1024 * 1024);
  EXPECT_EQ(config.read_timeout, absl::Milliseconds(500));
  EXPECT_FALSE(config.access_log);

  absl::Status s = LoadConfig({{"PORTUNUS_GATEWAY_TLS_CERT_FILE", "/dev/null"}}, &common,
                              &config);
  EXPECT_THAT(std::string(s.message()), HasSubstr("gateway.tls.key_file"));
  s = LoadConfig({{"PORTUNUS_GATEWAY_TLS_CERT_FILE", "/nonexistent.pem"},
                  {"PORTUNUS_GATEWAY_TLS_KEY_FILE", "/dev/null"}},
                 &common, &config);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot read file \"/nonexistent.pem\""));
  s = LoadConfig({{"PORTUNUS_GATEWAY_EXTERNAL_URL", "ftp://x"}}, &common, &config);
  EXPECT_THAT(std::string(s.message()), HasSubstr("gateway.external_url"));
  s = LoadConfig({{"PORTUNUS_GATEWAY_LISTEN", "nohost"}}, &common, &config);
  EXPECT_THAT(std::string(s.message()), HasSubstr("gateway.listen"));
  s = LoadConfig({{"PORTUNUS_GATEWAY_THREADS", "0"}}, &common, &config);
  EXPECT_THAT(std::string(s.message()), HasSubstr("gateway.threads"));
}

// The whole gateway as RunService builds it, on free ports.
class GatewayModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(LoadConfig({{"PORTUNUS_GATEWAY_LISTEN", "127.0.0.1:0"},
                            {"PORTUNUS_GATEWAY_MAX_BODY_BYTES", "1KiB"},
                            {"PORTUNUS_AUTH_ADDRESS", "127.0.0.1:1"}},
                           &common_, &config_)
                    .ok());
    runtime_ = std::make_unique<ServiceRuntime>(
        ServiceRuntime{"gateway", common_, nullptr, workers_, metrics_, readiness_, clock_});
    module_ = std::make_unique<GatewayModule>(*runtime_, config_);
    ASSERT_TRUE(module_->Start().ok());
    ASSERT_NE(module_->http_port(), 0);
  }

  Response Request(const std::string& raw, bool head = false) {
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    socket.connect({net::ip::make_address("127.0.0.1"),
                    static_cast<unsigned short>(module_->http_port())});
    net::write(socket, net::buffer(raw));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    http::read(socket, buffer, parser);
    return parser.release();
  }

  std::string Metrics() {
    return prometheus::TextSerializer().Serialize(metrics_.registry().Collect());
  }

  CommonConfig common_;
  GatewayConfig config_;
  WorkerPool workers_{1};
  MetricsServer metrics_;
  Readiness readiness_;
  testing::FakeClock clock_;
  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<GatewayModule> module_;
};

void ExpectPortusHeaders(const Response& r) {
  EXPECT_EQ(r[http::field::x_frame_options], "DENY");
  EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(r["X-XSS-Protection"], "1; mode=block");
  EXPECT_EQ(r[http::field::cache_control], "no-cache");
  EXPECT_FALSE(r["X-Request-Id"].empty());
}

TEST_F(GatewayModuleTest, PingAnswers200WithPortusHeaders) {
  Response r = Request("GET /api/v1/_ping HTTP/1.1\r\nHost: x\r\nX-Request-Id: ping-1\r\n\r\n");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "");
  ExpectPortusHeaders(r);
  EXPECT_EQ(r["X-Request-Id"], "ping-1");

  Response head = Request("HEAD /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n", /*head=*/true);
  EXPECT_EQ(head.result_int(), 200);
  ExpectPortusHeaders(head);
}

TEST_F(GatewayModuleTest, ErrorsAreJsonWithTheSameHeaders) {
  Response wrong = Request("DELETE /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(wrong.result_int(), 405);
  EXPECT_EQ(wrong[http::field::allow], "GET, HEAD, OPTIONS");
  EXPECT_THAT(wrong.body(), HasSubstr("\"request_id\""));
  ExpectPortusHeaders(wrong);

  Response missing = Request("GET /api/v1/nothing?token=secret HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(missing.result_int(), 404);
  ExpectPortusHeaders(missing);

  Response big = Request(absl::StrCat("POST /api/v1/_ping HTTP/1.1\r\nHost: x\r\n",
                                      "Content-Length: 5000\r\n\r\n", std::string(5000, 'x')));
  EXPECT_EQ(big.result_int(), 413);
  EXPECT_THAT(big.body(), HasSubstr("request body is larger than 1024 bytes"));
  ExpectPortusHeaders(big);
}

TEST_F(GatewayModuleTest, CountsRequestsByRoutePattern) {
  Request("GET /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  Request("GET /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  Request("GET /api/v1/no-such-area/1234 HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string text = Metrics();
  EXPECT_THAT(text, HasSubstr(
                        R"(http_requests_total{code="200",method="GET",route="/api/v1/_ping"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(http_requests_total{code="404",method="GET",route="none"} 1)"));
  EXPECT_THAT(text, HasSubstr(
      R"(http_request_duration_seconds_count{method="GET",route="/api/v1/_ping"} 2)"));
  EXPECT_THAT(text, HasSubstr("http_requests_in_flight 0"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("1234")));  // never the raw path
  EXPECT_EQ(module_->HttpStats().accepts, 3);
}

TEST_F(GatewayModuleTest, GatewayStatusReportsTheHttpServersCounters) {
  Request("GET /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  Request("GET /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  Response r = Request("GET /gateway_status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r[http::field::content_type], "text/plain");
  // nginx's stub_status layout, as its parsers (nginx-prometheus-exporter, telegraf) read it.
  std::smatch m;
  const std::string body = r.body();
  ASSERT_TRUE(std::regex_match(body, m,
                               std::regex("Active connections: ([0-9]+) \n"
                                          "server accepts handled requests\n"
                                          " ([0-9]+) ([0-9]+) ([0-9]+) \n"
                                          "Reading: ([0-9]+) Writing: ([0-9]+) Waiting: ([0-9]+) \n")))
      << body;
  EXPECT_GE(std::stoi(m[1]), 1);  // this request's connection, maybe the earlier ones closing
  EXPECT_EQ(m[2], "3");           // three connections accepted
  EXPECT_EQ(m[3], "3");           // and handled
  EXPECT_EQ(m[4], "3");           // three requests, this one included
  EXPECT_GE(std::stoi(m[6]), 1);  // this one is being written
  EXPECT_EQ(std::stoi(m[1]), std::stoi(m[5]) + std::stoi(m[6]) + std::stoi(m[7])) << body;
}

TEST_F(GatewayModuleTest, MetricsPassPromtool) {
  Request("GET /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  Request("POST /api/v1/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string path =
      absl::StrCat(::testing::TempDir(), "portunus-gateway-metrics-", getpid(), ".txt");
  {
    std::ofstream out(path);
    out << Metrics();
  }
  // promtool comes with Debian's `prometheus` package, which CI installs.
  const int rc = std::system(absl::StrCat("promtool check metrics < ", path, " 2>&1").c_str());
  std::remove(path.c_str());
  EXPECT_EQ(rc, 0) << "promtool check metrics failed (is the prometheus package installed?)";
}

TEST_F(GatewayModuleTest, StopDrainsAndClosesTheListener) {
  module_->Stop(absl::Now());
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect({net::ip::make_address("127.0.0.1"),
                  static_cast<unsigned short>(module_->http_port())},
                 ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace portunus::gateway
