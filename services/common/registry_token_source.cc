#include "services/common/registry_token_source.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "portunus/auth/v1/token.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus {

struct GrpcRegistryTokenSource::Stub {
  std::unique_ptr<auth::v1::TokenService::Stub> token;
};

GrpcRegistryTokenSource::GrpcRegistryTokenSource(std::shared_ptr<grpc::Channel> channel,
                                                 std::string internal_secret,
                                                 absl::Duration rpc_timeout, const Clock& clock)
    : stub_(std::make_unique<Stub>(Stub{auth::v1::TokenService::NewStub(std::move(channel))})),
      secret_(std::move(internal_secret)),
      rpc_timeout_(rpc_timeout),
      clock_(clock) {}

GrpcRegistryTokenSource::~GrpcRegistryTokenSource() = default;

absl::StatusOr<RegistryToken> GrpcRegistryTokenSource::Fetch(
    const std::string& service, const std::vector<std::string>& scopes) {
  auth::v1::IssueTokenRequest request;
  auth::v1::UsernameSecret* creds = request.mutable_credentials()->mutable_username_secret();
  creds->set_username("portunus");
  creds->set_secret(secret_);
  request.set_service(service);
  request.set_account("portunus");
  for (const std::string& s : scopes) request.add_scopes(s);
  auth::v1::IssueTokenResponse response;
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, rpc_timeout_, NewRequestId());
  const absl::Time asked = clock_.Now();
  grpc::Status status = stub_->token->IssueToken(&ctx, request, &response);
  if (!status.ok()) {
    absl::Status s = FromGrpcStatus(status);
    return absl::Status(s.code(), absl::StrCat("auth TokenService: ", s.message()));
  }
  if (response.token().empty()) {
    return absl::InternalError("auth TokenService answered without a token");
  }
  // Count the lifetime from when we asked, so clock differences never extend it.
  const int expires_in = response.expires_in() > 0 ? response.expires_in() : 60;
  return RegistryToken{response.token(), asked + absl::Seconds(expires_in)};
}

}  // namespace portunus
