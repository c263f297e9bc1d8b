#include "services/auth/grpc_access_service.h"

#include "absl/strings/str_cat.h"
#include "services/auth/grpc_convert.h"
#include "services/auth/scope.h"
#include "services/auth/validation.h"
#include "services/common/grpc_handler.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {

GrpcAccessService::GrpcAccessService(ServiceRuntime& runtime, Authenticator& authenticator,
                                     Authorizer& authorizer, NamespaceDirectory& namespaces)
    : runtime_(runtime),
      authenticator_(authenticator),
      authorizer_(authorizer),
      namespaces_(namespaces) {}

grpc::ServerUnaryReactor* GrpcAccessService::Authenticate(grpc::CallbackServerContext* ctx,
                                                          const v1::AuthenticateRequest* req,
                                                          v1::AuthenticateResponse* resp) {
  const Credentials credentials = req->has_credentials() ? CredentialsFromProto(req->credentials())
                                                         : CredentialsFromMetadata(*ctx);
  if (std::optional<absl::StatusOr<Principal>> fast = authenticator_.TryAuthenticateCached(credentials)) {
    return RunInline(ctx, runtime_, [&](const std::string&) -> absl::Status {
      if (!fast->ok()) return fast->status();
      ToProto(**fast, resp->mutable_principal());
      return absl::OkStatus();
    });
  }
  return RunOnWorkers(ctx, runtime_, [this, credentials, resp](const std::string&) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Principal p, authenticator_.Authenticate(credentials));
    ToProto(p, resp->mutable_principal());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcAccessService::Authorize(grpc::CallbackServerContext* ctx,
                                                       const v1::AuthorizeRequest* req,
                                                       v1::AuthorizeResponse* resp) {
  auto work = [this, req, resp](const std::string&) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ScopeRequest> scopes, ScopesFromProto(req->scopes()));
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ScopeDecision> decisions,
                              authorizer_.Authorize(PrincipalFromProto(req->principal()), scopes));
    for (const ScopeDecision& d : decisions) ToProto(d, resp->add_decisions());
    return absl::OkStatus();
  };
  if (authorizer_.blocking()) return RunOnWorkers(ctx, runtime_, work);
  return RunInline(ctx, runtime_, work);
}

grpc::ServerUnaryReactor* GrpcAccessService::ListPullableNamespaces(
    grpc::CallbackServerContext* ctx, const v1::ListPullableNamespacesRequest* req,
    v1::ListPullableNamespacesResponse* resp) {
  auto work = [this, req, resp](const std::string&) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Authorizer::Pullable p,
                              authorizer_.ListPullableNamespaces(PrincipalFromProto(req->principal())));
    resp->set_all(p.all);
    resp->set_global(p.global);
    for (const std::string& n : p.names) resp->add_names(n);
    return absl::OkStatus();
  };
  if (authorizer_.blocking()) return RunOnWorkers(ctx, runtime_, work);
  return RunInline(ctx, runtime_, work);
}

grpc::ServerUnaryReactor* GrpcAccessService::EnsureNamespace(grpc::CallbackServerContext* ctx,
                                                             const v1::EnsureNamespaceRequest* req,
                                                             v1::EnsureNamespaceResponse* resp) {
  const Credentials caller = CredentialsFromMetadata(*ctx);
  return RunOnWorkers(ctx, runtime_, [this, caller, req, resp](const std::string&) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Principal actor, authenticator_.Authenticate(caller));
    PORTUNUS_ASSIGN_OR_RETURN(auto ensured, namespaces_.Ensure(actor, req->name()));
    resp->set_namespace_id(ensured.first.id);
    resp->set_created(ensured.second);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcAccessService::Explain(grpc::CallbackServerContext* ctx,
                                                     const v1::ExplainRequest* req,
                                                     v1::ExplainResponse* resp) {
  const Credentials caller = CredentialsFromMetadata(*ctx);
  return RunOnWorkers(ctx, runtime_, [this, caller, req, resp](const std::string&) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Principal actor, authenticator_.Authenticate(caller));
    PORTUNUS_RETURN_IF_ERROR(RequireAdmin(actor, "explain access decisions"));
    if (req->account().size() > 255) return InvalidFieldError("account", "is too long");
    absl::StatusOr<Principal> subject = authorizer_.PrincipalForAccount(req->account());
    if (absl::IsNotFound(subject.status())) {
      return InvalidFieldError("account", IsValidName(req->account())
                                              ? absl::StrCat("no account named ", req->account())
                                              : std::string("no such account"));
    }
    if (!subject.ok()) return subject.status();
    std::vector<std::string> raw(req->scope().begin(), req->scope().end());
    absl::StatusOr<std::vector<ResourceScope>> scopes = ParseScopeList(raw);
    if (!scopes.ok()) return InvalidFieldError("scope", scopes.status().message());
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ScopeDecision> decisions,
                              authorizer_.Authorize(*subject, *scopes));
    resp->set_account(req->account());
    ToProto(*subject, resp->mutable_principal());
    for (const ScopeDecision& d : decisions) ToProto(d, resp->add_decisions());
    return absl::OkStatus();
  });
}

}  // namespace portunus::auth
