#include "services/health/grpc_registry_token_source.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "portunus/auth/v1/token.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus::health {

GrpcRegistryTokenSource::GrpcRegistryTokenSource(std::shared_ptr<grpc::Channel> auth,
                                                 std::string service, std::string internal_secret)
    : auth_(std::move(auth)), service_(std::move(service)), secret_(std::move(internal_secret)) {}

absl::StatusOr<std::string> GrpcRegistryTokenSource::Token(const std::vector<std::string>& scopes,
                                                           absl::Duration timeout) {
  auto stub = auth::v1::TokenService::NewStub(auth_);
  auth::v1::IssueTokenRequest req;
  req.mutable_credentials()->mutable_username_secret()->set_username("portunus");
  req.mutable_credentials()->mutable_username_secret()->set_secret(secret_);
  req.set_service(service_);
  req.set_account("portunus");
  for (const std::string& s : scopes) req.add_scopes(s);
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, timeout, NewRequestId());
  auth::v1::IssueTokenResponse resp;
  const grpc::Status s = stub->IssueToken(&ctx, req, &resp);
  if (!s.ok()) {
    const absl::Status status = FromGrpcStatus(s);
    // An empty message (e.g. UNIMPLEMENTED from an auth service without the token server)
    // would leave the operator with "auth service: ": name the code instead.
    return absl::Status(status.code(),
                        absl::StrCat("auth service: ", status.message().empty()
                                                           ? absl::StatusCodeToString(status.code())
                                                           : std::string(status.message())));
  }
  if (resp.token().empty()) return absl::InternalError("auth service returned an empty token");
  return resp.token();
}

}  // namespace portunus::health
