#include "services/gateway/gateway_module.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/common_config.h"
#include "services/common/log.h"
#include "services/gateway/frontend.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

std::string CheckReadable(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  return in.good() ? "" : absl::StrCat("cannot read file \"", path, "\"");
}

}  // namespace

GatewayModule::GatewayModule(ServiceRuntime& runtime, const GatewayConfig& config)
    : config_(config),
      upstreams_(std::make_unique<Upstreams>(Upstreams::OptionsFrom(runtime.common))),
      router_(std::make_unique<Router>(RouterOptions{config.external_url})),
      frontend_(std::make_unique<Frontend>(*router_, runtime.metrics.registry(),
                                           Frontend::Options{config.access_log})) {
  BuildRouter(*router_, *upstreams_);
  RegisterGatewayStatusRoute(*router_, [this] { return HttpStats(); });
}

GatewayModule::~GatewayModule() {
  // The HTTP side goes first: pending upstream completions answer through the frontend.
  if (server_) server_->Shutdown(absl::Now());
  upstreams_->Shutdown();
}

absl::Status GatewayModule::Start() {
  HttpServerOptions options = HttpOptionsFor(config_);
  frontend_->Install(&options);
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      std::move(options),
      [frontend = frontend_.get()](HttpRequest&& request, HttpResponder respond) {
        frontend->Handle(std::move(request), std::move(respond));
      });
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  started_server_.store(server_.get(), std::memory_order_release);
  const std::string host = config_.listen.substr(0, config_.listen.rfind(':'));
  LogInfo("HTTP listening", {{"url", absl::StrCat(server_->tls() ? "https://" : "http://", host,
                                                  ":", server_->port())},
                             {"routes", router_->routes().size()},
                             {"threads", config_.threads}});
  return absl::OkStatus();
}

std::string GatewayModule::NotReadyReason() {
  return server_ ? "" : "HTTP server not started";
}

void GatewayModule::Stop(absl::Time /*runner_deadline*/) {
  const absl::Time deadline = absl::Now() + config_.shutdown_grace;
  if (server_) {
    const HttpServerStats before = server_->Stats();
    const bool drained = server_->Shutdown(deadline);
    LogInfo("HTTP server stopped",
            {{"drained", drained}, {"connections_at_stop", before.active}});
  }
  upstreams_->Shutdown();
}

int GatewayModule::http_port() const { return server_ ? server_->port() : 0; }

HttpServerStats GatewayModule::HttpStats() const {
  HttpServer* server = started_server_.load(std::memory_order_acquire);
  return server != nullptr ? server->Stats() : HttpServerStats{};
}

void BindGatewayConfig(ConfigBinder* b, GatewayConfig* c) {
  b->OwnSection("gateway");
  b->String("gateway.listen", &c->listen, "127.0.0.1:8080",
            "Address the gateway's HTTP(S) server listens on.")
      .Check([c] { return CheckHostPort(c->listen); });
  b->Int("gateway.threads", &c->threads, 1,
         "HTTP io threads, each with its own event loop; 1 is fastest on a 2-core machine.")
      .Range(1, 64);
  b->Bytes("gateway.max_body_bytes", &c->max_body_bytes, 1024 * 1024,
           "Largest request body accepted; larger ones get 413.")
      .Range(1024, int64_t{1} << 30);
  b->Bytes("gateway.max_header_bytes", &c->max_header_bytes, 16 * 1024,
           "Largest request line plus headers accepted; larger ones get 431.")
      .Range(1024, 1024 * 1024);
  b->Duration("gateway.read_timeout", &c->read_timeout, absl::Seconds(15),
              "Time a client has to send a whole request; slower clients are disconnected.")
      .Range(100, 600000);
  b->Duration("gateway.idle_timeout", &c->idle_timeout, absl::Seconds(60),
              "How long an idle keep-alive connection is kept open.")
      .Range(100, 3600000);
  b->Duration("gateway.shutdown_grace", &c->shutdown_grace, absl::Seconds(8),
              "On SIGTERM, how long requests in flight may take to finish before connections "
              "are closed.")
      .Range(0, 300000);
  b->String("gateway.tls.cert_file", &c->tls_cert_file, "",
            "PEM certificate chain for HTTPS; with gateway.tls.key_file the gateway serves "
            "HTTPS only. Empty: plain HTTP.")
      .Check([c] {
        if (c->tls_cert_file.empty() && !c->tls_key_file.empty()) {
          return std::string("must be set when gateway.tls.key_file is set");
        }
        return CheckReadable(c->tls_cert_file);
      });
  b->String("gateway.tls.key_file", &c->tls_key_file, "",
            "PEM private key file for HTTPS (the path; keep the file itself private).")
      .Check([c] {
        if (c->tls_key_file.empty() && !c->tls_cert_file.empty()) {
          return std::string("must be set when gateway.tls.cert_file is set");
        }
        return CheckReadable(c->tls_key_file);
      });
  b->String("gateway.external_url", &c->external_url, "",
            "Public base URL of the gateway (https://registry.example.com), used in absolute "
            "links such as paging Link headers. Empty: taken from each request's Host header.")
      .Check([c] {
        if (c->external_url.empty()) return std::string();
        if (!absl::StartsWith(c->external_url, "http://") &&
            !absl::StartsWith(c->external_url, "https://")) {
          return std::string("must start with http:// or https://");
        }
        return std::string();
      });
  b->Bool("gateway.access_log", &c->access_log, true,
          "Log one line per HTTP request (method, path without query, status, bytes, duration, "
          "request id, client address).");
}

HttpServerOptions HttpOptionsFor(const GatewayConfig& config) {
  HttpServerOptions options;
  options.listen = config.listen;
  options.threads = config.threads;
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  options.read_timeout = config.read_timeout;
  options.idle_timeout = config.idle_timeout;
  options.tls_cert_file = config.tls_cert_file;
  options.tls_key_file = config.tls_key_file;
  return options;
}

void BuildRouter(Router& router, Upstreams& upstreams) {
  RegisterPingRoutes(router, upstreams);
  RegisterHealthRoutes(router, upstreams);
  RegisterAuthRoutes(router, upstreams);
  RegisterOpenApiRoutes(router, upstreams);
  RegisterTokenRoutes(router, upstreams);
  RegisterCatalogRoutes(router, upstreams);
  RegisterScannerRoutes(router, upstreams);
}

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const GatewayConfig& config) {
  return std::make_unique<GatewayModule>(runtime, config);
}

}  // namespace portunus::gateway
