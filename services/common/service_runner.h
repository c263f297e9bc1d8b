// The shared life cycle of every Portunus binary, so each main.cc stays a few lines:
//   flags (--config, --migrate, --migrate-only, --check-config, --print-config)
//   -> config (YAML + environment, validated; one clear line and exit 2 on a problem)
//   -> logging -> /metrics listener -> PostgreSQL pool and migrations
//   -> gRPC server with grpc.health.v1, reflection and metrics interceptor
//   -> the service's module -> wait for SIGTERM/SIGINT -> graceful shutdown.
//
// While the database is unreachable or has pending migrations the service is NOT_SERVING in
// grpc.health.v1 and its RPCs fail with UNAVAILABLE naming the reason; it recovers by itself.
// The grpc.health.v1 service name kGrpcLivenessService is SERVING whenever the gRPC server
// answers, ready or not: for liveness probes, which must not restart a pod over a database
// outage.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/common_config.h"
#include "services/common/config.h"
#include "services/common/metrics.h"
#include "services/common/migrator.h"
#include "services/common/worker_pool.h"

namespace grpc {
class Service;
class ServerBuilder;
}  // namespace grpc

namespace portunus {

class PgPool;

// grpc.health.v1 service name that answers SERVING while the gRPC server runs (see above).
inline constexpr char kGrpcLivenessService[] = "liveness";

// Whether the process may serve requests, and why not. Thread-safe.
class Readiness {
 public:
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  std::string reason() const;
  void Set(bool ready, std::string reason);

 private:
  std::atomic<bool> ready_{false};
  mutable absl::Mutex mu_;
  std::string reason_ ABSL_GUARDED_BY(mu_) = "starting";
};

// What the runner hands a service when building it. Everything outlives the module.
struct ServiceRuntime {
  std::string name;            // "auth"
  const CommonConfig& common;  // validated common settings
  PgPool* db;                  // null for services without a database (gateway)
  WorkerPool& workers;         // for blocking work
  MetricsServer& metrics;
  Readiness& readiness;
  Clock& clock;
};

// A service's own part: its gRPC services and background work.
class ServiceModule {
 public:
  virtual ~ServiceModule() = default;
  // gRPC services to register; they must outlive the server (the module owns them).
  virtual std::vector<grpc::Service*> GrpcServices() { return {}; }
  // Called once the gRPC server is listening. A non-OK status stops the process (exit 1).
  virtual absl::Status Start() { return absl::OkStatus(); }
  // Extra readiness beyond the database (e.g. signing keys loaded): "" when ready, else why not.
  virtual std::string NotReadyReason() { return ""; }
  // Called after the gRPC server drained (or the deadline passed): stop background work and
  // finish what is in flight by `deadline`.
  virtual void Stop(absl::Time /*deadline*/) {}
};

struct ServiceSpec {
  std::string name;  // "auth": the log service name and the database schema
  // Embedded migrations; null for a service without a database.
  const std::vector<Migration>* migrations = nullptr;
  // The gRPC endpoint of this service in CommonConfig; null for no gRPC server (gateway).
  ServiceEndpoint CommonConfig::*endpoint = nullptr;
  // Where /metrics listens; defaults to (common.*endpoint).metrics_listen.
  std::function<std::string(const CommonConfig&)> metrics_listen;
  // Binds the service's own keys (and calls binder->OwnSection for its section).
  std::function<void(ConfigBinder*)> bind;
  // Builds the module once config, database pool and metrics exist.
  std::function<absl::StatusOr<std::unique_ptr<ServiceModule>>(ServiceRuntime&)> create;
  size_t workers = 4;
  // Announce this replica to the health service's replica registry (replica_heartbeat.h).
  // The health service registers itself in-process instead.
  bool send_heartbeats = true;
};

// Runs the service until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean
// shutdown, 1 on a runtime failure (port busy, migrations failed), 2 on bad flags or config.
// Turns off Abseil's mutex deadlock detector for the process (a per-lock debugging cost).
int RunService(const ServiceSpec& spec, int argc, char** argv);

// Applies `migrations` to `schema`, retrying while the database is unreachable for up to
// `wait`. Used by --migrate and portunusctl migrate.
absl::StatusOr<int> ApplyMigrationsWithRetry(PgPool& pool, const std::string& schema,
                                             const std::vector<Migration>& migrations,
                                             absl::Duration wait);

}  // namespace portunus
