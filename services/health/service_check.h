// Components for Portunus's own services (`auth`, `catalog`, `scanner`): each service's
// grpc.health.v1 state, explained with the reason its replicas give in their heartbeats.
//   "auth is serving" / "auth is not serving: <reason>" / "auth is not reachable: <reason>"
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/health/component_check.h"

namespace grpc {
class Channel;
}

namespace portunus::health {

// Asks a service whether it serves (grpc.health.v1 Check with service ""). Thread-safe.
class ServingProber {
 public:
  virtual ~ServingProber() = default;
  // true: SERVING; false: any other status. kUnavailable / kDeadlineExceeded / ... with the gRPC
  // message when the service could not be asked.
  virtual absl::StatusOr<bool> Serving(absl::Duration timeout) = 0;
};

class GrpcServingProber final : public ServingProber {
 public:
  explicit GrpcServingProber(std::shared_ptr<grpc::Channel> channel)
      : channel_(std::move(channel)) {}
  absl::StatusOr<bool> Serving(absl::Duration timeout) override;

 private:
  const std::shared_ptr<grpc::Channel> channel_;
};

// Why replicas of a service are not ready ("" when unknown).
using ServiceReasonLookup = std::function<std::string(const std::string& service)>;

class ServiceCheck final : public ComponentCheck {
 public:
  // The prober must outlive the check.
  ServiceCheck(std::string service, ServingProber& prober, ServiceReasonLookup reason)
      : name_(std::move(service)), prober_(prober), reason_(std::move(reason)) {}
  const std::string& name() const override { return name_; }
  std::optional<ComponentStatus> Run(absl::Duration timeout) override;

 private:
  const std::string name_;
  ServingProber& prober_;
  const ServiceReasonLookup reason_;
};

}  // namespace portunus::health
