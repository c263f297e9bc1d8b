// Prometheus metrics for every Portunus process (prometheus-cpp): a registry, the /metrics
// HTTP endpoint, standard process_* metrics, and a gRPC server interceptor that records
//   grpc_server_started_total{grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_service,grpc_method}   (histogram)
//   grpc_server_in_flight_requests{grpc_service}
// with the label names of go-grpc-prometheus, so existing dashboards work unchanged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace portunus {

// Latency buckets (seconds) shared by request histograms: 0.5 ms .. 10 s.
const std::vector<double>& LatencyBuckets();

// Owns the metrics registry and, once started, the /metrics listener. Thread-safe.
class MetricsServer {
 public:
  // A registry with process metrics and no listener (tests, tools).
  MetricsServer();
  ~MetricsServer();

  // Starts serving /metrics on `listen` ("127.0.0.1:9091"; port 0 picks a free port).
  // kUnavailable naming the address when it cannot be bound (busy port), never an abort.
  absl::Status Start(const std::string& listen);

  prometheus::Registry& registry() { return *registry_; }
  const std::shared_ptr<prometheus::Registry>& shared_registry() const { return registry_; }
  // The bound port after Start, else 0.
  int port() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// A gRPC server interceptor factory recording the grpc_server_* metrics above into `registry`,
// which must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeGrpcServerMetricsFactory(prometheus::Registry& registry);

}  // namespace portunus
