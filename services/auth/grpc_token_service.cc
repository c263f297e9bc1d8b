#include "services/auth/grpc_token_service.h"

#include <utility>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "services/common/grpc_handler.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

TokenCredentials CredentialsFromProto(const v1::Credentials& c,
                                      const grpc::ServerContextBase& ctx) {
  TokenCredentials out;
  switch (c.kind_case()) {
    case v1::Credentials::kAuthorization:
      out.authorization = c.authorization();
      break;
    case v1::Credentials::kPortusAuth:
      out.portus_auth = c.portus_auth();
      break;
    case v1::Credentials::kUsernameSecret:
      out.username = c.username_secret().username();
      out.secret = c.username_secret().secret();
      break;
    case v1::Credentials::KIND_NOT_SET:
      out.authorization = MetadataValue(ctx, kAuthorizationMetadata);
      if (out.authorization.empty()) out.portus_auth = MetadataValue(ctx, kPortusAuthMetadata);
      break;
  }
  return out;
}

}  // namespace

TokenRequest TokenRequestFromProto(const v1::IssueTokenRequest& request,
                                   const grpc::ServerContextBase& ctx) {
  TokenRequest r;
  r.service = request.service();
  r.scopes.assign(request.scopes().begin(), request.scopes().end());
  r.account = request.account();
  r.client_id = request.client_id();
  r.offline_token = request.offline_token();
  r.refresh_token = request.refresh_token();
  switch (request.grant_type()) {
    case v1::PASSWORD:
      r.grant = GrantType::kPassword;
      // The password grant carries its credentials in the form, never in a header.
      if (request.credentials().has_username_secret()) {
        r.credentials.username = request.credentials().username_secret().username();
        r.credentials.secret = request.credentials().username_secret().secret();
      }
      return r;
    case v1::REFRESH_TOKEN:
      r.grant = GrantType::kRefreshToken;
      return r;
    default:
      r.grant = GrantType::kNone;
  }
  r.credentials = CredentialsFromProto(request.credentials(), ctx);
  return r;
}

void IssuedTokenToProto(const IssuedToken& token, v1::IssueTokenResponse* response) {
  response->set_token(token.token);
  response->set_expires_in(static_cast<int32_t>(token.expires_in));
  response->set_issued_at(Rfc3339(token.issued_at));
  response->set_refresh_token(token.refresh_token);
  for (const ResourceScope& s : token.granted) {
    v1::Scope* out = response->add_granted();
    out->set_type(s.type);
    out->set_name(s.name);
    for (const std::string& a : s.actions) out->add_actions(a);
  }
  response->set_scope(FormatScopes(token.granted));
  response->set_subject(token.subject);
}

GrpcTokenService::GrpcTokenService(TokenIssuer& issuer, TokenAuthenticator& authenticator,
                                   ServiceRuntime& runtime)
    : issuer_(issuer), authenticator_(authenticator), runtime_(runtime) {
  issued_ = &prometheus::BuildCounter()
                 .Name("portunus_tokens_issued_total")
                 .Help("Registry token requests by outcome: issued (newly signed), reused (from "
                       "the reuse cache), unauthenticated, invalid (bad request), error.")
                 .Register(runtime.metrics.registry());
  issued_new_ = &issued_->Add({{"outcome", "issued"}});
  issued_reused_ = &issued_->Add({{"outcome", "reused"}});
  refused_unauthenticated_ = &issued_->Add({{"outcome", "unauthenticated"}});
  refused_invalid_ = &issued_->Add({{"outcome", "invalid"}});
  failed_ = &issued_->Add({{"outcome", "error"}});
}

void GrpcTokenService::Count(const absl::StatusOr<IssuedToken>& result) {
  if (result.ok()) {
    (result->reused ? issued_reused_ : issued_new_)->Increment();
  } else if (absl::IsUnauthenticated(result.status())) {
    refused_unauthenticated_->Increment();
  } else if (absl::IsInvalidArgument(result.status())) {
    refused_invalid_->Increment();
  } else {
    failed_->Increment();
  }
}

grpc::ServerUnaryReactor* GrpcTokenService::IssueToken(grpc::CallbackServerContext* ctx,
                                                       const v1::IssueTokenRequest* request,
                                                       v1::IssueTokenResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::string request_id = RequestIdFrom(*ctx);
  if (!runtime_.readiness.ready()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "service not ready: " + runtime_.readiness.reason()));
    return reactor;
  }
  TokenRequest token_request = TokenRequestFromProto(*request, *ctx);
  std::optional<absl::StatusOr<IssuedToken>> fast = issuer_.TryIssueWithoutBlocking(token_request);
  if (fast.has_value()) {
    Count(*fast);
    if (fast->ok()) IssuedTokenToProto(**fast, response);
    reactor->Finish(ToGrpcStatus(fast->status(), request_id));
    return reactor;
  }
  runtime_.workers.Schedule([this, reactor, response, request_id = std::move(request_id),
                             token_request = std::move(token_request)] {
    absl::StatusOr<IssuedToken> result = issuer_.Issue(token_request);
    Count(result);
    if (result.ok()) IssuedTokenToProto(*result, response);
    reactor->Finish(ToGrpcStatus(result.status(), request_id));
  });
  return reactor;
}

absl::StatusOr<int64_t> GrpcTokenService::TargetAccount(const grpc::CallbackServerContext& ctx,
                                                        int64_t user_id) {
  TokenCredentials credentials;
  credentials.authorization = MetadataValue(ctx, kAuthorizationMetadata);
  if (credentials.authorization.empty()) {
    credentials.portus_auth = MetadataValue(ctx, kPortusAuthMetadata);
  }
  if (credentials.empty()) return absl::UnauthenticatedError("authentication required");
  absl::StatusOr<TokenPrincipal> caller = authenticator_.Authenticate(credentials);
  if (!caller.ok()) return caller.status();
  if (user_id == 0 || user_id == caller->user_id) {
    if (!caller->is_account()) {
      return absl::InvalidArgumentError("user_id is required for principals without an account");
    }
    return caller->user_id;
  }
  if (!caller->admin && caller->kind != TokenPrincipal::Kind::kInternal) {
    return absl::PermissionDeniedError("only admins may manage other accounts' refresh tokens");
  }
  return user_id;
}

grpc::ServerUnaryReactor* GrpcTokenService::ListRefreshTokens(
    grpc::CallbackServerContext* ctx, const v1::ListRefreshTokensRequest* request,
    v1::ListRefreshTokensResponse* response) {
  return RunOnWorkers(ctx, runtime_, [=](const std::string&) -> absl::Status {
    absl::StatusOr<int64_t> account = TargetAccount(*ctx, request->user_id());
    if (!account.ok()) return account.status();
    absl::StatusOr<std::vector<RefreshTokenRecord>> tokens = issuer_.ListRefreshTokens(*account);
    if (!tokens.ok()) return tokens.status();
    for (const RefreshTokenRecord& r : *tokens) {
      v1::RefreshToken* out = response->add_refresh_tokens();
      out->set_id(r.id);
      out->set_user_id(r.user_id);
      out->set_username(r.username);
      out->set_service(r.service);
      out->set_client_id(r.client_id);
      out->set_created_at(Rfc3339(r.created_at));
      if (r.expires_at != absl::InfiniteFuture()) out->set_expires_at(Rfc3339(r.expires_at));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTokenService::RevokeRefreshTokens(
    grpc::CallbackServerContext* ctx, const v1::RevokeRefreshTokensRequest* request,
    v1::RevokeRefreshTokensResponse* response) {
  return RunOnWorkers(ctx, runtime_, [=](const std::string&) -> absl::Status {
    absl::StatusOr<int64_t> account = TargetAccount(*ctx, request->user_id());
    if (!account.ok()) return account.status();
    if (request->id() != 0) {
      absl::Status s = issuer_.RevokeRefreshToken(request->id(), *account);
      if (!s.ok()) return s;
      response->set_revoked(1);
      return absl::OkStatus();
    }
    absl::StatusOr<int> n = issuer_.RevokeRefreshTokens(*account);
    if (!n.ok()) return n.status();
    response->set_revoked(*n);
    return absl::OkStatus();
  });
}

}  // namespace portunus::auth
