// GrpcAccessClient: AccessClient over the auth service's AccessService
// (proto/portunus/auth/v1/access.proto). Calls that need the internal principal
// (ListPullableNamespaces, Authorize, EnsureNamespace) carry `authorization: Basic
// base64(portunus:<internal.secret>)`; Authenticate (GrpcCallerAuthenticator, caller_auth.h)
// never does, so a caller without credentials can only ever be anonymous. Every call has the configured deadline. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "services/catalog/access_client.h"
#include "services/common/caller_auth.h"

namespace portunus::catalog {

class GrpcAccessClient final : public AccessClient {
 public:
  GrpcAccessClient(std::shared_ptr<grpc::Channel> channel, std::string internal_secret,
                   absl::Duration rpc_timeout);
  ~GrpcAccessClient() override;

  absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials) override;
  absl::StatusOr<NamespaceFilter> PullableNamespaces(const Caller& caller) override;
  absl::StatusOr<bool> MayDelete(const Caller& caller, const std::string& repository) override;
  absl::StatusOr<int64_t> EnsureNamespace(const std::string& name) override;

 private:
  GrpcCallerAuthenticator callers_;
  struct Stub;
  std::unique_ptr<Stub> stub_;
  const std::string internal_authorization_;
  const absl::Duration rpc_timeout_;
};

}  // namespace portunus::catalog
