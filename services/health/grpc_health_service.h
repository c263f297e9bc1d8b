// gRPC transport of the health service: HealthService (GetHealth, GetClusterStatus) and
// ReplicaRegistry (Heartbeat, Deregister) from proto/portunus/health/v1. Both answer while the
// database is down (reporting that outage is their job), so they do not use the runner's
// readiness gate.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "portunus/health/v1/health_service.grpc.pb.h"
#include "portunus/health/v1/replicas.grpc.pb.h"
#include "services/common/clock.h"
#include "services/common/worker_pool.h"
#include "services/common/caller_auth.h"
#include "services/health/cluster_status.h"
#include "services/health/health_monitor.h"
#include "services/health/replica_registry.h"

namespace portunus::health {

// RFC 3339 in UTC with milliseconds ("2026-11-22T21:42:13.123Z"); "" for InfinitePast.
std::string FormatRfc3339(absl::Time t);

void ToProto(const ComponentStatus& c, v1::Component* out);
void ToProto(const HealthReport& report, v1::GetHealthResponse* out);
void ToProto(const ReplicaView& r, v1::Replica* out);
void ToProto(const ClusterStatus& status, v1::GetClusterStatusResponse* out);

// Thread-safe. Everything borrowed must outlive it.
class GrpcHealthService final : public v1::HealthService::CallbackService {
 public:
  struct Deps {
    HealthMonitor& monitor;
    ReplicaRegistry& replicas;
    CallerAuthenticator& authenticator;
    WorkerPool& workers;
    const Clock& clock;
    absl::Duration rpc_timeout;
    // internal.secret: the internal principal is recognised here, without asking auth.
    std::string internal_secret;
    // Services that must have a replica (empty while the registry is still filling up).
    std::function<std::vector<std::string>()> expected_services;
  };
  explicit GrpcHealthService(Deps deps) : deps_(std::move(deps)) {}

  grpc::ServerUnaryReactor* GetHealth(grpc::CallbackServerContext* ctx,
                                      const v1::GetHealthRequest* req,
                                      v1::GetHealthResponse* resp) override;
  grpc::ServerUnaryReactor* GetClusterStatus(grpc::CallbackServerContext* ctx,
                                             const v1::GetClusterStatusRequest* req,
                                             v1::GetClusterStatusResponse* resp) override;

 private:
  Deps deps_;
};

// Thread-safe. The registry must outlive it.
class GrpcReplicaRegistryService final : public v1::ReplicaRegistry::CallbackService {
 public:
  GrpcReplicaRegistryService(ReplicaRegistry& registry, std::string internal_secret)
      : registry_(registry), secret_(std::move(internal_secret)) {}

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* Deregister(grpc::CallbackServerContext* ctx,
                                       const v1::DeregisterRequest* req,
                                       v1::DeregisterResponse* resp) override;

 private:
  ReplicaRegistry& registry_;
  const std::string secret_;
};

}  // namespace portunus::health
