// GrpcRegistryTokenSource: registry tokens for the internal principal `portunus`, issued by the
// auth service's TokenService (proto/portunus/auth/v1/token.proto) with the credentials
// username_secret {"portunus", internal.secret}. This is how every Portunus service answers the
// registry's Bearer challenges (RegistryClient); the registry sees `sub: portunus`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "services/common/clock.h"
#include "services/common/registry_client.h"

namespace portunus {

// Thread-safe. Caching is the RegistryClient's job; every Fetch is one RPC.
class GrpcRegistryTokenSource final : public RegistryTokenSource {
 public:
  // `channel` reaches the auth service; each RPC gets `rpc_timeout` as its deadline.
  GrpcRegistryTokenSource(std::shared_ptr<grpc::Channel> channel, std::string internal_secret,
                          absl::Duration rpc_timeout, const Clock& clock);
  ~GrpcRegistryTokenSource() override;

  // kUnavailable / kDeadlineExceeded when auth cannot be reached; kUnauthenticated when it
  // refuses the internal secret; kInternal when it answers without a token.
  absl::StatusOr<RegistryToken> Fetch(const std::string& service,
                                      const std::vector<std::string>& scopes) override;

 private:
  struct Stub;
  std::unique_ptr<Stub> stub_;
  const std::string secret_;
  const absl::Duration rpc_timeout_;
  const Clock& clock_;
};

}  // namespace portunus
