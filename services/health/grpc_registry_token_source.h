// RegistryTokenSource over the auth service's TokenService.IssueToken, authenticated as the
// internal principal `portunus` with internal.secret.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "services/health/registry_check.h"

namespace grpc {
class Channel;
}

namespace portunus::health {

// Thread-safe.
class GrpcRegistryTokenSource final : public RegistryTokenSource {
 public:
  // `service`: registry.service (the token's audience).
  GrpcRegistryTokenSource(std::shared_ptr<grpc::Channel> auth, std::string service,
                          std::string internal_secret);
  absl::StatusOr<std::string> Token(const std::vector<std::string>& scopes,
                                    absl::Duration timeout) override;

 private:
  const std::shared_ptr<grpc::Channel> auth_;
  const std::string service_;
  const std::string secret_;
};

}  // namespace portunus::health
