// GrpcTokenService: the TokenService gRPC transport (proto/portunus/auth/v1/token.proto) over
// TokenIssuer. Requests that need no blocking work (cached credentials, in-memory decisions,
// signing) are answered on the gRPC thread that received them; the rest (password hashing,
// refresh tokens in PostgreSQL) go to the worker pool.
#pragma once

#include <memory>

#include "portunus/auth/v1/token.grpc.pb.h"
#include "services/auth/token_issuer.h"
#include "services/auth/token_ports.h"
#include "services/common/service_runner.h"

namespace prometheus {
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace portunus::auth {

// Thread-safe. The issuer, authenticator and runtime must outlive the service.
class GrpcTokenService final : public v1::TokenService::CallbackService {
 public:
  GrpcTokenService(TokenIssuer& issuer, TokenAuthenticator& authenticator, ServiceRuntime& runtime);

  grpc::ServerUnaryReactor* IssueToken(grpc::CallbackServerContext* ctx,
                                       const v1::IssueTokenRequest* request,
                                       v1::IssueTokenResponse* response) override;
  grpc::ServerUnaryReactor* ListRefreshTokens(grpc::CallbackServerContext* ctx,
                                              const v1::ListRefreshTokensRequest* request,
                                              v1::ListRefreshTokensResponse* response) override;
  grpc::ServerUnaryReactor* RevokeRefreshTokens(grpc::CallbackServerContext* ctx,
                                                const v1::RevokeRefreshTokensRequest* request,
                                                v1::RevokeRefreshTokensResponse* response) override;

 private:
  void Count(const absl::StatusOr<IssuedToken>& result);
  // The account the caller's metadata authenticates, and the account id it may act on.
  absl::StatusOr<int64_t> TargetAccount(const grpc::CallbackServerContext& ctx, int64_t user_id);

  TokenIssuer& issuer_;
  TokenAuthenticator& authenticator_;
  ServiceRuntime& runtime_;
  prometheus::Family<prometheus::Counter>* issued_ = nullptr;
  prometheus::Counter* issued_new_ = nullptr;
  prometheus::Counter* issued_reused_ = nullptr;
  prometheus::Counter* refused_unauthenticated_ = nullptr;
  prometheus::Counter* refused_invalid_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
};

// Conversions (exposed for tests).
TokenRequest TokenRequestFromProto(const v1::IssueTokenRequest& request,
                                   const grpc::ServerContextBase& ctx);
void IssuedTokenToProto(const IssuedToken& token, v1::IssueTokenResponse* response);

}  // namespace portunus::auth
