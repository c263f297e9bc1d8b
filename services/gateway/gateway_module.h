// The gateway's composition root: binds the `gateway` configuration section and builds the HTTP
// front door (Portus-compatible REST API, token endpoint, webhooks) for RunService. The gateway
// has no database and no gRPC server of its own: it serves HTTP (services/common/http_server.h)
// and calls the backend services through Upstreams.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/http_server.h"
#include "services/common/service_runner.h"
#include "services/gateway/router.h"
#include "services/gateway/upstream.h"

namespace portunus::gateway {

struct GatewayConfig {
  std::string listen;          // gateway.listen
  int threads = 1;             // gateway.threads: io threads
  int64_t max_body_bytes = 0;  // gateway.max_body_bytes
  int64_t max_header_bytes = 0;
  absl::Duration read_timeout;
  absl::Duration idle_timeout;
  absl::Duration shutdown_grace;
  std::string tls_cert_file;  // gateway.tls.cert_file
  std::string tls_key_file;   // gateway.tls.key_file
  std::string external_url;   // gateway.external_url
  bool access_log = true;
};

// Binds the `gateway` section's keys into *config and owns the section
// (gateway.metrics_listen is bound by the common config).
void BindGatewayConfig(ConfigBinder* binder, GatewayConfig* config);

// The HTTP server options for `config` (without handler wiring).
HttpServerOptions HttpOptionsFor(const GatewayConfig& config);

// Registers every route file's routes (routes.h) on `router`.
void BuildRouter(Router& router, Upstreams& upstreams);

class Frontend;

// The gateway service: owns the upstream channels, the route table, the request pipeline and
// the HTTP server. Created by CreateModule; started and stopped by RunService.
class GatewayModule final : public ServiceModule {
 public:
  GatewayModule(ServiceRuntime& runtime, const GatewayConfig& config);
  ~GatewayModule() override;

  // Starts the HTTP server. kInvalidArgument for bad TLS files, kUnavailable for a busy port.
  absl::Status Start() override;
  std::string NotReadyReason() override;
  // Drains the HTTP server for up to gateway.shutdown_grace (the runner's deadline is not
  // used: the gateway has its own setting), then closes the upstream channels.
  void Stop(absl::Time runner_deadline) override;

  // The bound HTTP port once started, else 0.
  int http_port() const;
  // nginx stub_status-like connection counters (for /gateway_status); zeros before Start.
  HttpServerStats HttpStats() const;
  const Router& router() const { return *router_; }

 private:
  const GatewayConfig config_;
  std::unique_ptr<Upstreams> upstreams_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<HttpServer> server_;
  // server_.get() once Start() has stored it: /gateway_status may run on an io thread while
  // Start() is still assigning server_.
  std::atomic<HttpServer*> started_server_{nullptr};
};

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const GatewayConfig& config);

}  // namespace portunus::gateway
